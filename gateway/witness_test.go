package gateway

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"vigie/gateway/config"
	"vigie/gateway/render"
	"vigie/store"
)

// witnessRig is a gateway over a real store with a settable clock, and
// helpers to send an alert and receive SMS without a modem.
type witnessRig struct {
	t   *testing.T
	g   *Gateway
	st  *store.Store
	now time.Time
	key int
}

func newWitnessRig(t *testing.T, extra string) *witnessRig {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Parse(strings.NewReader(fmt.Sprintf(testConfig, dir, "open")+extra), "test.toml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(cfg.Store.Path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &witnessRig{t: t, st: st, now: time.Date(2026, 3, 31, 20, 0, 0, 0, time.Local)}
	if r.g, err = New(cfg, st, Options{Now: func() time.Time { return r.now }}); err != nil {
		t.Fatal(err)
	}
	return r
}

// alert creates an alert to recipients in zone at at, its messages sent.
func (r *witnessRig) alert(zone string, at time.Time, recipients ...string) store.Alert {
	r.t.Helper()
	a, err := r.st.CreateAlert(store.Alert{Category: "vol", Zones: []string{zone}, Rendered: "x", Parts: 1}, recipients, at)
	if err != nil {
		r.t.Fatal(err)
	}
	// The automatic replies queued before go first.
	for sent := 0; sent < len(recipients); {
		m, ok, err := r.st.Claim("m1", at)
		if err != nil || !ok {
			r.t.Fatalf("claim: %v %v", ok, err)
		}
		if err := r.st.MarkSent(m.ID, []int{int(m.ID)}, at); err != nil {
			r.t.Fatal(err)
		}
		if m.AlertID == a.ID {
			sent++
		}
	}
	return a
}

// receive handles an SMS from from at at and returns it as stored.
func (r *witnessRig) receive(from, kind, text string, at time.Time, missing ...int) store.Inbound {
	r.t.Helper()
	r.key++
	in, _, err := r.st.SaveInboundPart(store.InboundPart{Key: fmt.Sprint(r.key), From: from, FromKind: kind, SCTS: at, Total: 1, Text: text, ReceivedAt: at})
	if err != nil {
		r.t.Fatal(err)
	}
	in.Missing, in.Parts = missing, len(missing)+1 // as ExpireIncompleteParts marks one
	r.now = at
	if err := r.g.handleInbound(*in); err != nil {
		r.t.Fatal(err)
	}
	e, err := r.st.InboxEntry(in.ID)
	if err != nil {
		return *in // not in the inbox: not tied either
	}
	return e.Inbound
}

// queued returns the queued messages of kind.
func (r *witnessRig) queued(kind store.Kind) []store.Message {
	r.t.Helper()
	var out []store.Message
	for {
		m, ok, err := r.st.Claim("m1", r.now.Add(time.Hour))
		if err != nil {
			r.t.Fatal(err)
		}
		if !ok {
			return out
		}
		if err := r.st.MarkSent(m.ID, nil, r.now); err != nil {
			r.t.Fatal(err)
		}
		if m.Kind == kind {
			out = append(out, m)
		}
	}
}

// Only a plain message from a mobile that got the alert is a witness
// reply: not a keyword, a robot, an incomplete SMS, nor our own texts.
func TestWitnessGate(t *testing.T) {
	r := newWitnessRig(t, "")
	const alice = "+33611111111"
	a := r.alert("macon", r.now, alice)
	at := r.now.Add(time.Minute)
	for _, tc := range []struct {
		name, from, kind, text string
		missing                []int
		tied                   bool
	}{
		{"plain reply", alice, "", "vu vers la gare", nil, true},
		{"national form", "0611111111", "", "il avait un sac", nil, true},
		{"keyword", alice, "", "AIDE", nil, false},
		{"incomplete", alice, "", "je l'ai vu par", []int{2}, false},
		{"our reply", alice, "", "Vigilance commerce : message transmis", nil, false},
		{"a forward", alice, "", "Vigie renvoi : réponse à l'alerte 1 de X (06) : vu", nil, false},
		{"alphanumeric", "ORANGE", "alphanumeric", "Votre facture", nil, false},
	} {
		at = at.Add(time.Minute)
		in := r.receive(tc.from, tc.kind, tc.text, at, tc.missing...)
		if got := in.AlertID == a.ID; got != tc.tied {
			t.Errorf("%s: tied to %d, want tied %v", tc.name, in.AlertID, tc.tied)
		}
	}
}

// A forward carries the shop, its number, the alert and the text cut to
// fit; an on-duty phone's own reply is tied but not forwarded.
func TestWitnessForwardText(t *testing.T) {
	r := newWitnessRig(t, "\n[inbox]\nforward_to = [\"06 99 99 99 99\", \"+33688888888\"]\n")
	const alice, duty = "+33611111111", "+33699999999"
	if _, _, err := r.st.Enrol(store.Enrolment{Phone: alice, Zones: []string{"macon-centre"}, Name: "Bijouterie Lévêque", Source: store.SourceOperator}, r.now); err != nil {
		t.Fatal(err)
	}
	a := r.alert("macon", r.now, alice, duty)
	long := strings.Repeat("un homme en veste bleue est parti vers la gare ", 10)
	r.receive(alice, "", long, r.now.Add(time.Minute))
	if in := r.receive(duty, "", "bien reçu, on y va", r.now.Add(time.Minute)); in.AlertID != a.ID {
		t.Errorf("duty's reply tied to %d, want %d", in.AlertID, a.ID)
	}
	fwd := r.queued(store.KindForward)
	if len(fwd) != 2 || fwd[0].To != duty || fwd[1].To != "+33688888888" {
		t.Fatalf("forwards = %+v, want one to each on-duty phone", fwd)
	}
	head := fmt.Sprintf("Vigie renvoi : réponse à l'alerte %d de Bijouterie Léveque (06 11 11 11 11) : un homme en veste", a.ID)
	m := fwd[0]
	if !strings.HasPrefix(m.Text, head) || !strings.HasSuffix(m.Text, "...") || m.Parts != forwardParts ||
		render.Measure(m.Text).Encoding != render.GSM7 || m.About != alice {
		t.Errorf("forward = %q (%d parts, about %s)", m.Text, m.Parts, m.About)
	}
}
