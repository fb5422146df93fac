package store

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Erasure (SPEC §12, `vigie subscribers remove --erase`): a number's
// personal data is deleted, and only a keyed hash of it stays on the
// suppression list, so a later import cannot re-add a number that asked to
// be forgotten. Buckets and keys:
//
//	meta/
//	  suppression_key                        → 32 random bytes: the HMAC key, made at the first erase
//	suppressed_hashes/                       (created at the first erase)
//	  <HMAC-SHA256(suppression_key, E.164)>  → suppression (JSON)
//
// The key never leaves the database: the hashes cannot be reversed by
// trying every French mobile number without it.
var (
	bucketSuppressedHashes = []byte("suppressed_hashes")
	keySuppressionKey      = []byte("suppression_key")
)

// ErasedPhone replaces an erased number wherever a record is kept for the
// history (outbox messages, inbound SMS). It is never sent to: it counts as
// suppressed.
const ErasedPhone = "[effacé]"

// erasedText replaces the text of an erased number's inbound SMS.
const erasedText = "[message effacé]"

// Erasure says what EraseSubscriber deleted.
type Erasure struct {
	// Subscriber: a subscriber record was deleted.
	Subscriber bool `json:"subscriber"`
	// Inbound SMS from the number whose sender and text were erased, and
	// incomplete parts deleted.
	Inbound int `json:"inbound"`
	// Messages to the number whose recipient was replaced by ErasedPhone.
	Messages int `json:"messages"`
	// Cancelled queued messages to the number (alerts, replies, tests).
	Cancelled int `json:"cancelled"`
}

// EraseSubscriber deletes the personal data of phone (E.164) in one
// transaction: its subscriber record and clear entry on the suppression
// list; the sender and text of its inbound SMS (matched with sameNumber,
// as the network wrote the sender) and its incomplete parts; its number in
// outbox messages, replaced by ErasedPhone, with its delivery report
// index, reply counters and monthly recipient entry. Its queued messages,
// of every kind, are cancelled first: nothing more goes to a number whose
// owner asked to be forgotten. A message already being sent cannot be
// recalled from the modem; its record is rewritten like the others.
//
// What stays is the keyed hash of the number on the suppression list,
// always, whether or not it had sent STOP: an erasure is a request to be
// left alone. Only a new consent (an SMS subscription, or an operator's
// forced add) takes it off. Erasing an unknown number still records it.
func (s *Store) EraseSubscriber(phone string, now time.Time) (Erasure, error) {
	if phone == "" || phone == ErasedPhone {
		return Erasure{}, fmt.Errorf("store: erase %q: %w", phone, ErrInvalid)
	}
	var out Erasure
	err := s.db.Update(func(tx *bolt.Tx) error {
		out = Erasure{}
		subs := tx.Bucket(bucketSubscribers)
		if subs.Get([]byte(phone)) != nil {
			out.Subscriber = true
			if err := subs.Delete([]byte(phone)); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketSuppressed).Delete([]byte(phone)); err != nil {
			return err
		}
		if err := suppressHash(tx, phone, now); err != nil {
			return err
		}
		var err error
		if out.Cancelled, err = cancelQueuedTo(tx, phone, now, func(Message) bool { return true }); err != nil {
			return err
		}
		if out.Messages, err = eraseOutbox(tx, phone); err != nil {
			return err
		}
		if out.Inbound, err = eraseInbound(tx, phone); err != nil {
			return err
		}
		return eraseCounters(tx, phone)
	})
	if err != nil {
		return Erasure{}, fmt.Errorf("store: erase subscriber: %w", err)
	}
	return out, nil
}

// cancelQueuedTo cancels the queued messages to phone that match, walking
// the queue index, and returns how many.
func cancelQueuedTo(tx *bolt.Tx, phone string, now time.Time, match func(Message) bool) (int, error) {
	var ids []uint64
	if err := tx.Bucket(bucketQueue).ForEach(func(k, _ []byte) error {
		ids = append(ids, queueKeyID(k))
		return nil
	}); err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		m, err := loadMessage(tx, id)
		if err != nil {
			return 0, err
		}
		if m.To != phone || !match(m) {
			continue
		}
		if _, err := transition(tx, id, StateCancelled, now, nil); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// eraseOutbox replaces phone by ErasedPhone in every outbox message, with
// its delivery report index entries and monthly recipient entries.
func eraseOutbox(tx *bolt.Tx, phone string) (int, error) {
	var msgs []Message
	if err := tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
		var m Message
		if err := decode(k, v, &m); err != nil {
			return err
		}
		if m.To == phone {
			msgs = append(msgs, m)
		}
		return nil
	}); err != nil {
		return 0, err
	}
	ids := make(map[uint64]bool, len(msgs))
	months := tx.Bucket(bucketMonthRecipients)
	for _, prev := range msgs {
		ids[prev.ID] = true
		m := prev
		m.To = ErasedPhone
		if err := putMessage(tx, &m, &prev); err != nil {
			return 0, err
		}
		if !m.SentAt.IsZero() {
			// The month's distinct count keeps one entry for the erased
			// numbers: a slight undercount, no number.
			if err := months.Delete(append([]byte(monthKey(m.SentAt)), phone...)); err != nil {
				return 0, err
			}
			if err := months.Put(append([]byte(monthKey(m.SentAt)), ErasedPhone...), nil); err != nil {
				return 0, err
			}
		}
	}
	// The report index holds the last digits of the recipient.
	refs, times := tx.Bucket(bucketReportRefs), tx.Bucket(bucketReportTimes)
	var stale [][2][]byte
	if err := times.ForEach(func(k, v []byte) error {
		if len(k) >= 16 && ids[binary.BigEndian.Uint64(k[8:16])] {
			stale = append(stale, [2][]byte{bytes.Clone(k), bytes.Clone(v)})
		}
		return nil
	}); err != nil {
		return 0, err
	}
	for _, kv := range stale {
		if err := times.Delete(kv[0]); err != nil {
			return 0, err
		}
		if err := refs.Delete(kv[1]); err != nil {
			return 0, err
		}
	}
	return len(msgs), nil
}

// eraseInbound erases the sender and text of the inbound SMS from phone and
// deletes its parts awaiting reassembly. The records stay (the inbox keeps
// its history, dedupe keys are hashes) without personal data.
func eraseInbound(tx *bolt.Tx, phone string) (int, error) {
	b := tx.Bucket(bucketInbound)
	var found []Inbound
	if err := b.ForEach(func(k, v []byte) error {
		var in Inbound
		if err := decode(k, v, &in); err != nil {
			return err
		}
		if in.From == phone || sameNumber(phone, in.From) {
			found = append(found, in)
		}
		return nil
	}); err != nil {
		return 0, err
	}
	for _, in := range found {
		in.From, in.Text = ErasedPhone, erasedText
		if err := putJSON(b, u64(in.ID), in); err != nil {
			return 0, err
		}
	}
	parts := tx.Bucket(bucketParts)
	var keys [][]byte
	if err := parts.ForEach(func(k, v []byte) error {
		var p InboundPart
		if err := decode(k, v, &p); err != nil {
			return err
		}
		if p.From == phone || sameNumber(phone, p.From) {
			keys = append(keys, bytes.Clone(k))
		}
		return nil
	}); err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := parts.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(found) + len(keys), nil
}

// eraseCounters deletes the number's per-day counters: automatic replies,
// STOP confirmations and code requests. Their keys end with the phone,
// whose "+" no other part of a key holds.
func eraseCounters(tx *bolt.Tx, phone string) error {
	for _, name := range [][]byte{bucketReplies, bucketCodeRequests} {
		b := tx.Bucket(name)
		var keys [][]byte
		if err := b.ForEach(func(k, _ []byte) error {
			if len(k) > len(dayKey(time.Time{})) && bytes.HasSuffix(k, []byte(phone)) {
				keys = append(keys, bytes.Clone(k))
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
	}
	return nil
}

// suppressionHash is the keyed hash of phone kept on the suppression list.
func suppressionHash(key []byte, phone string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(phone))
	return mac.Sum(nil)
}

// suppressHash puts the keyed hash of phone on the suppression list,
// creating the key and the bucket at the first erasure.
func suppressHash(tx *bolt.Tx, phone string, now time.Time) error {
	meta := tx.Bucket(bucketMeta)
	key := meta.Get(keySuppressionKey)
	if key == nil {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return fmt.Errorf("suppression key: %w", err)
		}
		if err := meta.Put(keySuppressionKey, key); err != nil {
			return err
		}
	}
	b, err := tx.CreateBucketIfNotExists(bucketSuppressedHashes)
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketSuppressedHashes, err)
	}
	return putJSON(b, suppressionHash(key, phone), suppression{At: now})
}

// hashSuppressed reports whether the keyed hash of phone is on the
// suppression list. No erasure yet, no hash is computed.
func hashSuppressed(tx *bolt.Tx, phone string) bool {
	b := tx.Bucket(bucketSuppressedHashes)
	if b == nil {
		return false
	}
	if k, _ := b.Cursor().First(); k == nil {
		return false
	}
	key := tx.Bucket(bucketMeta).Get(keySuppressionKey)
	return key != nil && b.Get(suppressionHash(key, phone)) != nil
}

// unsuppressHash takes the keyed hash of phone off the suppression list.
func unsuppressHash(tx *bolt.Tx, phone string) error {
	b := tx.Bucket(bucketSuppressedHashes)
	key := tx.Bucket(bucketMeta).Get(keySuppressionKey)
	if b == nil || key == nil || !tx.Writable() {
		return nil
	}
	return b.Delete(suppressionHash(key, phone))
}
