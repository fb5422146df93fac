package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// ErrCorrupt: the database file, or the store's own indexes, are
// inconsistent; restore a backup.
var ErrCorrupt = errors.New("database corrupt")

// maxProblems bounds the problems a Check error lists.
const maxProblems = 10

// errRollback ends Check's transaction without writing anything.
var errRollback = errors.New("rollback")

// Check verifies the database at start-up: bbolt's page check (every page
// reachable once or free, keys in order) and, if the file is sound, the
// store's invariants that are cheap to verify, those over the small
// indexes: the queue (by priority and by age) and sending indexes name
// messages in those states, and the outbox counters of queued and sending
// agree with them. It returns nil, or an error wrapping ErrCorrupt that
// lists the first problems found.
//
// It runs in a write transaction that it rolls back: bbolt's check reads
// the free list, which only the writer may touch, and the API may already
// be serving. Writers wait for the check, about a second for a database of
// tens of megabytes.
func (s *Store) Check() error {
	var problems []string
	add := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	err := s.db.Update(func(tx *bolt.Tx) (err error) {
		for e := range tx.Check() {
			add("%v", e)
		}
		if len(problems) > 0 {
			return errRollback
		}
		// A page the check found sound may still hold values we cannot
		// read; bbolt panics on some of those.
		defer func() {
			if r := recover(); r != nil {
				add("reading the indexes: %v", r)
				err = errRollback
			}
		}()
		checkIndexes(tx, add)
		return errRollback
	})
	if err != nil && !errors.Is(err, errRollback) {
		return fmt.Errorf("store: check: %w", err)
	}
	if len(problems) == 0 {
		return nil
	}
	more := ""
	if len(problems) > maxProblems {
		more = fmt.Sprintf("; and %d more", len(problems)-maxProblems)
		problems = problems[:maxProblems]
	}
	return fmt.Errorf("store: check: %s%s: %w", strings.Join(problems, "; "), more, ErrCorrupt)
}

// checkIndexes verifies the queue, queue age and sending indexes against
// the messages they name and the counters.
func checkIndexes(tx *bolt.Tx, add func(string, ...any)) {
	for _, name := range [][]byte{
		bucketMeta, bucketOutbox, bucketQueue, bucketQueueAge, bucketSending, bucketCounters,
	} {
		if tx.Bucket(name) == nil {
			add("bucket %s missing", name)
			return
		}
	}
	state := func(id uint64, want State, index string) {
		m, err := loadMessage(tx, id)
		switch {
		case err != nil:
			add("%s index: %v", index, err)
		case m.State != want:
			add("%s index: message %d is %s", index, id, m.State)
		}
	}
	count := func(b []byte, keyLen int, id func(k []byte) uint64, want State, index string) int {
		n := 0
		_ = tx.Bucket(b).ForEach(func(k, _ []byte) error {
			n++
			if len(k) != keyLen {
				add("%s index: key %x of %d bytes", index, k, len(k))
				return nil
			}
			state(id(k), want, index)
			return nil
		})
		return n
	}
	queued := count(bucketQueue, 17, queueKeyID, StateQueued, "queue")
	aged := 0 // entries of queued messages; the others wait for ExpireQueued
	_ = tx.Bucket(bucketQueueAge).ForEach(func(k, _ []byte) error {
		if len(k) != 16 {
			add("queue age index: key %x of %d bytes", k, len(k))
			return nil
		}
		switch m, err := loadMessage(tx, binary.BigEndian.Uint64(k[8:])); {
		case err != nil:
			add("queue age index: %v", err)
		case !bytes.Equal(queueAgeKey(&m), k):
			add("queue age index: key %x, message %d created %v", k, m.ID, m.CreatedAt)
		case m.State == StateQueued:
			aged++
		}
		return nil
	})
	sending := count(bucketSending, 8, binary.BigEndian.Uint64, StateSending, "sending")
	counters := tx.Bucket(bucketCounters)
	for _, c := range []struct {
		st    State
		index string
		n     int
	}{{StateQueued, "queue", queued}, {StateQueued, "queue age", aged}, {StateSending, "sending", sending}} {
		if got := getCount(counters, []byte(c.st)); got != uint64(c.n) {
			add("counter %s is %d, %s index holds %d", c.st, got, c.index, c.n)
		}
	}
}
