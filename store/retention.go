package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Retention (SPEC §12): personal data in the history is kept no longer than
// the configured months. Subscribers, the suppression list and alerts stay;
// an alert keeps its counts by state (alert_counters is history, not an
// index of what remains), while the outbox counters follow the outbox.

// retentionBatch bounds the records one purge transaction removes, so a
// first purge of a large history never holds the writer lock for long.
const retentionBatch = 500

// Purged counts what Purge removed.
type Purged struct {
	// Messages: outbox messages in a final state, with their index entries.
	Messages int `json:"messages"`
	// Inbound: processed received SMS (the inbox among them).
	Inbound int `json:"inbound"`
	// Audit: audit log records, the oldest (audit.go: the chain goes on
	// from meta/audit_anchor).
	Audit int `json:"audit"`
	// Other: leftover parts of never completed SMS, dedupe keys, usage
	// entries (numbers texted per month, parts per day, the sent log),
	// per-number counters (replies, STOP confirmations, code requests) and
	// stale subscription requests with their wrong-code counts.
	Other int `json:"other"`
}

// walk is where a walk over one bucket resumes in the next batch.
type walk struct {
	from []byte // nil: from the start
	over bool
}

// advance records a walk's step: more is where to resume, nil if it ended.
func (w *walk) advance(more []byte) {
	w.from, w.over = more, more == nil
}

// purgeCursor is the state of a purge across its batches.
type purgeCursor struct {
	outbox, inbound, parts, seen, requests walk
	// audit is over once a record dated before is reached; it always
	// resumes from the first record left.
	audit walk
	// timedFull: a time-ordered bucket had more stale keys than a batch.
	timedFull bool
}

func (c *purgeCursor) done() bool {
	return c.outbox.over && c.inbound.over && c.parts.over && c.seen.over && c.requests.over && c.audit.over && !c.timedFull
}

// Purge removes what was last touched before before, in batches of one
// transaction each: outbox messages in a final state (everything but
// queued and sending) last updated before it, processed inbound SMS
// received before it (and their inbox entries), parts and dedupe keys
// received before it, the usage entries of earlier days and months, and
// the audit records dated before it (purgeAudit).
// Queued, sending and unprocessed records are never removed.
func (s *Store) Purge(before time.Time) (Purged, error) {
	var total Purged
	var cur purgeCursor
	for first := true; first || !cur.done(); first = false {
		err := s.db.Update(func(tx *bolt.Tx) error {
			next := cur
			p, err := purgeStep(tx, &next, before, retentionBatch)
			if err != nil {
				return err
			}
			cur = next
			total.Messages += p.Messages
			total.Inbound += p.Inbound
			total.Audit += p.Audit
			total.Other += p.Other
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("store: purge before %v: %w", before, err)
		}
	}
	return total, nil
}

// purgeStep removes up to limit records of each kind, going on with the
// walks cur has not finished.
func purgeStep(tx *bolt.Tx, cur *purgeCursor, before time.Time, limit int) (Purged, error) {
	var p Purged
	if !cur.outbox.over {
		n, more, err := purgeMessages(tx, cur.outbox.from, before, limit)
		if err != nil {
			return p, err
		}
		p.Messages = n
		cur.outbox.advance(more)
	}
	if !cur.inbound.over {
		n, more, err := purgeInbound(tx, cur.inbound.from, before, limit)
		if err != nil {
			return p, err
		}
		p.Inbound = n
		cur.inbound.advance(more)
	}
	if !cur.parts.over {
		n, more, err := purgeWhere(tx.Bucket(bucketParts), cur.parts.from, limit, func(k, v []byte) bool {
			var part InboundPart
			return decode(k, v, &part) == nil && part.ReceivedAt.Before(before)
		})
		if err != nil {
			return p, err
		}
		p.Other += n
		cur.parts.advance(more)
	}
	if !cur.seen.over {
		n, more, err := purgeWhere(tx.Bucket(bucketSeen), cur.seen.from, limit, func(_, v []byte) bool {
			return len(v) == 8 && binary.BigEndian.Uint64(v) < timeKey(before)
		})
		if err != nil {
			return p, err
		}
		p.Other += n
		cur.seen.advance(more)
	}
	if !cur.requests.over {
		n, more, err := purgeRequests(tx, cur.requests.from, before, limit)
		if err != nil {
			return p, err
		}
		p.Other += n
		cur.requests.advance(more)
	}
	if !cur.audit.over {
		n, more, err := purgeAudit(tx, before, limit)
		if err != nil {
			return p, err
		}
		p.Audit = n
		cur.audit.over = !more
	}
	// Keys ordered by time: each batch takes the oldest, up to limit; the
	// purge goes on while one of them is full.
	cur.timedFull = false
	for _, b := range []struct {
		bucket, end []byte
	}{
		{bucketPartsPerDay, []byte(dayKey(before))},
		{bucketReplyPartsDay, []byte(dayKey(before))},
		// Per-number counters (automatic replies, STOP confirmations, code
		// requests): each write purges its bucket's past days, but a number
		// that never writes again must not stay there.
		{bucketReplies, []byte(dayKey(before))},
		{bucketCodeRequests, []byte(dayKey(before))},
		{bucketMonthRecipients, []byte(monthKey(before))},
		{bucketForwards, []byte(hourKey(before))},
		{bucketSent, u64(timeKey(before))},
	} {
		n, err := purgeBelow(tx.Bucket(b.bucket), b.end, limit)
		if err != nil {
			return p, err
		}
		p.Other += n
		cur.timedFull = cur.timedFull || n == limit
	}
	return p, nil
}

// purgeAudit removes up to limit of the oldest audit records, those dated
// before before, and moves the anchor (meta/audit_anchor) to the last one
// removed, so that the chain stays verifiable from there (verifyAudit).
// It stops at the first record dated before or later, and at the first
// that does not verify: the evidence of a tampering is kept, for vigie
// audit verify to name it. more says a batch was full.
func purgeAudit(tx *bolt.Tx, before time.Time, limit int) (n int, more bool, err error) {
	b := tx.Bucket(bucketAudit)
	if b == nil {
		return 0, false, nil
	}
	anchor, ok, err := readAuditAnchor(tx)
	if err != nil {
		return 0, false, err
	}
	prev, want := auditChainFrom(anchor, ok)
	var keys [][]byte
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(keys) == limit {
			more = true
			break
		}
		r, body, err := decodeAudit(v)
		if err != nil || len(k) != 8 || binary.BigEndian.Uint64(k) != want || r.Seq != want ||
			r.Hash != auditHash(body) || r.Prev != prev || !r.Time.Before(before) {
			break
		}
		keys = append(keys, bytes.Clone(k))
		anchor = auditAnchor{Seq: r.Seq, Hash: r.Hash, Time: r.Time}
		prev, want = r.Hash, want+1
	}
	if len(keys) == 0 {
		return 0, false, nil
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, false, err
		}
	}
	if err := putJSON(tx.Bucket(bucketMeta), keyAuditAnchor, anchor); err != nil {
		return 0, false, fmt.Errorf("audit anchor: %w", err)
	}
	return len(keys), more, nil
}

// purgeMessages walks the outbox from from, in ID (so creation) order,
// and removes up to limit final messages last updated before before. It
// stops at the first message created after before and returns where to
// resume (nil: the walk is over).
func purgeMessages(tx *bolt.Tx, from []byte, before time.Time, limit int) (int, []byte, error) {
	texts := alertTexts{}
	stale, from, err := collect(tx.Bucket(bucketOutbox), from, limit, func(k, v []byte) (m Message, take, stop bool, err error) {
		if err := decodeMessage(tx, texts, k, v, &m); err != nil {
			return m, false, false, err
		}
		if !m.CreatedAt.Before(before) {
			return m, false, true, nil
		}
		return m, m.State != StateQueued && m.State != StateSending && m.UpdatedAt.Before(before), false, nil
	})
	if err != nil {
		return 0, nil, err
	}
	for _, m := range stale {
		if err := removeMessage(tx, &m); err != nil {
			return 0, nil, err
		}
	}
	return len(stale), from, nil
}

// collect walks b in key order from from (nil: the first key) and keeps
// what pick takes, until limit are kept or pick says stop. It returns them
// and the key to resume from (nil: the walk is over). Nothing is deleted
// during the walk: a bbolt cursor must not see its bucket change.
func collect[T any](b *bolt.Bucket, from []byte, limit int, pick func(k, v []byte) (item T, take, stop bool, err error)) ([]T, []byte, error) {
	var kept []T
	c := b.Cursor()
	k, v := c.First()
	if from != nil {
		k, v = c.Seek(from)
	}
	for ; k != nil; k, v = c.Next() {
		if len(kept) == limit {
			return kept, bytes.Clone(k), nil
		}
		item, take, stop, err := pick(k, v)
		if err != nil {
			return nil, nil, err
		}
		if stop {
			break
		}
		if take {
			kept = append(kept, item)
		}
	}
	return kept, nil, nil
}

// removeMessage deletes a final message and its index entries. The outbox
// counter of its state goes down; its alert's counters do not.
func removeMessage(tx *bolt.Tx, m *Message) error {
	if err := tx.Bucket(bucketOutbox).Delete(u64(m.ID)); err != nil {
		return err
	}
	if err := addCounter(tx.Bucket(bucketCounters), []byte(m.State), -1); err != nil {
		return err
	}
	// Its age entry, if ExpireQueued has not yet dropped it.
	if err := tx.Bucket(bucketQueueAge).Delete(queueAgeKey(m)); err != nil {
		return err
	}
	if m.AlertID != 0 {
		if err := tx.Bucket(bucketAlertMessages).Delete(binary.BigEndian.AppendUint64(u64(m.AlertID), m.ID)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketAlertRecipients).Delete(recipientKey(m.AlertID, m.To)); err != nil {
			return err
		}
	}
	if m.SentAt.IsZero() {
		return nil
	}
	if err := tx.Bucket(bucketSent).Delete(binary.BigEndian.AppendUint64(u64(timeKey(m.SentAt)), m.ID)); err != nil {
		return err
	}
	refs, times := tx.Bucket(bucketReportRefs), tx.Bucket(bucketReportTimes)
	for part := range m.Refs {
		suffix := binary.BigEndian.AppendUint64(u64(timeKey(m.SentAt)), m.ID)
		suffix = binary.BigEndian.AppendUint16(suffix, uint16(part))
		if key := times.Get(suffix); key != nil {
			if err := refs.Delete(bytes.Clone(key)); err != nil {
				return err
			}
			if err := times.Delete(suffix); err != nil {
				return err
			}
		}
	}
	return nil
}

// purgeInbound walks inbound SMS from from, in ID order, and removes up to
// limit processed ones received before before, with their inbox entry. It
// stops at the first received after before.
func purgeInbound(tx *bolt.Tx, from []byte, before time.Time, limit int) (int, []byte, error) {
	stale, from, err := collect(tx.Bucket(bucketInbound), from, limit, func(k, v []byte) ([]byte, bool, bool, error) {
		var in Inbound
		if err := decode(k, v, &in); err != nil {
			return nil, false, false, err
		}
		if !in.ReceivedAt.Before(before) {
			return nil, false, true, nil
		}
		return bytes.Clone(k), in.Processed, false, nil
	})
	if err != nil {
		return 0, nil, err
	}
	for _, k := range stale {
		if err := unindexReply(tx, k); err != nil {
			return 0, nil, err
		}
		if err := tx.Bucket(bucketInbound).Delete(k); err != nil {
			return 0, nil, err
		}
		if err := tx.Bucket(bucketInbox).Delete(k); err != nil {
			return 0, nil, err
		}
	}
	return len(stale), from, nil
}

// purgeRequests walks subscribers from from and drops up to limit
// subscription requests made before before, with their code and wrong-code
// count: a number that never became active goes altogether (it never
// consented), an active one keeps its subscription.
func purgeRequests(tx *bolt.Tx, from []byte, before time.Time, limit int) (int, []byte, error) {
	b := tx.Bucket(bucketSubscribers)
	stale, from, err := collect(b, from, limit, func(k, v []byte) (Subscriber, bool, bool, error) {
		var sub Subscriber
		if err := decode(k, v, &sub); err != nil {
			return sub, false, false, err
		}
		return sub, sub.Pending != nil && sub.Pending.At.Before(before), false, nil
	})
	if err != nil {
		return 0, nil, err
	}
	for _, sub := range stale {
		if sub.Status == StatusPending {
			if err := b.Delete([]byte(sub.Phone)); err != nil {
				return 0, nil, err
			}
			continue
		}
		sub.Pending = nil
		if err := putJSON(b, []byte(sub.Phone), sub); err != nil {
			return 0, nil, err
		}
	}
	return len(stale), from, nil
}

// purgeWhere removes up to limit keys of b for which stale holds, walking
// from from; it returns where to resume (nil: the walk is over).
func purgeWhere(b *bolt.Bucket, from []byte, limit int, stale func(k, v []byte) bool) (int, []byte, error) {
	keys, from, err := collect(b, from, limit, func(k, v []byte) ([]byte, bool, bool, error) {
		return bytes.Clone(k), stale(k, v), false, nil
	})
	if err != nil {
		return 0, nil, err
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, nil, err
		}
	}
	return len(keys), from, nil
}

// purgeBelow removes up to limit of the first keys of b, those that sort
// before end.
func purgeBelow(b *bolt.Bucket, end []byte, limit int) (int, error) {
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil && len(keys) < limit && bytes.Compare(k, end) < 0; k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}
