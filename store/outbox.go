package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// State is where an outbox message is in its life:
// queued → sending → sent → delivered | failed | expired, plus cancelled and
// suppressed.
type State string

// Message states.
const (
	StateQueued     State = "queued"
	StateSending    State = "sending"
	StateSent       State = "sent"
	StateDelivered  State = "delivered"
	StateFailed     State = "failed"
	StateExpired    State = "expired"
	StateCancelled  State = "cancelled"
	StateSuppressed State = "suppressed"
)

// Kind says why a message is sent; it sets its priority in the queue.
type Kind string

// Message kinds. Replies and tests go ahead of alert messages.
const (
	KindAlert Kind = "alert"
	KindReply Kind = "reply"
	KindTest  Kind = "test"
	// KindForward is a witness reply forwarded to an on-duty phone: it
	// goes with the replies but counts against no shop's reply cap.
	KindForward Kind = "forward"
)

// Alert is what an operator sent, with the recipient count of its snapshot.
type Alert struct {
	ID         uint64    `json:"id"`
	Author     string    `json:"author"`
	CreatedAt  time.Time `json:"created_at"`
	Category   string    `json:"category"`
	Zones      []string  `json:"zones"`
	Trades     []string  `json:"trades,omitempty"`
	All        bool      `json:"all"`
	Text       string    `json:"text"`     // as typed
	Rendered   string    `json:"rendered"` // final text sent
	Encoding   string    `json:"encoding"` // "GSM7" or "UCS2"
	Parts      int       `json:"parts"`    // SMS parts per recipient
	Recipients int       `json:"recipients"`
	// FollowUpOf is the alert this one follows up ("fin d'alerte"); its
	// recipients are those of that alert (AlertRecipients).
	FollowUpOf uint64 `json:"follow_up_of,omitempty"`
	// ZoneRecipients counts, for each zone it reached, the recipients
	// subscribed in that zone or a zone below, as they were at acceptance:
	// the yearly report's reach by zone, once the messages are purged.
	// Absent for alerts accepted before it was kept.
	ZoneRecipients map[string]int `json:"zone_recipients,omitempty"`
}

// Message is one SMS in the outbox, to one recipient.
type Message struct {
	ID      uint64 `json:"id"`
	AlertID uint64 `json:"alert_id,omitempty"`
	Kind    Kind   `json:"kind"`
	To      string `json:"to"`
	Text    string `json:"text"`
	Parts   int    `json:"parts"`
	State   State  `json:"state"`
	// IgnoreSuppression: the one STOP confirmation must reach a number that just sent STOP.
	IgnoreSuppression bool   `json:"ignore_suppression,omitempty"`
	Attempts          int    `json:"attempts"`
	LastError         string `json:"last_error,omitempty"`
	Modem             string `json:"modem,omitempty"`
	Refs              []int  `json:"refs,omitempty"` // message references of the parts
	Uncertain         bool   `json:"uncertain,omitempty"`
	// NotBefore is when a queued message becomes due: its creation, or the
	// time a retry was scheduled for.
	NotBefore time.Time `json:"not_before"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	SentAt    time.Time `json:"sent_at,omitzero"`
	// PartStatus is the TP-ST of each part's delivery report, in Refs
	// order; -1 while no final report came.
	PartStatus  []int     `json:"part_status,omitempty"`
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
	// About is the number a forward's text speaks of (the shop whose
	// reply it carries), so that erasing that number erases the text.
	About string `json:"about,omitempty"`
	// Ahead marks a sending message claimed ahead, while its modem sends
	// the one before: its send has not begun and its attempt is not
	// counted yet (SentAndClaim's go counts it). Only ever true in sending.
	Ahead bool `json:"ahead,omitempty"`
}

// CreateAlert stores the alert and one queued message per distinct recipient
// in one transaction ("accepted means durable") and returns the alert with its
// ID, CreatedAt (now) and Recipients set. Messages are queued in recipients'
// order.
func (s *Store) CreateAlert(a Alert, recipients []string, now time.Time) (Alert, error) {
	a, _, err := s.CreateAlertAudited(a, recipients, now, nil)
	return a, err
}

// CreateAlertAudited is CreateAlert with the record of it appended in its
// transaction: audit builds it from the alert as stored and the count of
// its messages in each state (nil, or a nil record: none). It returns the
// record as stored.
func (s *Store) CreateAlertAudited(a Alert, recipients []string, now time.Time, audit func(Alert, map[State]int) *AuditRecord) (Alert, AuditRecord, error) {
	if a.Rendered == "" || a.Parts < 1 {
		return Alert{}, AuditRecord{}, fmt.Errorf("store: create alert: empty text or %d parts: %w", a.Parts, ErrInvalid)
	}
	var rec AuditRecord
	distinct := make([]string, 0, len(recipients))
	seen := make(map[string]bool, len(recipients))
	for _, r := range recipients {
		if !seen[r] {
			seen[r] = true
			distinct = append(distinct, r)
		}
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if a.FollowUpOf != 0 {
			if _, err := loadAlert(tx, a.FollowUpOf); err != nil {
				return fmt.Errorf("follow-up: %w", err)
			}
		}
		alerts := tx.Bucket(bucketAlerts)
		id, err := alerts.NextSequence()
		if err != nil {
			return err
		}
		a.ID, a.CreatedAt, a.Recipients = id, now, len(distinct)
		if err := putJSON(alerts, u64(id), a); err != nil {
			return err
		}
		index, reached := tx.Bucket(bucketAlertMessages), tx.Bucket(bucketAlertRecipients)
		for _, to := range distinct {
			m, err := enqueue(tx, Message{AlertID: id, Kind: KindAlert, To: to, Text: a.Rendered, Parts: a.Parts}, now)
			if err != nil {
				return err
			}
			if err := index.Put(binary.BigEndian.AppendUint64(u64(id), m.ID), nil); err != nil {
				return err
			}
			if err := reached.Put(recipientKey(id, to), u64(m.ID)); err != nil {
				return err
			}
		}
		if audit == nil {
			return nil
		}
		rec, err = appendChange(tx, audit(a, alertCounts(tx, id)))
		return err
	})
	if err != nil {
		return Alert{}, AuditRecord{}, fmt.Errorf("store: create alert: %w", err)
	}
	return a, rec, nil
}

// Alert returns the alert with that ID, or an error wrapping ErrNotFound.
func (s *Store) Alert(id uint64) (Alert, error) {
	var a Alert
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		a, err = loadAlert(tx, id)
		return err
	})
	if err != nil {
		return Alert{}, fmt.Errorf("store: alert: %w", err)
	}
	return a, nil
}

// Alerts returns every alert, newest first.
func (s *Store) Alerts() ([]Alert, error) {
	var alerts []Alert
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAlerts).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var a Alert
			if err := decode(k, v, &a); err != nil {
				return err
			}
			alerts = append(alerts, a)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: alerts: %w", err)
	}
	return alerts, nil
}

// AlertMessages returns the messages of an alert, by ID.
func (s *Store) AlertMessages(id uint64) ([]Message, error) {
	var msgs []Message
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		msgs, err = alertMessages(tx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: alert messages: %w", err)
	}
	return msgs, nil
}

// AlertRecipients returns the recipients of an alert's snapshot, in the
// order they were queued: a follow-up goes to exactly these, whatever
// happened to subscriptions since (STOP is still checked at send time).
func (s *Store) AlertRecipients(id uint64) ([]string, error) {
	var phones []string
	err := s.db.View(func(tx *bolt.Tx) error {
		msgs, err := alertMessages(tx, id)
		for _, m := range msgs {
			phones = append(phones, m.To)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: recipients of alert %d: %w", id, err)
	}
	return phones, nil
}

// AlertCounts returns the number of the alert's messages in each state;
// states without messages are absent.
func (s *Store) AlertCounts(id uint64) (map[State]int, error) {
	counts := make(map[State]int)
	err := s.db.View(func(tx *bolt.Tx) error {
		if _, err := loadAlert(tx, id); err != nil {
			return err
		}
		counts = alertCounts(tx, id)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: counts of alert %d: %w", id, err)
	}
	return counts, nil
}

// alertCounts is AlertCounts in tx, for an alert known to exist.
func alertCounts(tx *bolt.Tx, id uint64) map[State]int {
	counts := make(map[State]int)
	prefix := u64(id)
	c := tx.Bucket(bucketAlertCounters).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if n := binary.BigEndian.Uint64(v); n > 0 {
			counts[State(k[len(prefix):])] = int(n)
		}
	}
	return counts
}

// CancelAlert cancels the alert's messages not yet claimed by a modem, or
// claimed ahead but not begun (Ahead), and returns how many were cancelled;
// messages whose send began go on.
func (s *Store) CancelAlert(id uint64, now time.Time) (int, error) {
	n, _, err := s.CancelAlertAudited(id, now, nil)
	return n, err
}

// CancelAlertAudited is CancelAlert with the record of it appended in its
// transaction: audit builds it from the number of messages cancelled (nil,
// or a nil record: none). It returns the record as stored.
func (s *Store) CancelAlertAudited(id uint64, now time.Time, audit func(cancelled int) *AuditRecord) (int, AuditRecord, error) {
	var n int
	var rec AuditRecord
	var held []uint64 // withdrawing until the transaction has ended
	defer func() { s.endWithdraw(held) }()
	err := s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		msgs, err := alertMessages(tx, id)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.State == StateSending && m.Ahead && s.withdraw(m.ID) {
				// Claimed ahead, its send not begun: it is not sent either
				// (the sender finds it withdrawn, Advance), and no send
				// log may begin it until this commits (markBegun). One a
				// send log holds as begun may be out: it is left to be
				// recorded.
				held = append(held, m.ID)
				if _, err := transition(tx, m.ID, StateQueued, now, nil); err != nil {
					return err
				}
			} else if m.State != StateQueued {
				continue
			}
			if _, err := transition(tx, m.ID, StateCancelled, now, nil); err != nil {
				return err
			}
			n++
		}
		if audit == nil {
			return nil
		}
		rec, err = appendChange(tx, audit(n))
		return err
	})
	if err != nil {
		return 0, AuditRecord{}, fmt.Errorf("store: cancel alert %d: %w", id, err)
	}
	return n, rec, nil
}

// Message returns the message with that ID, or an error wrapping ErrNotFound.
func (s *Store) Message(id uint64) (Message, error) {
	var m Message
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		m, err = loadMessage(tx, id)
		return err
	})
	if err != nil {
		return Message{}, fmt.Errorf("store: message: %w", err)
	}
	return m, nil
}

// EnqueueReply queues a reply or test SMS (kind KindReply or KindTest), due
// now; they go before alert messages.
func (s *Store) EnqueueReply(kind Kind, to, text string, parts int, ignoreSuppression bool, now time.Time) (Message, error) {
	m, _, err := s.EnqueueReplyAudited(kind, to, text, parts, ignoreSuppression, now, nil)
	return m, err
}

// EnqueueReplyAudited is EnqueueReply with the record of it appended in its
// transaction: audit builds it from the message queued (nil, or a nil
// record: none). It returns the record as stored.
func (s *Store) EnqueueReplyAudited(kind Kind, to, text string, parts int, ignoreSuppression bool, now time.Time,
	audit func(Message) *AuditRecord) (Message, AuditRecord, error) {
	if kind != KindReply && kind != KindTest {
		return Message{}, AuditRecord{}, fmt.Errorf("store: enqueue: kind %q: %w", kind, ErrInvalid)
	}
	var m Message
	var rec AuditRecord
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		m, err = enqueue(tx, Message{Kind: kind, To: to, Text: text, Parts: parts, IgnoreSuppression: ignoreSuppression}, now)
		if err != nil || audit == nil {
			return err
		}
		rec, err = appendChange(tx, audit(m))
		return err
	})
	if err != nil {
		return Message{}, AuditRecord{}, fmt.Errorf("store: enqueue %s: %w", kind, err)
	}
	return m, rec, nil
}

// Claim takes the next message to send for modem, in one transaction: replies
// and tests first, then alert messages, each oldest due first, among those due
// (NotBefore <= now). The queue index is read, not the outbox. A message to a
// suppressed number (unless IgnoreSuppression) becomes suppressed and the next
// one is tried: this is how STOP is checked at send time. The claimed message
// becomes sending, with Attempts incremented and Modem set. ok is false when
// nothing is due.
func (s *Store) Claim(modem string, now time.Time) (m Message, ok bool, err error) {
	return s.ClaimFor(modem, now, true)
}

// ClaimFor is Claim, taking replies and tests only if replies: a modem
// whose replies used up their share of its rate or daily_cap leaves them
// queued (they wait, or expire) and sends alerts.
func (s *Store) ClaimFor(modem string, now time.Time, replies bool) (m Message, ok bool, err error) {
	return s.ClaimDueBy(modem, now, now, replies)
}

// ClaimDueBy is ClaimFor among the messages due by the later of by and
// now, the claim dated now: a sender with nothing due takes a retry due
// within the time of one send at once rather than idle the modem until then.
func (s *Store) ClaimDueBy(modem string, by, now time.Time, replies bool) (m Message, ok bool, err error) {
	if by.Before(now) {
		by = now
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		m, ok = Message{}, false
		next, found, err := dueUnsuppressed(tx, by, replies, now, nil)
		if err != nil || !found {
			return err
		}
		m, err = transition(tx, next.ID, StateSending, now, func(m *Message) {
			m.Attempts++
			m.Modem = modem
		})
		ok = err == nil
		return err
	})
	if err != nil {
		return Message{}, false, fmt.Errorf("store: claim for %s: %w", modem, err)
	}
	return m, ok, nil
}

// NextDue returns the earliest NotBefore among queued messages, so the sender
// can sleep exactly until then; false if the queue is empty.
func (s *Store) NextDue() (time.Time, bool, error) {
	return s.NextDueFor(true)
}

// NextDueFor is NextDue among alert messages only, unless replies.
func (s *Store) NextDueFor(replies bool) (time.Time, bool, error) {
	var due uint64
	var found bool
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketQueue).Cursor()
		for _, p := range bands(replies) {
			k, _ := c.Seek([]byte{p})
			if k == nil || k[0] != p {
				continue
			}
			if d := queueKeyDue(k); !found || d < due {
				due, found = d, true
			}
		}
		return nil
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: next due: %w", err)
	}
	if !found {
		return time.Time{}, false, nil
	}
	return time.Unix(0, int64(due^(1<<63))), true, nil
}

// MarkSent records that a sending message left the modem with the message
// references refs of its parts, in one transaction with the usage counters
// (PartsSent, DistinctRecipients) and the delivery report index; report
// index entries older than ReportWindow are purged on the way.
func (s *Store) MarkSent(id uint64, refs []int, now time.Time) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		_, err := markSent(tx, id, refs, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: message %d to %s: %w", id, StateSent, err)
	}
	return nil
}

// Attempted counts the attempt of a message claimed ahead whose send began
// with a send log holding it (SendLog.Begun) and did not end in an SMS
// sent: before its outcome is recorded, the database says it was tried.
// A message not claimed ahead is left as it is.
func (s *Store) Attempted(id uint64, now time.Time) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		m, err := loadMessage(tx, id)
		if err != nil || m.State != StateSending || !m.Ahead {
			return err
		}
		prev := m
		m.Ahead, m.UpdatedAt = false, now
		m.Attempts++
		return putMessage(tx, &m, &prev)
	})
	if err != nil {
		return fmt.Errorf("store: attempt of message %d: %w", id, err)
	}
	return nil
}

// MarkSentUncertain ends a sending message whose last attempt may have gone
// out but was not confirmed, after its one retry of an unknown outcome: it
// is taken as sent (it counts against the usage counters, as it may have
// left), marked Uncertain, without message references (no delivery report
// can be matched to it), with the reason kept. Never failed: the recipient
// may well have it.
func (s *Store) MarkSentUncertain(id uint64, reason string, now time.Time) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		m, err := transition(tx, id, StateSent, now, func(m *Message) {
			m.Refs, m.PartStatus = nil, nil
			m.SentAt = now
			m.Uncertain = true
			m.LastError = reason
		})
		if err != nil {
			return err
		}
		return countSent(tx, &m)
	})
	if err != nil {
		return fmt.Errorf("store: message %d to %s, unconfirmed: %w", id, StateSent, err)
	}
	return nil
}

// MarkFailed fails a sending message (permanent error) or a sent one (failed
// delivery report), recording the reason.
func (s *Store) MarkFailed(id uint64, reason string, now time.Time) error {
	return s.update(id, StateFailed, now, func(m *Message) { m.LastError = reason })
}

// MarkDelivered records a successful delivery report for a sent message.
func (s *Store) MarkDelivered(id uint64, now time.Time) error {
	return s.update(id, StateDelivered, now, nil)
}

// MarkExpired expires a queued or sending message too old to be sent
// (alert_ttl): it is not sent late.
func (s *Store) MarkExpired(id uint64, now time.Time) error {
	return s.update(id, StateExpired, now, nil)
}

// Retry puts a sending message back in the queue, due at at, with the error
// recorded.
func (s *Store) Retry(id uint64, reason string, at time.Time, now time.Time) error {
	return s.update(id, StateQueued, now, func(m *Message) {
		m.LastError = reason
		m.NotBefore = at
	})
}

// Release gives a sending message back to the queue, due at once and
// without counting the attempt: it never left, and the reason was not the
// message (no network, the modem paused). Its place in the queue is kept.
func (s *Store) Release(id uint64, reason string, now time.Time) error {
	return s.update(id, StateQueued, now, func(m *Message) {
		m.LastError = reason
		m.Attempts = max(m.Attempts-1, 0)
	})
}

// ReleaseAhead gives a message claimed ahead (Ahead) back to the queue: its
// attempt was never counted, and it keeps its place and its last error.
func (s *Store) ReleaseAhead(id uint64, now time.Time) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		m, err := loadMessage(tx, id)
		if err != nil {
			return err
		}
		switch {
		case m.State == StateSending && !m.Ahead:
			return fmt.Errorf("message %d: its send began: %w", id, ErrState)
		case m.State != StateSending:
			return nil // withdrawn meanwhile (its alert cancelled): nothing to give back
		}
		_, err = transition(tx, id, StateQueued, now, nil)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: release message %d claimed ahead: %w", id, err)
	}
	return nil
}

// RetryUncertain is Retry for a send whose outcome is unknown (the modem did
// not answer a +CMGS, or the link dropped mid-send): the SMS may have gone
// out, so the message is marked Uncertain for the report.
func (s *Store) RetryUncertain(id uint64, reason string, at time.Time, now time.Time) error {
	return s.update(id, StateQueued, now, func(m *Message) {
		m.LastError = reason
		m.NotBefore = at
		m.Uncertain = true
	})
}

// ExpireQueued expires every queued message, of any kind, created before
// cutoff (alert_ttl, SPEC §5): it is not sent late. It walks the queue's age
// index, not the outbox, and returns how many expired and the IDs, sorted,
// of the alerts they belong to. The index holds every message not yet
// found final past the TTL (the claim does not remove its entry): the walk
// drops the entries of messages that left the queue, keeping those being
// sent, in one transaction for many messages rather than a write per SMS.
// With no entry before cutoff it writes nothing: the daemon calls it every
// few seconds, and an empty commit still writes and syncs a meta page.
func (s *Store) ExpireQueued(cutoff, now time.Time) (n int, alerts []uint64, err error) {
	end := u64(timeKey(cutoff))
	var due bool
	if err := s.db.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketQueueAge).Cursor().First()
		due = k != nil && bytes.Compare(k[:8], end) < 0
		return nil
	}); err != nil {
		return 0, nil, fmt.Errorf("store: expire queued before %v: %w", cutoff, err)
	}
	if !due {
		return 0, nil, nil
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		n, alerts = 0, nil
		var ids []uint64
		var gone [][]byte
		age := tx.Bucket(bucketQueueAge)
		c := age.Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k[:8], end) < 0; k, _ = c.Next() {
			id := binary.BigEndian.Uint64(k[8:])
			m, err := loadMessage(tx, id)
			if err != nil {
				return err
			}
			switch m.State {
			case StateQueued:
				ids = append(ids, id)
				gone = append(gone, bytes.Clone(k))
			case StateSending:
			default:
				gone = append(gone, bytes.Clone(k))
			}
		}
		for _, id := range ids {
			m, err := transition(tx, id, StateExpired, now, nil)
			if err != nil {
				return err
			}
			if i, found := slices.BinarySearch(alerts, m.AlertID); m.AlertID != 0 && !found {
				alerts = slices.Insert(alerts, i, m.AlertID)
			}
		}
		for _, k := range gone {
			if err := age.Delete(k); err != nil {
				return err
			}
		}
		n = len(ids)
		return nil
	})
	if err != nil {
		return 0, nil, fmt.Errorf("store: expire queued before %v: %w", cutoff, err)
	}
	return n, alerts, nil
}

// RecoverSending is run at start-up: after a crash, every sending message may
// or may not have left the modem. Each goes back to the queue, keeping its
// place, marked Uncertain. It returns how many were marked. A message
// claimed ahead (Ahead) is marked too, the send may have begun in the
// instant before its attempt was counted, but that attempt is not counted:
// almost always it never left.
//
// The send logs the senders left (sendlog.go) say better, when written in
// this boot: a message they hold as sent is recorded sent, with its
// references, and not sent again; one begun and not sent is marked, its
// attempt counted; one claimed ahead by a sender whose log holds nothing of
// it was never begun and goes back unmarked. The logs are removed once
// applied.
func (s *Store) RecoverSending(now time.Time) (int, error) {
	logs, paths, err := s.leftSendLogs()
	if err != nil {
		return 0, fmt.Errorf("store: recover sending: %w", err)
	}
	var n int
	err = s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		var ids []uint64
		if err := tx.Bucket(bucketSending).ForEach(func(k, _ []byte) error {
			ids = append(ids, binary.BigEndian.Uint64(k))
			return nil
		}); err != nil {
			return err
		}
		for _, id := range ids {
			m, err := loadMessage(tx, id)
			if err != nil {
				return err
			}
			records, trusted := logs[m.Modem]
			rec, found := records[id]
			found = found && rec.claim == m.UpdatedAt.UnixNano() // about this claim
			switch {
			case found && rec.kind == recordSent:
				if _, err := markSent(tx, id, rec.refs, time.Unix(0, rec.at)); err != nil {
					return err
				}
				continue
			case found && !m.Ahead:
				found = false // begun by its claim: its attempt is counted
			case trusted && m.Ahead && !found:
				if _, err := transitionFrom(tx, m, StateQueued, now, nil); err != nil {
					return err
				}
				continue
			}
			if _, err := transitionFrom(tx, m, StateQueued, now, func(q *Message) {
				q.Uncertain = true
				if found { // begun: its attempt is counted
					q.Attempts++
				}
			}); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: recover sending: %w", err)
	}
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return n, fmt.Errorf("store: remove applied send log: %w", err)
		}
	}
	return n, nil
}

// QueueCounts returns the number of messages in each state over the whole
// outbox, from counters kept in step with every transition; states without
// messages are absent.
func (s *Store) QueueCounts() (map[State]int, error) {
	counts := make(map[State]int)
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCounters).ForEach(func(k, v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("counter %s: %d bytes", k, len(v))
			}
			if n := binary.BigEndian.Uint64(v); n > 0 {
				counts[State(k)] = int(n)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: queue counts: %w", err)
	}
	return counts, nil
}

// SentSince returns the number of SMS parts sent at or after t.
func (s *Store) SentSince(t time.Time) (int, error) {
	_, parts, err := s.SentTally(t)
	return parts, err
}

// SentTally returns the number of messages sent at or after t, and the
// SMS parts they took: a long alert is one message of several parts.
func (s *Store) SentTally(t time.Time) (messages, parts int, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSent).Cursor()
		for k, v := c.Seek(u64(timeKey(t))); k != nil; k, v = c.Next() {
			if len(v) != 4 {
				return fmt.Errorf("sent log %x: %d bytes", k, len(v))
			}
			messages++
			parts += int(binary.BigEndian.Uint32(v))
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("store: sent since: %w", err)
	}
	return messages, parts, nil
}

// RecentSends returns when the last n messages were sent, oldest first:
// what a measured send rate is computed from.
func (s *Store) RecentSends(n int) ([]time.Time, error) {
	var at []time.Time
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSent).Cursor()
		for k, _ := c.Last(); k != nil && len(at) < n; k, _ = c.Prev() {
			if len(k) < 8 {
				return fmt.Errorf("sent log key %x: %d bytes", k, len(k))
			}
			at = append(at, time.Unix(0, int64(binary.BigEndian.Uint64(k[:8])^(1<<63))))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: recent sends: %w", err)
	}
	slices.Reverse(at)
	return at, nil
}

// update runs one transition in its own transaction.
func (s *Store) update(id uint64, to State, now time.Time, edit func(*Message)) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		_, err := transition(tx, id, to, now, edit)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: message %d to %s: %w", id, to, err)
	}
	return nil
}

// Queue priorities, the first byte of a queue key.
const (
	priorityReply byte = 0
	priorityAlert byte = 1
)

func priority(k Kind) byte {
	if k == KindAlert {
		return priorityAlert
	}
	return priorityReply
}

// queueKey is a queued message's key in the queue index.
func queueKey(m *Message) []byte {
	k := make([]byte, 1, 17)
	k[0] = priority(m.Kind)
	k = binary.BigEndian.AppendUint64(k, timeKey(m.NotBefore))
	return binary.BigEndian.AppendUint64(k, m.ID)
}

// queueAgeKey is a queued message's key in the queue's age index.
func queueAgeKey(m *Message) []byte {
	return binary.BigEndian.AppendUint64(u64(timeKey(m.CreatedAt)), m.ID)
}

func queueKeyDue(k []byte) uint64 { return binary.BigEndian.Uint64(k[1:9]) }
func queueKeyID(k []byte) uint64  { return binary.BigEndian.Uint64(k[9:17]) }

// bands are the queue priorities a claim looks at, in order: replies (and
// tests) before alerts, or alerts only.
func bands(replies bool) []byte {
	if replies {
		return []byte{priorityReply, priorityAlert}
	}
	return []byte{priorityAlert}
}

// firstDue returns the ID of the first due message in queue order, among
// the bands of replies.
// dueUnsuppressed is the first message due by by (alert messages only,
// unless replies) whose number has not sent STOP; the due messages to
// numbers that did are suppressed on the way, each passed to suppressed
// (nil: none to tell).
func dueUnsuppressed(tx *bolt.Tx, by time.Time, replies bool, now time.Time, suppressed func(Message)) (Message, bool, error) {
	for {
		id, found := firstDue(tx, by, replies)
		if !found {
			return Message{}, false, nil
		}
		next, err := loadMessage(tx, id)
		if err != nil {
			return Message{}, false, err
		}
		if next.IgnoreSuppression || !isSuppressed(tx, next.To) {
			return next, true, nil
		}
		if _, err := transition(tx, id, StateSuppressed, now, nil); err != nil {
			return Message{}, false, err
		}
		if suppressed != nil {
			suppressed(next)
		}
	}
}

func firstDue(tx *bolt.Tx, now time.Time, replies bool) (uint64, bool) {
	c := tx.Bucket(bucketQueue).Cursor()
	for _, p := range bands(replies) {
		k, _ := c.Seek([]byte{p})
		if k != nil && k[0] == p && queueKeyDue(k) <= timeKey(now) {
			return queueKeyID(k), true
		}
	}
	return 0, false
}

// allowed is the message state machine.
func allowed(from, to State) bool {
	switch from {
	case StateQueued:
		return to == StateSending || to == StateSuppressed || to == StateCancelled || to == StateExpired
	case StateSending:
		return to == StateSent || to == StateFailed || to == StateQueued || to == StateExpired
	case StateSent:
		return to == StateDelivered || to == StateFailed
	}
	return false
}

// enqueue stores m as a new queued message due now and returns it with its ID.
func enqueue(tx *bolt.Tx, m Message, now time.Time) (Message, error) {
	if m.To == "" || m.Parts < 1 {
		return Message{}, fmt.Errorf("message to %q with %d parts: %w", m.To, m.Parts, ErrInvalid)
	}
	id, err := tx.Bucket(bucketOutbox).NextSequence()
	if err != nil {
		return Message{}, err
	}
	m.ID, m.State = id, StateQueued
	m.NotBefore, m.CreatedAt, m.UpdatedAt = now, now, now
	return m, putMessage(tx, &m, nil)
}

// transition moves a message to state to, applying edit, if the state machine
// allows it.
func transition(tx *bolt.Tx, id uint64, to State, now time.Time, edit func(*Message)) (Message, error) {
	prev, err := loadMessage(tx, id)
	if err != nil {
		return Message{}, err
	}
	return transitionFrom(tx, prev, to, now, edit)
}

// transitionFrom is transition of prev, already read in tx.
func transitionFrom(tx *bolt.Tx, prev Message, to State, now time.Time, edit func(*Message)) (Message, error) {
	if !allowed(prev.State, to) {
		return Message{}, fmt.Errorf("message %d is %s, cannot become %s: %w", prev.ID, prev.State, to, ErrState)
	}
	m := prev
	m.State, m.UpdatedAt = to, now
	m.Ahead = false // whatever becomes of it, it is no longer only claimed ahead
	if edit != nil {
		edit(&m)
	}
	return m, putMessage(tx, &m, &prev)
}

// putMessage writes m and keeps the queue (by priority and by age) and
// sending indexes, the counters and the sent log in step with its move from
// prev (nil for a new message), and its alert's timeline (timeline.go). It
// is the only place a message is written.
func putMessage(tx *bolt.Tx, m, prev *Message) error {
	queue, age, sending := tx.Bucket(bucketQueue), tx.Bucket(bucketQueueAge), tx.Bucket(bucketSending)
	if prev != nil && prev.State == StateQueued {
		if err := queue.Delete(queueKey(prev)); err != nil {
			return err
		}
	}
	if prev != nil && prev.State == StateSending {
		if err := sending.Delete(u64(m.ID)); err != nil {
			return err
		}
	}
	// A message enters the age index when created and a claim leaves it
	// there (two pages fewer per SMS): ExpireQueued drops the entry once it
	// finds the message out of the queue past the TTL. Schema 7 gave the
	// messages being sent theirs. It moves with the creation time
	// (ShiftTimers).
	if moved := prev != nil && !bytes.Equal(queueAgeKey(prev), queueAgeKey(m)); prev == nil || moved {
		if moved {
			if err := age.Delete(queueAgeKey(prev)); err != nil {
				return err
			}
		}
		if err := age.Put(queueAgeKey(m), nil); err != nil {
			return err
		}
	}
	switch m.State {
	case StateQueued:
		if err := queue.Put(queueKey(m), nil); err != nil {
			return err
		}
	case StateSending:
		if err := sending.Put(u64(m.ID), nil); err != nil {
			return err
		}
	case StateSent:
		k := binary.BigEndian.AppendUint64(u64(timeKey(m.SentAt)), m.ID)
		if err := tx.Bucket(bucketSent).Put(k, binary.BigEndian.AppendUint32(nil, uint32(m.Parts))); err != nil {
			return err
		}
	}
	if prev == nil || prev.State != m.State {
		if prev != nil {
			if err := countState(tx, m.AlertID, prev.State, -1); err != nil {
				return err
			}
		}
		if err := countState(tx, m.AlertID, m.State, 1); err != nil {
			return err
		}
	}
	if err := recordTimeline(tx, m, prev); err != nil {
		return fmt.Errorf("timeline of alert %d: %w", m.AlertID, err)
	}
	return writeMessage(tx, m)
}

// countState moves the outbox counter of st, and the alert's own counter
// when the message belongs to one, so that neither the status nor an
// alert's progress ever needs a scan.
func countState(tx *bolt.Tx, alertID uint64, st State, delta int) error {
	if err := addCounter(tx.Bucket(bucketCounters), []byte(st), delta); err != nil {
		return err
	}
	if alertID == 0 {
		return nil
	}
	return addCounter(tx.Bucket(bucketAlertCounters), append(u64(alertID), st...), delta)
}

func addCounter(b *bolt.Bucket, key []byte, delta int) error {
	var n uint64
	if v := b.Get(key); v != nil {
		n = binary.BigEndian.Uint64(v)
	}
	if delta < 0 && n < uint64(-delta) {
		return fmt.Errorf("counter %q would go below zero", key)
	}
	return b.Put(key, u64(uint64(int64(n)+int64(delta))))
}

func loadMessage(tx *bolt.Tx, id uint64) (Message, error) {
	var m Message
	k := u64(id)
	v := tx.Bucket(bucketOutbox).Get(k)
	if v == nil {
		return Message{}, fmt.Errorf("message %d: %w", id, ErrNotFound)
	}
	if err := decodeMessage(tx, nil, k, v, &m); err != nil {
		return Message{}, err
	}
	return m, nil
}

func loadAlert(tx *bolt.Tx, id uint64) (Alert, error) {
	var a Alert
	found, err := getJSON(tx.Bucket(bucketAlerts), u64(id), &a)
	if err != nil {
		return Alert{}, err
	}
	if !found {
		return Alert{}, fmt.Errorf("alert %d: %w", id, ErrNotFound)
	}
	return a, nil
}

// alertMessages reads an alert's messages through the alert_messages index.
func alertMessages(tx *bolt.Tx, id uint64) ([]Message, error) {
	if _, err := loadAlert(tx, id); err != nil {
		return nil, err
	}
	var msgs []Message
	prefix := u64(id)
	c := tx.Bucket(bucketAlertMessages).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		m, err := loadMessage(tx, binary.BigEndian.Uint64(k[8:]))
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}
