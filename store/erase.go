package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Erasure (SPEC §12, `vigie subscribers remove --erase`): a number's
// personal data is deleted, the file is compacted so that no freed page
// keeps a copy, and only a keyed hash of the number stays on the
// suppression list, so that a later import cannot re-add a number that
// asked to be forgotten. Buckets and keys:
//
//	meta/
//	  suppression_fingerprint                → HMAC of a fixed text under the key: which key file goes with this file
//	  suppression_key                        → (earlier versions) the HMAC key; moved to the key file at Open
//	  compact_pending                        → set by an erasure until the file is compacted (live.go)
//	suppressed_keyed/                        (created at the first erasure)
//	  <argon2id(E.164, salt: key)>           → suppression (JSON)
//	suppressed_hashes/                       (earlier versions; checked while entries remain)
//	  <HMAC-SHA256(legacy key, E.164)>       → suppression (JSON)
//
// The key lives in a file of its own (keyfile.go), never in the database:
// a stolen file or backup does not give the erased numbers back. The slow
// hash is computed only where a number is subscribed or imported, never to
// send: an erased number has no subscriber record and its queued messages
// are cancelled, so the send path needs the clear list only.
var (
	bucketSuppressedKeyed  = []byte("suppressed_keyed")
	bucketSuppressedHashes = []byte("suppressed_hashes")
	keySuppressionKey      = []byte("suppression_key")
	keyKeyFingerprint      = []byte("suppression_fingerprint")
)

// ErrNotCompacted: the erasure is done, but the file could not be
// compacted (no room for the copy?): its freed pages keep copies of the
// number until it is, at the latest at the next Open.
var ErrNotCompacted = errors.New("erased, but the file still holds freed copies until it is compacted")

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
//
// Then the file is compacted (all other calls wait meanwhile), so that the
// bytes of the file hold the number nowhere, nor any backup taken after.
// If that fails the erasure stands, an error says so, and the next Open
// compacts.
func (s *Store) EraseSubscriber(phone string, now time.Time) (Erasure, error) {
	out, _, err := s.EraseSubscriberAudited(phone, now, nil)
	return out, err
}

// EraseSubscriberAudited is EraseSubscriber with the record of it appended
// in its transaction: audit builds it from what was erased (nil, or a nil
// record: none). It returns the record as stored, also with
// ErrNotCompacted: the erasure and its record stand then. The record must
// not hold the number: the audit log is never erased.
func (s *Store) EraseSubscriberAudited(phone string, now time.Time, audit func(Erasure) *AuditRecord) (Erasure, AuditRecord, error) {
	if phone == "" || phone == ErasedPhone {
		return Erasure{}, AuditRecord{}, fmt.Errorf("store: erase %q: %w", phone, ErrInvalid)
	}
	h := hashes{k: s.keys, pre: map[string][]byte{phone: s.keys.hash(phone)}}
	var out Erasure
	var rec AuditRecord
	err := s.db.Update(func(tx *bolt.Tx) error {
		out = Erasure{}
		subs := tx.Bucket(bucketSubscribers)
		if raw := subs.Get([]byte(phone)); raw != nil {
			out.Subscriber = true
			// Counts only, no number: the history keeps that an active
			// subscription ended by erasure. A record that does not decode
			// is erased all the same: the erasure must not depend on it.
			var was Subscriber
			if decode(nil, raw, &was) == nil {
				if err := tallySubscriber(tx, &was, nil, true, now); err != nil {
					return err
				}
			}
			if err := subs.Delete([]byte(phone)); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketSuppressed).Delete([]byte(phone)); err != nil {
			return err
		}
		if err := listHash(tx, h, phone, now); err != nil {
			return err
		}
		if err := tx.Bucket(bucketMeta).Put(keyCompactPending, []byte{1}); err != nil {
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
		if err := eraseCounters(tx, phone); err != nil || audit == nil {
			return err
		}
		rec, err = appendChange(tx, audit(out))
		return err
	})
	if err != nil {
		return Erasure{}, AuditRecord{}, fmt.Errorf("store: erase subscriber: %w", err)
	}
	if err := s.db.compact(); err != nil {
		return out, rec, fmt.Errorf("store: erase subscriber: %w: %w", ErrNotCompacted, err)
	}
	return out, rec, nil
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

// eraseOutbox replaces phone by ErasedPhone in every outbox message (and
// erases the text of forwards about it), with
// its delivery report index entries and monthly recipient entries.
func eraseOutbox(tx *bolt.Tx, phone string) (int, error) {
	var msgs, about []Message
	texts := alertTexts{}
	if err := tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
		var m Message
		if err := decodeMessage(tx, texts, k, v, &m); err != nil {
			return err
		}
		switch {
		case m.To == phone:
			msgs = append(msgs, m)
		case m.About == phone:
			about = append(about, m)
		}
		return nil
	}); err != nil {
		return 0, err
	}
	// A forward to an on-duty phone quotes the shop's name, number and
	// text: it keeps its recipient and loses what it said.
	for _, prev := range about {
		m := prev
		m.About, m.Text = ErasedPhone, erasedText
		if err := putMessage(tx, &m, &prev); err != nil {
			return 0, err
		}
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
		if prev.AlertID != 0 {
			// The number no longer says it got the alert: its later SMS
			// cannot be tied, as it is no longer known.
			if err := tx.Bucket(bucketAlertRecipients).Delete(recipientKey(prev.AlertID, phone)); err != nil {
				return 0, err
			}
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
	return len(msgs) + len(about), nil
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

// hashes computes or looks up the keyed hashes of a transaction: pre
// holds those computed ahead, outside the transaction (hashAhead).
type hashes struct {
	k   *keyring
	pre map[string][]byte
}

// of returns the keyed hash of phone.
func (h hashes) of(phone string) []byte {
	if v, ok := h.pre[phone]; ok {
		return v
	}
	return h.k.hash(phone)
}

// hashAhead computes, on every CPU, the keyed hashes of phones before a
// transaction that needs them, so that an import of thousands of rows does
// not hold the write lock (and the senders) for the time of the hashes.
// With no erased number on the list, nothing is computed: nil.
func (s *Store) hashAhead(phones ...string) (map[string][]byte, error) {
	var listed bool
	if err := s.db.View(func(tx *bolt.Tx) error {
		listed = !bucketEmpty(tx, bucketSuppressedKeyed)
		return nil
	}); err != nil {
		return nil, err
	}
	if !listed {
		return nil, nil
	}
	distinct := make([]string, 0, len(phones))
	seen := make(map[string]bool, len(phones))
	for _, p := range phones {
		if !seen[p] && p != "" {
			seen[p] = true
			distinct = append(distinct, p)
		}
	}
	sums := make([][]byte, len(distinct))
	var next sync.Mutex
	i := 0
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(distinct)) {
		wg.Go(func() {
			for {
				next.Lock()
				j := i
				i++
				next.Unlock()
				if j >= len(distinct) {
					return
				}
				sums[j] = s.keys.hash(distinct[j])
			}
		})
	}
	wg.Wait()
	out := make(map[string][]byte, len(distinct))
	for j, p := range distinct {
		out[p] = sums[j]
	}
	return out, nil
}

// bucketEmpty reports whether the bucket name is absent or empty.
func bucketEmpty(tx *bolt.Tx, name []byte) bool {
	b := tx.Bucket(name)
	if b == nil {
		return true
	}
	k, _ := b.Cursor().First()
	return k == nil
}

// listHash puts the keyed hash of phone on the suppression list (and takes
// an earlier version's entry off), creating the bucket at the first
// erasure.
func listHash(tx *bolt.Tx, h hashes, phone string, now time.Time) error {
	b, err := tx.CreateBucketIfNotExists(bucketSuppressedKeyed)
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketSuppressedKeyed, err)
	}
	if err := putJSON(b, h.of(phone), suppression{At: now}); err != nil {
		return err
	}
	return unlistLegacy(tx, h, phone)
}

// hashListed reports whether phone is on the suppression list by its keyed
// hash. With no erased number on the list, no hash is computed.
func hashListed(tx *bolt.Tx, h hashes, phone string) bool {
	if !bucketEmpty(tx, bucketSuppressedKeyed) && tx.Bucket(bucketSuppressedKeyed).Get(h.of(phone)) != nil {
		return true
	}
	return h.k.legacy != nil && !bucketEmpty(tx, bucketSuppressedHashes) &&
		tx.Bucket(bucketSuppressedHashes).Get(legacyHash(h.k.legacy, phone)) != nil
}

// unlistHash takes the keyed hash of phone off the suppression list.
func unlistHash(tx *bolt.Tx, h hashes, phone string) error {
	if !tx.Writable() {
		return nil
	}
	if !bucketEmpty(tx, bucketSuppressedKeyed) {
		if err := tx.Bucket(bucketSuppressedKeyed).Delete(h.of(phone)); err != nil {
			return err
		}
	}
	return unlistLegacy(tx, h, phone)
}

// unlistLegacy takes an earlier version's hash of phone off the list.
func unlistLegacy(tx *bolt.Tx, h hashes, phone string) error {
	if h.k.legacy == nil || bucketEmpty(tx, bucketSuppressedHashes) {
		return nil
	}
	return tx.Bucket(bucketSuppressedHashes).Delete(legacyHash(h.k.legacy, phone))
}

// openKeys reads the key file at path, or creates it (0600) while no
// erased number needs an existing one, and ties it to the database: a key
// file from another database is refused, and the key that earlier
// versions kept inside the file moves out to the key file (the file is
// then compacted, so that its bytes go too).
func (s *Store) openKeys(path string) error {
	var legacyKey, fp []byte
	var keyed, legacyListed bool
	if err := s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		legacyKey = bytes.Clone(meta.Get(keySuppressionKey))
		fp = bytes.Clone(meta.Get(keyKeyFingerprint))
		keyed = !bucketEmpty(tx, bucketSuppressedKeyed)
		legacyListed = !bucketEmpty(tx, bucketSuppressedHashes)
		return nil
	}); err != nil {
		return err
	}
	k, err := readKeyFile(path)
	write := false
	switch {
	case errors.Is(err, os.ErrNotExist):
		if keyed || (legacyListed && legacyKey == nil) {
			return fmt.Errorf("%s: the suppression list holds erased numbers: %w", path, ErrKeyMissing)
		}
		key, err := newKey()
		if err != nil {
			return err
		}
		k, write = &keyring{key: key}, true
	case err != nil:
		return fmt.Errorf("suppression key: %w", err)
	}
	if fp != nil && !bytes.Equal(fp, fingerprint(k.key)) && keyed {
		return fmt.Errorf("%s: %w", path, ErrKeyMismatch)
	}
	if legacyKey != nil && !bytes.Equal(legacyKey, k.legacy) {
		if k.legacy != nil && legacyListed {
			return fmt.Errorf("%s: its earlier key differs from the database's: %w", path, ErrKeyMismatch)
		}
		if legacyListed {
			k.legacy, write = legacyKey, true
		}
	}
	if legacyListed && k.legacy == nil {
		return fmt.Errorf("%s: no key for the entries of earlier versions: %w", path, ErrKeyMismatch)
	}
	if write {
		if err := writeKeyFile(path, k); err != nil {
			return fmt.Errorf("write suppression key: %w", err)
		}
	}
	s.keys = k
	if legacyKey == nil && bytes.Equal(fp, fingerprint(k.key)) {
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if err := meta.Put(keyKeyFingerprint, fingerprint(k.key)); err != nil {
			return err
		}
		if legacyKey == nil {
			return nil
		}
		if err := meta.Delete(keySuppressionKey); err != nil {
			return err
		}
		return meta.Put(keyCompactPending, []byte{1})
	})
}

// prepareErasure is Open's part for erasure: temporary copies a crash left
// removed, the key file read (or made), and a compaction an erasure could
// not finish done.
func (s *Store) prepareErasure(keyFile string) error {
	if err := removeStrayCopies(s.db.path); err != nil {
		return fmt.Errorf("remove stray copies: %w", err)
	}
	if err := s.openKeys(keyFile); err != nil {
		return err
	}
	return s.compactIfPending()
}

// consentHashes computes ahead the keyed hash that applying e needs, a
// subscription or confirmation taking the number off the list, so that it
// is not computed under the write lock.
func (s *Store) consentHashes(e Effect) (hashes, error) {
	var phones []string
	if e.Subscribe != nil {
		phones = append(phones, e.Subscribe.Phone)
	}
	if e.Confirm != "" {
		phones = append(phones, e.Confirm)
	}
	if e.Code != nil {
		// Computed even for a wrong code: how long the hash takes must
		// not tell a forger whether the code was right.
		phones = append(phones, e.Code.Phone)
	}
	if len(phones) == 0 {
		return hashes{k: s.keys}, nil
	}
	pre, err := s.hashAhead(phones...)
	return hashes{k: s.keys, pre: pre}, err
}
