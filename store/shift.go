package store

import (
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Clock steps. The outbox keeps its timers as wall times: a message's
// creation (against alert_ttl) and its "not before" (retry backoff). When
// the gateway's clock has to step (the system clock was found off from the
// network's time, or was stepped by NTP), the timers it recorded in the
// old reckoning are moved by the same step, so that a retry due in a
// minute is still due in a minute and a message queued a minute ago is
// not expired as days old. Records (sent and delivery times, the audit
// log) are what happened and are left as they were written.

// Mark is where a run of the daemon begins in the outbox: the latest
// message and alert IDs of earlier runs. What comes after is this run's,
// dated by this run's clock.
type Mark struct {
	Message, Alert uint64
}

// Mark returns the latest message and alert IDs ever given, 0 if none.
func (s *Store) Mark() (Mark, error) {
	var mk Mark
	err := s.db.View(func(tx *bolt.Tx) error {
		mk = Mark{Message: tx.Bucket(bucketOutbox).Sequence(), Alert: tx.Bucket(bucketAlerts).Sequence()}
		return nil
	})
	if err != nil {
		return Mark{}, fmt.Errorf("store: mark: %w", err)
	}
	return mk, nil
}

// ShiftTimers moves by step, in one transaction, the creation and due
// times of every queued or sending message after the mark, and the time
// every alert after it was accepted (its report measures the time to its
// last SMS from there). It says how many messages it moved.
func (s *Store) ShiftTimers(after Mark, step time.Duration) (int, error) {
	var n int
	err := s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		alerts := tx.Bucket(bucketAlerts)
		c := alerts.Cursor()
		for k, _ := c.Seek(u64(after.Alert + 1)); k != nil; k, _ = c.Next() {
			a, err := loadAlert(tx, binary.BigEndian.Uint64(k))
			if err != nil {
				return err
			}
			a.CreatedAt = a.CreatedAt.Add(step)
			if err := putJSON(alerts, k, a); err != nil {
				return err
			}
		}
		var ids []uint64
		if err := tx.Bucket(bucketQueue).ForEach(func(k, _ []byte) error {
			if id := queueKeyID(k); id > after.Message {
				ids = append(ids, id)
			}
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Bucket(bucketSending).ForEach(func(k, _ []byte) error {
			if id := binary.BigEndian.Uint64(k); id > after.Message {
				ids = append(ids, id)
			}
			return nil
		}); err != nil {
			return err
		}
		for _, id := range ids {
			prev, err := loadMessage(tx, id)
			if err != nil {
				return err
			}
			m := prev
			m.CreatedAt, m.NotBefore = m.CreatedAt.Add(step), m.NotBefore.Add(step)
			if err := putMessage(tx, &m, &prev); err != nil {
				return err
			}
		}
		n = len(ids)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: move message timers by %v: %w", step, err)
	}
	return n, nil
}
