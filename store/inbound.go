package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// InboundPart is one received SMS PDU, decoded by the caller. Key is a
// caller-computed dedupe key (a hash of sender, SCTS and PDU), so the same SMS
// read twice, e.g. listed again after a restart before it was deleted from the
// SIM, is processed once.
type InboundPart struct {
	Key  string `json:"key"`
	From string `json:"from"`
	// FromKind is the sender's kind as the modem decoded it ("" a number,
	// "alphanumeric", "short-code"): parts of one message share it, and a
	// name spelling digits is another sender than the number it spells.
	FromKind   string    `json:"from_kind,omitempty"`
	SCTS       time.Time `json:"scts"`
	ConcatRef  int       `json:"concat_ref"` // 0 and Total 1 for single-part
	Total      int       `json:"total"`
	Seq        int       `json:"seq"`
	Text       string    `json:"text"`
	ReceivedAt time.Time `json:"received_at"`
	// Window is how far apart, by arrival and by SCTS, the parts of one
	// message may be; 0 is DefaultConcatWindow. A policy of the call, not
	// stored.
	Window time.Duration `json:"-"`
}

// DefaultConcatWindow is how far apart the parts of one concatenated SMS
// may arrive (and be stamped by the service centre). A phone sends the
// parts within seconds and the centre stamps them alike; the centre
// retries a part it failed to deliver within minutes, and delivers what it
// held while the box was offline in one burst. An hour covers all of that,
// while the 8-bit reference a phone reuses every 256 long messages cannot
// come round from one shopkeeper within it, and an SMS whose last part is
// lost reaches the inbox the same hour, not never.
const DefaultConcatWindow = time.Hour

// Inbound is a complete received SMS and what handling it did.
type Inbound struct {
	ID         uint64    `json:"id"`
	From       string    `json:"from"`
	Text       string    `json:"text"`
	SCTS       time.Time `json:"scts"` // of the first part
	ReceivedAt time.Time `json:"received_at"`
	Processed  bool      `json:"processed"`
	Outcome    string    `json:"outcome,omitempty"` // e.g. "subscribed", "stopped", "help", "inbox"
	// FromKind is the sender's kind ("" a number; see InboundPart).
	FromKind string `json:"from_kind,omitempty"`
	// Missing lists, in order, the parts of a concatenated SMS that never
	// came within the window: Text joins the parts that did, in order. A
	// message with parts missing is never read as a keyword.
	Missing []int `json:"missing,omitempty"`
	// Parts is how many parts the SMS announced, set when some are Missing.
	Parts int `json:"parts,omitempty"`
	// AlertID is the alert this SMS answers (a witness reply; Effect.Witness).
	AlertID uint64 `json:"alert_id,omitempty"`
}

// Incomplete reports whether parts of the SMS never came.
func (in Inbound) Incomplete() bool { return len(in.Missing) > 0 }

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
	// until the request is confirmed or approved. Request.MaxPerDay may
	// refuse it (see Request).
	Request *Request
	// Confirm is a phone whose pending request is activated: its zone and
	// trade subscribed, the request cleared, the number taken off the
	// suppression list. ErrState if it has no pending request.
	Confirm string
	// Code checks OUI <code> and acts on it (abuse.go): its result sets the
	// outcome and the reply, in place of Outcome and Reply.
	Code *CodeCheck
	// Reply is queued as a KindReply message, unless capped.
	Reply *Reply
	// ReplyCap, when > 0, is the most automatic replies queued per number
	// per local day (of now); a Reply beyond it is not queued. A STOP
	// confirmation (Reply.Stop) is counted apart, against StopRepliesPerDay.
	ReplyCap int
	// ToInbox keeps the SMS in the operators' inbox.
	ToInbox bool
	// Witness, with ToInbox, ties the SMS to the alert it answers, if any
	// (witness.go).
	Witness *Witness
	// Forward, with Witness, forwards a tied SMS to the on-duty phones.
	Forward *Forward
	// Audit, when not nil, gives the audit record of the change made, from
	// the final outcome (nil: nothing to record). It is appended in the same
	// transaction as the change.
	Audit func(outcome string) *AuditRecord
}

// Reply is an SMS answering an inbound one.
type Reply struct {
	To, Text          string
	Parts             int
	IgnoreSuppression bool
	// Stop marks the STOP confirmation: it is not sent to a number that
	// already sent STOP this day, and is counted apart from ReplyCap, with
	// its own bound (StopRepliesPerDay).
	Stop bool
}

// Applied says what ApplyInbound did.
type Applied struct {
	// Outcome is the outcome recorded: Effect.Outcome, or what the
	// transaction decided (a code check's, a refused request's).
	Outcome string
	// ReplyQueued: the reply was queued.
	ReplyQueued bool
	// ReplyCapped: the reply was dropped, the number having had its
	// replies this day (ReplyCap, or StopRepliesPerDay for a STOP
	// confirmation).
	ReplyCapped bool
	// StoppedToday: a STOP confirmation was not queued, the number having
	// sent STOP already this day.
	StoppedToday bool
	// Audit is the audit record appended, as stored; nil if none.
	Audit *AuditRecord
	// AlertID is the alert the SMS was tied to as a witness reply; 0 if none.
	AlertID uint64
	// Forwarded counts the forwards queued; ForwardCapped says the hour's
	// limit stopped them, ForwardsThisHour the replies forwarded this hour.
	Forwarded        int
	ForwardCapped    bool
	ForwardsThisHour int
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
// parts with the same sender, ConcatRef and Total present, or Total <= 1), the
// parts are joined in Seq order into one unprocessed Inbound, returned, and
// removed. Seen keys are kept for dedupe; incomplete parts survive restarts.
//
// Parts belong together only from the same sender (From and FromKind) and
// within p.Window of each other, by arrival and by SCTS. A part that does
// not fit the stored ones — a Seq already there with another text (a
// reused reference), or one outside the window — starts a new message, and
// the stored parts are closed: returned as one unprocessed Inbound marked
// with its Missing parts. A part repeating a stored one's Seq and text is
// a duplicate and changes nothing. ExpireIncompleteParts closes the
// messages whose window passed with no new part.
func (s *Store) SaveInboundPart(p InboundPart) (ready *Inbound, dup bool, err error) {
	if p.Key == "" {
		return nil, false, fmt.Errorf("store: save inbound part: empty key: %w", ErrInvalid)
	}
	if p.Total <= 1 {
		p.Total, p.Seq = 1, 1
	} else if p.Total > maxParts || p.Seq < 1 || p.Seq > p.Total || p.ConcatRef < 0 || len(senderID(p.From, p.FromKind)) > 0xFFFF {
		return nil, false, fmt.Errorf("store: save inbound part: part %d of %d, ref %d: %w", p.Seq, p.Total, p.ConcatRef, ErrInvalid)
	}
	if p.Window <= 0 {
		p.Window = DefaultConcatWindow
	}
	p = validPart(p)
	err = s.db.Update(func(tx *bolt.Tx) error {
		ready, dup = nil, false
		seen := tx.Bucket(bucketSeen)
		if seen.Get([]byte(p.Key)) != nil {
			dup = true
			return nil
		}
		if err := seen.Put([]byte(p.Key), u64(timeKey(p.ReceivedAt))); err != nil {
			return err
		}
		if p.Total <= 1 {
			in := joinParts([]InboundPart{p})
			if err := saveInbound(tx, &in); err != nil {
				return err
			}
			ready = &in
			return nil
		}
		in, err := addPart(tx.Bucket(bucketParts), p)
		if err != nil || in == nil {
			return err
		}
		if err := saveInbound(tx, in); err != nil {
			return err
		}
		ready = in
		return nil
	})
	if err != nil {
		// No sender in the error: callers log it at warn or error level.
		return nil, false, fmt.Errorf("store: save inbound part %d of %d: %w", p.Seq, p.Total, err)
	}
	return ready, dup, nil
}

// validPart is p with its texts made valid UTF-8. Stored as JSON, which
// would replace invalid UTF-8 anyway; doing it first makes the returned
// message the same as the one read back later.
func validPart(p InboundPart) InboundPart {
	p.From, p.Text = strings.ToValidUTF8(p.From, "\uFFFD"), strings.ToValidUTF8(p.Text, "\uFFFD")
	p.FromKind = strings.ToValidUTF8(p.FromKind, "\uFFFD")
	return p
}

// Single is the Inbound a single-part SMS p becomes once saved, without
// its id (0): what the caller of ReceiveInbound decides the effect from.
func Single(p InboundPart) Inbound {
	p = validPart(p)
	p.Total, p.Seq = 1, 1
	return joinParts([]InboundPart{p})
}

// ReceiveInbound saves a single-part SMS (Total <= 1) and applies effect
// e to it in one transaction — SaveInboundPart then ApplyInbound, in one
// commit instead of two: the common case of an inbound SMS. e is decided
// from Single(p); an Audit record with no Request is given the SMS's id.
// dup: p.Key was seen before, and nothing changed. On any error nothing is
// written: the SMS is neither saved nor applied, and the caller keeps it
// where it was (the modem's storage) or falls back to SaveInboundPart, which
// leaves it unprocessed for a later ApplyInbound.
func (s *Store) ReceiveInbound(p InboundPart, e Effect, now time.Time) (in Inbound, done Applied, dup bool, err error) {
	if p.Key == "" || p.Total > 1 {
		return Inbound{}, Applied{}, false, fmt.Errorf("store: receive inbound: key %q, %d parts: %w", p.Key, p.Total, ErrInvalid)
	}
	h, err := s.consentHashes(e)
	if err != nil {
		return Inbound{}, Applied{}, false, fmt.Errorf("store: receive inbound: %w", err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		dup = false
		seen := tx.Bucket(bucketSeen)
		if seen.Get([]byte(p.Key)) != nil {
			dup = true
			return nil
		}
		if err := seen.Put([]byte(p.Key), u64(timeKey(p.ReceivedAt))); err != nil {
			return err
		}
		in = Single(p)
		if err := saveInbound(tx, &in); err != nil {
			return err
		}
		var err error
		done, err = applyInbound(tx, h, in, e, now)
		return err
	})
	if err != nil {
		return Inbound{}, Applied{}, false, fmt.Errorf("store: receive inbound: %w", err)
	}
	if dup {
		return Inbound{}, Applied{}, true, nil
	}
	in.Processed, in.Outcome, in.AlertID = true, done.Outcome, done.AlertID
	return in, done, false, nil
}

// senderID is who a part is from, for grouping: a name or short code is
// another sender than the number it spells. A number's is its From alone,
// as parts were keyed before kinds were recorded.
func senderID(from, kind string) string {
	if kind == "" {
		return from
	}
	return kind + "\x00" + from
}

// partsPrefix is the key prefix of the parts of p's message.
func partsPrefix(p InboundPart) []byte {
	id := senderID(p.From, p.FromKind)
	prefix := binary.BigEndian.AppendUint16(nil, uint16(len(id)))
	prefix = append(prefix, id...)
	prefix = binary.BigEndian.AppendUint32(prefix, uint32(p.ConcatRef))
	return binary.BigEndian.AppendUint32(prefix, uint32(p.Total))
}

// addPart stores p with the other parts of its message. It returns the
// message to save: complete once all parts are present (they are then
// removed), or the stored parts closed as incomplete when p cannot join
// them; nil when the message waits for more parts.
func addPart(b *bolt.Bucket, p InboundPart) (*Inbound, error) {
	prefix := partsPrefix(p)
	keys, parts, err := groupAt(b, prefix)
	if err != nil {
		return nil, err
	}
	var closed *Inbound
	if i := slices.IndexFunc(parts, func(q InboundPart) bool { return q.Seq == p.Seq }); i >= 0 && parts[i].Text == p.Text && fits(parts, p) {
		// The same part again under another key (the centre sent it twice,
		// re-stamped): its text is there already.
		return nil, nil
	} else if len(parts) > 0 && (i >= 0 || !fits(parts, p)) {
		// A reused reference: what is stored is another message, which
		// will not get p's Seq. It is closed now rather than mixed with
		// the new one.
		in := joinParts(parts)
		closed = &in
		if err := deleteKeys(b, keys); err != nil {
			return nil, err
		}
		parts = nil
	}
	if err := putJSON(b, binary.BigEndian.AppendUint32(bytes.Clone(prefix), uint32(p.Seq)), p); err != nil {
		return nil, err
	}
	parts = append(parts, p)
	if closed != nil || len(parts) < p.Total {
		// p alone cannot complete a message of Total > 1 parts.
		return closed, nil
	}
	slices.SortFunc(parts, func(a, b InboundPart) int { return a.Seq - b.Seq })
	if err := deleteKeys(b, append(keys, binary.BigEndian.AppendUint32(bytes.Clone(prefix), uint32(p.Seq)))); err != nil {
		return nil, err
	}
	in := joinParts(parts)
	return &in, nil
}

// groupAt reads the parts stored under prefix, in Seq order.
func groupAt(b *bolt.Bucket, prefix []byte) (keys [][]byte, parts []InboundPart, err error) {
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if len(k) != len(prefix)+4 {
			continue
		}
		var part InboundPart
		if err := decode(k, v, &part); err != nil {
			return nil, nil, err
		}
		keys = append(keys, bytes.Clone(k))
		parts = append(parts, part)
	}
	return keys, parts, nil
}

// fits reports whether p is within the window of the stored parts: the
// parts of one message, p included, span at most the window by arrival
// and by SCTS (a zero SCTS is left out). p.Window is the window.
func fits(parts []InboundPart, p InboundPart) bool {
	all := append(slices.Clone(parts), p)
	span := func(at func(InboundPart) time.Time) time.Duration {
		var lo, hi time.Time
		for _, q := range all {
			t := at(q)
			if t.IsZero() {
				continue
			}
			if lo.IsZero() || t.Before(lo) {
				lo = t
			}
			if hi.IsZero() || t.After(hi) {
				hi = t
			}
		}
		return hi.Sub(lo)
	}
	return span(func(q InboundPart) time.Time { return q.ReceivedAt }) <= p.Window &&
		span(func(q InboundPart) time.Time { return q.SCTS }) <= p.Window
}

// joinParts makes one Inbound of the parts of a message, in Seq order:
// their texts joined, the sender, the SCTS of the first, the arrival of the
// last, and the Seqs of Total that are not there.
func joinParts(parts []InboundPart) Inbound {
	in := Inbound{From: parts[0].From, FromKind: parts[0].FromKind, SCTS: parts[0].SCTS}
	var text strings.Builder
	have := make(map[int]bool, len(parts))
	for _, part := range parts {
		text.WriteString(part.Text)
		have[part.Seq] = true
		if part.ReceivedAt.After(in.ReceivedAt) {
			in.ReceivedAt = part.ReceivedAt
		}
	}
	in.Text = text.String()
	if total := parts[0].Total; total > 1 && len(have) < total {
		in.Parts = total
		for seq := 1; seq <= total; seq++ {
			if !have[seq] {
				in.Missing = append(in.Missing, seq)
			}
		}
	}
	return in
}

func deleteKeys(b *bolt.Bucket, keys [][]byte) error {
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// ExpireIncompleteParts closes every message whose first part arrived more
// than window before now (or after now by as much: a clock set back) and is
// still waiting for others: the parts that came are saved as one unprocessed
// Inbound marked with its Missing parts, and removed. It returns those
// messages, for the caller to handle (the inbox) and report. A window <= 0
// is DefaultConcatWindow. Parts stored before windows existed are closed
// alike: they carry their arrival time.
func (s *Store) ExpireIncompleteParts(now time.Time, window time.Duration) ([]Inbound, error) {
	if window <= 0 {
		window = DefaultConcatWindow
	}
	// Read first: the sweep runs every minute or so and seldom finds
	// anything, and a write transaction would sync the file each time.
	var due bool
	err := s.db.View(func(tx *bolt.Tx) error {
		groups, err := expiredGroups(tx.Bucket(bucketParts), now, window)
		due = len(groups) > 0
		return err
	})
	if err != nil || !due {
		if err != nil {
			return nil, fmt.Errorf("store: expire incomplete SMS: %w", err)
		}
		return nil, nil
	}
	var out []Inbound
	err = s.db.Update(func(tx *bolt.Tx) error {
		out = nil
		b := tx.Bucket(bucketParts)
		groups, err := expiredGroups(b, now, window)
		if err != nil {
			return err
		}
		for _, g := range groups {
			in := joinParts(g.parts)
			if err := deleteKeys(b, g.keys); err != nil {
				return err
			}
			if err := saveInbound(tx, &in); err != nil {
				return err
			}
			out = append(out, in)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: expire incomplete SMS: %w", err)
	}
	return out, nil
}

// partGroup is the stored parts of one message, in Seq order.
type partGroup struct {
	keys  [][]byte
	parts []InboundPart
}

// expiredGroups returns the messages of the parts bucket whose first part
// arrived more than window away from now. Keys sort by message, then Seq.
func expiredGroups(b *bolt.Bucket, now time.Time, window time.Duration) ([]partGroup, error) {
	var groups []partGroup
	var prefix []byte
	err := b.ForEach(func(k, v []byte) error {
		if len(k) < 4 {
			return nil
		}
		var part InboundPart
		if err := decode(k, v, &part); err != nil {
			return err
		}
		if n := len(groups); n == 0 || !bytes.Equal(prefix, k[:len(k)-4]) {
			prefix = bytes.Clone(k[:len(k)-4])
			groups = append(groups, partGroup{})
		}
		g := &groups[len(groups)-1]
		g.keys = append(g.keys, bytes.Clone(k))
		g.parts = append(g.parts, part)
		return nil
	})
	if err != nil {
		return nil, err
	}
	expired := groups[:0]
	for _, g := range groups {
		first := g.parts[0].ReceivedAt
		for _, q := range g.parts[1:] {
			if q.ReceivedAt.Before(first) {
				first = q.ReceivedAt
			}
		}
		if age := now.Sub(first); age > window || age < -window {
			expired = append(expired, g)
		}
	}
	return expired, nil
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
// Confirm, Code, Subscribe, Reply (counted against ReplyCap), ToInbox,
// Audit. An SMS already processed is refused with an error wrapping
// ErrProcessed, decided inside the transaction: of two workers that handle
// the same SMS at once (both rescan the unprocessed ones), exactly one
// applies it, so a reply is never queued twice nor a subscription applied
// twice.
func (s *Store) ApplyInbound(id uint64, e Effect, now time.Time) (Applied, error) {
	h, err := s.consentHashes(e)
	if err != nil {
		return Applied{}, fmt.Errorf("store: apply inbound %d: %w", id, err)
	}
	var done Applied
	err = s.db.Update(func(tx *bolt.Tx) error {
		in, err := loadInbound(tx, id)
		if err != nil {
			return err
		}
		done, err = applyInbound(tx, h, in, e, now)
		return err
	})
	if err != nil {
		return Applied{}, fmt.Errorf("store: apply inbound %d: %w", id, err)
	}
	return done, nil
}

// queueReply queues r unless its recipient already had limit replies this
// local day (limit > 0), and counts it. A STOP confirmation is counted
// apart, against StopRepliesPerDay.
func queueReply(tx *bolt.Tx, r Reply, limit int, now time.Time) (queued, capped bool, err error) {
	counts := tx.Bucket(bucketReplies)
	key := append([]byte(dayKey(now)), r.To...)
	if r.Stop {
		key, limit = stopKey(r.To, now), StopRepliesPerDay
	}
	if limit > 0 && getCount(counts, key) >= uint64(limit) {
		return false, true, nil
	}
	m := Message{Kind: KindReply, To: r.To, Text: r.Text, Parts: r.Parts, IgnoreSuppression: r.IgnoreSuppression}
	if _, err := enqueue(tx, m, now); err != nil {
		return false, false, err
	}
	if err := purgeDays(counts, now, purgeBatch); err != nil {
		return false, false, err
	}
	return true, false, addCounter(counts, key, 1)
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

// applyInbound is ApplyInbound's transaction on in, as stored.
func applyInbound(tx *bolt.Tx, h hashes, in Inbound, e Effect, now time.Time) (Applied, error) {
	var done Applied
	id := in.ID
	var err error
	if in.Processed {
		return Applied{}, ErrProcessed
	}
	outcome, reply := e.Outcome, e.Reply
	if reply != nil && reply.Stop {
		// Read before the STOP below stamps the suppression list again.
		if done.StoppedToday, err = stoppedToday(tx, reply.To, now); err != nil {
			return Applied{}, err
		}
	}
	if e.Unsubscribe != "" {
		if err := unsubscribe(tx, e.Unsubscribe, now); err != nil {
			return Applied{}, err
		}
	}
	if r := e.Request; r != nil {
		refused, err := allowRequest(tx, *r, now)
		if err != nil {
			return Applied{}, err
		}
		if refused != "" {
			outcome, reply = refused, r.Refused
		} else if _, err := request(tx, *r, now); err != nil {
			return Applied{}, err
		}
	}
	if e.Confirm != "" {
		if _, err := confirm(tx, h, e.Confirm, now); err != nil {
			return Applied{}, err
		}
	}
	if c := e.Code; c != nil {
		res, err := checkCode(tx, h, *c, now)
		if err != nil {
			return Applied{}, err
		}
		outcome, reply = res.Outcome, nil
		if c.Reply != nil {
			reply = c.Reply(res)
		}
	}
	if e.Subscribe != nil {
		if _, err := subscribe(tx, h, *e.Subscribe, now); err != nil {
			return Applied{}, err
		}
	}
	if reply != nil && !done.StoppedToday {
		queued, capped, err := queueReply(tx, *reply, e.ReplyCap, now)
		if err != nil {
			return Applied{}, err
		}
		done.ReplyQueued, done.ReplyCapped = queued, capped
	}
	if e.ToInbox {
		if err := tx.Bucket(bucketInbox).Put(u64(id), nil); err != nil {
			return Applied{}, err
		}
		if e.Witness != nil {
			alertID, err := tieWitness(tx, *e.Witness, in.ReceivedAt)
			if err != nil {
				return Applied{}, err
			}
			if alertID != 0 {
				if err := recordWitness(tx, alertID, id, in.ReceivedAt.In(now.Location())); err != nil {
					return Applied{}, err
				}
				in.AlertID, done.AlertID = alertID, alertID
				if e.Forward != nil {
					if err := forward(tx, *e.Forward, alertID, now, &done); err != nil {
						return Applied{}, err
					}
				}
			}
		}
	}
	if e.Audit != nil {
		if r := e.Audit(outcome); r != nil {
			if r.Request == "" {
				r.Request = fmt.Sprintf("SMS %d", id) // the id is known only here when saved with it
			}
			rec, err := appendAudit(tx, *r)
			if err != nil {
				return Applied{}, err
			}
			done.Audit = &rec
		}
	}
	if err := tx.Bucket(bucketUnprocessed).Delete(u64(id)); err != nil {
		return Applied{}, err
	}
	done.Outcome = outcome
	in.Processed, in.Outcome = true, outcome
	return done, putJSON(tx.Bucket(bucketInbound), u64(id), in)
}
