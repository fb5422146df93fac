//go:build e2e

package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"vigie/gateway/apitype"
)

// A finished alert's timeline: `alert show --json` carries its milestones
// in order, delivery reports included, and the text shows them in French
// with the chart of SMS sent.
func TestAlertTimelineShown(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{sendDelay: 100 * time.Millisecond})
	shops := []string{"+33611111111", "+33622222222", "+33633333333", "+33644444444", "+33655555555"}
	for _, n := range shops {
		e.mustVigie("subscribers", "add", n, "--zone", "macon")
	}
	a := e.sendAlert("--zone", "macon", "Vol rue Carnot.")
	var rep apitype.AlertReport
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		rep = e.waitAlert(a.ID)
		if rep.Timeline != nil && rep.Timeline.Reports == len(shops) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery reports not all in: %+v", rep.Timeline)
		}
	}
	tl := rep.Timeline
	ordered := []struct {
		name string
		at   time.Time
	}{
		{"accepted", tl.AcceptedAt}, {"first sent", tl.FirstSentAt}, {"50 %", tl.HalfSentAt},
		{"90 %", tl.NinetySentAt}, {"last sent", tl.LastSentAt}, {"last report", tl.LastReportAt},
	}
	for i, o := range ordered {
		if o.at.IsZero() {
			t.Errorf("%s: no time in %+v", o.name, tl)
		}
		if i > 0 && o.at.Before(ordered[i-1].at) {
			t.Errorf("%s at %v, before %s at %v", o.name, o.at, ordered[i-1].name, ordered[i-1].at)
		}
	}
	if tl.FirstReportAt.Before(tl.FirstSentAt) || tl.FirstReportAt.After(tl.LastReportAt) {
		t.Errorf("first report at %v, sends from %v, last report %v", tl.FirstReportAt, tl.FirstSentAt, tl.LastReportAt)
	}
	if !tl.Finished || tl.Sent != len(shops) || !tl.AcceptedAt.Equal(rep.CreatedAt) ||
		tl.ToLastSeconds != int64(tl.LastSentAt.Sub(tl.AcceptedAt)/time.Second) {
		t.Errorf("timeline %+v: want finished, %d sent, accepted at the alert's creation, its time to the last SMS", tl, len(shops))
	}
	sent := 0
	for _, m := range tl.Minutes {
		sent += m.Sent
	}
	if sent != len(shops) {
		t.Errorf("minutes %+v: %d sent, want %d", tl.Minutes, sent, len(shops))
	}

	out := string(e.mustVigie("alert", "show", fmt.Sprint(a.ID)))
	for _, w := range []string{
		"Chronologie :\n",
		"  Acceptée à " + tl.AcceptedAt.Local().Format("15 h 04") + "\n",
		"  Premier SMS parti à ",
		"  Dernier SMS parti à " + tl.LastSentAt.Local().Format("15 h 04") + " (en ",
		"  5 rapports de remise ",
		"SMS partis par minute (au plus ",
		"  |" + tl.AcceptedAt.Local().Format("15 h 04") + "\n",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("alert show lacks %q:\n%s", w, out)
		}
	}
	if !strings.Contains(out, "█") {
		t.Errorf("alert show has no chart:\n%s", out)
	}
}
