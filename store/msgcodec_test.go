package store

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A file of schema 6 (outbox values in JSON, each with its alert's text)
// reads the same after migration 7, every message then a binary record
// that does not carry its alert's text.
func TestMigrateV7CompactsOutbox(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigie.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	now := t0.In(paris)
	a, err := s.CreateAlert(testAlert(2), []string{alice, bob, carol}, now)
	if err != nil {
		t.Fatal(err)
	}
	m, ok, err := s.Claim("m1", now.Add(time.Second))
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	if err := s.MarkSent(m.ID, []int{40, 41}, now.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	claimed, ok, err := s.Claim("m1", now.Add(3*time.Second))
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	want, err := s.AlertMessages(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Write the outbox back the way schema 6 did, the message being sent
	// out of the age index.
	err = s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketQueueAge).Delete(queueAgeKey(&claimed)); err != nil {
			return err
		}
		for _, m := range want {
			data, err := json.Marshal(m)
			if err != nil {
				return err
			}
			if err := tx.Bucket(bucketOutbox).Put(u64(m.ID), data); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, u64(6))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.AlertMessages(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d messages after migration, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("message %d after migration:\n%+v\nwant\n%+v", want[i].ID, got[i], want[i])
		}
		if !got[i].SentAt.IsZero() && dayKey(got[i].SentAt) != dayKey(want[i].SentAt) {
			t.Errorf("message %d: sent on local day %s, want %s", want[i].ID, dayKey(got[i].SentAt), dayKey(want[i].SentAt))
		}
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketQueueAge).Get(queueAgeKey(&claimed)) == nil {
			t.Errorf("message %d being sent is not in the age index", claimed.ID)
		}
		return tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
			if v[0] != msgV1 {
				t.Errorf("message %x: value starts with %q, want the binary record", k, v[0])
			}
			if bytes.Contains(v, []byte(want[0].Text)) {
				t.Errorf("message %x still carries its alert's text", k)
			}
			if len(v) > 80 {
				t.Errorf("message %x: %d bytes", k, len(v))
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

// A message's own text (an erased forward's, a reply's) and every field
// survive the record; a damaged record is refused, not misread.
func TestMessageRecordRoundTrip(t *testing.T) {
	sent := time.Date(2026, 3, 29, 1, 30, 0, 0, time.FixedZone("", 3600))
	m := Message{ID: 7, AlertID: 3, Kind: KindForward, To: alice, Text: "own", Parts: 2, State: StateDelivered,
		IgnoreSuppression: true, Attempts: 3, LastError: "x", Modem: "m1", Refs: []int{0, 255}, Uncertain: true,
		NotBefore: sent.Add(-time.Minute), CreatedAt: sent.Add(-time.Hour), UpdatedAt: sent, SentAt: sent,
		PartStatus: []int{-1, 0}, DeliveredAt: sent.Add(time.Second), About: bob}
	v, err := encodeMessage(&m, "the alert's text")
	if err != nil {
		t.Fatal(err)
	}
	var got Message
	if err := decodeMessage(nil, nil, u64(7), v, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("round trip:\n%+v\nwant\n%+v", got, m)
	}
	if err := decodeMessage(nil, nil, u64(7), v[:len(v)-3], &got); err == nil {
		t.Error("a record cut short was decoded")
	}
}

// A claim leaves its message in the age index; ExpireQueued, past the TTL,
// expires the queued ones, keeps the entry of the one being sent and drops
// those of messages that left the queue.
func TestExpireQueuedDropsEntriesOfMessagesGone(t *testing.T) {
	s := newTest(t)
	mustCreateAlert(t, s, []string{alice, bob, carol}, t0)
	sent := mustClaim(t, s, t0)
	if err := s.MarkSent(sent.ID, []int{1}, t0); err != nil {
		t.Fatal(err)
	}
	sending := mustClaim(t, s, t0)
	entries := func() int {
		n := 0
		if err := s.db.View(func(tx *bolt.Tx) error {
			n = tx.Bucket(bucketQueueAge).Stats().KeyN
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := entries(); got != 3 {
		t.Fatalf("%d age entries after two claims, want 3", got)
	}
	later := t0.Add(5 * time.Hour)
	if n, _, err := s.ExpireQueued(later.Add(-4*time.Hour), later); err != nil || n != 1 {
		t.Fatalf("ExpireQueued = %d, %v; want the one queued message", n, err)
	}
	if got := entries(); got != 1 {
		t.Errorf("%d age entries after the expiry, want 1: the message being sent", got)
	}
	if m, err := s.Message(sending.ID); err != nil || m.State != StateSending {
		t.Errorf("message being sent: %+v, %v", m, err)
	}
}

// With nothing old enough in the age index, ExpireQueued commits nothing:
// the daemon calls it every 15 s, and an empty commit writes a meta page.
func TestExpireQueuedIdleWritesNothing(t *testing.T) {
	s := newTest(t)
	mustCreateAlert(t, s, []string{alice}, t0)
	txid := func() int {
		var id int
		if err := s.db.View(func(tx *bolt.Tx) error { id = tx.ID(); return nil }); err != nil {
			t.Fatal(err)
		}
		return id
	}
	before := txid()
	if n, _, err := s.ExpireQueued(t0.Add(-time.Hour), t0); err != nil || n != 0 {
		t.Fatalf("ExpireQueued = %d, %v", n, err)
	}
	if after := txid(); after != before {
		t.Errorf("ExpireQueued with nothing to expire committed (txid %d -> %d)", before, after)
	}
}
