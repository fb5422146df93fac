package gateway

import (
	"context"
	"reflect"
	"testing"
	"time"

	"vigie/gateway/apitype"
	"vigie/store"
)

// The report's alert figures over a scripted history, after a retention
// purge has removed every finished message: they come from what the purge
// keeps.
func TestReportAlertsFigures(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
	g, st, _ := newCareGateway(t, clock.Now, "")
	const a, b, c, d = "+33611000001", "+33611000002", "+33611000003", "+33611000004"
	for _, sub := range []store.Subscription{
		{Phone: a, Zone: "macon-centre"}, {Phone: b, Zone: "macon-centre"}, {Phone: c, Zone: "macon"}, {Phone: d, Zone: "charnay"},
	} {
		sub.Source = "operator"
		if _, err := st.AddSubscriber(sub, clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	send := func(at time.Time, req apitype.AlertRequest) uint64 {
		t.Helper()
		clock.Set(at)
		req.Text = "Individu suspect"
		al, err := g.SendAlert(context.Background(), req, "gendarme")
		if err != nil {
			t.Fatal(err)
		}
		return al.ID
	}
	out := func(at time.Time) store.Message {
		t.Helper()
		m, ok, err := st.Claim("m1", at)
		if err != nil || !ok {
			t.Fatalf("claim at %v: %v %v", at, ok, err)
		}
		if err := st.MarkSent(m.ID, []int{int(m.ID)}, at); err != nil {
			t.Fatal(err)
		}
		return m
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	// Before the period: not counted.
	t0 := time.Date(2026, 1, 20, 9, 0, 0, 0, time.UTC)
	send(t0, apitype.AlertRequest{Zones: []string{"charnay"}, Category: "vol"})
	out(t0.Add(time.Minute))

	// February: a theft in Mâcon (and Mâcon centre below it), out in 3 min.
	t1 := time.Date(2026, 2, 10, 9, 0, 0, 0, time.UTC)
	send(t1, apitype.AlertRequest{Zones: []string{"macon"}, Category: "vol"})
	m1 := out(t1.Add(time.Minute))
	m2 := out(t1.Add(2 * time.Minute))
	m3 := out(t1.Add(3 * time.Minute))
	must(st.MarkDelivered(m1.ID, t1.Add(4*time.Minute)))
	must(st.MarkDelivered(m2.ID, t1.Add(4*time.Minute)))
	must(st.MarkFailed(m3.ID, "rapport : échec", t1.Add(5*time.Minute)))

	// March: a fraud to everyone, two out in 90 min (one unconfirmed),
	// the rest cancelled.
	t2 := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	id2 := send(t2, apitype.AlertRequest{All: true, Category: "escroquerie"})
	out(t2.Add(30 * time.Minute))
	m, ok, err := st.Claim("m1", t2.Add(90*time.Minute))
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	must(st.MarkSentUncertain(m.ID, "pas de réponse du modem", t2.Add(90*time.Minute)))
	if _, err := st.CancelAlert(id2, t2.Add(91*time.Minute)); err != nil {
		t.Fatal(err)
	}

	// Late March: Charnay, still queued.
	t3 := time.Date(2026, 3, 20, 8, 0, 0, 0, time.UTC)
	send(t3, apitype.AlertRequest{Zones: []string{"charnay"}})

	// After the period.
	send(time.Date(2026, 4, 2, 8, 0, 0, 0, time.UTC), apitype.AlertRequest{Zones: []string{"charnay"}, Category: "vol"})

	clock.Set(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	if p, err := st.Purge(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)); err != nil || p.Messages != 8 {
		t.Fatalf("purge: %+v, %v; want the 8 finished messages gone", p, err)
	}

	q := apitype.ReportQuery{From: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}
	r, err := g.Report(q)
	if err != nil {
		t.Fatal(err)
	}
	wantTotals := apitype.ReportTotals{
		Alerts: 3, Recipients: 3 + 4 + 1, Sent: 3 + 2, Delivered: 2, Failed: 1, Uncertain: 1, Cancelled: 2,
		Finished: 2, MedianToLastSeconds: (180 + 5400) / 2, WorstToLastSeconds: 5400, WithinPromise: 1,
	}
	if alertTotals(r.Totals) != wantTotals {
		t.Errorf("totals\n got %+v\nwant %+v", r.Totals, wantTotals)
	}
	wantMonths := []apitype.ReportMonth{
		{Month: "2026-02", Alerts: 1, Recipients: 3, Sent: 3, Delivered: 2, Failed: 1},
		{Month: "2026-03", Alerts: 2, Recipients: 5, Sent: 2, Uncertain: 1},
	}
	if !reflect.DeepEqual(alertMonths(r.Months), wantMonths) {
		t.Errorf("months\n got %+v\nwant %+v", r.Months, wantMonths)
	}
	wantCats := []apitype.NamedCount{
		{ID: "vol", Name: "Vol", Count: 1}, {ID: "escroquerie", Name: "Escroquerie", Count: 1},
		{ID: "fausse-monnaie", Name: "Fausse monnaie"}, {ID: "autre", Name: "Autre", Count: 1},
	}
	if !reflect.DeepEqual(r.Categories, wantCats) {
		t.Errorf("categories\n got %+v\nwant %+v", r.Categories, wantCats)
	}
	wantZones := []apitype.ReportZone{
		{Zone: "macon", Name: "Mâcon", Alerts: 2, Recipients: 3 + 3},
		{Zone: "macon-centre", Name: "Mâcon centre", Alerts: 2, Recipients: 2 + 2},
		{Zone: "charnay", Name: "Charnay-lès-Mâcon", Alerts: 2, Recipients: 1 + 1},
	}
	if !reflect.DeepEqual(alertSide(r.ByZone), wantZones) {
		t.Errorf("by zone\n got %+v\nwant %+v", r.ByZone, wantZones)
	}
	if len(r.Alerts) != 3 {
		t.Fatalf("alerts %+v", r.Alerts)
	}
	a1, a2, a3 := r.Alerts[0], r.Alerts[1], r.Alerts[2]
	if !a1.CreatedAt.Equal(t1) || a1.ToLastSeconds != 180 || !a1.Finished || a1.Sent != 3 || a1.Delivered != 2 || a1.Failed != 1 ||
		!reflect.DeepEqual(a1.ZoneNames, []string{"Mâcon"}) {
		t.Errorf("February's alert %+v", a1)
	}
	if a2.ToLastSeconds != 5400 || !a2.Finished || a2.Sent != 2 || a2.Uncertain != 1 || a2.Cancelled != 2 || a2.Recipients != 4 {
		t.Errorf("March's alert %+v", a2)
	}
	if a3.Finished || a3.ToLastSeconds != 0 || a3.Sent != 0 || a3.Category != "autre" {
		t.Errorf("the queued alert %+v", a3)
	}

	// Narrowed to Mâcon centre: the alert to the zone above it reached its
	// shops, and so did the one to everyone; Charnay's did not.
	q.Zones = []string{"macon-centre"}
	r, err = g.Report(q)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Alerts) != 2 || r.Alerts[1].ID != id2 || r.Totals.Alerts != 2 || r.Totals.Recipients != 3+4 {
		t.Errorf("narrowed: alerts %+v, totals %+v", r.Alerts, r.Totals)
	}
	if want := []apitype.ReportZone{{Zone: "macon-centre", Name: "Mâcon centre", Alerts: 2, Recipients: 2 + 2}}; !reflect.DeepEqual(alertSide(r.ByZone), want) {
		t.Errorf("narrowed by zone %+v, want %+v", r.ByZone, want)
	}
	if want := []apitype.NamedCount{{ID: "macon-centre", Name: "Mâcon centre", Count: 2}}; !reflect.DeepEqual(r.Zones, want) {
		t.Errorf("narrowed zones %+v, want %+v", r.Zones, want)
	}
	q.Zones = []string{"atlantide"}
	if _, err := g.Report(q); err == nil {
		t.Error("a report on an unknown zone")
	}
}

// alertSide keeps the alert figures of zones, those reportAlerts fills:
// the subscription figures are reportUsage's, tested apart.
func alertSide(zones []apitype.ReportZone) []apitype.ReportZone {
	out := make([]apitype.ReportZone, len(zones))
	for i, z := range zones {
		out[i] = apitype.ReportZone{Zone: z.Zone, Name: z.Name, Alerts: z.Alerts, Recipients: z.Recipients}
	}
	return out
}

// alertTotals keeps the totals reportAlerts fills.
func alertTotals(t apitype.ReportTotals) apitype.ReportTotals {
	t.Joins, t.Stops, t.ActiveStart, t.ActiveEnd, t.PartsSent, t.PartsCap, t.Availability = 0, 0, 0, 0, 0, 0, 0
	return t
}

// alertMonths keeps the monthly figures reportAlerts fills.
func alertMonths(months []apitype.ReportMonth) []apitype.ReportMonth {
	out := make([]apitype.ReportMonth, len(months))
	for i, m := range months {
		out[i] = apitype.ReportMonth{Month: m.Month, Alerts: m.Alerts, Recipients: m.Recipients, Sent: m.Sent,
			Delivered: m.Delivered, Failed: m.Failed, Uncertain: m.Uncertain, Expired: m.Expired, Replies: m.Replies}
	}
	return out
}
