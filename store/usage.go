package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Usage counters: what the SIM plans limit (SPEC §6). Days and months are
// local: the calendar day of the time passed in, in its own location.

// purgeBatch bounds the stale index entries one write transaction removes,
// so housekeeping never makes a send or a reply slow.
const purgeBatch = 256

// dayKey is the fixed-length (10 bytes) local day of t, ordered as time.
func dayKey(t time.Time) string { return t.Format(time.DateOnly) }

// monthKey is the fixed-length (7 bytes) local month of t, ordered as time.
func monthKey(t time.Time) string { return t.Format("2006-01") }

// getCount reads a u64 counter; 0 if absent.
func getCount(b *bolt.Bucket, key []byte) uint64 {
	if v := b.Get(key); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// purgeDays removes up to limit keys of b (prefixed by a dayKey) of days
// before the local day of now.
func purgeDays(b *bolt.Bucket, now time.Time, limit int) error {
	today := []byte(dayKey(now))
	var stale [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil && len(stale) < limit && bytes.Compare(k[:min(len(k), len(today))], today) < 0; k, _ = c.Next() {
		stale = append(stale, bytes.Clone(k))
	}
	for _, k := range stale {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// countSent adds a sent message to the usage counters: its parts to its
// modem's day (and to that day's never-purged copy, parts_days), its
// recipient to the month's distinct numbers.
func countSent(tx *bolt.Tx, m *Message) error {
	day := append([]byte(dayKey(m.SentAt)), m.Modem...)
	if err := addCounter(tx.Bucket(bucketPartsPerDay), day, m.Parts); err != nil {
		return err
	}
	if err := countPartsDay(tx, day, m.Parts); err != nil {
		return err
	}
	// The bucket is absent while migrateV2 counts a v1 file's messages.
	if b := tx.Bucket(bucketReplyPartsDay); b != nil && m.Kind == KindReply {
		if err := addCounter(b, day, m.Parts); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketMonthRecipients).Put(append([]byte(monthKey(m.SentAt)), m.To...), nil)
}

// PartsSent returns the SMS parts sent by modem on the local day of day (in
// day's location): what daily_cap limits.
func (s *Store) PartsSent(modem string, day time.Time) (int, error) {
	var n uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		n = getCount(tx.Bucket(bucketPartsPerDay), append([]byte(dayKey(day)), modem...))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: parts sent by %s: %w", modem, err)
	}
	return int(n), nil
}

// ReplyPartsSent returns the reply parts (KindReply) sent by modem on the
// local day of day: what the replies' share of daily_cap limits.
func (s *Store) ReplyPartsSent(modem string, day time.Time) (int, error) {
	var n uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		n = getCount(tx.Bucket(bucketReplyPartsDay), append([]byte(dayKey(day)), modem...))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: reply parts sent by %s: %w", modem, err)
	}
	return int(n), nil
}

// DistinctRecipients returns how many distinct numbers were sent to in the
// local month of month (in month's location), by any modem: what "unlimited"
// plans cap.
func (s *Store) DistinctRecipients(month time.Time) (int, error) {
	var n int
	err := s.db.View(func(tx *bolt.Tx) error {
		prefix := []byte(monthKey(month))
		c := tx.Bucket(bucketMonthRecipients).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: distinct recipients: %w", err)
	}
	return n, nil
}
