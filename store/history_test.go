package store

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestSubscriptionHistory scripts two days of subscription changes through
// every path (SMS auto and approval, operator add, CSV import, second zone,
// STOP, erasure) and checks each series, before and after a purge.
func TestSubscriptionHistory(t *testing.T) {
	s := newTest(t)
	d1, d2 := t0, t0.AddDate(0, 0, 1)
	apply := func(from, text string, e Effect, now time.Time) {
		t.Helper()
		in := receive(t, s, from, text, now)
		if _, err := s.ApplyInbound(in.ID, e, now); err != nil {
			t.Fatalf("ApplyInbound(%s): %v", text, err)
		}
	}
	// Day 1. alice asks by SMS, an operator approves.
	apply(alice, "INSCRIPTION centre tabac", Effect{Outcome: "request", Request: &Request{
		Phone: alice, Pending: Pending{Zone: "centre", Trade: "tabac", Policy: PolicyApproval, At: d1},
	}}, d1)
	if _, err := s.Approve(alice, d1); err != nil {
		t.Fatal(err)
	}
	// dave subscribes by SMS under the auto policy; bob is added by an operator.
	apply(dave, "INSCRIPTION centre", Effect{Outcome: "subscribed", Subscribe: &Subscription{Phone: dave, Zone: "centre", Source: SourceSMS}}, d1)
	if _, err := s.AddSubscriber(Subscription{Phone: bob, Zone: "gare"}, d1); err != nil {
		t.Fatal(err)
	}
	// carol comes in by a CSV import with two zones.
	if _, err := s.Import([]Enrolment{{Phone: carol, Zones: []string{"centre", "gare"}, Trade: "boulangerie", Source: SourceImport}}, false, d1); err != nil {
		t.Fatal(err)
	}
	// Importing carol again changes nothing, nor does it count.
	if _, err := s.Import([]Enrolment{{Phone: carol, Zones: []string{"centre"}, Source: SourceImport}}, false, d1); err != nil {
		t.Fatal(err)
	}

	// Day 2. alice adds a second zone, bob sends STOP, carol is erased.
	if _, err := s.AddSubscriber(Subscription{Phone: alice, Zone: "gare"}, d2); err != nil {
		t.Fatal(err)
	}
	apply(bob, "STOP", Effect{Outcome: "stop", Unsubscribe: bob}, d2)
	if _, err := s.EraseSubscriber(carol, d2); err != nil {
		t.Fatal(err)
	}

	type day struct {
		zone, trade, day               string
		joins, stops, erasures, active int
	}
	a, b := dayKey(d1), dayKey(d2)
	want := []day{
		{"", "", a, 2, 0, 0, 2}, // dave, bob
		{"", "", b, 0, 1, 0, 1}, // bob stopped
		{"", "boulangerie", a, 1, 0, 0, 1},
		{"", "boulangerie", b, 0, 0, 1, 0},
		{"", "tabac", a, 1, 0, 0, 1}, // alice: her second zone is no new shop
		{"centre", "", a, 1, 0, 0, 1},
		{"centre", "boulangerie", a, 1, 0, 0, 1},
		{"centre", "boulangerie", b, 0, 0, 1, 0},
		{"centre", "tabac", a, 1, 0, 0, 1},
		{"gare", "", a, 1, 0, 0, 1},
		{"gare", "", b, 0, 1, 0, 0},
		{"gare", "boulangerie", a, 1, 0, 0, 1},
		{"gare", "boulangerie", b, 0, 0, 1, 0},
		{"gare", "tabac", b, 1, 0, 0, 1},
	}
	check := func(when string) {
		t.Helper()
		hist, err := s.SubscriptionHistory()
		if err != nil {
			t.Fatal(err)
		}
		var got []day
		for _, h := range hist {
			got = append(got, day{h.Zone, h.Trade, h.Day, h.Joins, h.Stops, h.Erasures, h.Active})
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: history\n got %v\nwant %v", when, got, want)
		}
	}
	check("before the purge")
	if _, err := s.Purge(d2.AddDate(1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	check("after the purge")
}

// TestSubscriptionHistoryTradeMove: a trade changed by an import moves the
// active counts, with no join nor stop; a zone dropped by ReplaceZones
// takes the shop off that zone's count only.
func TestSubscriptionHistoryTradeMove(t *testing.T) {
	s := newTest(t)
	d2 := t0.AddDate(0, 0, 1)
	if _, _, err := s.Enrol(Enrolment{Phone: alice, Zones: []string{"centre", "gare"}, Trade: "tabac"}, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import([]Enrolment{{Phone: alice, Zones: []string{"centre"}, Trade: "presse", ReplaceZones: true, Source: SourceImport}}, false, d2); err != nil {
		t.Fatal(err)
	}
	hist, err := s.SubscriptionHistory()
	if err != nil {
		t.Fatal(err)
	}
	active := map[[2]string]int{}
	joins, stops := 0, 0
	for _, h := range hist {
		active[[2]string{h.Zone, h.Trade}] = h.Active // days in order: the last wins
		joins += h.Joins
		stops += h.Stops
	}
	want := map[[2]string]int{
		{"", "tabac"}: 0, {"", "presse"}: 1,
		{"centre", "tabac"}: 0, {"gare", "tabac"}: 0, {"centre", "presse"}: 1,
	}
	for k, n := range want {
		if active[k] != n {
			t.Errorf("active %v = %d, want %d (all: %v)", k, active[k], n, active)
		}
	}
	if joins != 3 || stops != 0 {
		t.Errorf("joins %d, stops %d; want the 3 of the first day and no stop", joins, stops)
	}
}

// TestModemHistory: parts sent and availability accumulate per modem and
// day and survive the purge that empties parts_per_day.
func TestModemHistory(t *testing.T) {
	s := newTest(t)
	// Replies, not an alert: an alert keeps its counts by state after the
	// purge, which the outbox invariants checked at cleanup do not expect.
	for _, to := range []string{alice, bob} {
		if _, err := s.EnqueueReply(KindReply, to, "Merci", 1, false, t0); err != nil {
			t.Fatal(err)
		}
		m := mustClaim(t, s, t0)
		if err := s.MarkSent(m.ID, []int{1}, t0); err != nil {
			t.Fatal(err)
		}
	}
	d2 := t0.AddDate(0, 0, 1)
	for _, step := range []struct {
		at    time.Time
		times []ModemTime
	}{
		{t0, []ModemTime{{"m1", time.Minute, time.Minute}, {"m2", 0, time.Minute}}},
		{t0.Add(time.Minute), []ModemTime{{"m1", 30 * time.Second, time.Minute}, {"m2", 0, time.Minute}}},
		{d2, []ModemTime{{"m1", time.Minute, time.Minute}}},
	} {
		if err := s.AddModemTime(step.times, step.at); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddModemTime([]ModemTime{{"m1", 2 * time.Minute, time.Minute}}, d2); err == nil {
		t.Error("AddModemTime accepted more up time than observed")
	}
	want := []ModemDay{
		{Modem: "m1", Day: dayKey(t0), Parts: 2, Up: 90 * time.Second, Observed: 2 * time.Minute},
		{Modem: "m2", Day: dayKey(t0), Observed: 2 * time.Minute},
		{Modem: "m1", Day: dayKey(d2), Up: time.Minute, Observed: time.Minute},
	}
	if _, err := s.Purge(t0.AddDate(0, 2, 0)); err != nil { // a later month: month_recipients goes too
		t.Fatal(err)
	}
	if n, err := s.PartsSent("m1", t0); err != nil || n != 0 {
		t.Errorf("PartsSent after the purge = %d, %v; want the working count gone", n, err)
	}
	got, err := s.ModemHistory(dayKey(t0), dayKey(d2.AddDate(0, 0, 1)))
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("ModemHistory =\n %+v, %v\nwant %+v", got, err, want)
	}
	if got, err := s.ModemHistory(dayKey(d2), dayKey(d2)); err != nil || len(got) != 0 {
		t.Errorf("ModemHistory of an empty range = %+v, %v", got, err)
	}
}

// TestMigrateV6 opens a schema 3 file with subscribers and sent parts: the
// migration seeds the active counts from the active subscribers' creation
// days and copies parts_per_day.
func TestMigrateV6(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigie.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	d2 := t0.AddDate(0, 1, 0)
	for _, e := range []struct {
		e   Enrolment
		now time.Time
	}{
		{Enrolment{Phone: alice, Zones: []string{"centre"}, Trade: "tabac"}, t0},
		{Enrolment{Phone: bob, Zones: []string{"centre", "gare"}, Trade: "tabac"}, d2},
		{Enrolment{Phone: carol, Zones: []string{"gare"}}, d2},
	} {
		if _, _, err := s.Enrol(e.e, e.now); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.RemoveSubscriber(carol, d2); err != nil {
		t.Fatal(err)
	}
	mustCreateAlert(t, s, []string{alice}, t0)
	m := mustClaim(t, s, t0)
	if err := s.MarkSent(m.ID, []int{1}, t0); err != nil {
		t.Fatal(err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketSubDays, bucketPartsDays, bucketModemDays} {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, u64(3))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = openTest(t, path)
	hist, err := s.SubscriptionHistory()
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		zone, trade, day     string
		joins, stops, active int
	}
	var got []entry
	for _, h := range hist {
		got = append(got, entry{h.Zone, h.Trade, h.Day, h.Joins, h.Stops, h.Active})
	}
	want := []entry{
		{"", "tabac", dayKey(t0), 0, 0, 1},
		{"", "tabac", dayKey(d2), 0, 0, 2},
		{"centre", "tabac", dayKey(t0), 0, 0, 1},
		{"centre", "tabac", dayKey(d2), 0, 0, 2},
		{"gare", "tabac", dayKey(d2), 0, 0, 1},
	}
	if !slices.Equal(got, want) {
		t.Errorf("seeded history\n got %v\nwant %v", got, want)
	}
	days, err := s.ModemHistory(dayKey(t0), dayKey(d2))
	if err != nil || len(days) != 1 || days[0].Parts != 1 {
		t.Errorf("ModemHistory after migration = %+v, %v; want parts_per_day's day", days, err)
	}
}

// verifyActive checks that the latest entry of each sub_days series is the
// present count of active subscribers in that zone (or at the shop level)
// and trade: run by every test's cleanup (verify), it checks the tally of
// every path that changes a subscriber.
func verifyActive(tx *bolt.Tx) error {
	want := map[string]uint32{}
	if err := tx.Bucket(bucketSubscribers).ForEach(func(k, v []byte) error {
		var sub Subscriber
		if err := decode(k, v, &sub); err != nil {
			return err
		}
		if sub.Status != StatusActive {
			return nil
		}
		want[string(seriesPrefix("", sub.Trade))]++
		for _, z := range sub.Zones {
			want[string(seriesPrefix(z, sub.Trade))]++
		}
		return nil
	}); err != nil {
		return err
	}
	got := map[string]uint32{}
	if err := tx.Bucket(bucketSubDays).ForEach(func(k, v []byte) error {
		series := string(k[:len(k)-10])
		if n := parseSubDay(v).active; n > 0 {
			got[series] = n
		} else {
			delete(got, series)
		}
		return nil
	}); err != nil {
		return err
	}
	if !maps.Equal(got, want) {
		return fmt.Errorf("latest active counts %v, subscribers %v", got, want)
	}
	return nil
}

// A change dated before the series' latest day (the clock went back) goes
// to that latest entry, which stays the present count (verify checks it
// at cleanup).
func TestSubscriptionHistoryClockBack(t *testing.T) {
	s := newTest(t)
	if _, err := s.AddSubscriber(Subscription{Phone: alice, Zone: "centre"}, t0.AddDate(0, 0, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddSubscriber(Subscription{Phone: bob, Zone: "centre"}, t0); err != nil {
		t.Fatal(err)
	}
	hist, err := s.SubscriptionHistory()
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[1].Zone != "centre" || hist[1].Joins != 2 || hist[1].Active != 2 || hist[1].Day != dayKey(t0.AddDate(0, 0, 1)) {
		t.Errorf("history %+v: want both joins on the latest day", hist)
	}
}
