package gateway

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"vigie/gateway/apitype"
	"vigie/store"
)

const usageExtra = `
[[modem]]
name = "m2"
device = "/dev/null"
rate_per_minute = 10
daily_cap = 100

[[trade]]
id = "tabac"
name = "Tabac-presse"
`

// TestReportUsage scripts three months of subscriptions, sent parts and
// modem time, purges all of the history that retention may purge, and
// checks every usage figure of the report, with and without a zone filter.
func TestReportUsage(t *testing.T) {
	day := func(m time.Month, d, h, min int) time.Time { return time.Date(2026, m, d, h, min, 0, 0, time.UTC) }
	clock := &fakeClock{now: day(1, 10, 12, 0)}
	g, st, _ := newCareGateway(t, clock.Now, usageExtra)
	const alice, bob, carol, dave = "+33611111111", "+33622222222", "+33633333333", "+33644444444"

	// January: alice by an operator (Mâcon centre, tabac), bob and dave by
	// import (Charnay).
	jan, feb, mar := day(1, 10, 9, 0), day(2, 5, 9, 0), day(3, 3, 9, 0)
	if _, err := st.AddSubscriber(store.Subscription{Phone: alice, Zone: "macon-centre", Trade: "tabac"}, jan); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Import([]store.Enrolment{
		{Phone: bob, Zones: []string{"charnay"}, Source: store.SourceImport},
		{Phone: dave, Zones: []string{"charnay"}, Source: store.SourceImport},
	}, false, jan); err != nil {
		t.Fatal(err)
	}
	// February: alice adds Charnay, carol subscribes by SMS to Mâcon.
	if _, err := st.AddSubscriber(store.Subscription{Phone: alice, Zone: "charnay"}, feb); err != nil {
		t.Fatal(err)
	}
	in, _, err := st.SaveInboundPart(store.InboundPart{Key: "carol", From: carol, Total: 1, Text: "INSCRIPTION 71000", ReceivedAt: feb})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ApplyInbound(in.ID, store.Effect{Outcome: "subscribed", Subscribe: &store.Subscription{Phone: carol, Zone: "macon", Source: store.SourceSMS}}, feb); err != nil {
		t.Fatal(err)
	}
	// March: dave is erased while subscribed (a stop in the report), bob sends STOP.
	if _, err := st.EraseSubscriber(dave, mar); err != nil {
		t.Fatal(err)
	}
	in, _, err = st.SaveInboundPart(store.InboundPart{Key: "bob", From: bob, Total: 1, Text: "STOP", ReceivedAt: mar})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ApplyInbound(in.ID, store.Effect{Outcome: "stop", Unsubscribe: bob}, mar); err != nil {
		t.Fatal(err)
	}

	// Parts: one on m1 in January, two on m1 and one on m2 in February.
	send := func(modem string, at time.Time) {
		t.Helper()
		if _, err := st.EnqueueReply(store.KindReply, alice, "Merci", 1, false, at); err != nil {
			t.Fatal(err)
		}
		m, ok, err := st.Claim(modem, at)
		if err != nil || !ok {
			t.Fatalf("Claim(%s) = %v, %v", modem, ok, err)
		}
		if err := st.MarkSent(m.ID, []int{1}, at); err != nil {
			t.Fatal(err)
		}
	}
	send("m1", jan)
	send("m1", feb)
	send("m1", feb)
	send("m2", feb)

	// Availability on January 10: m1 ready all along, m2 in fault then
	// ready from 12:15.
	setState := func(i int, state string, since time.Time) {
		g.workers[i].update(func(h *apitype.ModemStatus) { h.State, h.Since = state, since })
	}
	setState(0, apitype.ModemReady, day(1, 10, 11, 0))
	setState(1, apitype.ModemFault, day(1, 10, 11, 0))
	u := g.newUptime()
	clock.Set(day(1, 10, 12, 10))
	g.accountUptime(u)
	setState(1, apitype.ModemReady, day(1, 10, 12, 15))
	clock.Set(day(1, 10, 12, 20))
	g.accountUptime(u)

	// A year later, retention purges everything before April.
	clock.Set(day(6, 1, 12, 0).AddDate(1, 0, 0))
	if _, err := st.Purge(day(4, 1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	if n, err := st.PartsSent("m1", feb); err != nil || n != 0 {
		t.Fatalf("PartsSent after the purge = %d, %v; the purge did not run", n, err)
	}

	q := apitype.ReportQuery{From: day(1, 1, 0, 0), To: day(4, 1, 0, 0)}
	r, err := g.Report(q)
	if err != nil {
		t.Fatal(err)
	}
	tot := r.Totals
	if tot.Joins != 4 || tot.Stops != 2 || tot.ActiveStart != 0 || tot.ActiveEnd != 2 {
		t.Errorf("subscription totals %+v: want 4 joins, 2 stops, 0 then 2 active", tot)
	}
	if tot.PartsSent != 4 || tot.PartsCap != (2000+100)*90 {
		t.Errorf("parts %d of %d, want 4 of %d", tot.PartsSent, tot.PartsCap, 2100*90)
	}
	if tot.Availability != 0.625 { // (600+600+0+300) s of 2400 s
		t.Errorf("availability %v, want 0.625", tot.Availability)
	}
	type month struct {
		joins, stops, active, parts, cap int
		up, seen                         int64
	}
	wantMonths := []month{
		{3, 0, 3, 1, 2100 * 31, 1500, 2400},
		{1, 0, 4, 3, 2100 * 28, 0, 0},
		{0, 2, 2, 0, 2100 * 31, 0, 0},
	}
	if len(r.Months) != 3 {
		t.Fatalf("months %+v", r.Months)
	}
	for i, m := range r.Months {
		if got := (month{m.Joins, m.Stops, m.ActiveEnd, m.PartsSent, m.PartsCap, m.UpSeconds, m.ObservedSeconds}); got != wantMonths[i] {
			t.Errorf("month %s = %+v, want %+v", m.Month, got, wantMonths[i])
		}
	}
	wantZones := []apitype.ReportZone{
		{Zone: "macon", Name: "Mâcon", Joins: 1, ActiveEnd: 1},
		{Zone: "macon-centre", Name: "Mâcon centre", Joins: 1, ActiveEnd: 1},
		{Zone: "charnay", Name: "Charnay-lès-Mâcon", Joins: 3, Stops: 2, ActiveEnd: 1},
	}
	if !equalJSON(r.ByZone, wantZones) {
		t.Errorf("by zone %+v\nwant %+v", r.ByZone, wantZones)
	}
	wantTrades := []apitype.ReportTrade{
		{Trade: "tabac", Name: "Tabac-presse", Joins: 1, ActiveEnd: 1},
		{Trade: "", Name: noTradeName, Joins: 3, Stops: 2, ActiveEnd: 1},
	}
	if !equalJSON(r.ByTrade, wantTrades) {
		t.Errorf("by trade %+v\nwant %+v", r.ByTrade, wantTrades)
	}
	wantModems := []apitype.ReportModem{
		{Modem: "m1", UpSeconds: 1200, ObservedSeconds: 1200, Availability: 1, PartsSent: 3, DailyCap: 2000, PartsCap: 180000,
			BusiestDay: "2026-02-05", BusiestParts: 2},
		{Modem: "m2", UpSeconds: 300, ObservedSeconds: 1200, Availability: 0.25, PartsSent: 1, DailyCap: 100, PartsCap: 9000,
			BusiestDay: "2026-02-05", BusiestParts: 1},
	}
	if !equalJSON(r.Modems, wantModems) {
		t.Errorf("modems %+v\nwant %+v", r.Modems, wantModems)
	}
	if data, _ := json.Marshal(r); strings.Contains(string(data), "+336") {
		t.Errorf("the report holds a phone number: %s", data)
	}

	// Mâcon and the zone below it: alice (centre, January) and carol.
	q.Zones = []string{"macon"}
	r, err = g.Report(q)
	if err != nil {
		t.Fatal(err)
	}
	if tot := r.Totals; tot.Joins != 2 || tot.Stops != 0 || tot.ActiveEnd != 2 {
		t.Errorf("filtered totals %+v: want 2 joins, no stop, 2 active", tot)
	}
	if len(r.ByZone) != 2 || r.ByZone[0].Zone != "macon" || r.ByZone[1].Zone != "macon-centre" {
		t.Errorf("filtered by zone %+v: want Mâcon and Mâcon centre", r.ByZone)
	}
	if r.Months[0].ActiveEnd != 1 || r.Months[1].ActiveEnd != 2 || r.Months[1].Joins != 1 {
		t.Errorf("filtered months %+v", r.Months)
	}
	wantTrades = []apitype.ReportTrade{
		{Trade: "tabac", Name: "Tabac-presse", Joins: 1, ActiveEnd: 1},
		{Trade: "", Name: noTradeName, Joins: 1, ActiveEnd: 1},
	}
	if !equalJSON(r.ByTrade, wantTrades) {
		t.Errorf("filtered by trade %+v\nwant %+v", r.ByTrade, wantTrades)
	}
	if len(r.Zones) != 1 || r.Zones[0].Name != "Mâcon" {
		t.Errorf("filter %+v, want Mâcon named", r.Zones)
	}

	// A period after all that: the active count carries over, nothing else.
	r, err = g.Report(apitype.ReportQuery{From: day(5, 1, 0, 0), To: day(6, 1, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if tot := r.Totals; tot.ActiveStart != 2 || tot.ActiveEnd != 2 || tot.Joins != 0 || tot.PartsSent != 0 || tot.Availability != 0 {
		t.Errorf("later totals %+v: want 2 active throughout and nothing else", tot)
	}
}

// equalJSON compares two values by their JSON: what the CLI receives.
func equalJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// The availability loop accounts once more when it stops: a clean
// shutdown loses no time, and its heartbeat is parked.
func TestAvailabilityLoopAccountsAtShutdown(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)}
	g, st, _ := newCareGateway(t, clock.Now, "")
	g.workers[0].update(func(h *apitype.ModemStatus) { h.State, h.Since = apitype.ModemReady, clock.Now() })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.availabilityLoop(ctx)
	}()
	// The loop is waiting for its first period: let 40 s pass, then stop it.
	for g.loops["availability"].last.Load() == nil {
		time.Sleep(time.Millisecond)
	}
	clock.Set(clock.Now().Add(40 * time.Second))
	cancel()
	<-done
	days, err := st.ModemHistory("2026-05-04", "2026-05-05")
	if err != nil || len(days) != 1 || days[0].Up != 40*time.Second || days[0].Observed != 40*time.Second {
		t.Errorf("modem days after shutdown = %+v, %v; want m1 ready 40 s of 40 s", days, err)
	}
	if g.loops["availability"].last.Load() != nil {
		t.Error("the loop's heartbeat is not parked")
	}
}
