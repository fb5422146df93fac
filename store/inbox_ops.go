package store

import (
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// InboxEntry is an inbound SMS kept for the operators, with when an operator
// read it. The read flag is the value of its key in the inbox bucket: empty
// while unread, the read time (a time key) once read. An empty value is what
// ApplyInbound writes, so files written before the flag existed read as
// unread and need no migration.
type InboxEntry struct {
	Inbound
	// ReadAt is when it was first marked read; zero while unread.
	ReadAt time.Time
}

// Read reports whether an operator has read the entry.
func (e InboxEntry) Read() bool { return !e.ReadAt.IsZero() }

// InboxEntries returns the inbox, newest first, with the read flags.
func (s *Store) InboxEntries() ([]InboxEntry, error) {
	var es []InboxEntry
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketInbox).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			e, err := inboxEntry(tx, k, v)
			if err != nil {
				return err
			}
			es = append(es, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: inbox entries: %w", err)
	}
	return es, nil
}

// InboxEntry returns inbox entry id; an error wrapping ErrNotFound if no
// inbound SMS with that id is in the inbox.
func (s *Store) InboxEntry(id uint64) (InboxEntry, error) {
	var e InboxEntry
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		e, err = getInboxEntry(tx, id)
		return err
	})
	if err != nil {
		return InboxEntry{}, fmt.Errorf("store: inbox entry %d: %w", id, err)
	}
	return e, nil
}

// MarkRead marks inbox entry id read at now and returns it. Marking an entry
// already read keeps its first read time. ErrNotFound if it is not in the
// inbox.
func (s *Store) MarkRead(id uint64, now time.Time) (InboxEntry, error) {
	e, _, err := s.MarkReadAudited(id, now, nil)
	return e, err
}

// MarkReadAudited is MarkRead with the record of it appended in its
// transaction: audit builds it from the entry as read (nil, or a nil
// record: none), also when it was already read. It returns the record as
// stored.
func (s *Store) MarkReadAudited(id uint64, now time.Time, audit func(InboxEntry) *AuditRecord) (InboxEntry, AuditRecord, error) {
	var e InboxEntry
	var rec AuditRecord
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		if e, err = getInboxEntry(tx, id); err != nil {
			return err
		}
		if !e.Read() {
			e.ReadAt = now
			if err := tx.Bucket(bucketInbox).Put(u64(id), u64(timeKey(now))); err != nil {
				return err
			}
		}
		if audit == nil {
			return nil
		}
		rec, err = appendChange(tx, audit(e))
		return err
	})
	if err != nil {
		return InboxEntry{}, AuditRecord{}, fmt.Errorf("store: mark inbox entry %d read: %w", id, err)
	}
	return e, rec, nil
}

func getInboxEntry(tx *bolt.Tx, id uint64) (InboxEntry, error) {
	k := u64(id)
	c := tx.Bucket(bucketInbox).Cursor()
	// Seek, not Get: an unread entry's value is empty, which Get does not
	// tell apart from a missing key.
	got, v := c.Seek(k)
	if got == nil || binary.BigEndian.Uint64(got) != id {
		return InboxEntry{}, fmt.Errorf("inbox entry %d: %w", id, ErrNotFound)
	}
	return inboxEntry(tx, got, v)
}

// inboxEntry loads the inbound SMS of inbox key k and decodes its read flag v.
func inboxEntry(tx *bolt.Tx, k, v []byte) (InboxEntry, error) {
	in, err := loadInbound(tx, binary.BigEndian.Uint64(k))
	if err != nil {
		return InboxEntry{}, err
	}
	e := InboxEntry{Inbound: in}
	switch len(v) {
	case 0:
	case 8:
		e.ReadAt = time.Unix(0, int64(binary.BigEndian.Uint64(v)^(1<<63)))
	default:
		return InboxEntry{}, fmt.Errorf("inbox entry %d: corrupt read flag (%d bytes)", in.ID, len(v))
	}
	return e, nil
}
