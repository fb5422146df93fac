package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"vigie/gateway/apitype"
)

// The timeline of a finished alert in French, and its chart: one column
// per minute, the busiest full height, an empty minute blank, the times
// of day under it.
func TestPrintTimeline(t *testing.T) {
	acc := time.Date(2026, 3, 14, 14, 2, 0, 0, time.Local)
	at := func(d time.Duration) time.Time { return acc.Add(d) }
	rep := apitype.AlertReport{
		Alert: apitype.Alert{Recipients: 40, Counts: map[string]int{"delivered": 38, "failed": 1, "expired": 1}},
		Timeline: &apitype.AlertTimeline{
			AcceptedAt: acc, FirstSentAt: at(10 * time.Second), HalfSentAt: at(5 * time.Minute),
			NinetySentAt: at(10 * time.Minute), LastSentAt: at(12 * time.Minute),
			FirstReportAt: at(time.Minute), LastReportAt: at(20 * time.Minute),
			FirstFailedAt: at(7 * time.Minute), LastFailedAt: at(7 * time.Minute),
			FirstExpiredAt: at(13 * time.Minute), LastExpiredAt: at(13 * time.Minute),
			Finished: true, Sent: 39, Reports: 39, ToLastSeconds: 720,
			Minutes: []apitype.TimelineMinute{{Minute: 0, Sent: 8}, {Minute: 1, Sent: 4}, {Minute: 3, Sent: 2},
				{Minute: 12, Sent: 1}, {Minute: 20, Delivered: 3}},
		},
	}
	var b bytes.Buffer
	printTimeline(&b, rep)
	got := b.String()
	for _, want := range []string{
		"  Acceptée à 14 h 02\n",
		"  Premier SMS parti à 14 h 02 (après 10 s)\n",
		"  50 % des SMS partis à 14 h 07 (après 5 min 00 s)\n",
		"  90 % des SMS partis à 14 h 12 (après 10 min 00 s)\n",
		"  Dernier SMS parti à 14 h 14 (en 12 min 00 s)\n",
		"  39 rapports de remise de 14 h 03 à 14 h 22\n",
		"  1 échec à 14 h 09\n",
		"  1 SMS expiré à 14 h 15\n",
		"SMS partis par minute (au plus 8) :\n",
		"  |14 h 02  |14 h 12\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	if strings.Contains(got, "Annulée") || strings.Contains(got, "en cours") {
		t.Errorf("a finished alert never cancelled:\n%s", got)
	}
	lines := strings.Split(strings.TrimRight(got, "\n"), "\n")
	chart := lines[len(lines)-4 : len(lines)-1]
	// Minute 0 (8 SMS) is full height; minute 2 (none) blank; minute 12 (1 of 8) three eighths on the bottom line.
	if r := []rune(chart[0]); len(r) < 3 || r[2] != '█' {
		t.Errorf("top line %q: want the busiest minute full", chart[0])
	}
	if r := []rune(chart[2]); len(r) != 2+13 || r[2+2] != ' ' || r[2+12] != '▃' {
		t.Errorf("bottom line %q: want 13 columns, minute 2 blank, minute 12 low", chart[2])
	}
}

// An alert that took hours groups minutes so the chart stays narrow.
func TestSentChartGroupsMinutes(t *testing.T) {
	tl := &apitype.AlertTimeline{AcceptedAt: time.Date(2026, 3, 14, 9, 0, 0, 0, time.Local),
		Minutes: []apitype.TimelineMinute{{Minute: 0, Sent: 1}, {Minute: 179, Sent: 1}}}
	lines := sentChart(tl)
	if len(lines) != chartRows+2 || !strings.HasPrefix(lines[0], "SMS partis par tranche de 3 min") {
		t.Fatalf("chart %q", lines)
	}
	for _, l := range lines[1:] {
		if n := len([]rune(l)); n > 2+chartWidth+8 {
			t.Errorf("line %q: %d columns", l, n)
		}
	}
	if sentChart(&apitype.AlertTimeline{}) != nil {
		t.Error("a chart for an alert that sent nothing")
	}
}
