package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// t0 is the tests' reference time; no test reads the clock.
var t0 = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

// openTest opens the store at path; on cleanup it runs bbolt's consistency
// check and the store's own invariants (unless the test closed it), then closes.
func openTest(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		err := s.db.View(func(tx *bolt.Tx) error {
			for err := range tx.Check() {
				t.Errorf("bbolt check: %v", err)
			}
			return verify(tx)
		})
		if err != nil && !errors.Is(err, berrors.ErrDatabaseNotOpen) {
			t.Errorf("invariants: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// newTest opens a fresh store in a temporary directory.
func newTest(t *testing.T) *Store {
	t.Helper()
	return openTest(t, filepath.Join(t.TempDir(), "vigie.db"))
}

// verify recounts the outbox by a full scan and checks that the counters,
// the queue (by priority and by age) and sending indexes, the sent log, the
// usage counters, the report index and the alert index agree with it.
func verify(tx *bolt.Tx) error {
	counts := make(map[State]int)
	alertCounts := make(map[string]int)
	wantQueue := make(map[string]bool)
	wantAge := make(map[string]bool) // queued: must be in the age index
	mayAge := make(map[string]bool)  // any message: may be, until ExpireQueued drops it
	wantParts := make(map[string]uint64)
	wantMonth := make(map[string]bool)
	wantSending := make(map[string]bool)
	wantSent := make(map[string]uint32)
	msgs := make(map[uint64]Message)
	err := tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
		var m Message
		if err := decodeMessage(tx, nil, k, v, &m); err != nil {
			return err
		}
		if binary.BigEndian.Uint64(k) != m.ID {
			return fmt.Errorf("outbox key %x holds message %d", k, m.ID)
		}
		msgs[m.ID] = m
		mayAge[string(queueAgeKey(&m))] = true
		counts[m.State]++
		if m.AlertID != 0 {
			alertCounts[string(append(u64(m.AlertID), m.State...))]++
		}
		switch m.State {
		case StateQueued:
			wantQueue[string(queueKey(&m))] = true
			wantAge[string(queueAgeKey(&m))] = true
		case StateSending:
			wantSending[string(u64(m.ID))] = true
		}
		if !m.SentAt.IsZero() {
			wantSent[string(binary.BigEndian.AppendUint64(u64(timeKey(m.SentAt)), m.ID))] = uint32(m.Parts)
			wantParts[dayKey(m.SentAt)+m.Modem] += uint64(m.Parts)
			wantMonth[monthKey(m.SentAt)+m.To] = true
		}
		return nil
	})
	if err != nil {
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
		return fmt.Errorf("counters %v, scan %v", counters, counts)
	}
	gotAlert := make(map[string]int)
	if err := tx.Bucket(bucketAlertCounters).ForEach(func(k, v []byte) error {
		if n := binary.BigEndian.Uint64(v); n > 0 {
			gotAlert[string(k)] = int(n)
		}
		return nil
	}); err != nil {
		return err
	}
	if !maps.Equal(gotAlert, alertCounts) {
		return fmt.Errorf("alert counters %v, scan %v", gotAlert, alertCounts)
	}
	if err := sameKeys(tx.Bucket(bucketQueue), wantQueue); err != nil {
		return fmt.Errorf("queue index: %w", err)
	}
	if err := sameKeys(tx.Bucket(bucketSending), wantSending); err != nil {
		return fmt.Errorf("sending index: %w", err)
	}
	if err := keysBetween(tx.Bucket(bucketQueueAge), wantAge, mayAge); err != nil {
		return fmt.Errorf("queue age index: %w", err)
	}
	if err := sameKeys(tx.Bucket(bucketMonthRecipients), wantMonth); err != nil {
		return fmt.Errorf("month recipients: %w", err)
	}
	gotParts := make(map[string]uint64)
	if err := tx.Bucket(bucketPartsPerDay).ForEach(func(k, v []byte) error {
		gotParts[string(k)] = binary.BigEndian.Uint64(v)
		return nil
	}); err != nil {
		return err
	}
	if !maps.Equal(gotParts, wantParts) {
		return fmt.Errorf("parts per day %v, scan %v", gotParts, wantParts)
	}
	if err := verifyReports(tx, msgs); err != nil {
		return fmt.Errorf("report index: %w", err)
	}
	gotSent := make(map[string]uint32)
	if err := tx.Bucket(bucketSent).ForEach(func(k, v []byte) error {
		gotSent[string(k)] = binary.BigEndian.Uint32(v)
		return nil
	}); err != nil {
		return err
	}
	if !maps.Equal(gotSent, wantSent) {
		return fmt.Errorf("sent log %v, scan %v", gotSent, wantSent)
	}
	if err := verifyActive(tx); err != nil {
		return fmt.Errorf("subscription history: %w", err)
	}
	if err := verifyTimelines(tx, msgs); err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	// Every alert message (but an erased number's) says whom its alert
	// reached, and nothing else does.
	wantReached := make(map[string][]byte)
	for _, m := range msgs {
		if m.AlertID != 0 && m.To != ErasedPhone {
			wantReached[string(recipientKey(m.AlertID, m.To))] = u64(m.ID)
		}
	}
	gotReached := make(map[string][]byte)
	if err := tx.Bucket(bucketAlertRecipients).ForEach(func(k, v []byte) error {
		gotReached[string(k)] = bytes.Clone(v)
		return nil
	}); err != nil {
		return err
	}
	if !maps.EqualFunc(gotReached, wantReached, bytes.Equal) {
		return fmt.Errorf("alert recipients %d entries, scan %d", len(gotReached), len(wantReached))
	}
	return tx.Bucket(bucketAlertMessages).ForEach(func(k, _ []byte) error {
		alert, id := binary.BigEndian.Uint64(k), binary.BigEndian.Uint64(k[8:])
		if m, ok := msgs[id]; !ok || m.AlertID != alert || m.Kind != KindAlert {
			return fmt.Errorf("alert index %d/%d: message %+v", alert, id, m)
		}
		return nil
	})
}

// verifyTimelines checks each alert's timeline against its messages, none
// purged: its sends, per minute too, and its last send once none is queued
// or sending.
func verifyTimelines(tx *bolt.Tx, msgs map[uint64]Message) error {
	return tx.Bucket(bucketAlerts).ForEach(func(k, v []byte) error {
		var a Alert
		if err := decode(k, v, &a); err != nil {
			return err
		}
		tl, err := readTimeline(tx, &a)
		if err != nil {
			return err
		}
		sent, uncertain, pendingN := 0, 0, 0
		var latest time.Time
		for _, m := range msgs {
			if m.AlertID != a.ID {
				continue
			}
			if pending(m.State) {
				pendingN++
			}
			if !m.SentAt.IsZero() {
				sent++
				if m.Uncertain {
					uncertain++
				}
				if m.SentAt.After(latest) {
					latest = m.SentAt
				}
			}
		}
		perMinute := 0
		for _, m := range tl.Minutes {
			perMinute += m.Sent
		}
		wantLast := time.Time{}
		if pendingN == 0 {
			wantLast = latest
		}
		if tl.Sent != sent || tl.Uncertain != uncertain || perMinute != sent || !tl.LastSentAt.Equal(wantLast) || tl.Finished != (pendingN == 0) {
			return fmt.Errorf("alert %d: %d sent (%d uncertain, %d by minute), last %v, finished %v; scan: %d sent (%d uncertain), %d pending, latest %v",
				a.ID, tl.Sent, tl.Uncertain, perMinute, tl.LastSentAt, tl.Finished, sent, uncertain, pendingN, latest)
		}
		return nil
	})
}

// verifyReports checks that report_refs and report_times hold the same
// entries, each naming a part of a message sent with that modem, reference,
// recipient and time, and that no entry younger than ReportWindow before the
// latest send was purged.
func verifyReports(tx *bolt.Tx, msgs map[uint64]Message) error {
	refs, times := tx.Bucket(bucketReportRefs), tx.Bucket(bucketReportTimes)
	if a, b := refs.Stats().KeyN, times.Stats().KeyN; a != b {
		return fmt.Errorf("%d refs, %d times", a, b)
	}
	if err := times.ForEach(func(k, v []byte) error {
		if refs.Get(v) == nil || !bytes.Equal(v[len(v)-18:], k) {
			return fmt.Errorf("time entry %x points to %x", k, v)
		}
		return nil
	}); err != nil {
		return err
	}
	var latest time.Time
	for _, m := range msgs {
		if m.SentAt.After(latest) {
			latest = m.SentAt
		}
	}
	for _, m := range msgs {
		if m.SentAt.IsZero() {
			continue
		}
		for part, ref := range m.Refs {
			prefix, ok := reportPrefix(m.Modem, ref, m.To)
			if !ok || m.SentAt.Before(latest.Add(-ReportWindow)) {
				continue
			}
			suffix := binary.BigEndian.AppendUint64(u64(timeKey(m.SentAt)), m.ID)
			suffix = binary.BigEndian.AppendUint16(suffix, uint16(part))
			if refs.Get(append(prefix, suffix...)) == nil {
				return fmt.Errorf("message %d part %d (ref %d) not indexed", m.ID, part, ref)
			}
		}
	}
	return refs.ForEach(func(k, _ []byte) error {
		sent, id, part := reportKeySuffix(k)
		m, ok := msgs[id]
		if !ok || part >= len(m.Refs) || !m.SentAt.Equal(sent) {
			return fmt.Errorf("entry %x: message %+v", k, m)
		}
		if prefix, _ := reportPrefix(m.Modem, m.Refs[part], m.To); !bytes.HasPrefix(k, prefix) {
			return fmt.Errorf("entry %x does not match message %d", k, id)
		}
		return nil
	})
}

// keysBetween checks that b holds every key of must and none outside may.
func keysBetween(b *bolt.Bucket, must, may map[string]bool) error {
	got := make(map[string]bool)
	if err := b.ForEach(func(k, _ []byte) error {
		if !may[string(k)] {
			return fmt.Errorf("key %x names no message", k)
		}
		got[string(k)] = true
		return nil
	}); err != nil {
		return err
	}
	for k := range must {
		if !got[k] {
			return fmt.Errorf("key %x missing", k)
		}
	}
	return nil
}

func sameKeys(b *bolt.Bucket, want map[string]bool) error {
	got := make(map[string]bool)
	if err := b.ForEach(func(k, _ []byte) error {
		got[string(k)] = true
		return nil
	}); err != nil {
		return err
	}
	if !maps.Equal(got, want) {
		return fmt.Errorf("keys %x, want %x", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
	return nil
}

func TestOpenCreatesPrivateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigie.db")
	openTest(t, path)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("mode %v, want 0600", got)
	}
}

func TestSecondOpenFailsLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigie.db")
	openTest(t, path)
	s, err := Open(path)
	if err == nil {
		s.Close()
		t.Fatal("second Open succeeded")
	}
	if !errors.Is(err, ErrLocked) {
		t.Errorf("second Open: %v, want ErrLocked", err)
	}
}

func TestSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigie.db")
	schema := func() uint64 {
		t.Helper()
		db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var v uint64
		db.View(func(tx *bolt.Tx) error {
			v = binary.BigEndian.Uint64(tx.Bucket(bucketMeta).Get(keySchema))
			return nil
		})
		return v
	}
	setSchema := func(v uint64) {
		t.Helper()
		db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, u64(v)) }); err != nil {
			t.Fatal(err)
		}
	}

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnqueueReply(KindTest, "+33612345678", "essai", 1, false, t0); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if got, want := schema(), migrations[len(migrations)-1].schema; got != want {
		t.Fatalf("schema %d, want %d", got, want)
	}

	// Reopening an up-to-date file keeps the data.
	s = openTest(t, path)
	if c, _ := s.QueueCounts(); c[StateQueued] != 1 {
		t.Errorf("after reopen: counts %v", c)
	}
	s.Close()

	// A file from a newer build is refused, not misread.
	setSchema(99)
	if s, err := Open(path); !errors.Is(err, ErrSchema) {
		if err == nil {
			s.Close()
		}
		t.Errorf("Open of schema 99: %v, want ErrSchema", err)
	}
}

func TestTimeKeyOrder(t *testing.T) {
	times := []time.Time{
		time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(0, -1),
		time.Unix(0, 0),
		t0,
		t0.Add(time.Nanosecond),
		time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for i := 1; i < len(times); i++ {
		a, b := u64(timeKey(times[i-1])), u64(timeKey(times[i]))
		if bytes.Compare(a, b) >= 0 {
			t.Errorf("key(%v)=%x not before key(%v)=%x", times[i-1], a, times[i], b)
		}
	}
}
