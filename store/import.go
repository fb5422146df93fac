package store

import (
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrSuppressed: the number is on the suppression list (it sent STOP or
// was erased); an operator must force the subscription.
var ErrSuppressed = errors.New("number on the suppression list")

// Enrolment is an operator's or an import's subscription of a number: the
// CCI's spreadsheet or the shopkeeper asking in person.
type Enrolment struct {
	Phone  string   // E.164
	Zones  []string // at least one
	Trade  string   // empty: unchanged
	Name   string   // the shop's name (CleanName); empty: unchanged
	Source string   // SourceOperator or SourceImport
	// Force subscribes a number on the suppression list and takes it off:
	// the shopkeeper asked again in person.
	Force bool
	// ReplaceZones makes Zones the number's zones; by default they are
	// added to those it has.
	ReplaceZones bool
}

// Outcome is what an enrolment did.
type Outcome string

// Outcomes of an enrolment.
const (
	OutcomeAdded      Outcome = "added"      // a new subscriber
	OutcomeUpdated    Outcome = "updated"    // zones, trade or status changed
	OutcomeUnchanged  Outcome = "unchanged"  // already active with these zones and trade
	OutcomeSuppressed Outcome = "suppressed" // on the suppression list: nothing done
)

// errDryRun rolls a dry-run import back.
var errDryRun = errors.New("dry run")

// Enrol applies one enrolment. A suppressed number without Force is refused
// with an error wrapping ErrSuppressed.
func (s *Store) Enrol(e Enrolment, now time.Time) (Subscriber, Outcome, error) {
	sub, out, _, err := s.EnrolAudited(e, now, nil)
	return sub, out, err
}

// EnrolAudited is Enrol with the record of it appended in its transaction:
// audit builds it from what the enrolment did (nil, or a nil record: none).
// It returns the record as stored (zero if none).
func (s *Store) EnrolAudited(e Enrolment, now time.Time, audit func(Subscriber, Outcome) *AuditRecord) (Subscriber, Outcome, AuditRecord, error) {
	pre, err := s.hashAhead(e.Phone)
	if err != nil {
		return Subscriber{}, "", AuditRecord{}, fmt.Errorf("store: enrol: %w", err)
	}
	var sub Subscriber
	var out Outcome
	var rec AuditRecord
	err = s.db.Update(func(tx *bolt.Tx) error {
		var err error
		sub, out, err = enrol(tx, hashes{k: s.keys, pre: pre}, e, now)
		if err == nil && out == OutcomeSuppressed {
			err = fmt.Errorf("%s: %w", e.Phone, ErrSuppressed)
		}
		if err != nil || audit == nil {
			return err
		}
		rec, err = appendChange(tx, audit(sub, out))
		return err
	})
	if err != nil {
		return Subscriber{}, out, AuditRecord{}, fmt.Errorf("store: enrol: %w", err)
	}
	return sub, out, rec, nil
}

// Import applies the enrolments in order in one transaction: all or none.
// Suppressed numbers are skipped (Force is ignored: a file is no new
// consent). A number twice in the list gets the zones of both rows, also
// with ReplaceZones (the file says all its zones). With dryRun the
// transaction is rolled back: the outcomes are what the import would do.
// Applying the same list twice gives only OutcomeUnchanged and
// OutcomeSuppressed the second time. Once a number was erased, the keyed
// hash of every row is computed first, outside the transaction, on every
// CPU (a few milliseconds each: see keyfile.go).
func (s *Store) Import(es []Enrolment, dryRun bool, now time.Time) ([]Outcome, error) {
	outs, _, err := s.ImportAudited(es, dryRun, now, nil)
	return outs, err
}

// ImportAudited is Import with the record of it appended in its
// transaction: audit builds it from the outcomes (nil, or a nil record:
// none). It returns the record as stored. A dry run rolls the record back
// with the rest: nothing is appended and the record returned is zero.
func (s *Store) ImportAudited(es []Enrolment, dryRun bool, now time.Time, audit func([]Outcome) *AuditRecord) ([]Outcome, AuditRecord, error) {
	phones := make([]string, len(es))
	for i, e := range es {
		phones[i] = e.Phone
	}
	pre, err := s.hashAhead(phones...)
	if err != nil {
		return nil, AuditRecord{}, fmt.Errorf("store: import: %w", err)
	}
	h := hashes{k: s.keys, pre: pre}
	var outs []Outcome
	var rec AuditRecord
	err = s.db.Update(func(tx *bolt.Tx) error {
		outs = make([]Outcome, 0, len(es))
		// With ReplaceZones, a number's first row carries the zones of all
		// its rows, and the next ones add nothing: replacing row by row
		// would report changes where the file as a whole changes nothing.
		all := make(map[string][]string)
		for _, e := range es {
			if e.ReplaceZones {
				all[e.Phone] = append(all[e.Phone], e.Zones...)
			}
		}
		seen := make(map[string]bool, len(es))
		for i, e := range es {
			e.Force = false
			if e.ReplaceZones && !seen[e.Phone] {
				e.Zones = all[e.Phone]
			} else {
				e.ReplaceZones = false
			}
			seen[e.Phone] = true
			_, out, err := enrol(tx, h, e, now)
			if err != nil {
				return fmt.Errorf("row %d: %w", i+1, err)
			}
			outs = append(outs, out)
		}
		if audit != nil {
			var err error
			if rec, err = appendChange(tx, audit(outs)); err != nil {
				return err
			}
		}
		if dryRun {
			rec = AuditRecord{}
			return errDryRun
		}
		return nil
	})
	if err != nil && !errors.Is(err, errDryRun) {
		return nil, AuditRecord{}, fmt.Errorf("store: import: %w", err)
	}
	return outs, rec, nil
}

// enrol adds the zones (and sets the trade) of e to its number and makes it
// active. The source of an already active subscriber is kept: it says how
// the consent was first given.
func enrol(tx *bolt.Tx, h hashes, e Enrolment, now time.Time) (Subscriber, Outcome, error) {
	if e.Phone == "" || e.Phone == ErasedPhone || len(e.Zones) == 0 || slices.Contains(e.Zones, "") {
		return Subscriber{}, "", fmt.Errorf("enrol %q in %q: %w", e.Phone, e.Zones, ErrInvalid)
	}
	if e.Source == "" {
		e.Source = SourceOperator
	}
	if onSuppressionList(tx, h, e.Phone) {
		if !e.Force {
			return Subscriber{}, OutcomeSuppressed, nil
		}
		if err := unsuppress(tx, h, e.Phone); err != nil {
			return Subscriber{}, "", err
		}
	}
	b := tx.Bucket(bucketSubscribers)
	var cur Subscriber
	found, err := getJSON(b, []byte(e.Phone), &cur)
	if err != nil {
		return Subscriber{}, "", err
	}
	next := cur
	if !found {
		next = Subscriber{Phone: e.Phone, CreatedAt: now, Source: e.Source}
	}
	next.Zones = slices.Clone(cur.Zones)
	if e.ReplaceZones || next.Zones == nil {
		next.Zones = []string{}
	}
	for _, z := range e.Zones {
		if i, ok := slices.BinarySearch(next.Zones, z); !ok {
			next.Zones = slices.Insert(next.Zones, i, z)
		}
	}
	if e.Trade != "" {
		next.Trade = e.Trade
	}
	if name := CleanName(e.Name); name != "" {
		next.Name = name
	}
	if found && cur.Status != StatusActive {
		next.Source = e.Source // a new consent
	}
	next.Status = StatusActive
	if found && cur.Status == StatusActive && slices.Equal(cur.Zones, next.Zones) && cur.Trade == next.Trade && cur.Name == next.Name {
		return cur, OutcomeUnchanged, nil
	}
	next.UpdatedAt = now
	if err := putJSON(b, []byte(e.Phone), next); err != nil {
		return Subscriber{}, "", err
	}
	var was *Subscriber
	if found {
		was = &cur
	}
	if err := tallySubscriber(tx, was, &next, false, now); err != nil {
		return Subscriber{}, "", err
	}
	if found {
		return next, OutcomeUpdated, nil
	}
	return next, OutcomeAdded, nil
}

// RemoveSubscriber is an operator unsubscribing phone: stopped, zones,
// trade and pending request cleared, its queued alert messages cancelled.
// Unlike a STOP, the number does not go on the suppression list: a later
// import or add may subscribe it again. It returns the subscriber and how
// many messages were cancelled; ErrNotFound for an unknown number.
func (s *Store) RemoveSubscriber(phone string, now time.Time) (Subscriber, int, error) {
	sub, n, _, err := s.RemoveSubscriberAudited(phone, now, nil)
	return sub, n, err
}

// RemoveSubscriberAudited is RemoveSubscriber with the record of it
// appended in its transaction: audit builds it from the subscriber as left
// and the number of messages cancelled (nil, or a nil record: none). It
// returns the record as stored.
func (s *Store) RemoveSubscriberAudited(phone string, now time.Time, audit func(Subscriber, int) *AuditRecord) (Subscriber, int, AuditRecord, error) {
	var cur Subscriber
	var n int
	var rec AuditRecord
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSubscribers)
		found, err := getJSON(b, []byte(phone), &cur)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("subscriber %s: %w", phone, ErrNotFound)
		}
		was := cur
		cur.Status, cur.Zones, cur.Trade, cur.Pending, cur.UpdatedAt = StatusStopped, []string{}, "", nil, now
		if err := putJSON(b, []byte(phone), cur); err != nil {
			return err
		}
		if err := tallySubscriber(tx, &was, &cur, false, now); err != nil {
			return err
		}
		n, err = cancelQueuedTo(tx, phone, now, func(m Message) bool { return m.Kind == KindAlert })
		if err != nil || audit == nil {
			return err
		}
		rec, err = appendChange(tx, audit(cur, n))
		return err
	})
	if err != nil {
		return Subscriber{}, 0, AuditRecord{}, fmt.Errorf("store: remove subscriber: %w", err)
	}
	return cur, n, rec, nil
}

// AlertsReceived returns how many alert messages (follow-ups included)
// were sent to phone, delivered or not. It scans the outbox: for the
// operator's `show`, not for a hot path.
func (s *Store) AlertsReceived(phone string) (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		texts := alertTexts{}
		return tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
			var m Message
			if err := decodeMessage(tx, texts, k, v, &m); err != nil {
				return err
			}
			if m.To == phone && m.Kind == KindAlert && !m.SentAt.IsZero() {
				n++
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("store: alerts received by %s: %w", phone, err)
	}
	return n, nil
}
