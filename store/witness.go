package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Witness replies (issue #14): an SMS a shop sends back after an alert
// reached it ("je l'ai vu partir vers la gare") is the most valuable one
// of the alert. ApplyInbound ties it to the alert, in its transaction.

var (
	bucketAlertRecipients  = []byte("alert_recipients")
	bucketAlertReplies     = []byte("alert_replies")
	bucketAlertReplyCounts = []byte("alert_reply_counts")
	bucketReplyDays        = []byte("reply_days")
	bucketForwards         = []byte("forwards")
)

// Witness asks ApplyInbound to tie an inbox SMS from Phone (E.164) to the
// most recent alert whose SMS reached Phone (delivered, else sent) at most
// Window before the SMS was received.
type Witness struct {
	Phone  string
	Window time.Duration
	// Lookback bounds the walk over alerts: only alerts created at most
	// Lookback before the SMS are read. It must cover Window plus the
	// longest an alert message can wait in the queue (its TTL); below
	// Window it is Window.
	Lookback time.Duration
}

// migrateV4 adds the witness-reply buckets and fills the recipient index
// from the alerts' messages still in the outbox.
func migrateV4(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketAlertRecipients, bucketAlertReplies, bucketAlertReplyCounts, bucketReplyDays, bucketForwards} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	index := tx.Bucket(bucketAlertRecipients)
	type entry struct{ key, id []byte }
	var entries []entry
	err := tx.Bucket(bucketAlertMessages).ForEach(func(k, _ []byte) error {
		if len(k) != 16 {
			return nil
		}
		m, err := loadMessage(tx, binary.BigEndian.Uint64(k[8:]))
		switch {
		case errors.Is(err, ErrNotFound):
			return nil // a dangling index entry indexes nothing
		case err != nil:
			return err
		case m.To == ErasedPhone:
			return nil // an erased number is no longer known
		}
		entries = append(entries, entry{recipientKey(m.AlertID, m.To), bytes.Clone(k[8:])})
		return nil
	})
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := index.Put(e.key, e.id); err != nil {
			return err
		}
	}
	return nil
}

// recipientKey is <alert id u64><phone>.
func recipientKey(alertID uint64, phone string) []byte {
	return append(u64(alertID), phone...)
}

// tieWitness finds the alert an SMS received at receivedAt from w.Phone
// answers, 0 if none. It walks alerts from the newest and stops at the
// first created before the lookback.
func tieWitness(tx *bolt.Tx, w Witness, receivedAt time.Time) (uint64, error) {
	if w.Window <= 0 || w.Phone == "" {
		return 0, nil
	}
	lookback := max(w.Lookback, w.Window)
	index := tx.Bucket(bucketAlertRecipients)
	c := tx.Bucket(bucketAlerts).Cursor()
	for k, v := c.Last(); k != nil; k, v = c.Prev() {
		var a Alert
		if err := decode(k, v, &a); err != nil {
			return 0, err
		}
		if a.CreatedAt.Before(receivedAt.Add(-lookback)) {
			return 0, nil
		}
		id := index.Get(recipientKey(a.ID, w.Phone))
		if len(id) != 8 {
			continue
		}
		m, err := loadMessage(tx, binary.BigEndian.Uint64(id))
		if err != nil {
			continue // purged: too old to answer
		}
		if answers(m, receivedAt, w.Window) {
			return a.ID, nil
		}
	}
	return 0, nil
}

// answers reports whether an SMS received at receivedAt from m's recipient
// can answer m: m left us before it (a failed message never reached the
// shop), and it came at most window after m reached the shop (its
// delivery, else its sending). The delivery report may come after the
// shop's reply: the shop answers as soon as it reads.
func answers(m Message, receivedAt time.Time, window time.Duration) bool {
	if m.SentAt.IsZero() || m.State == StateFailed || receivedAt.Before(m.SentAt) {
		return false
	}
	reached := m.DeliveredAt
	if reached.IsZero() {
		reached = m.SentAt
	}
	return receivedAt.Sub(reached) <= window
}

// recordWitness writes the tie of inbound id to alertID: the alert's
// reply index, its reply counter and the day's (local day of receivedAt),
// which outlive the purge of the SMS (the yearly report counts them).
func recordWitness(tx *bolt.Tx, alertID, id uint64, receivedAt time.Time) error {
	if err := tx.Bucket(bucketAlertReplies).Put(binary.BigEndian.AppendUint64(u64(alertID), id), nil); err != nil {
		return err
	}
	if err := addCounter(tx.Bucket(bucketAlertReplyCounts), u64(alertID), 1); err != nil {
		return err
	}
	return addCounter(tx.Bucket(bucketReplyDays), append([]byte(dayKey(receivedAt)), u64(alertID)...), 1)
}

// AlertReplies returns the witness replies tied to the alert still kept
// (the retention purge removes them), oldest first, with their read flag.
func (s *Store) AlertReplies(alertID uint64) ([]InboxEntry, error) {
	var es []InboxEntry
	err := s.db.View(func(tx *bolt.Tx) error {
		prefix := u64(alertID)
		c := tx.Bucket(bucketAlertReplies).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			id := binary.BigEndian.Uint64(k[8:])
			e, err := getInboxEntry(tx, id)
			if err != nil {
				in, lerr := loadInbound(tx, id)
				if lerr != nil {
					continue // purged meanwhile
				}
				e = InboxEntry{Inbound: in}
			}
			es = append(es, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: replies to alert %d: %w", alertID, err)
	}
	return es, nil
}

// AlertReplyCount returns how many witness replies were ever tied to the
// alert, purged ones included.
func (s *Store) AlertReplyCount(alertID uint64) (int, error) {
	var n uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		n = getCount(tx.Bucket(bucketAlertReplyCounts), u64(alertID))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: reply count of alert %d: %w", alertID, err)
	}
	return int(n), nil
}

// ReplyDay is how many witness replies to one alert came in one local
// day.
type ReplyDay struct {
	Day     time.Time // midnight of that day, in the location of from
	AlertID uint64
	Replies int
}

// ReplyDays returns the witness-reply counts of the local days from the
// day of from to the day before to's (to is exclusive: a midnight), by day
// then alert. Days are those of the location ApplyInbound was called in.
// They survive the retention purge.
func (s *Store) ReplyDays(from, to time.Time) ([]ReplyDay, error) {
	var out []ReplyDay
	first, end := dayKey(from), dayKey(to)
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketReplyDays).Cursor()
		for k, v := c.Seek([]byte(first)); k != nil; k, v = c.Next() {
			if len(k) != 18 || len(v) != 8 {
				continue
			}
			day := string(k[:10])
			if day >= end {
				break
			}
			d, err := time.ParseInLocation(time.DateOnly, day, from.Location())
			if err != nil {
				return fmt.Errorf("reply day %q: %w", day, err)
			}
			out = append(out, ReplyDay{Day: d, AlertID: binary.BigEndian.Uint64(k[10:]), Replies: int(binary.BigEndian.Uint64(v))})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: reply days: %w", err)
	}
	return out, nil
}

// unindexReply drops inbound key k from its alert's reply index before the
// purge removes it; the counters stay.
func unindexReply(tx *bolt.Tx, k []byte) error {
	var in Inbound
	found, err := getJSON(tx.Bucket(bucketInbound), k, &in)
	if err != nil || !found || in.AlertID == 0 {
		return err
	}
	return tx.Bucket(bucketAlertReplies).Delete(append(u64(in.AlertID), k...))
}

// Forward says how a witness reply is forwarded to the on-duty phones.
type Forward struct {
	// PerHour is the most replies forwarded per local hour (> 0).
	PerHour int
	// Build gives the SMS to queue for a reply tied to alertID: one per
	// on-duty phone, each KindForward at the replies' priority.
	Build func(alertID uint64) []Reply
	// About is the shop's number the forwards speak of (Message.About).
	About string
}

// hourKey is the fixed-length local hour of t, ordered as time.
func hourKey(t time.Time) string { return t.Format("2006-01-02T15") }

// forward queues f's SMS for the reply tied to alertID unless the hour's
// limit is reached, and counts the reply. The counter is durable: a
// restart does not reopen the hour's allowance.
func forward(tx *bolt.Tx, f Forward, alertID uint64, now time.Time, done *Applied) error {
	counts := tx.Bucket(bucketForwards)
	key := []byte(hourKey(now))
	n := getCount(counts, key)
	done.ForwardsThisHour = int(n)
	if f.PerHour <= 0 || n >= uint64(f.PerHour) {
		done.ForwardCapped = true
		return nil
	}
	msgs := f.Build(alertID)
	for _, r := range msgs {
		if _, err := enqueue(tx, Message{Kind: KindForward, To: r.To, Text: r.Text, Parts: r.Parts, About: f.About}, now); err != nil {
			return err
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	done.Forwarded, done.ForwardsThisHour = len(msgs), int(n)+1
	return addCounter(counts, key, 1)
}
