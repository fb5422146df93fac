package gateway

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vigie/gateway/apitype"
	"vigie/gateway/config"
	"vigie/gateway/render"
	"vigie/modem/sim"
	"vigie/store"
)

const testConfig = `
[station]
name = "test"

[store]
path = "%[1]s/vigie.db"

[api]
socket = "%[1]s/vigie.sock"

[[modem]]
name = "m1"
device = "%[1]s/modem"
rate_per_minute = 600
burst = 1

[sms]
prefix = "Vigilance : "
signature = " STOP pour arrêter."
max_parts = 2
transliterate = true

[keywords]
subscription = "%[2]s"

[[zone]]
id = "macon"
name = "Mâcon"
aliases = ["71000"]

[[zone]]
id = "macon-centre"
name = "Mâcon centre"
parent = "macon"

[[zone]]
id = "charnay"
name = "Charnay-lès-Mâcon"
`

// newGateway builds a gateway over a real store in a temp dir; its modem
// device is where startModem puts the simulated modem.
func newGateway(t *testing.T, policy string) (*Gateway, *store.Store, string) {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Parse(strings.NewReader(fmt.Sprintf(testConfig, dir, policy)), "test.toml")
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	st, err := store.Open(cfg.Store.Path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	g, err := New(cfg, st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return g, st, dir
}

// run starts the simulated modem on a pty and the gateway on it.
func run(t *testing.T, g *Gateway, dir string) *sim.Modem {
	t.Helper()
	phones := sim.New(sim.Options{})
	t.Cleanup(func() { phones.Close() })
	if _, err := phones.OpenPTY(filepath.Join(dir, "modem")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway run: %v", err)
		}
	})
	return phones
}

func wait(t *testing.T, phones *sim.Modem, number string, n int) []sim.SMS {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got, err := phones.WaitReceived(ctx, number, n)
	if err != nil {
		t.Fatalf("%s: %v", number, err)
	}
	return got
}

func TestInboundEffects(t *testing.T) {
	g, _, _ := newGateway(t, "open")
	const shop = "+33612345678"
	cases := []struct {
		from, text  string
		outcome     string
		zone        string // subscribed zone, if any
		reply       string // substring of the reply; "" means no reply
		inbox, stop bool
	}{
		{shop, "INSCRIPTION macon-centre", "subscribed", "macon-centre", "Macon centre", false, false},
		{shop, "  abonnement 71000 !", "subscribed", "macon", "Macon", false, false},
		{shop, "Inscription Mâcon Centre", "subscribed", "macon-centre", "Macon centre", false, false},
		{shop, "INSCRIPTION atlantide", "subscribe-unknown-zone", "", "macon", false, false},
		{shop, "INSCRIPTION", "subscribe-no-zone", "", "charnay", false, false},
		{shop, "Arrêt.", "stopped", "", "ne recevrez plus", false, true},
		{shop, "stop", "stopped", "", "ne recevrez plus", false, true},
		{shop, "aide", "help", "", "INSCRIPTION", false, false},
		{shop, "zones", "zones", "", "macon-centre", false, false},
		{shop, "J'ai vu la voiture, une Clio grise", "inbox", "", "transmis", true, false},
		{shop, "   ", "empty", "", "", false, false},
		{"VIGIE", "STOP", "inbox", "", "", true, false}, // alphanumeric sender: never answered
		{"36180", "INSCRIPTION macon", "inbox", "", "", true, false},
		{"0612345678", "INSCRIPTION macon", "subscribed", "macon", "Macon", false, false},
	}
	for _, c := range cases {
		e := g.effect(store.Inbound{From: c.from, Text: c.text})
		if e.Outcome != c.outcome || e.ToInbox != c.inbox || (e.Unsubscribe != "") != c.stop {
			t.Errorf("%s %q: effect %+v, want outcome %s inbox %v stop %v", c.from, c.text, e, c.outcome, c.inbox, c.stop)
			continue
		}
		if (e.Subscribe != nil) != (c.zone != "") || (e.Subscribe != nil && (e.Subscribe.Zone != c.zone || e.Subscribe.Phone != shop)) {
			t.Errorf("%s %q: subscribe %+v, want zone %q for %s", c.from, c.text, e.Subscribe, c.zone, shop)
		}
		switch {
		case c.reply == "" && e.Reply != nil:
			t.Errorf("%s %q: replied %q to a sender that must not get one", c.from, c.text, e.Reply.Text)
		case c.reply != "" && (e.Reply == nil || !strings.Contains(e.Reply.Text, c.reply)):
			t.Errorf("%s %q: reply %+v, want it to mention %q", c.from, c.text, e.Reply, c.reply)
		case e.Reply != nil && (render.Measure(e.Reply.Text).Parts != 1 || e.Reply.To != shop):
			t.Errorf("%s %q: reply %q to %s must be one SMS part to %s", c.from, c.text, e.Reply.Text, e.Reply.To, shop)
		}
	}
}

func TestSubscriptionWaitsUnlessPolicyIsOpen(t *testing.T) {
	g, _, _ := newGateway(t, "approval")
	e := g.effect(store.Inbound{From: "+33612345678", Text: "INSCRIPTION macon"})
	if e.Subscribe != nil || !e.ToInbox || e.Reply == nil || !strings.Contains(e.Reply.Text, "attente") {
		t.Errorf("approval policy: effect %+v, want no subscription, the request in the inbox, a 'pending' reply", e)
	}
}

func TestAlertRefusals(t *testing.T) {
	g, st, _ := newGateway(t, "open")
	if _, err := st.AddSubscriber(store.Subscription{Phone: "+33611111111", Zone: "macon-centre", Source: "operator"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("vol à l'étalage, ", 30)
	cases := []struct {
		req  apitype.AlertRequest
		want string
	}{
		{apitype.AlertRequest{Zones: []string{"atlantide"}, Text: "x"}, "zone inconnue « atlantide » (voir « vigie zones »)"},
		{apitype.AlertRequest{Zones: []string{"macn"}, Text: "x"}, "zone inconnue « macn » ; vouliez-vous dire « macon » (Mâcon) ?"},
		{apitype.AlertRequest{Zones: []string{"macon"}, Trades: []string{"boulangerie"}, Text: "x"}, "métier inconnu « boulangerie » (voir « vigie zones »)"},
		{apitype.AlertRequest{Zones: []string{"macon"}, Category: "escroqurie", Text: "x"}, "catégorie inconnue « escroqurie » ; vouliez-vous dire « escroquerie » ?"},
		{apitype.AlertRequest{Text: "x"}, "--all"},
		{apitype.AlertRequest{Zones: []string{"macon"}, All: true, Text: "x"}, "--all"},
		{apitype.AlertRequest{Zones: []string{"macon"}, Text: "  "}, "vide"},
		{apitype.AlertRequest{Zones: []string{"macon"}, Category: "meurtre", Text: "x"}, "catégorie inconnue"},
		{apitype.AlertRequest{Zones: []string{"macon"}, Text: long}, "trop long"},
		{apitype.AlertRequest{Zones: []string{"macon"}, Text: long}, " : retirez au moins "},
		{apitype.AlertRequest{Zones: []string{"macon"}, Text: long + "⚠"}, "ou remplacez « ⚠ » : hors de l'alphabet GSM, ils imposent l'UCS-2"},
		{apitype.AlertRequest{Zones: []string{"charnay"}, Text: "x"}, "aucun commerçant"},
	}
	for _, c := range cases {
		_, err := g.SendAlert(context.Background(), c.req, "test")
		var ue *apitype.UserError
		if !errors.As(err, &ue) || ue.Kind != apitype.RefuseInvalid || (strings.Contains(c.want, " inconnu") && strings.Contains(c.want, "«") && ue.Message != c.want) || !strings.Contains(ue.Message, c.want) {
			t.Errorf("SendAlert(%+v) = %v, want a 400 saying %q", c.req, err, c.want)
		}
	}
	if as, _ := st.Alerts(); len(as) != 0 {
		t.Errorf("refused alerts were stored: %+v", as)
	}
}

func TestPreviewCountsZonesAndParts(t *testing.T) {
	g, st, _ := newGateway(t, "open")
	for _, s := range []store.Subscription{
		{Phone: "+33611111111", Zone: "macon-centre"},
		{Phone: "+33622222222", Zone: "macon"},
		{Phone: "+33633333333", Zone: "charnay"},
	} {
		s.Source = "operator"
		if _, err := st.AddSubscriber(s, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	p, err := g.PreviewAlert(apitype.AlertRequest{Zones: []string{"macon", "charnay"}, Text: "faux billets de 50 €"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Recipients != 3 || p.Parts != 1 || p.Encoding != "GSM7" || p.Text != "Vigilance : faux billets de 50 €. STOP pour arreter." {
		t.Errorf("preview %+v", p)
	}
	if len(p.ByZone) != 2 || p.ByZone[0].Recipients != 2 || p.ByZone[1].Recipients != 1 {
		t.Errorf("by zone %+v, want macon 2 (with its sub-zone), charnay 1", p.ByZone)
	}
}

// A STOP committed after the alert was fanned out but before its message
// left: the message is suppressed at send time, only the confirmation goes.
func TestStopIsCheckedAtSendTime(t *testing.T) {
	g, st, dir := newGateway(t, "open")
	const quitter, stayer = "+33611111111", "+33622222222"
	for _, p := range []string{quitter, stayer} {
		if _, err := st.AddSubscriber(store.Subscription{Phone: p, Zone: "macon", Source: "operator"}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	a, err := g.SendAlert(context.Background(), apitype.AlertRequest{Zones: []string{"macon"}, Text: "vol"}, "test")
	if err != nil || a.Recipients != 2 {
		t.Fatalf("alert %+v, %v", a, err)
	}
	in, _, err := st.SaveInboundPart(store.InboundPart{Key: "k1", From: quitter, Total: 1, Seq: 1, Text: "STOP", ReceivedAt: time.Now()})
	if err != nil || in == nil {
		t.Fatalf("save STOP: %v", err)
	}
	g.handleInbound(*in)

	phones := run(t, g, dir)
	wait(t, phones, stayer, 1)
	got := wait(t, phones, quitter, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		rep, err := g.Alert(a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Done {
			if gone(rep.Counts) != 1 || rep.Counts["suppressed"] != 1 {
				t.Errorf("counts %v, want 1 sent and 1 suppressed", rep.Counts)
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("alert not done: %v", rep.Counts)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(got) != 1 || !strings.Contains(got[0].Text, "ne recevrez plus") {
		t.Errorf("the STOPped number got %+v, want only the STOP confirmation", got)
	}
}

// An SMS received while the daemon was down waits in the modem and is read,
// handled and deleted at start-up.
func TestStoredSMSIsReadAtStartup(t *testing.T) {
	g, st, dir := newGateway(t, "open")
	phones := sim.New(sim.Options{})
	t.Cleanup(func() { phones.Close() })
	if _, err := phones.OpenPTY(filepath.Join(dir, "modem")); err != nil {
		t.Fatal(err)
	}
	if err := phones.Inject("+33644444444", "INSCRIPTION charnay"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	defer func() { cancel(); <-done }()

	got := wait(t, phones, "+33644444444", 1)
	if !strings.Contains(got[0].Text, "Charnay") {
		t.Errorf("reply %q", got[0].Text)
	}
	sub, ok, err := st.Subscriber("+33644444444")
	if err != nil || !ok || sub.Status != store.StatusActive || sub.Zones[0] != "charnay" {
		t.Errorf("subscriber %+v %v %v", sub, ok, err)
	}
	// The status report of the reply lands in the storage too; both go.
	for deadline := time.Now().Add(10 * time.Second); phones.Stored() != 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("modem still stores %d SMS", phones.Stored())
		}
	}
}

func TestStatusReportsModemHealth(t *testing.T) {
	g, _, dir := newGateway(t, "open")
	run(t, g, dir)
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := g.Status()
		if err != nil {
			t.Fatal(err)
		}
		m := st.Modems[0]
		if st.State == "ready" && m.State == "ready" && m.Registration == "home" && m.Operator != "" && m.SignalBars > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("status %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The first retries come soon, then back off to 10 minutes; the tries of a
// message span about as long as before the quick retries (37 minutes).
func TestRetryDelayBacksOffAndCaps(t *testing.T) {
	want := []time.Duration{1, 1, 1, 1, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600, 600}
	var span time.Duration
	for a := 1; a <= len(want); a++ {
		d := retryDelay(defaultRetryBase, a)
		if d != want[a-1]*time.Second {
			t.Errorf("retryDelay(%d) = %v, want %v", a, d, want[a-1]*time.Second)
		}
		if a < maxAttempts {
			span += d
		}
	}
	if span < 30*time.Minute || span > 40*time.Minute {
		t.Errorf("the %d attempts span %v", maxAttempts, span)
	}
	// A shorter base (tests) keeps the shape.
	if d := retryDelay(200*time.Millisecond, 6); d != 400*time.Millisecond {
		t.Errorf("retryDelay(200ms, 6) = %v", d)
	}
	if d := retryDelay(200*time.Millisecond, 40); d != 2*time.Minute {
		t.Errorf("retryDelay(200ms, 40) = %v, want the cap of 600 × base", d)
	}
}

// A wrong SIM PIN is entered once, never again: three wrong tries would
// lock the SIM behind its PUK.
func TestWrongPINIsNeverRetried(t *testing.T) {
	dir := t.TempDir()
	text := fmt.Sprintf(testConfig, dir, "open")
	text = strings.Replace(text, "burst = 1", "burst = 1\npin = \"0000\"", 1)
	cfg, err := config.Parse(strings.NewReader(text), "test.toml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(cfg.Store.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	g, err := New(cfg, st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	phones := sim.New(sim.Options{PIN: "1234"})
	defer phones.Close()
	if _, err := phones.OpenPTY(filepath.Join(dir, "modem")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	defer func() { cancel(); <-done }()

	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := g.Status()
		if err != nil {
			t.Fatal(err)
		}
		if m := s.Modems[0]; m.State == apitype.ModemSIMLocked && strings.Contains(m.LastError, "PIN") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status %+v, want the modem in fault with a PIN error", s.Modems[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The old behaviour reopened after 1 s and 2 s, entering the PIN again.
	time.Sleep(3500 * time.Millisecond)
	if n := phones.PINTries(); n != 1 {
		t.Errorf("the SIM saw %d PIN attempts, want exactly 1", n)
	}
}

// A shop under two of the targeted zones is one recipient, one SMS.
func TestOverlappingZonesGiveOneMessage(t *testing.T) {
	g, st, _ := newGateway(t, "open")
	if _, err := st.AddSubscriber(store.Subscription{Phone: "+33611111111", Zone: "macon-centre", Source: "operator"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	a, err := g.SendAlert(context.Background(), apitype.AlertRequest{Zones: []string{"macon", "macon-centre", "macon"}, Text: "x"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if a.Recipients != 1 || a.Counts["queued"] != 1 || len(a.Zones) != 2 {
		t.Errorf("alert %+v, want one recipient, one queued message, zones macon and macon-centre", a)
	}
}
