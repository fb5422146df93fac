package gateway

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"vigie/gateway/apitype"
	"vigie/gateway/config"
	"vigie/store"
)

// The report counts witness replies by the month they came, per alert and
// within the zone filter, from counters the retention purge keeps.
func TestReportReplies(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Parse(strings.NewReader(fmt.Sprintf(testConfig, dir, "open")), "test.toml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(cfg.Store.Path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 3, 31, 20, 0, 0, 0, time.Local)
	g, err := New(cfg, st, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	const alice, bob = "+33611111111", "+33622222222"
	alert := func(zone string, at time.Time) store.Alert {
		a, err := st.CreateAlert(store.Alert{Category: "vol", Zones: []string{zone}, Rendered: "x", Parts: 1}, []string{alice, bob}, at)
		if err != nil {
			t.Fatal(err)
		}
		// The automatic replies queued before go first.
		for sent := 0; sent < 2; {
			m, ok, err := st.Claim("m1", at)
			if err != nil || !ok {
				t.Fatalf("claim: %v %v", ok, err)
			}
			if err := st.MarkSent(m.ID, []int{int(m.ID)}, at); err != nil {
				t.Fatal(err)
			}
			if m.AlertID == a.ID {
				sent++
			}
		}
		return a
	}
	answer := func(from, text string, at time.Time) {
		t.Helper()
		in, _, err := st.SaveInboundPart(store.InboundPart{Key: from + text, From: from, SCTS: at, Total: 1, Text: text, ReceivedAt: at})
		if err != nil {
			t.Fatal(err)
		}
		now = at
		if err := g.handleInbound(*in); err != nil {
			t.Fatal(err)
		}
	}
	t0 := now
	centre := alert("macon-centre", t0)
	answer(alice, "vu vers la gare", t0.Add(time.Hour))   // 31 March 21:00
	answer(bob, "une voiture grise", t0.Add(5*time.Hour)) // 1 April, 01:00
	charnay := alert("charnay", t0.Add(6*time.Hour))
	answer(alice, "rien ici", t0.Add(7*time.Hour))

	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.Local)
	to := time.Date(2026, 5, 1, 0, 0, 0, 0, time.Local)
	r, err := g.Report(apitype.ReportQuery{From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	if r.Totals.Replies != 3 || len(r.Months) != 2 || r.Months[0].Replies != 1 || r.Months[1].Replies != 2 {
		t.Errorf("totals %d, months %+v; want 3 = 1 in March + 2 in April", r.Totals.Replies, r.Months)
	}
	r, err = g.Report(apitype.ReportQuery{From: from, To: to, Zones: []string{"macon"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Totals.Replies != 2 {
		t.Errorf("zone macon: %d replies, want the 2 to alert %d (macon-centre), not alert %d's", r.Totals.Replies, centre.ID, charnay.ID)
	}
	// The alerts' own counts, as reportAlerts lists them.
	r = apitype.Report{Alerts: []apitype.ReportAlert{{ID: centre.ID}, {ID: charnay.ID}}}
	if err := g.reportReplies(&r, apitype.ReportQuery{From: from, To: to}); err != nil {
		t.Fatal(err)
	}
	if r.Alerts[0].Replies != 2 || r.Alerts[1].Replies != 1 {
		t.Errorf("alert replies %+v, want 2 and 1", r.Alerts)
	}
}
