package gateway

// The whole delivery path against every simulated modem family, through the
// real daemon code (Gateway.Run, its worker, bbolt in a temp dir) and the
// real serial stack on a pty, at each family's real start-up timing
// (BootScale 1): the modem ready within 10 s of power-on (30 s with a PIN),
// a shop subscribing with a confirmation code, an alert that ends "remis"
// (delivered, from its status report), a free text reaching the inbox, STOP,
// and the modem's storage emptied (status reports in "SR" too).

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"vigie/gateway/apitype"
	"vigie/modem/sim"
	"vigie/store"
)

// syncBuffer is a log sink shared by the daemon and the simulated modem.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// familyRig is a daemon with the confirm policy on a family's simulated modem.
type familyRig struct {
	*rig
	log     *syncBuffer
	powerOn time.Time
}

func newFamilyRig(t *testing.T, p sim.Personality, pin string) *familyRig {
	t.Helper()
	log := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		if d := os.Getenv("VIGIE_FAMILY_LOGS"); d != "" {
			name := strings.ReplaceAll(t.Name(), "/", "_") + ".log"
			_ = os.WriteFile(filepath.Join(d, name), []byte(log.String()), 0o600)
		}
	})
	powerOn := time.Now()
	phones := sim.New(sim.Options{Personality: p, BootScale: 1, PIN: pin, SendDelay: 50 * time.Millisecond, Logger: logger})
	t.Cleanup(func() { phones.Close() })
	r := newRigConfig(t, func(text, _ string) string {
		text = strings.Replace(text, `subscription = "open"`, `subscription = "confirm"`, 1)
		if pin != "" {
			text = strings.Replace(text, "burst = 1", "burst = 1\npin = \""+pin+"\"", 1)
		}
		return text
	}, Options{Logger: logger}, phones)
	return &familyRig{rig: r, log: log, powerOn: powerOn}
}

// until polls cond every 20 ms for at most within.
func until(within time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(within); ; time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// failStep reports a step that failed, with the end of the AT exchange.
func (f *familyRig) failStep(fatal bool, step, format string, args ...any) {
	f.t.Helper()
	lines := strings.Split(strings.TrimSpace(f.log.String()), "\n")
	tail := lines[max(0, len(lines)-60):]
	msg := fmt.Sprintf("step %q: %s\nmodem %+v\nlast log lines:\n%s", step, fmt.Sprintf(format, args...), f.modem(), strings.Join(tail, "\n"))
	if fatal {
		f.t.Fatal(msg)
	}
	f.t.Error(msg)
}

// readyWithin checks the modem is ready within limit of power-on; it waits
// longer (a late modem still lets the next steps run) before giving up.
func (f *familyRig) readyWithin(limit time.Duration) {
	f.t.Helper()
	if until(time.Until(f.powerOn.Add(limit)), func() bool { return ready(f.modem()) }) {
		f.t.Logf("ready %.1f s after power-on", time.Since(f.powerOn).Seconds())
		return
	}
	if !until(20*time.Second, func() bool { return ready(f.modem()) }) {
		f.failStep(true, "ready", "not ready %v after power-on", time.Since(f.powerOn).Round(time.Second))
	}
	f.failStep(false, "ready", "ready only %.1f s after power-on, want within %v", time.Since(f.powerOn).Seconds(), limit)
}

// sms waits for the n-th SMS to number and returns its text.
func (f *familyRig) sms(step, number string, n int) string {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got, err := f.phones.WaitReceived(ctx, number, n)
	if err != nil {
		f.failStep(true, step, "%s got %d SMS, want %d: %v", number, len(got), n, err)
	}
	return got[n-1].Text
}

func (f *familyRig) inject(step, from, text string) {
	f.t.Helper()
	if err := f.phones.Inject(from, text); err != nil {
		f.failStep(true, step, "inject %q: %v", text, err)
	}
}

// family says what the delivery path can do on a modem family.
type family struct {
	p sim.Personality
	// reports: the family can return status reports. The Cinterion PHS8's
	// +CNMI=? allows <ds> 0 only (real-modems.md row 28): by TS 27.005
	// §3.4.1 no report reaches the TE, so its alerts end "envoyé".
	reports bool
}

func families() []family {
	var out []family
	for _, p := range sim.Personalities() {
		out = append(out, family{p: p, reports: p != sim.CinterionPHS8})
	}
	return out
}

func TestEveryModemFamily(t *testing.T) {
	t.Parallel()
	for _, fam := range families() {
		t.Run(fam.p.String(), func(t *testing.T) {
			t.Parallel()
			f := newFamilyRig(t, fam.p, "")
			f.readyWithin(10 * time.Second)
			const shop = "+33612121212"

			f.inject("subscribe", shop, "INSCRIPTION macon")
			code := regexp.MustCompile(`OUI (\d{4})`).FindStringSubmatch(f.sms("subscribe", shop, 1))
			if code == nil {
				f.failStep(true, "subscribe", "the reply carries no code")
			}
			f.inject("confirm", shop, "OUI "+code[1])
			if got := f.sms("confirm", shop, 2); !strings.Contains(got, "inscription enregistrée") {
				f.failStep(true, "confirm", "confirmation %q", got)
			}
			if sub, _, err := f.st.Subscriber(shop); err != nil || sub.Status != store.StatusActive {
				f.failStep(true, "confirm", "subscriber %+v, %v", sub, err)
			}

			a, err := f.g.SendAlert(context.Background(), apitype.AlertRequest{Zones: []string{"macon"}, Text: "vol à l'étalage rue Carnot"}, "test")
			if err != nil || a.Recipients != 1 {
				f.failStep(true, "alert", "alert %+v, %v", a, err)
			}
			if got := f.sms("alert", shop, 3); !strings.Contains(got, "Carnot") {
				f.failStep(true, "alert", "the shop got %q", got)
			}
			final := "delivered"
			if !fam.reports {
				final = "sent"
			}
			var counts map[string]int
			if !until(20*time.Second, func() bool {
				rep, err := f.g.Alert(a.ID)
				counts = rep.Counts
				return err == nil && rep.Done && counts[final] == 1
			}) {
				f.failStep(false, "remis", "alert counts %v, want 1 %s", counts, final)
			}

			f.inject("inbox", shop, "J'ai vu le suspect, une Clio grise")
			if !until(20*time.Second, func() bool {
				in, err := f.st.Inbox()
				return err == nil && len(in) == 1 && strings.Contains(in[0].Text, "Clio grise")
			}) {
				f.failStep(false, "inbox", "the free text is not in the inbox")
			}

			f.inject("stop", shop, "STOP")
			if !until(20*time.Second, func() bool {
				got := f.phones.Received(shop)
				return len(got) > 0 && strings.Contains(got[len(got)-1].Text, "ne recevrez plus")
			}) {
				f.failStep(false, "stop", "no STOP confirmation; the shop got %d SMS", len(f.phones.Received(shop)))
			}
			if sub, _, err := f.st.Subscriber(shop); err != nil || sub.Status == store.StatusActive {
				f.failStep(false, "stop", "subscriber still %+v, %v", sub, err)
			}

			if !until(20*time.Second, func() bool { return f.phones.Stored() == 0 }) {
				f.failStep(false, "storage", "the modem still stores %d (SM %d, ME %d, SR %d)", f.phones.Stored(),
					f.phones.StoredIn("SM"), f.phones.StoredIn("ME"), f.phones.StoredIn("SR"))
			}
		})
	}
}

func TestEveryModemFamilyWithPIN(t *testing.T) {
	t.Parallel()
	for _, fam := range families() {
		t.Run(fam.p.String(), func(t *testing.T) {
			t.Parallel()
			f := newFamilyRig(t, fam.p, "1234")
			f.readyWithin(30 * time.Second)
			if m := f.modem(); m.SIM != "READY" {
				f.failStep(false, "ready", "health says SIM %q", m.SIM)
			}
			if n := f.phones.PINTries(); n < 1 {
				f.failStep(false, "ready", "the PIN was never entered")
			}
		})
	}
}
