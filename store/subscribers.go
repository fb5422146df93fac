package store

import (
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SubscriberStatus says whether a subscriber receives alerts.
type SubscriberStatus string

// Subscriber statuses.
const (
	StatusActive  SubscriberStatus = "active"
	StatusStopped SubscriberStatus = "stopped"
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
	Phone     string           `json:"phone"`
	Zones     []string         `json:"zones"` // sorted, unique
	Trade     string           `json:"trade,omitempty"`
	Status    SubscriberStatus `json:"status"`
	Source    string           `json:"source"` // "sms", "operator", "import"
	CreatedAt time.Time        `json:"created_at"`
	UpdatedAt time.Time        `json:"updated_at"`
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

// Subscribers returns every subscriber, active or stopped, sorted by phone.
func (s *Store) Subscribers() ([]Subscriber, error) {
	var subs []Subscriber
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSubscribers).ForEach(func(k, v []byte) error {
			var sub Subscriber
			if err := decode(k, v, &sub); err != nil {
				return err
			}
			subs = append(subs, sub)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: subscribers: %w", err)
	}
	return subs, nil
}

// ActiveRecipients returns the distinct phones, sorted, of active subscribers
// having at least one zone in zones (the caller already expanded the
// hierarchy); with all, every active subscriber. Suppressed numbers are never
// returned.
func (s *Store) ActiveRecipients(zones []string, all bool) ([]string, error) {
	var phones []string
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSubscribers).ForEach(func(k, v []byte) error {
			var sub Subscriber
			if err := decode(k, v, &sub); err != nil {
				return err
			}
			if sub.Status != StatusActive || isSuppressed(tx, sub.Phone) {
				return nil
			}
			if all || slices.ContainsFunc(sub.Zones, func(z string) bool { return slices.Contains(zones, z) }) {
				phones = append(phones, sub.Phone)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: active recipients: %w", err)
	}
	return phones, nil
}

// Suppressed reports whether phone is on the suppression list (it sent STOP).
func (s *Store) Suppressed(phone string) (bool, error) {
	var found bool
	err := s.db.View(func(tx *bolt.Tx) error {
		found = isSuppressed(tx, phone)
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
		out, err = subscribe(tx, sub, now)
		return err
	})
	if err != nil {
		return Subscriber{}, fmt.Errorf("store: add subscriber: %w", err)
	}
	return out, nil
}

func isSuppressed(tx *bolt.Tx, phone string) bool {
	return tx.Bucket(bucketSuppressed).Get([]byte(phone)) != nil
}

// subscribe adds the zone (and trade) to the number, makes it active and takes
// it off the suppression list: subscribing again is a new consent.
func subscribe(tx *bolt.Tx, sub Subscription, now time.Time) (Subscriber, error) {
	if sub.Phone == "" {
		return Subscriber{}, fmt.Errorf("subscribe: empty phone: %w", ErrInvalid)
	}
	b := tx.Bucket(bucketSubscribers)
	var cur Subscriber
	found, err := getJSON(b, []byte(sub.Phone), &cur)
	if err != nil {
		return Subscriber{}, err
	}
	if !found {
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
	if err := tx.Bucket(bucketSuppressed).Delete([]byte(sub.Phone)); err != nil {
		return Subscriber{}, err
	}
	if err := putJSON(b, []byte(sub.Phone), cur); err != nil {
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
		cur.Status = StatusStopped
		cur.Zones = []string{}
		cur.Trade = ""
		cur.UpdatedAt = now
		if err := putJSON(b, []byte(phone), cur); err != nil {
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
