package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// An outbox value is, since schema 7, a compact binary record instead of
// JSON: a queued message is the unit the database grows by (10,000 of them
// for a large fan-out), and every transition rewrites it. JSON spent about
// 400 bytes on one (keys, RFC 3339 times, the alert's whole text); this
// record is some 40 bytes plus the recipient. Layout, after the version
// byte msgV1:
//
//	uvarint flags (msgHas… bits: which optional fields follow)
//	uvarint AlertID, byte Kind, string To, [string Text], uvarint Parts,
//	byte State, uvarint Attempts, [string LastError], [string Modem],
//	[uvarint n, n × varint Refs], varint CreatedAt (Unix ns),
//	varint NotBefore−CreatedAt, varint UpdatedAt−CreatedAt,
//	[varint SentAt−CreatedAt], [uvarint n, n × varint PartStatus],
//	[varint DeliveredAt−CreatedAt], [string About]
//
// A string is a uvarint length and its bytes. The ID is the key. An alert
// message whose text is its alert's Rendered (all of them, but for an
// erasure) stores no text (msgTextOfAlert): it is read from the alert.
// Times are read back in UTC. A value starting with '{' is the JSON of
// earlier schemas, still read so that migrations before 7 run on it.
const msgV1 byte = 1

const (
	msgTextOfAlert = 1 << iota
	msgHasText
	msgIgnoreSuppression
	msgUncertain
	msgHasLastError
	msgHasModem
	msgHasRefs
	msgHasSentAt
	msgHasPartStatus
	msgHasDeliveredAt
	msgHasAbout
	msgZeroCreated // CreatedAt is the zero time (never for a stored message, kept exact anyway)
	msgAhead       // claimed ahead, not begun (Message.Ahead)
)

var kindCodes = []Kind{KindAlert, KindReply, KindTest, KindForward}

var stateCodes = []State{StateQueued, StateSending, StateSent, StateDelivered, StateFailed, StateExpired, StateCancelled, StateSuppressed}

func codeOf[T comparable](table []T, v T) (byte, bool) {
	for i, x := range table {
		if x == v {
			return byte(i), true
		}
	}
	return 0, false
}

// encodeMessage is m's outbox value; alertText is its alert's Rendered
// (ignored for a message of no alert).
func encodeMessage(m *Message, alertText string) ([]byte, error) {
	kind, ok := codeOf(kindCodes, m.Kind)
	if !ok {
		return nil, fmt.Errorf("message %d: kind %q: %w", m.ID, m.Kind, ErrInvalid)
	}
	state, ok := codeOf(stateCodes, m.State)
	if !ok {
		return nil, fmt.Errorf("message %d: state %q: %w", m.ID, m.State, ErrInvalid)
	}
	var flags uint64
	set := func(bit uint64, on bool) {
		if on {
			flags |= bit
		}
	}
	shared := m.AlertID != 0 && alertText != "" && m.Text == alertText
	set(msgTextOfAlert, shared)
	set(msgHasText, !shared && m.Text != "")
	set(msgIgnoreSuppression, m.IgnoreSuppression)
	set(msgUncertain, m.Uncertain)
	set(msgHasLastError, m.LastError != "")
	set(msgHasModem, m.Modem != "")
	set(msgHasRefs, len(m.Refs) > 0)
	set(msgHasSentAt, !m.SentAt.IsZero())
	set(msgHasPartStatus, len(m.PartStatus) > 0)
	set(msgHasDeliveredAt, !m.DeliveredAt.IsZero())
	set(msgHasAbout, m.About != "")
	set(msgZeroCreated, m.CreatedAt.IsZero())
	set(msgAhead, m.Ahead)
	var base int64
	if !m.CreatedAt.IsZero() {
		base = m.CreatedAt.UnixNano()
	}
	var b []byte
	// A time is its distance to CreatedAt and its zone offset in minutes:
	// local days and months are computed from the times read back (the
	// usage counters, the erasure of a number's monthly entry).
	when := func(t time.Time) {
		var d int64
		if !t.IsZero() {
			d = t.UnixNano() - base
		}
		_, off := t.Zone()
		b = binary.AppendVarint(binary.AppendVarint(b, d), int64(off/60))
	}
	str := func(b []byte, text string) []byte {
		return append(binary.AppendUvarint(b, uint64(len(text))), text...)
	}
	ints := func(b []byte, v []int) []byte {
		b = binary.AppendUvarint(b, uint64(len(v)))
		for _, x := range v {
			b = binary.AppendVarint(b, int64(x))
		}
		return b
	}
	b = make([]byte, 0, 48+len(m.To))
	b = append(b, msgV1)
	b = binary.AppendUvarint(b, flags)
	b = binary.AppendUvarint(b, m.AlertID)
	b = append(b, kind)
	b = str(b, m.To)
	if flags&msgHasText != 0 {
		b = str(b, m.Text)
	}
	b = binary.AppendUvarint(b, uint64(max(m.Parts, 0)))
	b = append(b, state)
	b = binary.AppendUvarint(b, uint64(max(m.Attempts, 0)))
	if flags&msgHasLastError != 0 {
		b = str(b, m.LastError)
	}
	if flags&msgHasModem != 0 {
		b = str(b, m.Modem)
	}
	if flags&msgHasRefs != 0 {
		b = ints(b, m.Refs)
	}
	b = binary.AppendVarint(b, base)
	when(m.CreatedAt)
	// NotBefore and UpdatedAt are never zero for a stored message; a zero
	// one would come back as the creation time.
	when(m.NotBefore)
	when(m.UpdatedAt)
	if flags&msgHasSentAt != 0 {
		when(m.SentAt)
	}
	if flags&msgHasPartStatus != 0 {
		b = ints(b, m.PartStatus)
	}
	if flags&msgHasDeliveredAt != 0 {
		when(m.DeliveredAt)
	}
	if flags&msgHasAbout != 0 {
		b = str(b, m.About)
	}
	return b, nil
}

var errShortRecord = errors.New("record cut short")

// msgReader reads a record field by field; the first error sticks.
type msgReader struct {
	b   []byte
	err error
}

func (r *msgReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errShortRecord
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *msgReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errShortRecord
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *msgReader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.err = errShortRecord
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *msgReader) str() string {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errShortRecord
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *msgReader) ints() []int {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errShortRecord
		return nil
	}
	v := make([]int, n)
	for i := range v {
		v[i] = int(r.varint())
	}
	return v
}

// zoned is t at offset seconds east of UTC, in the location JSON would
// have given it: UTC, Local when Local has that offset then, or a fixed zone.
func zoned(t time.Time, offset int) time.Time {
	if offset == 0 {
		return t.UTC()
	}
	if l := t.In(time.Local); zoneOffset(l) == offset {
		return l
	}
	return t.In(time.FixedZone("", offset))
}

func zoneOffset(t time.Time) int {
	_, off := t.Zone()
	return off
}

// alertTexts memoises the Rendered text of alerts within one transaction,
// so that a walk over an alert's messages reads the alert once.
type alertTexts map[uint64]string

// get returns the Rendered text of alert id.
func (at alertTexts) get(tx *bolt.Tx, id uint64) (string, error) {
	if s, ok := at[id]; ok {
		return s, nil
	}
	var a struct {
		Rendered string `json:"rendered"`
	}
	found, err := getJSON(tx.Bucket(bucketAlerts), u64(id), &a)
	if err != nil {
		return "", err
	}
	if !found {
		return "", fmt.Errorf("alert %d: %w", id, ErrNotFound)
	}
	if at != nil {
		at[id] = a.Rendered
	}
	return a.Rendered, nil
}

// decodeMessage decodes the outbox value v at key k, JSON or binary, its
// shared text read through texts (nil: no memo).
func decodeMessage(tx *bolt.Tx, texts alertTexts, k, v []byte, m *Message) error {
	if len(v) > 0 && v[0] == '{' {
		return decode(k, v, m)
	}
	if len(k) != 8 || len(v) == 0 || v[0] != msgV1 {
		return fmt.Errorf("decode value of key %x: not a message record of a known version: %w", k, ErrCorrupt)
	}
	r := msgReader{b: v[1:]}
	*m = Message{ID: binary.BigEndian.Uint64(k)}
	flags := r.uvarint()
	m.AlertID = r.uvarint()
	kind := r.byte()
	m.To = r.str()
	if flags&msgHasText != 0 {
		m.Text = r.str()
	}
	m.Parts = int(r.uvarint())
	state := r.byte()
	m.Attempts = int(r.uvarint())
	if flags&msgHasLastError != 0 {
		m.LastError = r.str()
	}
	if flags&msgHasModem != 0 {
		m.Modem = r.str()
	}
	if flags&msgHasRefs != 0 {
		m.Refs = r.ints()
	}
	base := r.varint()
	at := func() time.Time {
		d, off := r.varint(), int(r.varint())*60
		return zoned(time.Unix(0, base+d), off)
	}
	if created := at(); flags&msgZeroCreated == 0 {
		m.CreatedAt = created
	}
	m.NotBefore = at()
	m.UpdatedAt = at()
	if flags&msgHasSentAt != 0 {
		m.SentAt = at()
	}
	if flags&msgHasPartStatus != 0 {
		m.PartStatus = r.ints()
	}
	if flags&msgHasDeliveredAt != 0 {
		m.DeliveredAt = at()
	}
	if flags&msgHasAbout != 0 {
		m.About = r.str()
	}
	m.IgnoreSuppression = flags&msgIgnoreSuppression != 0
	m.Uncertain = flags&msgUncertain != 0
	m.Ahead = flags&msgAhead != 0
	switch {
	case r.err != nil:
	case len(r.b) != 0:
		r.err = fmt.Errorf("%d bytes past the record", len(r.b))
	case int(kind) >= len(kindCodes) || int(state) >= len(stateCodes):
		r.err = fmt.Errorf("kind %d, state %d", kind, state)
	}
	if r.err != nil {
		return fmt.Errorf("decode message %d: %w (%w)", m.ID, r.err, ErrCorrupt)
	}
	m.Kind, m.State = kindCodes[kind], stateCodes[state]
	if flags&msgTextOfAlert != 0 {
		text, err := texts.get(tx, m.AlertID)
		if err != nil {
			return fmt.Errorf("text of message %d: %w", m.ID, err)
		}
		m.Text = text
	}
	return nil
}

// writeMessage stores m in the outbox, sharing its alert's text.
func writeMessage(tx *bolt.Tx, m *Message) error {
	var text string
	if m.AlertID != 0 {
		var err error
		if text, err = alertTexts(nil).get(tx, m.AlertID); err != nil {
			return fmt.Errorf("message %d: %w", m.ID, err)
		}
	}
	v, err := encodeMessage(m, text)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketOutbox).Put(u64(m.ID), v)
}

// migrateV7 rewrites every outbox message from JSON into the binary
// record, its alert's text no longer copied, and puts the messages being
// sent back in the age index.
func migrateV7(tx *bolt.Tx) error {
	out := tx.Bucket(bucketOutbox)
	texts := alertTexts{}
	type rec struct {
		k, v []byte
	}
	var recs []rec
	err := out.ForEach(func(k, v []byte) error {
		var m Message
		if err := decodeMessage(tx, texts, k, v, &m); err != nil {
			return err
		}
		var text string
		if m.AlertID != 0 {
			// An alert purged before its messages keeps their own text.
			var err error
			if text, err = texts.get(tx, m.AlertID); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		enc, err := encodeMessage(&m, text)
		if err != nil {
			return err
		}
		recs = append(recs, rec{append([]byte(nil), k...), enc})
		return nil
	})
	if err != nil {
		return err
	}
	for _, r := range recs {
		if err := out.Put(r.k, r.v); err != nil {
			return err
		}
	}
	// From schema 7 a claim leaves its message in the age index (putMessage):
	// the messages being sent get the entry their claim removed.
	age := tx.Bucket(bucketQueueAge)
	return tx.Bucket(bucketSending).ForEach(func(k, _ []byte) error {
		m, err := loadMessage(tx, binary.BigEndian.Uint64(k))
		if err != nil {
			return err
		}
		return age.Put(queueAgeKey(&m), nil)
	})
}
