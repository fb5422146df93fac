package gateway

// The delivery engine of issue #4 through the daemon code on simulated
// modems: several modems, TTL, cancel, priorities, the reply cap and loop
// guard, subscription policies, trades, follow-ups, delivery reports and the
// daily cap.

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"vigie/gateway/apitype"
	"vigie/modem/sim"
	"vigie/store"
)

// Two modems share the work while both are healthy; when one is unplugged
// for good, the other sends the rest.
func TestTwoModemsShareAndSurviveALoss(t *testing.T) {
	t.Parallel()
	m1 := sim.New(sim.Options{SendDelay: 40 * time.Millisecond})
	m2 := sim.New(sim.Options{SendDelay: 40 * time.Millisecond, Number: "+33700000002"})
	t.Cleanup(func() { m1.Close(); m2.Close() })
	r := newRigConfig(t, func(text, dir string) string {
		return strings.Replace(text, "\n[sms]", fmt.Sprintf("\n[[modem]]\nname = \"m2\"\ndevice = %q\nrate_per_minute = 600\nburst = 1\n\n[sms]", dir+"/modem2"), 1)
	}, Options{}, m1, m2)
	a, shops := r.alert(30, "vol de scooter")
	deadline := time.Now().Add(20 * time.Second)
	for len(m1.AllReceived()) < 3 || len(m2.AllReceived()) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("both modems should be busy: m1 sent %d, m2 sent %d", len(m1.AllReceived()), len(m2.AllReceived()))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := m2.Unplug(); err != nil { // and never plugged back
		t.Fatal(err)
	}
	counts := r.finished(a.ID, 30*time.Second)
	if gone(counts) != 30 {
		t.Errorf("counts %v, want all 30 out", counts)
	}
	for _, p := range shops {
		if n := len(m1.Received(p)) + len(m2.Received(p)); n < 1 || n > 2 {
			t.Errorf("%s got %d copies", p, n)
		}
	}
	st, _ := r.g.Status()
	if st.Modems[1].State == apitype.ModemReady || st.State != "degraded" {
		t.Errorf("status %s, m2 %s: want m2 down and the daemon degraded", st.State, st.Modems[1].State)
	}
}

// What could not be sent within alert_ttl is expired, not sent late.
func TestTTLExpiresWhatIsLate(t *testing.T) {
	t.Parallel()
	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	phones := sim.New(sim.Options{})
	t.Cleanup(func() { phones.Close() })
	r := newRigConfig(t, func(text, _ string) string {
		return strings.Replace(text, "max_parts = 2", "max_parts = 2\nalert_ttl = \"5m\"", 1)
	}, Options{Now: clock}, phones)
	r.waitModem("ready", 10*time.Second, ready)
	phones.SetNetwork(false)
	a, shops := r.alert(2, "vol")
	r.waitModem("without network", 15*time.Second, func(m apitype.ModemStatus) bool { return m.State == apitype.ModemNoNetwork })
	offset.Store(int64(6 * time.Minute))
	phones.SetNetwork(true)
	counts := r.finished(a.ID, 30*time.Second)
	if counts["expired"] != 2 {
		t.Errorf("counts %v, want both expired", counts)
	}
	for _, p := range shops {
		if got := phones.Received(p); len(got) != 0 {
			t.Errorf("%s got %v after alert_ttl", p, got)
		}
	}
}

// Cancel stops what is queued; nothing goes out afterwards.
func TestCancelStopsWhatIsQueued(t *testing.T) {
	t.Parallel()
	r := newRig(t, "", sim.Options{})
	r.waitModem("ready", 10*time.Second, ready)
	r.phones.SetNetwork(false)
	a, shops := r.alert(3, "fausse alerte")
	// Once the sender has seen the network is gone, nothing is in flight.
	r.waitModem("without network", 15*time.Second, func(m apitype.ModemStatus) bool { return m.State == apitype.ModemNoNetwork })
	res, err := r.g.CancelAlert(context.Background(), a.ID, "test")
	if err != nil || res.Cancelled != 3 {
		t.Fatalf("cancel = %+v, %v; want 3 cancelled", res, err)
	}
	r.phones.SetNetwork(true)
	counts := r.finished(a.ID, 5*time.Second)
	if counts["cancelled"] != 3 {
		t.Errorf("counts %v, want 3 cancelled", counts)
	}
	time.Sleep(500 * time.Millisecond)
	for _, p := range shops {
		if got := r.phones.Received(p); len(got) != 0 {
			t.Errorf("%s got %v after the cancel", p, got)
		}
	}
	if _, err := r.g.CancelAlert(context.Background(), 999, "test"); err == nil || !strings.Contains(err.Error(), "introuvable") {
		t.Errorf("cancel of an unknown alert = %v", err)
	}
}

// A shopkeeper's reply goes ahead of an alert fan-out in progress.
func TestRepliesGoAheadOfAlerts(t *testing.T) {
	t.Parallel()
	r := newRig(t, "", sim.Options{SendDelay: 60 * time.Millisecond})
	a, shops := r.alert(12, "vol à l'étalage")
	r.waitPhones(shops[0], 1)
	const shop = "+33699999999"
	if err := r.phones.Inject(shop, "AIDE"); err != nil {
		t.Fatal(err)
	}
	reply := r.waitPhones(shop, 1)[0]
	r.finished(a.ID, 30*time.Second)
	last := r.phones.Received(shops[len(shops)-1])[0]
	if !reply.At.Before(last.At) {
		t.Errorf("reply at %v, last alert message at %v: the reply should go first", reply.At, last.At)
	}
}

// Two robots: one answers every SMS with free text (capped by
// replies_per_day), the other is another Vigie answering with our own
// wording (never answered: a reply never triggers a reply).
func TestReplyCapAndLoopGuard(t *testing.T) {
	t.Parallel()
	phones := sim.New(sim.Options{})
	t.Cleanup(func() { phones.Close() })
	r := newRigConfig(t, func(text, _ string) string {
		return strings.Replace(text, `subscription = "open"`, "subscription = \"open\"\nreplies_per_day = 3", 1)
	}, Options{}, phones)
	const robot, vigie = "+33688888888", "+33677777777"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Each answer is numbered: the same text from the same number in the
	// same second would be the same SMS read twice, processed once.
	answer := func(number, text string) {
		for n := 1; ; n++ {
			if _, err := phones.WaitReceived(ctx, number, n); err != nil {
				return
			}
			_ = phones.Inject(number, fmt.Sprintf("%s (%d)", text, n))
		}
	}
	go answer(robot, "Bien reçu, merci pour votre message.")
	go answer(vigie, "Vigilance commerce : message transmis à la gendarmerie ; en cas d'urgence, appelez le 17.")
	if err := phones.Inject(robot, "Bonjour"); err != nil {
		t.Fatal(err)
	}
	if err := phones.Inject(vigie, "Bonjour"); err != nil {
		t.Fatal(err)
	}
	r.waitPhones(robot, 3)
	time.Sleep(2 * time.Second) // time for a loop to go on, if it did
	if got := phones.Received(robot); len(got) != 3 {
		t.Errorf("the robot got %d replies, want exactly replies_per_day = 3", len(got))
	}
	if got := phones.Received(vigie); len(got) != 1 {
		t.Errorf("the other Vigie got %d replies, want 1 (to its first, human-looking SMS)", len(got))
	}
}

// confirm policy: INSCRIPTION gets a code, a wrong code is refused, the
// right one activates the subscription with its trade.
func TestConfirmPolicyAndTrades(t *testing.T) {
	t.Parallel()
	phones := sim.New(sim.Options{})
	t.Cleanup(func() { phones.Close() })
	r := newRigConfig(t, func(text, _ string) string {
		text = strings.Replace(text, `subscription = "open"`, `subscription = "confirm"`, 1)
		return text + "\n[[trade]]\nid = \"bijouterie\"\nname = \"Bijouterie\"\naliases = [\"bijoutier\"]\n\n[[trade]]\nid = \"pharmacie\"\nname = \"Pharmacie\"\n"
	}, Options{}, phones)
	const shop = "+33612121212"
	if err := phones.Inject(shop, "Inscription Mâcon bijoutier"); err != nil {
		t.Fatal(err)
	}
	first := r.waitPhones(shop, 1)[0].Text
	m := regexp.MustCompile(`OUI (\d{4})`).FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("reply %q carries no code", first)
	}
	if sub, _, _ := r.st.Subscriber(shop); sub.Status == store.StatusActive {
		t.Fatalf("active before confirming: %+v", sub)
	}
	wrong := "0000"
	if m[1] == wrong {
		wrong = "1111"
	}
	if err := phones.Inject(shop, "OUI "+wrong); err != nil {
		t.Fatal(err)
	}
	if got := r.waitPhones(shop, 2)[1].Text; !strings.Contains(got, "code erroné. Il vous reste 4 essais.") {
		t.Errorf("wrong code answered %q", got)
	}
	if err := phones.Inject(shop, "oui "+m[1]); err != nil {
		t.Fatal(err)
	}
	if got := r.waitPhones(shop, 3)[2].Text; !strings.Contains(got, "Bijouterie") || !strings.Contains(got, "inscription enregistrée") {
		t.Errorf("confirmation %q", got)
	}
	sub, _, err := r.st.Subscriber(shop)
	if err != nil || sub.Status != store.StatusActive || sub.Trade != "bijouterie" || len(sub.Zones) != 1 || sub.Zones[0] != "macon" {
		t.Fatalf("subscriber %+v, %v; want active in macon as bijouterie", sub, err)
	}
	p, err := r.g.PreviewAlert(apitype.AlertRequest{Zones: []string{"macon"}, Trades: []string{"bijoutier"}, Text: "vol de bijoux"})
	if err != nil || len(p.ByTrade) != 1 || p.ByTrade[0].Trade != "bijouterie" || p.ByTrade[0].Recipients != 1 || p.ByTrade[0].Name != "Bijouterie" {
		t.Errorf("preview by trade = %+v, %v; want bijouterie: 1", p.ByTrade, err)
	}
	a, err := r.g.SendAlert(context.Background(), apitype.AlertRequest{Zones: []string{"macon"}, Trades: []string{"bijoutier"}, Text: "vol de bijoux"}, "test")
	if err != nil || a.Recipients != 1 {
		t.Fatalf("alert to bijouteries = %+v, %v", a, err)
	}
	_, err = r.g.SendAlert(context.Background(), apitype.AlertRequest{Zones: []string{"macon"}, Trades: []string{"pharmacie"}, Text: "x"}, "test")
	if err == nil || !strings.Contains(err.Error(), "aucun commerçant") {
		t.Errorf("alert to pharmacies = %v, want no recipient", err)
	}
}

// A follow-up goes to exactly the recipients of the original alert.
func TestFollowUpGoesToTheOriginalRecipients(t *testing.T) {
	t.Parallel()
	r := newRig(t, "", sim.Options{})
	a, shops := r.alert(2, "individu suspect")
	r.finished(a.ID, 20*time.Second)
	const late = "+33655443322"
	if _, err := r.st.AddSubscriber(store.Subscription{Phone: late, Zone: "macon", Source: "operator"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	f, err := r.g.FollowUp(context.Background(), a.ID, "fin d'alerte : individu interpellé", "test")
	if err != nil || f.Recipients != 2 || f.FollowUpOf != a.ID {
		t.Fatalf("follow-up %+v, %v", f, err)
	}
	r.finished(f.ID, 20*time.Second)
	for _, p := range shops {
		if got := r.waitPhones(p, 2); !strings.Contains(got[1].Text, "interpellé") {
			t.Errorf("%s got %q", p, got[1].Text)
		}
	}
	if got := r.phones.Received(late); len(got) != 0 {
		t.Errorf("a shop that joined later got the follow-up: %v", got)
	}
}

// A follow-up leaves out who never got the alert (here a number whose SMS
// failed for good), and its preview says how many those are.
func TestFollowUpLeavesOutWhoMissedTheAlert(t *testing.T) {
	t.Parallel()
	r := newRig(t, "", sim.Options{})
	const failing = "+33611000002"  // the third shop r.alert subscribes
	r.phones.FailNumber(failing, 1) // unassigned number: a permanent failure
	a, shops := r.alert(3, "individu suspect")
	if counts := r.finished(a.ID, 20*time.Second); counts["failed"] != 1 {
		t.Fatalf("counts %v, want one failure", counts)
	}
	p, err := r.g.PreviewFollowUp(a.ID, "fin d'alerte : individu interpellé")
	if err != nil || p.Recipients != 2 || p.Missed != 1 || p.Pending != 0 || p.Parts != 1 {
		t.Fatalf("follow-up preview %+v, %v; want 2 recipients, 1 missed", p, err)
	}
	f, err := r.g.FollowUp(context.Background(), a.ID, "fin d'alerte : individu interpellé", "test")
	if err != nil || f.Recipients != 2 {
		t.Fatalf("follow-up %+v, %v", f, err)
	}
	r.finished(f.ID, 20*time.Second)
	rep, err := r.g.Alert(f.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range rep.Messages {
		if m.To == failing {
			t.Errorf("the shop that never got the alert was sent its follow-up: %+v", m)
		}
	}
	for _, p := range shops[:2] {
		if got := r.waitPhones(p, 2); !strings.Contains(got[1].Text, "interpellé") {
			t.Errorf("%s got %q", p, got[1].Text)
		}
	}
}

// Delivery reports turn sent into delivered, or failed for a report with a
// permanent error.
func TestDeliveryReports(t *testing.T) {
	t.Parallel()
	phones := sim.New(sim.Options{})
	t.Cleanup(func() { phones.Close() })
	phones.SetReportStatus("+33611000001", 0x41) // incompatible destination
	r := newRigWith(t, "", phones)
	a, _ := r.alert(3, "vol")
	deadline := time.Now().Add(20 * time.Second)
	for {
		rep, err := r.g.Alert(a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Counts["delivered"] == 2 && rep.Counts["failed"] == 1 {
			for _, m := range rep.Messages {
				if m.State == "delivered" && m.DeliveredAt.IsZero() {
					t.Errorf("delivered message without its time: %+v", m)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("counts %v, want 2 delivered and 1 failed by its report", rep.Counts)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// daily_cap (in parts) stops a modem for the day; what is left waits.
func TestDailyCap(t *testing.T) {
	t.Parallel()
	r := newRig(t, "daily_cap = 3", sim.Options{})
	a, _ := r.alert(5, "vol")
	m := r.waitModem("at its daily cap", 20*time.Second, func(m apitype.ModemStatus) bool { return m.State == apitype.ModemDailyCap })
	if m.Sent != 3 {
		t.Errorf("sent %d before the cap, want 3", m.Sent)
	}
	rep, _ := r.g.Alert(a.ID)
	if gone(rep.Counts) != 3 || rep.Counts["queued"] != 2 {
		t.Errorf("counts %v, want 3 out and 2 waiting for tomorrow", rep.Counts)
	}
	if st, _ := r.g.Status(); st.State != "degraded" {
		t.Errorf("daemon state %s, want degraded", st.State)
	}
}

// A STOP that arrives while its sender's alert is still queued: once the
// STOP is committed, that number gets nothing but the confirmation.
func TestStopInTheMiddleOfAFanOut(t *testing.T) {
	t.Parallel()
	r := newRig(t, "", sim.Options{SendDelay: 50 * time.Millisecond})
	a, shops := r.alert(20, "vol de carte bancaire")
	r.waitPhones(shops[1], 1)
	quitter := shops[len(shops)-1]
	if err := r.phones.Inject(quitter, "STOP"); err != nil {
		t.Fatal(err)
	}
	counts := r.finished(a.ID, 30*time.Second)
	got := r.phones.Received(quitter)
	if len(got) != 1 || !strings.Contains(got[0].Text, "ne recevrez plus") {
		t.Errorf("the number that sent STOP got %d SMS %v; want only the confirmation", len(got), got)
	}
	if counts["suppressed"] != 1 || gone(counts) != 19 {
		t.Errorf("counts %v, want 19 out and 1 suppressed", counts)
	}
}

// A temporary error for one number is retried without holding the others
// back; a permanent one fails at once.
func TestTemporaryAndPermanentErrorsPerNumber(t *testing.T) {
	t.Parallel()
	r := newRig(t, "", sim.Options{})
	const temporary, permanent = "+33611000000", "+33611000001"
	r.phones.FailNumber(temporary, 42) // congestion
	r.phones.FailNumber(permanent, 21) // short message transfer rejected
	a, shops := r.alert(6, "escroquerie")
	for _, p := range shops[2:] {
		r.waitPhones(p, 1) // the others went out while the first was failing
	}
	msgs, err := r.st.AlertMessages(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		switch m.To {
		case temporary:
			if m.State != store.StateQueued && m.State != store.StateSending {
				t.Errorf("temporary failure %+v: want it waiting for its retry", m)
			}
		case permanent:
			if m.State != store.StateFailed || m.Attempts != 1 {
				t.Errorf("permanent failure %+v: want failed after one attempt", m)
			}
		}
	}
	r.phones.FailNumber(temporary, 0) // the congestion clears
	counts := r.finished(a.ID, 20*time.Second)
	if gone(counts) != 5 || counts["failed"] != 1 {
		t.Errorf("counts %v, want 5 out and 1 failed", counts)
	}
	if m, _ := r.st.Message(msgs[0].ID); m.To == temporary && m.Attempts < 2 {
		t.Errorf("temporary failure %+v: want it retried", m)
	}
}

// What a shopkeeper changes by SMS is in the audit log, like an operator's
// changes, with the number masked.
func TestSMSChangesAreAudited(t *testing.T) {
	t.Parallel()
	r := newRig(t, "", sim.Options{})
	const shop = "+33613131313"
	if err := r.phones.Inject(shop, "INSCRIPTION macon"); err != nil {
		t.Fatal(err)
	}
	r.waitPhones(shop, 1)
	if err := r.phones.Inject(shop, "STOP"); err != nil {
		t.Fatal(err)
	}
	r.waitPhones(shop, 2)
	recs, err := r.st.Audit(time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rec := range recs {
		if strings.Contains(rec.Target, "1313") || rec.User != "sms" {
			t.Errorf("record %+v: want the user sms and the number masked", rec)
		}
		got = append(got, rec.Label)
	}
	if strings.Join(got, "|") != "inscription par SMS|STOP par SMS" {
		t.Errorf("audit labels %q", got)
	}
	if c, err := r.st.VerifyAudit(); err != nil || !c.OK() {
		t.Errorf("audit chain: %+v, %v", c, err)
	}
}
