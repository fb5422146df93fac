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

// LastMessageID is the ID of the latest message ever queued, 0 if none. The
// gateway notes it at start-up: the messages after it are this run's,
// dated by this run's clock.
func (s *Store) LastMessageID() (uint64, error) {
	var id uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		id = tx.Bucket(bucketOutbox).Sequence()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: last message id: %w", err)
	}
	return id, nil
}

// ShiftTimers moves by step the creation and due times of every queued or
// sending message whose ID is above after, in one transaction, and says
// how many it moved.
func (s *Store) ShiftTimers(after uint64, step time.Duration) (int, error) {
	var n int
	err := s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		var ids []uint64
		if err := tx.Bucket(bucketQueue).ForEach(func(k, _ []byte) error {
			if id := queueKeyID(k); id > after {
				ids = append(ids, id)
			}
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Bucket(bucketSending).ForEach(func(k, _ []byte) error {
			if id := binary.BigEndian.Uint64(k); id > after {
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
