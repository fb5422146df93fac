package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// InboundPart is one received SMS PDU, decoded by the caller. Key is a
// caller-computed dedupe key (a hash of sender, SCTS and PDU), so the same SMS
// read twice, e.g. listed again after a restart before it was deleted from the
// SIM, is processed once.
type InboundPart struct {
	Key        string    `json:"key"`
	From       string    `json:"from"`
	SCTS       time.Time `json:"scts"`
	ConcatRef  int       `json:"concat_ref"` // 0 and Total 1 for single-part
	Total      int       `json:"total"`
	Seq        int       `json:"seq"`
	Text       string    `json:"text"`
	ReceivedAt time.Time `json:"received_at"`
}

// Inbound is a complete received SMS and what handling it did.
type Inbound struct {
	ID         uint64    `json:"id"`
	From       string    `json:"from"`
	Text       string    `json:"text"`
	SCTS       time.Time `json:"scts"` // of the first part
	ReceivedAt time.Time `json:"received_at"`
	Processed  bool      `json:"processed"`
	Outcome    string    `json:"outcome,omitempty"` // e.g. "subscribed", "stopped", "help", "inbox"
}

// Effect is what handling an inbound SMS does, applied with marking it
// processed in one transaction.
type Effect struct {
	Outcome string
	// Subscribe adds the zone to the number, makes it active and takes it off
	// the suppression list.
	Subscribe *Subscription
	// Unsubscribe is a phone: status stopped, zones cleared, added to the
	// suppression list, and every queued message to it becomes suppressed.
	Unsubscribe string
	// Request records a pending subscription request (policies confirm and
	// approval), replacing any previous one of that phone. An unknown or
	// stopped number becomes StatusPending; it stays on the suppression list
	// until the request is confirmed or approved.
	Request *Request
	// Confirm is a phone whose pending request is activated: its zone and
	// trade subscribed, the request cleared, the number taken off the
	// suppression list. ErrState if it has no pending request.
	Confirm string
	// Reply is queued as a KindReply message, unless capped.
	Reply *Reply
	// ReplyCap, when > 0, is the most automatic replies queued per number
	// per local day (of now); a Reply beyond it is not queued, unless
	// Reply.Always.
	ReplyCap int
	// ToInbox keeps the SMS in the operators' inbox.
	ToInbox bool
}

// Reply is an SMS answering an inbound one.
type Reply struct {
	To, Text          string
	Parts             int
	IgnoreSuppression bool
	// Always is for the one STOP confirmation: it is never capped.
	Always bool
}

// Applied says what ApplyInbound did with the effect's Reply.
type Applied struct {
	// ReplyQueued: the reply was queued.
	ReplyQueued bool
	// ReplyCapped: the reply was dropped, the number having had ReplyCap
	// replies this day.
	ReplyCapped bool
}

// ErrProcessed: the inbound SMS was already handled, by another modem's
// worker or an earlier pass. It wraps ErrState. The caller that gets it lost
// the race to handle the SMS and must do nothing more with it: the winner
// has applied, logged and audited it.
var ErrProcessed = fmt.Errorf("inbound SMS already handled: %w", ErrState)

// maxParts is the most parts a concatenated SMS can have: its header counts
// them in one byte.
const maxParts = 255

// SaveInboundPart records a received part. dup is true if its Key was seen
// before, and then nothing changes. When the part completes a message (Total
// parts with the same From, ConcatRef and Total present, or Total <= 1), the
// parts are joined in Seq order into one unprocessed Inbound, returned as
// complete, and removed. Seen keys are kept for dedupe; incomplete parts
// survive restarts.
func (s *Store) SaveInboundPart(p InboundPart) (complete *Inbound, dup bool, err error) {
	if p.Key == "" {
		return nil, false, fmt.Errorf("store: save inbound part: empty key: %w", ErrInvalid)
	}
	if p.Total <= 1 {
		p.Total, p.Seq = 1, 1
	} else if p.Total > maxParts || p.Seq < 1 || p.Seq > p.Total || p.ConcatRef < 0 || len(p.From) > 0xFFFF {
		return nil, false, fmt.Errorf("store: save inbound part: part %d of %d, ref %d: %w", p.Seq, p.Total, p.ConcatRef, ErrInvalid)
	}
	// Stored as JSON, which would replace invalid UTF-8 anyway; doing it here
	// makes the returned message the same as the one read back later.
	p.From, p.Text = strings.ToValidUTF8(p.From, "\uFFFD"), strings.ToValidUTF8(p.Text, "\uFFFD")
	err = s.db.Update(func(tx *bolt.Tx) error {
		complete, dup = nil, false
		seen := tx.Bucket(bucketSeen)
		if seen.Get([]byte(p.Key)) != nil {
			dup = true
			return nil
		}
		if err := seen.Put([]byte(p.Key), u64(timeKey(p.ReceivedAt))); err != nil {
			return err
		}
		parts := []InboundPart{p}
		if p.Total > 1 {
			var err error
			if parts, err = addPart(tx.Bucket(bucketParts), p); err != nil || parts == nil {
				return err
			}
		}
		in := Inbound{From: p.From, SCTS: parts[0].SCTS}
		var text strings.Builder
		for _, part := range parts {
			text.WriteString(part.Text)
			if part.ReceivedAt.After(in.ReceivedAt) {
				in.ReceivedAt = part.ReceivedAt
			}
		}
		in.Text = text.String()
		if err := saveInbound(tx, &in); err != nil {
			return err
		}
		complete = &in
		return nil
	})
	if err != nil {
		// No sender in the error: callers log it at warn or error level,
		// where phone numbers are masked (they have the part to mask it).
		return nil, false, fmt.Errorf("store: save inbound part %d/%d: %w", p.Seq, p.Total, err)
	}
	return complete, dup, nil
}

// addPart stores p with the other parts of its message. Once all are present
// it removes and returns them in Seq order; nil otherwise.
func addPart(b *bolt.Bucket, p InboundPart) ([]InboundPart, error) {
	prefix := binary.BigEndian.AppendUint16(nil, uint16(len(p.From)))
	prefix = append(prefix, p.From...)
	prefix = binary.BigEndian.AppendUint32(prefix, uint32(p.ConcatRef))
	prefix = binary.BigEndian.AppendUint32(prefix, uint32(p.Total))
	// A part with the Seq of a stored one replaces it: a stale message reusing
	// the reference is overwritten rather than mixed in twice.
	if err := putJSON(b, binary.BigEndian.AppendUint32(bytes.Clone(prefix), uint32(p.Seq)), p); err != nil {
		return nil, err
	}
	var keys [][]byte
	var parts []InboundPart
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+4; k, v = c.Next() {
		var part InboundPart
		if err := decode(k, v, &part); err != nil {
			return nil, err
		}
		keys = append(keys, bytes.Clone(k))
		parts = append(parts, part)
	}
	if len(parts) < p.Total {
		return nil, nil
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return nil, err
		}
	}
	return parts, nil
}

// saveInbound stores a new complete inbound SMS as unprocessed.
func saveInbound(tx *bolt.Tx, in *Inbound) error {
	b := tx.Bucket(bucketInbound)
	id, err := b.NextSequence()
	if err != nil {
		return err
	}
	in.ID, in.Processed = id, false
	if err := tx.Bucket(bucketUnprocessed).Put(u64(id), nil); err != nil {
		return err
	}
	return putJSON(b, u64(id), in)
}

// Unprocessed returns the inbound SMS saved but not yet handled (a crash
// between saving and handling), oldest first.
func (s *Store) Unprocessed() ([]Inbound, error) {
	var ins []Inbound
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketUnprocessed).ForEach(func(k, _ []byte) error {
			in, err := loadInbound(tx, binary.BigEndian.Uint64(k))
			if err != nil {
				return err
			}
			ins = append(ins, in)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: unprocessed: %w", err)
	}
	return ins, nil
}

// ApplyInbound applies the effect of handling inbound SMS id and marks it
// processed, in one transaction, in this order: Unsubscribe, Request,
// Confirm, Subscribe, Reply (counted against ReplyCap), ToInbox. An SMS
// already processed is refused with an error wrapping ErrProcessed, decided
// inside the transaction: of two workers that handle the same SMS at once
// (both rescan the unprocessed ones), exactly one applies it, so a reply is
// never queued twice nor a subscription applied twice.
func (s *Store) ApplyInbound(id uint64, e Effect, now time.Time) (Applied, error) {
	var done Applied
	err := s.db.Update(func(tx *bolt.Tx) error {
		done = Applied{}
		in, err := loadInbound(tx, id)
		if err != nil {
			return err
		}
		if in.Processed {
			return ErrProcessed
		}
		if e.Unsubscribe != "" {
			if err := unsubscribe(tx, e.Unsubscribe, now); err != nil {
				return err
			}
		}
		if e.Request != nil {
			if _, err := request(tx, *e.Request, now); err != nil {
				return err
			}
		}
		if e.Confirm != "" {
			if _, err := confirm(tx, e.Confirm, now); err != nil {
				return err
			}
		}
		if e.Subscribe != nil {
			if _, err := subscribe(tx, *e.Subscribe, now); err != nil {
				return err
			}
		}
		if r := e.Reply; r != nil {
			if done, err = queueReply(tx, *r, e.ReplyCap, now); err != nil {
				return err
			}
		}
		if e.ToInbox {
			if err := tx.Bucket(bucketInbox).Put(u64(id), nil); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketUnprocessed).Delete(u64(id)); err != nil {
			return err
		}
		in.Processed, in.Outcome = true, e.Outcome
		return putJSON(tx.Bucket(bucketInbound), u64(id), in)
	})
	if err != nil {
		return Applied{}, fmt.Errorf("store: apply inbound %d: %w", id, err)
	}
	return done, nil
}

// queueReply queues r unless its recipient already had limit replies this
// local day (limit > 0 and not r.Always), and counts it.
func queueReply(tx *bolt.Tx, r Reply, limit int, now time.Time) (Applied, error) {
	counts := tx.Bucket(bucketReplies)
	key := append([]byte(dayKey(now)), r.To...)
	if limit > 0 && !r.Always && getCount(counts, key) >= uint64(limit) {
		return Applied{ReplyCapped: true}, nil
	}
	m := Message{Kind: KindReply, To: r.To, Text: r.Text, Parts: r.Parts, IgnoreSuppression: r.IgnoreSuppression}
	if _, err := enqueue(tx, m, now); err != nil {
		return Applied{}, err
	}
	if err := purgeDays(counts, now, purgeBatch); err != nil {
		return Applied{}, err
	}
	return Applied{ReplyQueued: true}, addCounter(counts, key, 1)
}

// RepliesToday returns how many automatic replies ApplyInbound queued to
// phone on the local day of now (in now's location).
func (s *Store) RepliesToday(phone string, now time.Time) (int, error) {
	var n uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		n = getCount(tx.Bucket(bucketReplies), append([]byte(dayKey(now)), phone...))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: replies today to %s: %w", phone, err)
	}
	return int(n), nil
}

// Inbox returns the inbound SMS kept for the operators, newest first.
func (s *Store) Inbox() ([]Inbound, error) {
	var ins []Inbound
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketInbox).Cursor()
		for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
			in, err := loadInbound(tx, binary.BigEndian.Uint64(k))
			if err != nil {
				return err
			}
			ins = append(ins, in)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: inbox: %w", err)
	}
	return ins, nil
}

func loadInbound(tx *bolt.Tx, id uint64) (Inbound, error) {
	var in Inbound
	found, err := getJSON(tx.Bucket(bucketInbound), u64(id), &in)
	if err != nil {
		return Inbound{}, err
	}
	if !found {
		return Inbound{}, fmt.Errorf("inbound %d: %w", id, ErrNotFound)
	}
	return in, nil
}
