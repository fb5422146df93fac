//go:build e2e

package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"vigie/gateway/apitype"
)

// A box whose clock is off from the network's (a Raspberry Pi after a power
// cut, the network 3 h ahead or 2 days behind): `vigie status` says so in
// French and the daemon is degraded; the alert still goes out, and the
// alert, its message and the audit record are dated from the network's time.
func TestStatusShowsTheSystemClocksOffset(t *testing.T) {
	for _, tt := range []struct {
		offset time.Duration // the network's time minus the host's
		says   string
	}{
		{3 * time.Hour, "HORLOGE : horloge du système en retard de 3 h 00 min sur l'heure du réseau (lue par le modem m1)"},
		{-48 * time.Hour, "HORLOGE : horloge du système en avance de 2 jours sur l'heure du réseau (lue par le modem m1)"},
	} {
		t.Run(tt.offset.String(), func(t *testing.T) {
			t.Parallel()
			e := start(t, envOptions{transliterate: true, networkClock: tt.offset})
			var st apitype.Status
			deadline := time.Now().Add(20 * time.Second)
			for st.Clock == nil {
				if time.Now().After(deadline) {
					t.Fatalf("no clock in status after 20 s: %+v\n%s", st, e.logs.String())
				}
				time.Sleep(50 * time.Millisecond)
				if err := json.Unmarshal(e.mustVigie("status", "--json"), &st); err != nil {
					t.Fatal(err)
				}
			}
			if off := time.Duration(st.Clock.OffsetSeconds * float64(time.Second)); !st.Clock.Skewed || st.State != "degraded" || !around(off, -tt.offset) {
				t.Errorf("status --json: state %s, clock %+v; want degraded, offset %v", st.State, st.Clock, -tt.offset)
			}
			if m := st.Modems[0]; m.ClockOffsetSeconds == nil || !around(time.Duration(*m.ClockOffsetSeconds*float64(time.Second)), -tt.offset) {
				t.Errorf("modem clock offset %v", m.ClockOffsetSeconds)
			}
			out := string(e.mustVigie("status"))
			t.Logf("vigie status:\n%s", out)
			for _, want := range []string{tt.says, "dégradé", "clignotement lent", "timedatectl"} {
				if !strings.Contains(out, want) {
					t.Errorf("vigie status does not say %q:\n%s", want, out)
				}
			}
			if !strings.Contains(e.logs.String(), "system clock is off from the network's time") {
				t.Errorf("no log line about the clock:\n%s", e.logs.String())
			}

			e.exchange("+33611111111", "INSCRIPTION macon", 1)
			a := e.sendAlert("--zone", "macon", "vol à l'étalage rue Carnot")
			rep := e.waitAlert(a.ID)
			network := e.phones.NetworkTime()
			if !around(a.CreatedAt.Sub(network), 0) {
				t.Errorf("alert dated %v; the network says %v, the host %v", a.CreatedAt, network, time.Now())
			}
			if len(rep.Messages) != 1 || rep.Messages[0].State != "sent" && rep.Messages[0].State != "delivered" || !around(rep.Messages[0].SentAt.Sub(network), 0) {
				t.Errorf("messages %+v; want one sent, dated from the network (%v)", rep.Messages, network)
			}
			var recs []apitype.AuditRecord
			if err := json.Unmarshal(e.mustVigie("audit", "--json"), &recs); err != nil {
				t.Fatal(err)
			}
			last := recs[len(recs)-1]
			if !strings.Contains(last.Action, "alerts") || !around(last.Time.Sub(network), 0) {
				t.Errorf("last audit record %+v; want the alert, dated from the network (%v)", last, network)
			}
			e.mustVigie("audit", "verify") // the chain holds across dates from two clocks
		})
	}
}

// around accepts the modem clock's one-second resolution and the time the
// CLI round trips take.
func around(d, want time.Duration) bool {
	d -= want
	return d > -10*time.Second && d < 10*time.Second
}
