//go:build e2e

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"vigie/gateway/apitype"
	"vigie/modem/sim"
)

// Issue 12, points 2 and 3: a forged sender can neither brute-force a
// confirmation code nor make the box text someone without bound, nor take
// the modem's capacity from alerts.

// confirmPolicy switches the e2e config to subscription = "confirm".
func confirmPolicy(text string) string {
	return strings.Replace(text, `subscription = "open"`, `subscription = "confirm"`, 1)
}

var codeRE = regexp.MustCompile(`OUI (\d{4})`)

// requestCode sends INSCRIPTION macon from number and returns the code of
// the n-th SMS it gets back.
func (e *env) requestCode(number string, n int) string {
	e.t.Helper()
	got := e.exchange(number, "INSCRIPTION macon", n)
	m := codeRE.FindStringSubmatch(got.Text)
	if m == nil {
		e.t.Fatalf("reply %q carries no code", got.Text)
	}
	return m[1]
}

// wrongCodes returns n distinct 4-digit codes other than code: the ones
// after it.
func wrongCodes(code string, n int) []string {
	c, _ := strconv.Atoi(code)
	var out []string
	for i := 1; i <= n; i++ {
		out = append(out, fmt.Sprintf("%04d", (c+i)%10000))
	}
	return out
}

func (e *env) subscriber(number string) apitype.SubscriberDetail {
	e.t.Helper()
	var d apitype.SubscriberDetail
	if err := json.Unmarshal(e.mustVigie("subscribers", "show", number, "--json"), &d); err != nil {
		e.t.Fatal(err)
	}
	return d
}

func TestCodeLockOutAfterFiveWrongCodes(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{transliterate: true, config: confirmPolicy})
	const victim = "+33611111111"
	code := e.requestCode(victim, 1)
	for i, wrong := range wrongCodes(code, 4) {
		got := e.exchange(victim, "OUI "+wrong, i+2)
		want := fmt.Sprintf("code erroné. Il vous reste %d essais.", 4-i)
		if i == 3 {
			want = "code erroné. Il vous reste 1 essai."
		}
		if !strings.Contains(got.Text, want) {
			t.Errorf("wrong code %d answered %q, want %q", i+1, got.Text, want)
		}
	}
	const dead = "demande annulée après 5 codes erronés. Renvoyez INSCRIPTION suivi de votre zone demain."
	if got := e.exchange(victim, "OUI "+wrongCodes(code, 5)[4], 6); !strings.Contains(got.Text, dead) || got.Parts != 1 || got.Alphabet != "GSM7" {
		t.Errorf("fifth wrong code answered %q (%d parts, %s), want %q in one GSM-7 part", got.Text, got.Parts, got.Alphabet, dead)
	}
	// The sixth attempt, with the right code, finds the request dead.
	if got := e.exchange(victim, "OUI "+code, 7); !strings.Contains(got.Text, dead) {
		t.Errorf("right code after the lock-out answered %q, want %q", got.Text, dead)
	}
	if d := e.subscriber(victim); d.Status == "active" || d.Pending == nil || d.Pending.WrongCodes != 5 || d.Pending.VoidedAt.IsZero() {
		t.Errorf("subscriber %+v: want not active, its request voided after 5 wrong codes", d.Subscriber)
	}
	if show := string(e.mustVigie("subscribers", "show", victim)); !strings.Contains(show, "après 5 codes erronés : aucun code ne l'active plus") {
		t.Errorf("subscribers show does not say the request is void:\n%s", show)
	}
	// A new INSCRIPTION the same day gets no new code.
	if got := e.exchange(victim, "INSCRIPTION macon", 8); codeRE.MatchString(got.Text) || !strings.Contains(got.Text, dead) {
		t.Errorf("INSCRIPTION after the lock-out answered %q, want no code and %q", got.Text, dead)
	}

	var recs []apitype.AuditRecord
	if err := json.Unmarshal(e.mustVigie("audit", "--json"), &recs); err != nil {
		t.Fatal(err)
	}
	locked := 0
	for _, r := range recs {
		if r.Action == "SMS confirm-voided" {
			locked++
			if !strings.Contains(r.Label, "annulée après 5 codes erronés") || strings.Contains(r.Target, "11111111") {
				t.Errorf("lock-out record %+v: want the French label and a masked number", r)
			}
		}
		if r.Action == "SMS subscribed" {
			t.Errorf("audit shows an activation: %+v", r)
		}
	}
	if locked != 1 {
		t.Errorf("audit has %d lock-out records, want 1: %+v", locked, recs)
	}
	if text := string(e.mustVigie("audit")); !strings.Contains(text, "annulée après 5 codes erronés") {
		t.Errorf("vigie audit does not show the lock-out:\n%s", text)
	}
}

func TestCodeTwoTyposThenRightCode(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{transliterate: true, config: confirmPolicy})
	const shop = "+33622222222"
	code := e.requestCode(shop, 1)
	typos := wrongCodes(code, 2)
	if got := e.exchange(shop, "OUI "+typos[0], 2); !strings.Contains(got.Text, "Il vous reste 4 essais.") {
		t.Errorf("first typo answered %q", got.Text)
	}
	if got := e.exchange(shop, "oui "+typos[1], 3); !strings.Contains(got.Text, "Il vous reste 3 essais.") {
		t.Errorf("second typo answered %q", got.Text)
	}
	if got := e.exchange(shop, "Oui "+code, 4); !strings.Contains(got.Text, "inscription enregistrée") {
		t.Errorf("right code answered %q", got.Text)
	}
	if d := e.subscriber(shop); d.Status != "active" || len(d.Zones) != 1 || d.Zones[0] != "macon" {
		t.Errorf("subscriber %+v, want active in macon", d.Subscriber)
	}
}

// inject sends text from number, waiting while the SIM's storage is full
// (the daemon empties it as it reads).
func (e *env) inject(number, text string) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := e.phones.Inject(number, text)
		if err == nil {
			return
		}
		if !errors.Is(err, sim.ErrStorageFull) || time.Now().After(deadline) {
			e.t.Fatalf("inject %q from %s: %v", text, number, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestStopFloodAnsweredOnce(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{transliterate: true})
	const victim, witness = "+33633333333", "+33644444444"
	e.exchange(victim, "INSCRIPTION macon", 1)
	for i := range 30 { // distinct texts and timestamps: 30 distinct SMS
		e.inject(victim, fmt.Sprintf("STOP %d", i))
	}
	// Once the modem has read the 31 SMS, the witness's SMS is read after
	// them (one receiver handles each SMS before it reads the next) and
	// its reply queued after their confirmations: once it arrives, every
	// confirmation that was queued has gone.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var st apitype.Status
		if err := json.Unmarshal(e.mustVigie("status", "--json"), &st); err != nil {
			t.Fatal(err)
		}
		if len(st.Modems) == 1 && st.Modems[0].Received >= 31 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the modem did not read the 30 STOPs: %+v", st.Modems)
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.exchange(witness, "AIDE", 1)
	stops := 0
	for _, m := range e.phones.Received(victim)[1:] {
		if strings.Contains(m.Text, "ne recevrez plus") {
			stops++
		}
	}
	if stops < 1 || stops > 2 || len(e.phones.Received(victim)) != 1+stops {
		t.Errorf("30 STOPs drew %d confirmations (%d SMS in all), want 1 or 2", stops, len(e.phones.Received(victim)))
	}
	if d := e.subscriber(victim); d.Status != "stopped" || !d.Suppressed {
		t.Errorf("after the STOPs: %+v, want stopped and suppressed", d)
	}
}

// TestRepliesHeldBeyondTheirShare: daily_cap = 10 and reply_share = 0.2
// leave replies 2 parts a day; a third reply waits, queued, while an alert
// goes, though replies otherwise go ahead of alerts.
func TestRepliesHeldBeyondTheirShare(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{transliterate: true, config: func(text string) string {
		text = strings.Replace(text, "burst = 1\n", "burst = 1\ndaily_cap = 10\n", 1)
		return strings.Replace(text, "[keywords]\n", "[keywords]\nreply_share = 0.2\n", 1)
	}})
	const shop, asker = "+33655555555", "+33666666666"
	e.mustVigie("subscribers", "add", shop, "--zone", "macon")
	for _, text := range []string{"AIDE", "aide ?", "Aide !"} {
		e.inject(asker, text)
	}
	e.waitSMS(asker, 2)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var st apitype.Status
		if err := json.Unmarshal(e.mustVigie("status", "--json"), &st); err != nil {
			t.Fatal(err)
		}
		if st.Queue["queued"] == 1 {
			break // the third reply: handled, and held back
		}
		if time.Now().After(deadline) {
			t.Fatalf("the third reply never waited in the queue: %v", st.Queue)
		}
		time.Sleep(50 * time.Millisecond)
	}
	a := e.sendAlert("--zone", "macon", "vol à l'étalage rue Carnot")
	if got := e.waitSMS(shop, 1); !strings.Contains(got.Text, "vol a l'etalage") && !strings.Contains(got.Text, "vol à l'étalage") {
		t.Errorf("shop received %q, want the alert", got.Text)
	}
	e.waitAlert(a.ID)
	if n := len(e.phones.Received(asker)); n != 2 {
		t.Errorf("asker got %d replies, want 2 (reply_share of daily_cap)", n)
	}
	var st apitype.Status
	if err := json.Unmarshal(e.mustVigie("status", "--json"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Queue["queued"] != 1 {
		t.Errorf("queue %v: the third reply must wait, not be dropped", st.Queue)
	}
}
