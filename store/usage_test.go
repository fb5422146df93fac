package store

import (
	"encoding/binary"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestUsageCounters(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	at := func(month time.Month, day, hour, minute int) time.Time {
		return time.Date(2026, month, day, hour, minute, 0, 0, paris)
	}
	s := newTest(t)
	for _, snd := range []struct {
		modem, to string
		parts     int
		at        time.Time
	}{
		{"m1", alice, 2, at(3, 30, 10, 0)},
		{"m1", bob, 1, at(3, 30, 23, 30)}, // 22:30 UTC: still the 30th here
		{"m2", alice, 3, at(3, 30, 12, 0)},
		{"m1", alice, 1, at(3, 31, 0, 30)}, // 23:30 UTC on the 30th: the 31st here
		{"m1", carol, 1, at(4, 1, 0, 10)},  // 22:10 UTC on March 31st: April here
		{"m2", alice, 1, at(4, 1, 8, 0)},
	} {
		refs := make([]int, snd.parts)
		send(t, s, snd.modem, snd.to, refs, snd.at)
	}
	for _, tc := range []struct {
		modem string
		day   time.Time
		want  int
	}{
		{"m1", at(3, 30, 0, 0), 3},
		{"m1", at(3, 30, 23, 59), 3},
		{"m2", at(3, 30, 0, 0), 3},
		{"m1", at(3, 31, 12, 0), 1},
		{"m1", at(4, 1, 12, 0), 1},
		{"m2", at(4, 1, 12, 0), 1},
		{"m3", at(3, 30, 0, 0), 0},
		{"m1", at(3, 29, 0, 0), 0},
		{"m1", at(3, 31, 0, 30).UTC(), 3}, // the caller's location decides the day
	} {
		if got, err := s.PartsSent(tc.modem, tc.day); err != nil || got != tc.want {
			t.Errorf("PartsSent(%s, %v) = %d, %v; want %d", tc.modem, tc.day, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		month time.Time
		want  int
	}{
		{at(3, 1, 0, 0), 2}, // alice and bob, whatever the modem and however often
		{at(4, 15, 0, 0), 2},
		{at(5, 1, 0, 0), 0},
		{time.Date(2026, 3, 31, 23, 0, 0, 0, time.UTC), 2},
	} {
		if got, err := s.DistinctRecipients(tc.month); err != nil || got != tc.want {
			t.Errorf("DistinctRecipients(%v) = %d, %v; want %d", tc.month, got, err, tc.want)
		}
	}
}

func TestExpireQueued(t *testing.T) {
	s := newTest(t)
	hour := time.Hour
	old := mustCreateAlert(t, s, []string{alice, bob, carol}, t0)
	oldReply, err := s.EnqueueReply(KindReply, alice, "x", 1, false, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	// The reply waits for a retry, alice's alert message is sending, bob's
	// sent, carol's waits for a retry.
	if m := mustClaim(t, s, t0.Add(time.Minute)); m.ID != oldReply.ID {
		t.Fatalf("claimed %d, want the reply", m.ID)
	}
	if err := s.Retry(oldReply.ID, "busy", t0.Add(10*hour), t0); err != nil {
		t.Fatal(err)
	}
	first, second := mustClaim(t, s, t0), mustClaim(t, s, t0)
	if err := s.MarkSent(second.ID, []int{1}, t0); err != nil {
		t.Fatal(err)
	}
	third := mustClaim(t, s, t0)
	if err := s.Retry(third.ID, "busy", t0.Add(10*hour), t0); err != nil {
		t.Fatal(err)
	}
	recent := mustCreateAlert(t, s, []string{alice, bob}, t0.Add(3*hour))
	test, err := s.EnqueueReply(KindTest, bob, "essai", 1, false, t0.Add(3*hour))
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		cutoff time.Time
		n      int
		alerts []uint64
	}{
		{t0, 0, nil}, // created at the cutoff: not before it
		{t0.Add(2 * hour), 2, []uint64{old.ID}},
		{t0.Add(2 * hour), 0, nil},
		{t0.Add(4 * hour), 3, []uint64{recent.ID}},
	} {
		n, alerts, err := s.ExpireQueued(tc.cutoff, t0.Add(5*hour))
		if err != nil || n != tc.n || !slices.Equal(alerts, tc.alerts) {
			t.Errorf("ExpireQueued(%v) = %d, %v, %v; want %d, %v", tc.cutoff, n, alerts, err, tc.n, tc.alerts)
		}
	}
	for id, want := range map[uint64]State{
		oldReply.ID: StateExpired, first.ID: StateSending, second.ID: StateSent, third.ID: StateExpired, test.ID: StateExpired,
	} {
		if m, _ := s.Message(id); m.State != want {
			t.Errorf("message %d (%s to %s) is %s, want %s", id, m.Kind, m.To, m.State, want)
		}
	}
	if c, _ := s.QueueCounts(); c[StateQueued] != 0 || c[StateExpired] != 5 || c[StateSending] != 1 || c[StateSent] != 1 {
		t.Errorf("counts %v", c)
	}
	if c, _ := s.AlertCounts(old.ID); c[StateExpired] != 1 || c[StateSending] != 1 || c[StateSent] != 1 {
		t.Errorf("counts of the old alert %v", c)
	}
	claimNone(t, s, t0.Add(24*hour))
}

func TestFollowUpRecipients(t *testing.T) {
	s := newTest(t)
	orig := mustCreateAlert(t, s, []string{carol, alice, carol, bob}, t0)
	stop(t, s, alice, t0.Add(time.Minute))
	got, err := s.AlertRecipients(orig.ID)
	if want := []string{carol, alice, bob}; err != nil || !slices.Equal(got, want) {
		t.Errorf("AlertRecipients = %v, %v; want %v", got, err, want)
	}
	follow := testAlert(1)
	follow.Category, follow.FollowUpOf = "fin", orig.ID
	a, err := s.CreateAlert(follow, got, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if stored, _ := s.Alert(a.ID); stored.FollowUpOf != orig.ID || stored.Recipients != 3 {
		t.Errorf("follow-up stored as %+v", stored)
	}
	if got, _ := s.AlertRecipients(a.ID); !slices.Equal(got, []string{carol, alice, bob}) {
		t.Errorf("follow-up recipients %v", got)
	}
	follow.FollowUpOf = 99
	if _, err := s.CreateAlert(follow, got, t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("follow-up of a missing alert: %v, want ErrNotFound", err)
	}
	if _, err := s.AlertRecipients(99); !errors.Is(err, ErrNotFound) {
		t.Errorf("AlertRecipients(99): %v, want ErrNotFound", err)
	}
}

// TestMigrateV1 opens a file as schema 1 left it (same data, none of the
// schema 2 buckets) and checks that the migration fills them: the
// invariants hold, old queued messages expire, old sent ones match their
// reports and count in the usage counters.
func TestMigrateV1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigie.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.CreateAlert(testAlert(2), []string{alice, bob, carol}, t0)
	if err != nil {
		t.Fatal(err)
	}
	msgs, _ := s.AlertMessages(a.ID)
	for _, m := range msgs[:2] {
		if _, ok, err := s.Claim("m1", t0); !ok || err != nil {
			t.Fatal(ok, err)
		}
		if err := s.MarkSent(m.ID, []int{40, 41}, t0); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.ApplyReport(Report{Modem: "m1", Ref: 40, Recipient: bob, Status: 0x45, SCTS: t0}, t0); err != nil {
		t.Fatal(err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketQueueAge, bucketReportRefs, bucketReportTimes, bucketPartsPerDay, bucketMonthRecipients, bucketReplies} {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, u64(1))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = openTest(t, path) // verify runs on cleanup
	err = s.db.View(func(tx *bolt.Tx) error {
		if v, want := binary.BigEndian.Uint64(tx.Bucket(bucketMeta).Get(keySchema)), migrations[len(migrations)-1].schema; v != want {
			t.Errorf("schema %d after migration, want %d", v, want)
		}
		return verify(tx)
	})
	if err != nil {
		t.Fatalf("after migration: %v", err)
	}
	if n, _ := s.PartsSent("m1", t0); n != 4 {
		t.Errorf("PartsSent after migration = %d, want 4", n)
	}
	if n, _ := s.DistinctRecipients(t0); n != 2 {
		t.Errorf("DistinctRecipients after migration = %d, want 2", n)
	}
	for _, tc := range []struct {
		r     Report
		state State
	}{
		{Report{Modem: "m1", Ref: 40, Recipient: "0611111111", SCTS: t0}, StateSent},
		{Report{Modem: "m1", Ref: 41, Recipient: "0611111111", SCTS: t0}, StateDelivered},
		{Report{Modem: "m1", Ref: 41, Recipient: "0622222222", SCTS: t0}, StateFailed}, // absorbed
	} {
		m, matched, err := s.ApplyReport(tc.r, t0.Add(time.Hour))
		if err != nil || !matched || m.State != tc.state {
			t.Errorf("ApplyReport(%+v) = %s, %v, %v; want %s", tc.r, m.State, matched, err, tc.state)
		}
	}
	if n, alerts, err := s.ExpireQueued(t0.Add(time.Second), t0.Add(time.Hour)); n != 1 || !slices.Equal(alerts, []uint64{a.ID}) || err != nil {
		t.Errorf("ExpireQueued after migration = %d, %v, %v", n, alerts, err)
	}
}
