package store

import (
	"encoding/binary"
	"fmt"
	"maps"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// openPurgeTest opens a store whose cleanup checks what a purge must keep
// true: bbolt's check, the outbox counters against a scan, the queue and
// sending indexes, and alert_messages naming existing messages. The full
// verify of openTest does not apply: alert counters outlive their messages.
func openPurgeTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "vigie.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		err := s.db.View(func(tx *bolt.Tx) error {
			for err := range tx.Check() {
				t.Errorf("bbolt check: %v", err)
			}
			counts := make(map[State]int)
			msgs := make(map[uint64]bool)
			if err := tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
				var m Message
				if err := decodeMessage(tx, nil, k, v, &m); err != nil {
					return err
				}
				counts[m.State]++
				msgs[m.ID] = true
				return nil
			}); err != nil {
				return err
			}
			counters := make(map[State]int)
			if err := tx.Bucket(bucketCounters).ForEach(func(k, v []byte) error {
				if n := binary.BigEndian.Uint64(v); n > 0 {
					counters[State(k)] = int(n)
				}
				return nil
			}); err != nil {
				return err
			}
			if !maps.Equal(counts, counters) {
				t.Errorf("counters %v, scan %v", counters, counts)
			}
			if err := tx.Bucket(bucketAlertMessages).ForEach(func(k, _ []byte) error {
				if !msgs[binary.BigEndian.Uint64(k[8:])] {
					t.Errorf("alert index names purged message %d", binary.BigEndian.Uint64(k[8:]))
				}
				return nil
			}); err != nil {
				return err
			}
			if err := tx.Bucket(bucketAlertRecipients).ForEach(func(k, v []byte) error {
				if !msgs[binary.BigEndian.Uint64(v)] {
					t.Errorf("alert recipient index names purged message %d", binary.BigEndian.Uint64(v))
				}
				return nil
			}); err != nil {
				return err
			}
			if err := tx.Bucket(bucketAlertReplies).ForEach(func(k, _ []byte) error {
				if tx.Bucket(bucketInbound).Get(k[8:]) == nil {
					t.Errorf("alert reply index names purged SMS %d", binary.BigEndian.Uint64(k[8:]))
				}
				return nil
			}); err != nil {
				return err
			}
			return tx.Bucket(bucketReportTimes).ForEach(func(k, _ []byte) error {
				if id := binary.BigEndian.Uint64(k[8:]); !msgs[id] {
					t.Errorf("report index names purged message %d", id)
				}
				return nil
			})
		})
		if err != nil {
			t.Error(err)
		}
		if err := s.Check(); err != nil {
			t.Errorf("Check: %v", err)
		}
		s.Close()
	})
	return s
}

func TestPurgeKeepsCountsAndLiveMessages(t *testing.T) {
	s := openPurgeTest(t)
	later := t0.AddDate(0, 13, 0)
	a := mustCreateAlert(t, s, []string{alice, bob, carol}, t0)
	m := mustClaim(t, s, t0) // alice: delivered
	if err := s.MarkSent(m.ID, []int{1}, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDelivered(m.ID, t0); err != nil {
		t.Fatal(err)
	}
	m = mustClaim(t, s, t0) // bob: failed, its report entry still indexed
	if err := s.MarkSent(m.ID, []int{2}, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkFailed(m.ID, "rapport de remise : échec", t0); err != nil {
		t.Fatal(err)
	}
	// carol stays queued: a year-old queued message is never purged.
	if _, err := s.EnqueueReply(KindReply, alice, "Merci", 1, false, t0); err != nil { // queued: kept
		t.Fatal(err)
	}
	old := receive(t, s, bob, "J'ai vu la voiture", t0)
	if _, err := s.ApplyInbound(old.ID, Effect{Outcome: "inbox", ToInbox: true}, t0); err != nil {
		t.Fatal(err)
	}
	pending := receive(t, s, carol, "INSCRIPTION", t0) // never handled: kept
	recent := receive(t, s, carol, "Merci", later)
	if _, err := s.ApplyInbound(recent.ID, Effect{Outcome: "inbox", ToInbox: true}, later); err != nil {
		t.Fatal(err)
	}
	b := mustCreateAlert(t, s, []string{bob}, later)
	before, err := s.AlertCounts(a.ID)
	if err != nil {
		t.Fatal(err)
	}

	cutoff := later.AddDate(0, -12, 0)
	p, err := s.Purge(cutoff)
	if err != nil {
		t.Fatalf("Purge: %v", err)
	}
	// Messages: alice's delivered, bob's failed, and the reply still
	// queued is kept; inbound: the old inbox entry.
	if p.Messages != 2 || p.Inbound != 1 || p.Other == 0 {
		t.Errorf("Purge = %+v, want 2 messages and 1 inbound", p)
	}
	if after, err := s.AlertCounts(a.ID); err != nil || !maps.Equal(after, before) {
		t.Errorf("counts after purge %v, %v; before %v", after, err, before)
	}
	msgs, err := s.AlertMessages(a.ID)
	if err != nil || len(msgs) != 1 || msgs[0].To != carol || msgs[0].State != StateQueued {
		t.Errorf("messages of the purged alert = %+v, %v; want carol's queued one", msgs, err)
	}
	if got, err := s.QueueCounts(); err != nil || !maps.Equal(got, map[State]int{StateQueued: 3}) {
		t.Errorf("QueueCounts = %v, %v; want 3 queued (carol, the reply, alert %d)", got, err, b.ID)
	}
	if inbox, err := s.Inbox(); err != nil || len(inbox) != 1 || inbox[0].ID != recent.ID {
		t.Errorf("Inbox = %+v, %v; want the recent message only", inbox, err)
	}
	if un, err := s.Unprocessed(); err != nil || len(un) != 1 || un[0].ID != pending.ID {
		t.Errorf("Unprocessed = %+v, %v; want the unhandled one", un, err)
	}
	if n, err := s.PartsSent("m1", t0); err != nil || n != 0 {
		t.Errorf("PartsSent of the purged day = %d, %v", n, err)
	}
	if n, err := s.DistinctRecipients(t0); err != nil || n != 0 {
		t.Errorf("DistinctRecipients of the purged month = %d, %v", n, err)
	}
	// The dedupe key of the old SMS is gone with it.
	if _, dup, err := s.SaveInboundPart(InboundPart{
		Key: fmt.Sprintf("%s|%s|%s", bob, t0.Format(time.RFC3339Nano), "J'ai vu la voiture"), From: bob,
		SCTS: t0, Total: 1, Text: "x", ReceivedAt: later,
	}); err != nil || dup {
		t.Errorf("SaveInboundPart of a purged key = dup %v, %v", dup, err)
	}

	// Life goes on: the queued message of the purged alert completes it.
	m = mustClaim(t, s, later)
	if m.To != alice || m.Kind != KindReply {
		t.Fatalf("claimed %+v, want the reply first", m)
	}
	if err := s.MarkSent(m.ID, []int{3}, later); err != nil {
		t.Fatal(err)
	}
	m = mustClaim(t, s, later)
	if m.AlertID != a.ID {
		t.Fatalf("claimed %+v, want carol's", m)
	}
	if err := s.MarkSent(m.ID, []int{4}, later); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDelivered(m.ID, later); err != nil {
		t.Fatal(err)
	}
	want := map[State]int{StateDelivered: 2, StateFailed: 1}
	if got, err := s.AlertCounts(a.ID); err != nil || !maps.Equal(got, want) {
		t.Errorf("counts = %v, %v; want %v", got, err, want)
	}
	if p, err := s.Purge(cutoff); err != nil || p != (Purged{}) {
		t.Errorf("second Purge = %+v, %v; want nothing", p, err)
	}
}

// A history larger than a batch is purged in several transactions.
func TestPurgeInBatches(t *testing.T) {
	s := openPurgeTest(t)
	var phones []string
	for i := range 2*retentionBatch + 7 {
		phones = append(phones, fmt.Sprintf("+3362000%04d", i))
	}
	a := mustCreateAlert(t, s, phones, t0)
	if n, err := s.CancelAlert(a.ID, t0); err != nil || n != len(phones) {
		t.Fatalf("CancelAlert = %d, %v", n, err)
	}
	for i := range retentionBatch + 1 {
		receive(t, s, phones[i], "bonjour", t0)
	}
	if p, err := s.Purge(t0); err != nil || p != (Purged{}) {
		t.Errorf("Purge before anything = %+v, %v", p, err)
	}
	p, err := s.Purge(t0.Add(time.Hour))
	if err != nil || p.Messages != len(phones) || p.Inbound != 0 || p.Other != retentionBatch+1 {
		t.Errorf("Purge = %+v, %v; want %d messages, the %d dedupe keys (inbound unprocessed)", p, err, len(phones), retentionBatch+1)
	}
	if c, err := s.AlertCounts(a.ID); err != nil || c[StateCancelled] != len(phones) {
		t.Errorf("counts = %v, %v", c, err)
	}
}
