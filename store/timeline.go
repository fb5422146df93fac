package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// An alert's timeline (issue #14): its milestones, written by putMessage in
// the transaction of the message move that crosses them, and a per-minute
// histogram of its SMS. Both are history, like alerts and alert_counters:
// the retention purge leaves them, so the yearly report outlives the
// messages. Per SMS sent, the writes are the tally (24 bytes) and the
// minute's counters (12 bytes); a milestone is written once, when crossed
// (the last report and last failure or expiry are overwritten, 8 bytes).

var (
	bucketAlertTimeline = []byte("alert_timeline")
	bucketAlertMinutes  = []byte("alert_minutes")
)

// Timeline event bytes, the last byte of an alert_timeline key.
const (
	evFirstSent    byte = 's'
	evHalfSent     byte = 'h'
	evNinetySent   byte = 'n'
	evLastSent     byte = 'l' // written once nothing is queued or sending any more
	evFirstReport  byte = 'r'
	evLastReport   byte = 'R'
	evFirstFailed  byte = 'f'
	evLastFailed   byte = 'F'
	evFirstExpired byte = 'e'
	evLastExpired  byte = 'E'
	evCancelled    byte = 'c'
	evTally        byte = 'k' // sent u32, uncertain u32, reports u32, latest send (time u64)
)

// Timeline is an alert's history in time. Zero times: not (yet) crossed.
type Timeline struct {
	AcceptedAt time.Time
	// FirstSentAt, HalfSentAt, NinetySentAt: when the first message, half
	// and nine tenths of the alert's recipients (its snapshot, Recipients)
	// had left the modem. Suppressed or cancelled messages never leave, so
	// an alert may finish without reaching 50 % or 90 %.
	FirstSentAt, HalfSentAt, NinetySentAt time.Time
	// LastSentAt is the time of the last send, set when no message of the
	// alert is queued or sending any more (Finished) and one was sent.
	LastSentAt time.Time
	// LatestSentAt is the latest send so far, finished or not.
	LatestSentAt time.Time
	// Delivery reports (final ones: delivered or failed, per part).
	FirstReportAt, LastReportAt   time.Time
	FirstFailedAt, LastFailedAt   time.Time
	FirstExpiredAt, LastExpiredAt time.Time
	CancelledAt                   time.Time
	// Sent counts the messages that left the modem (sent, including those
	// later delivered or failed by a report, and unconfirmed ones);
	// Uncertain those of them marked Uncertain; Reports the final delivery
	// reports applied, one per part (a report still pending is not one).
	Sent, Uncertain, Reports int
	// Finished: no message of the alert is queued or sending.
	Finished bool
	// Minutes has one entry per minute since acceptance with something in
	// it, in order.
	Minutes []TimelineMinute
}

// TimelineMinute counts what happened to an alert's messages in minute
// Minute after its acceptance.
type TimelineMinute struct {
	Minute                  int
	Sent, Delivered, Failed int
}

// ToLast is the time from acceptance to the last SMS out; false while the
// alert is not finished or sent nothing.
func (t Timeline) ToLast() (time.Duration, bool) {
	if t.LastSentAt.IsZero() {
		return 0, false
	}
	return t.LastSentAt.Sub(t.AcceptedAt), true
}

// AlertTimeline returns the timeline of the alert with that ID, or an
// error wrapping ErrNotFound.
func (s *Store) AlertTimeline(id uint64) (Timeline, error) {
	var t Timeline
	err := s.db.View(func(tx *bolt.Tx) error {
		a, err := loadAlert(tx, id)
		if err != nil {
			return err
		}
		t, err = readTimeline(tx, &a)
		return err
	})
	if err != nil {
		return Timeline{}, fmt.Errorf("store: timeline of alert %d: %w", id, err)
	}
	return t, nil
}

func readTimeline(tx *bolt.Tx, a *Alert) (Timeline, error) {
	t := Timeline{AcceptedAt: a.CreatedAt}
	b := tx.Bucket(bucketAlertTimeline)
	for ev, at := range map[byte]*time.Time{
		evFirstSent: &t.FirstSentAt, evHalfSent: &t.HalfSentAt, evNinetySent: &t.NinetySentAt,
		evLastSent: &t.LastSentAt, evFirstReport: &t.FirstReportAt, evLastReport: &t.LastReportAt,
		evFirstFailed: &t.FirstFailedAt, evLastFailed: &t.LastFailedAt,
		evFirstExpired: &t.FirstExpiredAt, evLastExpired: &t.LastExpiredAt, evCancelled: &t.CancelledAt,
	} {
		v, ok, err := getTimeKey(b, timelineKey(a.ID, ev))
		if err != nil {
			return t, err
		}
		if ok {
			*at = v
		}
	}
	tl, err := getTally(b, a.ID)
	if err != nil {
		return t, err
	}
	t.Sent, t.Uncertain, t.Reports, t.LatestSentAt = int(tl.sent), int(tl.uncertain), int(tl.reports), tl.latest
	counts := alertCounts(tx, a.ID)
	t.Finished = counts[StateQueued] == 0 && counts[StateSending] == 0
	prefix := u64(a.ID)
	c := tx.Bucket(bucketAlertMinutes).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if len(k) != 12 || len(v) != 12 {
			return t, fmt.Errorf("alert minute %x: %d bytes: %w", k, len(v), ErrInvalid)
		}
		t.Minutes = append(t.Minutes, TimelineMinute{
			Minute:    int(binary.BigEndian.Uint32(k[8:])),
			Sent:      int(binary.BigEndian.Uint32(v)),
			Delivered: int(binary.BigEndian.Uint32(v[4:])),
			Failed:    int(binary.BigEndian.Uint32(v[8:])),
		})
	}
	return t, nil
}

func timelineKey(id uint64, ev byte) []byte { return append(u64(id), ev) }

func minuteKey(id uint64, minute uint32) []byte {
	return binary.BigEndian.AppendUint32(u64(id), minute)
}

func getTimeKey(b *bolt.Bucket, key []byte) (time.Time, bool, error) {
	v := b.Get(key)
	if v == nil {
		return time.Time{}, false, nil
	}
	if len(v) != 8 {
		return time.Time{}, false, fmt.Errorf("timeline %x: %d bytes: %w", key, len(v), ErrInvalid)
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(v)^(1<<63))), true, nil
}

// mark writes the event's time; only if absent unless overwrite.
func mark(b *bolt.Bucket, id uint64, ev byte, at time.Time, overwrite bool) error {
	key := timelineKey(id, ev)
	if !overwrite && b.Get(key) != nil {
		return nil
	}
	return b.Put(key, u64(timeKey(at)))
}

type tally struct {
	sent, uncertain, reports uint32
	latest                   time.Time
}

func getTally(b *bolt.Bucket, id uint64) (tally, error) {
	v := b.Get(timelineKey(id, evTally))
	if v == nil {
		return tally{}, nil
	}
	if len(v) != 20 {
		return tally{}, fmt.Errorf("timeline tally of alert %d: %d bytes: %w", id, len(v), ErrInvalid)
	}
	t := tally{
		sent:      binary.BigEndian.Uint32(v),
		uncertain: binary.BigEndian.Uint32(v[4:]),
		reports:   binary.BigEndian.Uint32(v[8:]),
	}
	if lt := binary.BigEndian.Uint64(v[12:]); lt != 0 {
		t.latest = time.Unix(0, int64(lt^(1<<63)))
	}
	return t, nil
}

func putTally(b *bolt.Bucket, id uint64, t tally) error {
	v := binary.BigEndian.AppendUint32(nil, t.sent)
	v = binary.BigEndian.AppendUint32(v, t.uncertain)
	v = binary.BigEndian.AppendUint32(v, t.reports)
	var lt uint64
	if !t.latest.IsZero() {
		lt = timeKey(t.latest)
	}
	return b.Put(timelineKey(id, evTally), binary.BigEndian.AppendUint64(v, lt))
}

// minute indexes: sent, delivered, failed in a minute's counters.
const (
	minuteSent = iota
	minuteDelivered
	minuteFailed
)

// countMinute adds one to counter which of the minute at falls in after
// accepted (clamped to the first: clocks may step back).
func countMinute(b *bolt.Bucket, a *Alert, at time.Time, which int) error {
	m := max(at.Sub(a.CreatedAt)/time.Minute, 0)
	if m > 0xFFFFFFFF {
		m = 0xFFFFFFFF
	}
	key := minuteKey(a.ID, uint32(m))
	v := make([]byte, 12)
	if old := b.Get(key); len(old) == 12 {
		copy(v, old)
	}
	n := binary.BigEndian.Uint32(v[4*which:])
	binary.BigEndian.PutUint32(v[4*which:], n+1)
	return b.Put(key, v)
}

func pending(s State) bool { return s == StateQueued || s == StateSending }

// recordTimeline updates the timeline of m's alert for its move from prev,
// after the counters moved; called by putMessage, in its transaction.
func recordTimeline(tx *bolt.Tx, m, prev *Message) error {
	if m.AlertID == 0 || prev == nil {
		return nil
	}
	moved := prev.State != m.State
	report := prev.State == StateSent && (moved || !slices.Equal(prev.PartStatus, m.PartStatus))
	if !moved && !report {
		return nil
	}
	b, minutes := tx.Bucket(bucketAlertTimeline), tx.Bucket(bucketAlertMinutes)
	now := m.UpdatedAt
	var a *Alert
	alert := func() (*Alert, error) {
		if a == nil {
			loaded, err := loadAlert(tx, m.AlertID)
			if err != nil {
				return nil, err
			}
			a = &loaded
		}
		return a, nil
	}
	t, err := getTally(b, m.AlertID)
	if err != nil {
		return err
	}
	dirty := false
	if report {
		t.reports++
		dirty = true
		if err := mark(b, m.AlertID, evFirstReport, now, false); err != nil {
			return err
		}
		if err := mark(b, m.AlertID, evLastReport, now, true); err != nil {
			return err
		}
	}
	if moved {
		switch m.State {
		case StateSent:
			al, err := alert()
			if err != nil {
				return err
			}
			t.sent++
			if m.Uncertain {
				t.uncertain++
			}
			t.latest, dirty = m.SentAt, true
			if err := sentMilestones(b, al, int(t.sent), m.SentAt); err != nil {
				return err
			}
			if err := countMinute(minutes, al, m.SentAt, minuteSent); err != nil {
				return err
			}
		case StateDelivered, StateFailed:
			al, err := alert()
			if err != nil {
				return err
			}
			which := minuteDelivered
			if m.State == StateFailed {
				which = minuteFailed
				if err := mark(b, m.AlertID, evFirstFailed, now, false); err != nil {
					return err
				}
				if err := mark(b, m.AlertID, evLastFailed, now, true); err != nil {
					return err
				}
			}
			if err := countMinute(minutes, al, now, which); err != nil {
				return err
			}
		case StateExpired:
			if err := mark(b, m.AlertID, evFirstExpired, now, false); err != nil {
				return err
			}
			if err := mark(b, m.AlertID, evLastExpired, now, true); err != nil {
				return err
			}
		case StateCancelled:
			if err := mark(b, m.AlertID, evCancelled, now, false); err != nil {
				return err
			}
		}
	}
	if dirty {
		if err := putTally(b, m.AlertID, t); err != nil {
			return err
		}
	}
	if moved && pending(prev.State) && !pending(m.State) {
		return markFinished(tx, m.AlertID, t)
	}
	return nil
}

// sentMilestones marks the first, 50 % and 90 % sends, sent being the
// messages of a sent so far, the latest at at.
func sentMilestones(b *bolt.Bucket, a *Alert, sent int, at time.Time) error {
	if err := mark(b, a.ID, evFirstSent, at, false); err != nil {
		return err
	}
	if a.Recipients > 0 && 2*sent >= a.Recipients {
		if err := mark(b, a.ID, evHalfSent, at, false); err != nil {
			return err
		}
	}
	if a.Recipients > 0 && 10*sent >= 9*a.Recipients {
		return mark(b, a.ID, evNinetySent, at, false)
	}
	return nil
}

// markFinished writes the last-sent milestone once nothing of the alert is
// queued or sending: no message is ever added to an alert after its
// creation, so that state is final.
func markFinished(tx *bolt.Tx, id uint64, t tally) error {
	counts := tx.Bucket(bucketAlertCounters)
	for _, st := range []State{StateQueued, StateSending} {
		if v := counts.Get(append(u64(id), st...)); len(v) == 8 && binary.BigEndian.Uint64(v) > 0 {
			return nil
		}
	}
	if t.latest.IsZero() {
		return nil
	}
	return mark(tx.Bucket(bucketAlertTimeline), id, evLastSent, t.latest, false)
}

// migrateV5 creates the timeline buckets and fills them, best effort, for
// the alerts already there from the messages retention left: times of
// purged messages are lost, and a report's time is the message's last
// update. Buckets already there are made anew, so that the backfill
// counts each message once, whatever was left in them.
func migrateV5(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketAlertTimeline, bucketAlertMinutes} {
		if err := tx.DeleteBucket(name); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
			return fmt.Errorf("drop bucket %s: %w", name, err)
		}
		if _, err := tx.CreateBucket(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	var alerts []Alert
	if err := tx.Bucket(bucketAlerts).ForEach(func(k, v []byte) error {
		var a Alert
		if err := decode(k, v, &a); err != nil {
			return err
		}
		alerts = append(alerts, a)
		return nil
	}); err != nil {
		return err
	}
	for i := range alerts {
		if err := backfillTimeline(tx, &alerts[i]); err != nil {
			return fmt.Errorf("alert %d: %w", alerts[i].ID, err)
		}
	}
	return nil
}

func backfillTimeline(tx *bolt.Tx, a *Alert) error {
	msgs, err := alertMessages(tx, a.ID)
	if err != nil {
		return err
	}
	b, minutes := tx.Bucket(bucketAlertTimeline), tx.Bucket(bucketAlertMinutes)
	slices.SortFunc(msgs, func(x, y Message) int { return x.SentAt.Compare(y.SentAt) })
	var t tally
	for _, m := range msgs {
		if !m.SentAt.IsZero() {
			t.sent++
			if m.Uncertain {
				t.uncertain++
			}
			t.latest = m.SentAt
			if err := sentMilestones(b, a, int(t.sent), m.SentAt); err != nil {
				return err
			}
			if err := countMinute(minutes, a, m.SentAt, minuteSent); err != nil {
				return err
			}
		}
	}
	slices.SortFunc(msgs, func(x, y Message) int { return x.UpdatedAt.Compare(y.UpdatedAt) })
	for _, m := range msgs {
		switch {
		case m.State == StateDelivered || (m.State == StateFailed && !m.SentAt.IsZero()):
			t.reports++
			if err := mark(b, a.ID, evFirstReport, m.UpdatedAt, false); err != nil {
				return err
			}
			if err := mark(b, a.ID, evLastReport, m.UpdatedAt, true); err != nil {
				return err
			}
		}
		var first, last byte
		switch m.State {
		case StateDelivered:
			if err := countMinute(minutes, a, m.UpdatedAt, minuteDelivered); err != nil {
				return err
			}
		case StateFailed:
			first, last = evFirstFailed, evLastFailed
			if err := countMinute(minutes, a, m.UpdatedAt, minuteFailed); err != nil {
				return err
			}
		case StateExpired:
			first, last = evFirstExpired, evLastExpired
		case StateCancelled:
			first = evCancelled
		}
		if first != 0 {
			if err := mark(b, a.ID, first, m.UpdatedAt, false); err != nil {
				return err
			}
		}
		if last != 0 {
			if err := mark(b, a.ID, last, m.UpdatedAt, true); err != nil {
				return err
			}
		}
	}
	if t.sent > 0 || t.reports > 0 {
		if err := putTally(b, a.ID, t); err != nil {
			return err
		}
	}
	return markFinished(tx, a.ID, t)
}
