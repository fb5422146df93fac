package gateway

import (
	"testing"
	"time"

	"vigie/gateway/apitype"
)

// The report counts witness replies by the month they came, per alert and
// within the zone filter, from counters the retention purge keeps.
func TestReportReplies(t *testing.T) {
	r := newWitnessRig(t, "")
	const alice, bob = "+33611111111", "+33622222222"
	t0 := r.now // 31 March, 20:00
	centre := r.alert("macon-centre", t0, alice, bob)
	r.receive(alice, "", "vu vers la gare", t0.Add(time.Hour))   // 31 March, 21:00
	r.receive(bob, "", "une voiture grise", t0.Add(5*time.Hour)) // 1 April, 01:00
	charnay := r.alert("charnay", t0.Add(6*time.Hour), alice, bob)
	r.receive(alice, "", "rien ici", t0.Add(7*time.Hour))
	// Gone from the history, still in the figures.
	if _, err := r.st.Purge(t0.Add(8 * time.Hour)); err != nil {
		t.Fatal(err)
	}

	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.Local)
	to := time.Date(2026, 5, 1, 0, 0, 0, 0, time.Local)
	rep, err := r.g.Report(apitype.ReportQuery{From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Totals.Replies != 3 || len(rep.Months) != 2 || rep.Months[0].Replies != 1 || rep.Months[1].Replies != 2 {
		t.Errorf("totals %d, months %+v; want 3 = 1 in March + 2 in April", rep.Totals.Replies, rep.Months)
	}
	rep, err = r.g.Report(apitype.ReportQuery{From: from, To: to, Zones: []string{"macon"}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Totals.Replies != 2 {
		t.Errorf("zone macon: %d replies, want the 2 to alert %d (macon-centre), not alert %d's", rep.Totals.Replies, centre.ID, charnay.ID)
	}
	rep, err = r.g.Report(apitype.ReportQuery{From: from, To: time.Date(2026, 4, 1, 0, 0, 0, 0, time.Local)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Totals.Replies != 1 {
		t.Errorf("March alone: %d replies, want 1", rep.Totals.Replies)
	}
	// The alerts' own counts, as reportAlerts lists them.
	rep = apitype.Report{Alerts: []apitype.ReportAlert{{ID: centre.ID}, {ID: charnay.ID}}}
	if err := r.g.reportReplies(&rep, apitype.ReportQuery{From: from, To: to}); err != nil {
		t.Fatal(err)
	}
	if rep.Alerts[0].Replies != 2 || rep.Alerts[1].Replies != 1 {
		t.Errorf("alert replies %+v, want 2 and 1", rep.Alerts)
	}
}
