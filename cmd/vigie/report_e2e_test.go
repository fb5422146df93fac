//go:build e2e

package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"vigie/gateway/apitype"
)

// scriptedAlert is what the script knows of one alert it sent, read from
// the daemon's own `alert show --json` before the purge takes its messages.
type scriptedAlert struct {
	id                uint64
	month             string // local "2006-01" of its acceptance
	category          string
	recipients, sent  int
	delivered, failed int
	toLast            time.Duration // from acceptance to the last SMS out
}

// waitCounts polls the alert until its counts by state are want (status
// reports come after the alert is done).
func (e *env) waitCounts(id uint64, want map[string]int) apitype.AlertReport {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		rep := e.alertReport(id)
		ok := rep.Done
		for state, n := range want {
			ok = ok && rep.Counts[state] == n
		}
		if ok {
			return rep
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("alert %d counts %v (done %t) after 30 s, want %v\n%s", id, rep.Counts, rep.Done, want, e.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// toLast is an alert's time from acceptance to its last SMS out, from its
// messages' send times.
func toLast(rep apitype.AlertReport) time.Duration {
	var last time.Time
	for _, m := range rep.Messages {
		if m.SentAt.After(last) {
			last = m.SentAt
		}
	}
	return last.Sub(rep.CreatedAt)
}

// inSeconds: the report's whole seconds are d, truncated or rounded (the
// contract does not say which; the daemon's timeline is exact, so nothing
// else passes).
func inSeconds(got int64, d time.Duration) bool {
	return got == int64(d/time.Second) || got == int64(d.Round(time.Second)/time.Second)
}

// `vigie rapport --format json` gives exactly the figures of a scripted
// history over fourteen months of test-clock time, after a retention purge
// took the messages of its first two alerts (issue #14, "Done when"):
//
//	month 0 (14 months ago): alice and bob join by SMS, carol is added by
//	  the operator; alert 1 (vol, Mâcon) to all three, carol's SMS fails.
//	month 1: dave joins by SMS, bob stops by SMS; alert 2 (escroquerie,
//	  Mâcon) to alice, carol, dave, whose delivery report stays pending,
//	  waits out a 70 min loss of the network: late for the promise.
//	month 4: erin is added, alice stops; alert 3 (vol, Mâcon centre) to
//	  carol and erin.
//
// The period is month 0 to the end of last month: 14 months either way the
// command reads --to (the day included or not).
func TestReportAcrossRetention(t *testing.T) {
	t.Parallel()
	now := time.Now()
	month0 := time.Date(now.Year(), now.Month()-14, 1, 0, 0, 0, 0, time.Local)
	at := func(m int) time.Time {
		return time.Date(month0.Year(), month0.Month()+time.Month(m), 10, 10, 0, 0, 0, time.Local)
	}
	e := start(t, envOptions{transliterate: true, testClock: true, clockStart: at(0)})
	// carol first in number order: her failure is not the alert's last
	// message, so the last SMS out is a sent one whatever the reading.
	const carol, alice, bob, dave, erin = "+33600000001", "+33611111111", "+33622222222", "+33644444444", "+33655555555"
	every := []string{carol, alice, bob, dave, erin}
	var script []scriptedAlert
	record := func(month int, a apitype.Alert, category string, recipients, sent, delivered, failed int) {
		t.Helper()
		want := map[string]int{"delivered": delivered, "failed": failed, "sent": sent - delivered}
		rep := e.waitCounts(a.ID, want)
		if rep.Recipients != recipients || !sameMinute(rep.CreatedAt, at(month)) {
			t.Fatalf("alert %d: %d recipients (want %d), created %v (want month %d's %v)", a.ID, rep.Recipients, recipients, rep.CreatedAt, month, at(month))
		}
		script = append(script, scriptedAlert{id: a.ID, month: rep.CreatedAt.In(time.Local).Format("2006-01"), category: category,
			recipients: recipients, sent: sent, delivered: delivered, failed: failed, toLast: toLast(rep)})
	}

	// Month 0.
	e.exchange(alice, "INSCRIPTION macon-centre", 1)
	e.exchange(bob, "INSCRIPTION macon-nord", 1)
	e.mustVigie("subscribers", "add", carol, "--zone", "macon-centre")
	e.phones.FailNumber(carol, 1) // unassigned number: a permanent failure
	record(0, e.sendAlert("--zone", "macon", "--category", "vol", "Vol rue Carnot, homme 30 ans."), "vol", 3, 2, 2, 1)

	// Month 1.
	e.setClock(at(1))
	e.phones.FailNumber(carol, 0)
	e.phones.SetReportStatus(dave, 0x20) // pending: sent, never delivered
	e.exchange(dave, "INSCRIPTION macon-nord", 1)
	e.exchange(bob, "STOP", 3)
	// The network is lost as alert 2 is accepted and comes back 70 min
	// later: its last SMS out breaks the one-hour promise.
	e.phones.SetNetwork(false)
	e.waitStatus("the modem without network", func(st apitype.Status) bool { return st.Modems[0].State == apitype.ModemNoNetwork })
	late := e.sendAlert("--zone", "macon", "--category", "escroquerie", "Faux policiers rue Sigorgne.")
	e.advance(70 * time.Minute)
	e.phones.SetNetwork(true)
	record(1, late, "escroquerie", 3, 3, 2, 0)
	if script[1].toLast < 70*time.Minute {
		t.Fatalf("alert %d's last SMS %v after its acceptance, want after the 70 min outage", late.ID, script[1].toLast)
	}

	// Month 4.
	e.setClock(at(4))
	e.mustVigie("subscribers", "add", erin, "--zone", "macon-centre")
	e.exchange(alice, "STOP", 4)
	record(4, e.sendAlert("--zone", "macon-centre", "--category", "vol", "Vol à l'étalage quai Lamartine."), "vol", 2, 2, 2, 0)

	// Now: the retention purge (12 months) takes alerts 1 and 2's messages
	// and the SMS received with them, at the care loop's next round.
	e.setClock(time.Now())
	deadline := time.Now().Add(90 * time.Second)
	for len(e.alertReport(script[0].id).Messages)+len(e.alertReport(script[1].id).Messages) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("alerts %d and %d keep messages more than a year old after 90 s\n%s", script[0].id, script[1].id, e.logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := len(e.alertReport(script[2].id).Messages); n != 2 {
		t.Fatalf("alert %d, 10 months old, has %d messages after the purge, want 2", script[2].id, n)
	}

	for _, a := range script {
		t.Logf("scripted alert %d (%s, %s): %d recipients, %d sent, %d delivered, %d failed, last SMS out after %v",
			a.id, a.month, a.category, a.recipients, a.sent, a.delivered, a.failed, a.toLast)
	}
	lastMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.Local).AddDate(0, 0, -1)
	out := e.mustVigie("rapport", "--from", month0.Format(time.DateOnly), "--to", lastMonth.Format(time.DateOnly), "--format", "json")
	for _, n := range every {
		for _, form := range []string{n, "0" + n[3:]} {
			if strings.Contains(string(out), form) {
				t.Errorf("the report shows the phone number %s", form)
			}
		}
	}
	rep := decodeJSON[apitype.Report](t, out)

	// The totals the script implies.
	var toLasts []time.Duration
	want := apitype.ReportTotals{Alerts: len(script), Joins: 5, Stops: 2, ActiveStart: 0, ActiveEnd: 3}
	for _, a := range script {
		want.Recipients += a.recipients
		want.Sent += a.sent
		want.Delivered += a.delivered
		want.Failed += a.failed
		toLasts = append(toLasts, a.toLast)
	}
	slices.Sort(toLasts)
	want.Finished, want.WithinPromise = 3, 2
	got := rep.Totals
	for _, f := range []struct {
		name      string
		got, want int64
	}{
		{"alerts", int64(got.Alerts), int64(want.Alerts)},
		{"recipients", int64(got.Recipients), int64(want.Recipients)},
		{"sent", int64(got.Sent), int64(want.Sent)},
		{"delivered", int64(got.Delivered), int64(want.Delivered)},
		{"failed", int64(got.Failed), int64(want.Failed)},
		{"uncertain", int64(got.Uncertain), 0},
		{"expired", int64(got.Expired), 0},
		{"cancelled", int64(got.Cancelled), 0},
		{"finished", int64(got.Finished), int64(want.Finished)},
		{"within_promise", int64(got.WithinPromise), int64(want.WithinPromise)},
		{"replies", int64(got.Replies), 0}, // keywords only, days after the alerts
		{"joins", int64(got.Joins), int64(want.Joins)},
		{"stops", int64(got.Stops), int64(want.Stops)},
		{"active_start", int64(got.ActiveStart), int64(want.ActiveStart)},
		{"active_end", int64(got.ActiveEnd), int64(want.ActiveEnd)},
	} {
		if f.got != f.want {
			t.Errorf("totals.%s = %d, want %d", f.name, f.got, f.want)
		}
	}
	if !inSeconds(got.MedianToLastSeconds, toLasts[1]) || !inSeconds(got.WorstToLastSeconds, toLasts[2]) {
		t.Errorf("totals median_to_last_seconds %d, worst %d; want %v and %v", got.MedianToLastSeconds, got.WorstToLastSeconds, toLasts[1], toLasts[2])
	}
	if rep.PromiseSeconds != 3600 {
		t.Errorf("promise_seconds = %d, want 3600", rep.PromiseSeconds)
	}

	// Each alert as the script sent it.
	if len(rep.Alerts) != len(script) {
		t.Fatalf("report alerts = %+v, want %d", rep.Alerts, len(script))
	}
	for i, a := range script {
		r := rep.Alerts[i]
		if r.ID != a.id || r.Category != a.category || r.Recipients != a.recipients || r.Sent != a.sent ||
			r.Delivered != a.delivered || r.Failed != a.failed || !r.Finished || !inSeconds(r.ToLastSeconds, a.toLast) {
			t.Errorf("report alert %d = %+v, want %+v", i, r, a)
		}
	}
	cats := map[string]int{}
	for _, c := range rep.Categories {
		cats[c.ID] = c.Count
	}
	if cats["vol"] != 2 || cats["escroquerie"] != 1 || cats["fausse-monnaie"]+cats["autre"] != 0 {
		t.Errorf("categories = %+v, want vol 2, escroquerie 1", rep.Categories)
	}

	// One entry per month, empty months included, each with its own.
	type monthWant struct{ alerts, recipients, sent, delivered, failed, joins, stops, activeEnd int }
	byMonth := map[string]monthWant{
		month0.Format("2006-01"):                  {1, 3, 2, 2, 1, 3, 0, 3},
		month0.AddDate(0, 1, 0).Format("2006-01"): {1, 3, 3, 2, 0, 1, 1, 3},
		month0.AddDate(0, 4, 0).Format("2006-01"): {1, 2, 2, 2, 0, 1, 1, 3},
	}
	if len(rep.Months) != 14 {
		t.Fatalf("report has %d months, want 14 (%s to %s): %+v", len(rep.Months), month0.Format("2006-01"), lastMonth.Format("2006-01"), rep.Months)
	}
	for i, m := range rep.Months {
		name := month0.AddDate(0, i, 0).Format("2006-01")
		// Three shops active at every month's end: alice, bob, carol;
		// then bob out and dave in; then alice out and erin in.
		w := monthWant{activeEnd: 3}
		if busy, ok := byMonth[name]; ok {
			w = busy
		}
		gotM := monthWant{m.Alerts, m.Recipients, m.Sent, m.Delivered, m.Failed, m.Joins, m.Stops, m.ActiveEnd}
		if m.Month != name || gotM != w {
			t.Errorf("months[%d] = %s %+v, want %s %+v", i, m.Month, gotM, name, w)
		}
	}
	for i, a := range script {
		if a.month != month0.AddDate(0, []int{0, 1, 4}[i], 0).Format("2006-01") {
			t.Errorf("alert %d accepted in %s, the script meant month %d", a.id, a.month, []int{0, 1, 4}[i])
		}
	}
	if t.Failed() {
		t.Logf("report:\n%s", out)
	}
}
