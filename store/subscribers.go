package store

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	bolt "go.etcd.io/bbolt"
)

// SubscriberStatus says whether a subscriber receives alerts.
type SubscriberStatus string

// Subscriber statuses.
const (
	StatusActive  SubscriberStatus = "active"
	StatusStopped SubscriberStatus = "stopped"
	// StatusPending is a new number waiting for OUI <code> or an operator.
	StatusPending SubscriberStatus = "pending"
)

// Subscription policies (SPEC §3) a pending request waits under.
const (
	PolicyConfirm  = "confirm"
	PolicyApproval = "approval"
)

// Subscriber sources: how the consent was given.
const (
	SourceSMS      = "sms"
	SourceOperator = "operator"
	SourceImport   = "import"
)

// Subscriber is a shopkeeper's phone and what it is subscribed to. Phone
// numbers are E.164 strings, validated by the caller.
type Subscriber struct {
	Phone string   `json:"phone"`
	Zones []string `json:"zones"` // sorted, unique
	Trade string   `json:"trade,omitempty"`
	// Name is the shop's name as an operator or an import gave it
	// (trimmed, at most MaxNameLen characters; outside data); optional.
	Name      string           `json:"name,omitempty"`
	Status    SubscriberStatus `json:"status"`
	Source    string           `json:"source"` // "sms", "operator", "import"
	CreatedAt time.Time        `json:"created_at"`
	UpdatedAt time.Time        `json:"updated_at"`
	// Pending is a subscription request not yet active. A number already
	// active keeps its zones and status while a new request is pending.
	Pending *Pending `json:"pending,omitempty"`
}

// MaxNameLen bounds a shop's name, in characters: an enseigne, not a
// paragraph.
const MaxNameLen = 60

// CleanName is a shop's name as the store keeps it: white space (line
// breaks and other controls included) collapsed to single spaces, trimmed,
// cut to MaxNameLen characters.
func CleanName(name string) string {
	name = strings.Join(strings.FieldsFunc(name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if r := []rune(name); len(r) > MaxNameLen {
		name = strings.TrimSpace(string(r[:MaxNameLen]))
	}
	return name
}

// Pending is a subscription request received by SMS and not yet active: it
// waits for the shop to send OUI <Code> back (policy "confirm") or for an
// operator (policy "approval"), because sender numbers can be forged.
type Pending struct {
	Zone   string    `json:"zone"`
	Trade  string    `json:"trade,omitempty"`
	Policy string    `json:"policy"`         // "confirm" or "approval"
	Code   string    `json:"code,omitempty"` // confirm policy: what the shop must send back
	At     time.Time `json:"at"`
	// WrongCodes counts the wrong codes received for this request;
	// VoidedAt is when the last one allowed voided it (CodeCheck.MaxWrong):
	// from then on no code activates it. Both go with the request.
	WrongCodes int       `json:"wrong_codes,omitempty"`
	VoidedAt   time.Time `json:"voided_at,omitzero"`
}

// Request records a pending subscription request of Phone (Effect.Request).
type Request struct {
	Phone   string
	Pending Pending
	// MaxPerDay, when > 0, bounds the requests of Phone accepted per local
	// day (requests that send a code), and no request is accepted on the
	// day a previous one was voided by wrong codes. A refused request
	// changes nothing: Refused is queued instead of Effect.Reply, and the
	// outcome is RequestLimited or RequestVoidedToday.
	MaxPerDay int
	Refused   *Reply
}

// Subscription adds Zone (and Trade if not empty) to Phone, recording Source.
type Subscription struct{ Phone, Zone, Trade, Source string }

// suppression is the value of a suppressed number: when STOP was received.
type suppression struct {
	At time.Time `json:"at"`
}

// Subscriber returns the subscriber with that phone; false if there is none.
func (s *Store) Subscriber(phone string) (Subscriber, bool, error) {
	var sub Subscriber
	var found bool
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		found, err = getJSON(tx.Bucket(bucketSubscribers), []byte(phone), &sub)
		return err
	})
	if err != nil {
		return Subscriber{}, false, fmt.Errorf("store: subscriber: %w", err)
	}
	return sub, found, nil
}

// Subscribers returns every subscriber, active, pending or stopped, sorted by
// phone.
func (s *Store) Subscribers() ([]Subscriber, error) {
	subs, err := s.subscribersWhere(func(tx *bolt.Tx, sub *Subscriber) bool { return true })
	if err != nil {
		return nil, fmt.Errorf("store: subscribers: %w", err)
	}
	return subs, nil
}

// subscribersWhere returns, sorted by phone, the subscribers keep keeps;
// keep may look up other buckets in the same read transaction.
func (s *Store) subscribersWhere(keep func(tx *bolt.Tx, sub *Subscriber) bool) ([]Subscriber, error) {
	var subs []Subscriber
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSubscribers).ForEach(func(k, v []byte) error {
			var sub Subscriber
			if err := decode(k, v, &sub); err != nil {
				return err
			}
			if keep(tx, &sub) {
				subs = append(subs, sub)
			}
			return nil
		})
	})
	return subs, err
}

// ActiveRecipients returns the distinct phones, sorted, of active subscribers
// matching an alert's target (SPEC §4): having at least one zone in zones
// (the caller already expanded the hierarchy), or any zone with all or when
// only trades are given; and, when trades is not empty, a trade in trades.
// No zones, no trades and not all targets nobody. Suppressed numbers are
// never returned.
func (s *Store) ActiveRecipients(zones, trades []string, all bool) ([]string, error) {
	subs, err := s.ActiveTargets(zones, trades, all)
	if err != nil {
		return nil, err
	}
	phones := make([]string, len(subs))
	for i, sub := range subs {
		phones[i] = sub.Phone
	}
	return phones, nil
}

// ActiveTargets is ActiveRecipients with the subscribers themselves (their
// zones and trade), in one scan: what an alert's preview counts by zone
// and by trade without scanning again for each. Sorted by phone.
func (s *Store) ActiveTargets(zones, trades []string, all bool) ([]Subscriber, error) {
	anyZone := all || (len(zones) == 0 && len(trades) > 0)
	subs, err := s.subscribersWhere(func(tx *bolt.Tx, sub *Subscriber) bool {
		// An active subscriber is never on the keyed list (erasure deletes
		// the record, activation takes the hash off): no slow hash here.
		return sub.Status == StatusActive && !isSuppressed(tx, sub.Phone) &&
			(anyZone || slices.ContainsFunc(sub.Zones, func(z string) bool { return slices.Contains(zones, z) })) &&
			(len(trades) == 0 || slices.Contains(trades, sub.Trade))
	})
	if err != nil {
		return nil, fmt.Errorf("store: active recipients: %w", err)
	}
	s.scans.Add(1)
	slices.SortFunc(subs, func(a, b Subscriber) int { return strings.Compare(a.Phone, b.Phone) })
	return slices.CompactFunc(subs, func(a, b Subscriber) bool { return a.Phone == b.Phone }), nil
}

// TargetScans counts the subscriber scans that resolved an alert's
// recipients (ActiveTargets), for the bench and tests: what preview and
// send cost.
func (s *Store) TargetScans() int64 { return s.scans.Load() }

// PendingRequests returns the subscribers with a pending request, oldest
// request first, for the operators to approve.
func (s *Store) PendingRequests() ([]Subscriber, error) {
	subs, err := s.subscribersWhere(func(_ *bolt.Tx, sub *Subscriber) bool { return sub.Pending != nil })
	if err != nil {
		return nil, fmt.Errorf("store: pending requests: %w", err)
	}
	slices.SortStableFunc(subs, func(a, b Subscriber) int { return a.Pending.At.Compare(b.Pending.At) })
	return subs, nil
}

// Approve is an operator approving the pending request of phone: the same
// as the shop confirming it, whatever the request's policy. It fails with
// ErrNotFound for an unknown number and ErrState when nothing is pending.
func (s *Store) Approve(phone string, now time.Time) (Subscriber, error) {
	var out Subscriber
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		out, err = confirm(tx, hashes{k: s.keys}, phone, now)
		return err
	})
	if err != nil {
		return Subscriber{}, fmt.Errorf("store: approve %s: %w", phone, err)
	}
	return out, nil
}

// ApproveAndReply is Approve with the shop's confirmation SMS queued in the
// same transaction: reply builds it from the request being approved. The
// reply is an operator's answer, not an automatic one: no daily cap.
func (s *Store) ApproveAndReply(phone string, reply func(Pending) Reply, now time.Time) (Subscriber, error) {
	sub, _, err := s.ApproveAndReplyAudited(phone, reply, now, nil)
	return sub, err
}

// ApproveAndReplyAudited is ApproveAndReply with the record of it appended
// in its transaction: audit builds it from the subscriber as approved (nil,
// or a nil record: none). It returns the record as stored.
func (s *Store) ApproveAndReplyAudited(phone string, reply func(Pending) Reply, now time.Time,
	audit func(Subscriber) *AuditRecord) (Subscriber, AuditRecord, error) {
	var out Subscriber
	var rec AuditRecord
	err := s.db.Update(func(tx *bolt.Tx) error {
		var cur Subscriber
		found, err := getJSON(tx.Bucket(bucketSubscribers), []byte(phone), &cur)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("subscriber %s: %w", phone, ErrNotFound)
		}
		if cur.Pending == nil {
			return fmt.Errorf("subscriber %s has no pending request: %w", phone, ErrState)
		}
		r := reply(*cur.Pending)
		if out, err = confirm(tx, hashes{k: s.keys}, phone, now); err != nil {
			return err
		}
		if _, err = enqueue(tx, Message{Kind: KindReply, To: r.To, Text: r.Text, Parts: r.Parts}, now); err != nil || audit == nil {
			return err
		}
		rec, err = appendChange(tx, audit(out))
		return err
	})
	if err != nil {
		return Subscriber{}, AuditRecord{}, fmt.Errorf("store: approve %s: %w", phone, err)
	}
	return out, rec, nil
}

// Suppressed reports whether phone is on the suppression list (it sent
// STOP, or was erased), in clear or by its keyed hash.
func (s *Store) Suppressed(phone string) (bool, error) {
	var found bool
	err := s.db.View(func(tx *bolt.Tx) error {
		found = onSuppressionList(tx, hashes{k: s.keys}, phone)
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: suppressed: %w", err)
	}
	return found, nil
}

// AddSubscriber is the operator path: the same effect as Effect.Subscribe.
// An empty Source is recorded as "operator".
func (s *Store) AddSubscriber(sub Subscription, now time.Time) (Subscriber, error) {
	if sub.Source == "" {
		sub.Source = SourceOperator
	}
	var out Subscriber
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		out, err = subscribe(tx, hashes{k: s.keys}, sub, now)
		return err
	})
	if err != nil {
		return Subscriber{}, fmt.Errorf("store: add subscriber: %w", err)
	}
	return out, nil
}

// isSuppressed reports whether phone sent STOP: it is on the suppression
// list in clear. The placeholder of erased recipients counts as
// suppressed, so nothing queued to it (a follow-up to an old alert) is ever
// sent. This is the send path's check (Claim, alert recipients): a key
// lookup, never the slow keyed hash, which only onSuppressionList computes.
func isSuppressed(tx *bolt.Tx, phone string) bool {
	return phone == ErasedPhone || tx.Bucket(bucketSuppressed).Get([]byte(phone)) != nil
}

// onSuppressionList reports whether phone sent STOP or was erased: on the
// list in clear or by its keyed hash (see erase.go). Where a number is
// subscribed or imported, not where messages are sent.
func onSuppressionList(tx *bolt.Tx, h hashes, phone string) bool {
	return isSuppressed(tx, phone) || hashListed(tx, h, phone)
}

// unsuppress takes phone off the suppression list, in clear and by hash: a
// new consent.
func unsuppress(tx *bolt.Tx, h hashes, phone string) error {
	if err := tx.Bucket(bucketSuppressed).Delete([]byte(phone)); err != nil {
		return err
	}
	return unlistHash(tx, h, phone)
}

// subscribe adds the zone (and trade) to the number, makes it active and takes
// it off the suppression list: subscribing again is a new consent.
func subscribe(tx *bolt.Tx, h hashes, sub Subscription, now time.Time) (Subscriber, error) {
	if sub.Phone == "" {
		return Subscriber{}, fmt.Errorf("subscribe: empty phone: %w", ErrInvalid)
	}
	b := tx.Bucket(bucketSubscribers)
	var cur Subscriber
	found, err := getJSON(b, []byte(sub.Phone), &cur)
	if err != nil {
		return Subscriber{}, err
	}
	var was *Subscriber
	if found {
		w := cur
		w.Zones = slices.Clone(cur.Zones) // cur's may grow in place below
		was = &w
	} else {
		cur = Subscriber{Phone: sub.Phone, CreatedAt: now}
	}
	if cur.Zones == nil {
		cur.Zones = []string{}
	}
	if sub.Zone != "" {
		if i, ok := slices.BinarySearch(cur.Zones, sub.Zone); !ok {
			cur.Zones = slices.Insert(cur.Zones, i, sub.Zone)
		}
	}
	if sub.Trade != "" {
		cur.Trade = sub.Trade
	}
	if sub.Source != "" {
		cur.Source = sub.Source
	}
	cur.Status = StatusActive
	cur.UpdatedAt = now
	if err := unsuppress(tx, h, sub.Phone); err != nil {
		return Subscriber{}, err
	}
	if err := putJSON(b, []byte(sub.Phone), cur); err != nil {
		return Subscriber{}, err
	}
	if err := tallySubscriber(tx, was, &cur, false, now); err != nil {
		return Subscriber{}, err
	}
	return cur, nil
}

// unsubscribe honours a STOP: the subscriber (if any) is stopped with its zones
// and trade cleared, the number goes on the suppression list, and its queued
// messages become suppressed, except those meant to reach it anyway (the STOP
// confirmation). The queue index is walked, not the outbox.
func unsubscribe(tx *bolt.Tx, phone string, now time.Time) error {
	if phone == "" {
		return fmt.Errorf("unsubscribe: empty phone: %w", ErrInvalid)
	}
	b := tx.Bucket(bucketSubscribers)
	var cur Subscriber
	found, err := getJSON(b, []byte(phone), &cur)
	if err != nil {
		return err
	}
	if found {
		was := cur
		cur.Status = StatusStopped
		cur.Zones = []string{}
		cur.Trade = ""
		cur.Pending = nil
		cur.UpdatedAt = now
		if err := putJSON(b, []byte(phone), cur); err != nil {
			return err
		}
		if err := tallySubscriber(tx, &was, &cur, false, now); err != nil {
			return err
		}
	}
	if err := putJSON(tx.Bucket(bucketSuppressed), []byte(phone), suppression{At: now}); err != nil {
		return err
	}
	var ids []uint64
	if err := tx.Bucket(bucketQueue).ForEach(func(k, _ []byte) error {
		ids = append(ids, queueKeyID(k))
		return nil
	}); err != nil {
		return err
	}
	for _, id := range ids {
		m, err := loadMessage(tx, id)
		if err != nil {
			return err
		}
		if m.To != phone || m.IgnoreSuppression {
			continue
		}
		if _, err := transition(tx, id, StateSuppressed, now, nil); err != nil {
			return err
		}
	}
	return nil
}

// request records a pending subscription request, replacing any previous
// one. An unknown or stopped number becomes pending; an active one keeps its
// zones and status. The suppression list is left alone: only activating the
// request is a new consent.
func request(tx *bolt.Tx, r Request, now time.Time) (Subscriber, error) {
	if r.Phone == "" || r.Pending.Zone == "" {
		return Subscriber{}, fmt.Errorf("request: phone %q, zone %q: %w", r.Phone, r.Pending.Zone, ErrInvalid)
	}
	b := tx.Bucket(bucketSubscribers)
	var cur Subscriber
	found, err := getJSON(b, []byte(r.Phone), &cur)
	if err != nil {
		return Subscriber{}, err
	}
	if !found {
		cur = Subscriber{Phone: r.Phone, Zones: []string{}, Source: SourceSMS, CreatedAt: now}
	}
	if cur.Status != StatusActive {
		cur.Status = StatusPending
	}
	p := r.Pending
	cur.Pending, cur.UpdatedAt = &p, now
	return cur, putJSON(b, []byte(r.Phone), cur)
}

// confirm activates the pending request of phone: its zone and trade are
// subscribed, the request cleared and the number taken off the suppression
// list.
func confirm(tx *bolt.Tx, h hashes, phone string, now time.Time) (Subscriber, error) {
	var cur Subscriber
	found, err := getJSON(tx.Bucket(bucketSubscribers), []byte(phone), &cur)
	if err != nil {
		return Subscriber{}, err
	}
	if !found {
		return Subscriber{}, fmt.Errorf("subscriber %s: %w", phone, ErrNotFound)
	}
	if cur.Pending == nil {
		return Subscriber{}, fmt.Errorf("subscriber %s has no pending request: %w", phone, ErrState)
	}
	p := *cur.Pending
	cur, err = subscribe(tx, h, Subscription{Phone: phone, Zone: p.Zone, Trade: p.Trade, Source: SourceSMS}, now)
	if err != nil {
		return Subscriber{}, err
	}
	cur.Pending = nil
	return cur, putJSON(tx.Bucket(bucketSubscribers), []byte(phone), cur)
}
