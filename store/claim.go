package store

import (
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ClaimRequest is what a sender asks of the queue in one write transaction:
// the message to send next on its modem, with the modem's daily_cap and the
// replies' share of it checked in the same transaction, so that the claim,
// the caps and the next due time are one consistent reading.
type ClaimRequest struct {
	Modem string
	Now   time.Time
	// Lead: a message due within Lead of Now is taken at once, when nothing
	// is due before it.
	Lead time.Duration
	// DailyCap is the parts the modem may send on Now's local day;
	// ReplyCap the replies' share of it.
	DailyCap, ReplyCap int
	// Pending and PendingReply are the parts this modem has in flight
	// (claimed, not yet counted as sent), and of them the replies': the
	// caps count them as spent.
	Pending, PendingReply int
	// ReplyRateOK says the replies' rate bucket has a token; otherwise
	// ReplyWait is how long until it has one. It matters only while an
	// alert is due (replies then keep to their share of the rate).
	ReplyRateOK bool
	ReplyWait   time.Duration
	// Ahead: the message is claimed while another is in flight on the
	// modem; its attempt is counted only when its send begins (Go, or the
	// SMS recorded sent after a send log held its beginning).
	Ahead bool
	// Batch is how many messages to claim at most (0 or 1: one); those
	// after the first are claimed ahead, each counted against the caps
	// with the ones before it. Fewer are taken when the rest would leave
	// the other senders idle: Share is how many senders divide the queue.
	Batch, Share int
	// alertsOnly: a batch's messages after the first are alert messages;
	// replies keep to their rate and go one claim at a time.
	alertsOnly bool
}

// ClaimResult says what a claim took, or why it took nothing.
type ClaimResult struct {
	Msg Message
	OK  bool // Msg was claimed: it is sending, on this modem
	// More are the messages claimed ahead after Msg (ClaimRequest.Batch).
	More []Message
	// Unrecorded lists the SMS of Step.Sents found no longer sending (their
	// alert cancelled as their send began): not recorded sent.
	Unrecorded []uint64
	// Reports are the results of Step.Reports, in their order.
	Reports []ReportResult
	// Next is when to look again when nothing was claimed (HasNext false:
	// nothing queued, wait for a wake-up).
	Next    time.Time
	HasNext bool
	// Again: nothing claimed, but the queue changed (messages to
	// suppressed numbers were taken off it): look again at once.
	Again bool
	// CapReached: the next message would pass daily_cap; Used is the parts
	// counted against it, in flight included.
	CapReached bool
	Used       int
	// Withdrawn: the message the step was to begin (Go) is no longer
	// claimed ahead (its alert was cancelled), or its number sent STOP
	// (suppressed now) or was erased since (cancelled now, as the erasure
	// does to the messages still queued): it must not be sent.
	Withdrawn bool
	// Compete: an alert was due, so a reply claimed now counts against the
	// replies' share of the rate.
	Compete bool
	// Finished lists the alerts whose last message left queued and sending
	// in this transaction (suppressed at the claim, or marked sent).
	Finished []AlertDone
}

// AlertDone is an alert that has nothing left to send, with its counts.
type AlertDone struct {
	ID     uint64
	Counts map[State]int
}

// Sent is a message that left the modem, to be recorded as sent.
type Sent struct {
	ID   uint64
	Refs []int
	At   time.Time
}

// Step is what one sender's transaction records: the SMS that went out
// (Sent), the message claimed ahead whose send has begun (Go: its attempt
// counted, no longer Ahead), and the claim of the next one (Claim).
type Step struct {
	Sent  *Sent
	Sents []Sent // more SMS sent, whose beginning a send log held
	Go    uint64
	Claim *ClaimRequest
	// Reports are delivery reports to apply after the SMS sent are
	// recorded (ApplyReports' matching), at ReportsAt.
	Reports   []Report
	ReportsAt time.Time
	// Now is when the step is taken: the time of the send begun (Go). A
	// step with a Go and no time (neither Now nor its claim's) is refused
	// (ErrInvalid): a zero UpdatedAt would not be stored as such, and the
	// send log tells claims apart by it.
	Now time.Time
}

// ClaimNext claims the next message for r.Modem (ClaimDueBy's order and
// suppression), the caps checked in the same transaction.
func (s *Store) ClaimNext(r ClaimRequest) (ClaimResult, error) {
	return s.Advance(Step{Claim: &r})
}

// SentAndClaim is Advance of the SMS sent and the claim r.
func (s *Store) SentAndClaim(sent *Sent, r *ClaimRequest) (ClaimResult, error) {
	return s.Advance(Step{Sent: sent, Claim: r})
}

// Advance records a sender's step in one transaction: the SMS sent as
// MarkSent does, the send begun of the message claimed ahead, and the
// claim of the next: a sender that keeps one message ahead pays one commit
// per SMS for all three. If any part fails nothing is written, and the
// error says so (a disk fault is for the caller to retry).
func (s *Store) Advance(step Step) (ClaimResult, error) {
	var res ClaimResult
	sent, r := step.Sent, step.Claim
	now := stepTime(step)
	if step.Go != 0 && now.IsZero() {
		return ClaimResult{}, fmt.Errorf("store: begin message %d: no time given: %w", step.Go, ErrInvalid)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		res = ClaimResult{}
		if step.Go != 0 {
			begun, err := begin(tx, step.Go, now)
			if err != nil {
				return err
			}
			if res.Withdrawn = !begun; res.Withdrawn {
				m, err := loadMessage(tx, step.Go)
				if err != nil {
					return err
				}
				res.noteDone(tx, m.AlertID)
			}
		}
		sents := step.Sents
		if sent != nil {
			sents = append([]Sent{*sent}, sents...)
		}
		for i, sent := range sents {
			m, err := markSent(tx, sent.ID, sent.Refs, sent.At)
			if errors.Is(err, ErrState) && (step.Sent == nil || i > 0) {
				// Taken back (cancelled) in the instant its send began: the
				// others are recorded all the same.
				res.Unrecorded = append(res.Unrecorded, sent.ID)
				continue
			}
			if err != nil {
				return fmt.Errorf("message %d to %s: %w", sent.ID, StateSent, err)
			}
			res.noteDone(tx, m.AlertID)
		}
		if len(step.Reports) > 0 {
			res.Reports = make([]ReportResult, len(step.Reports))
		}
		for i, rep := range step.Reports {
			msg, matched, err := applyReport(tx, rep, step.ReportsAt)
			if err != nil {
				return fmt.Errorf("delivery report from %s (ref %d): %w", rep.Modem, rep.Ref, err)
			}
			res.Reports[i] = ReportResult{Msg: msg, Matched: matched}
		}
		if r == nil {
			return nil
		}
		return claimBatch(tx, *r, &res)
	})
	if err != nil {
		return ClaimResult{}, fmt.Errorf("store: sent and claim for %s: %w", claimModem(r), err)
	}
	return res, nil
}

// begin counts the attempt of a message claimed ahead whose send begins;
// false if it is no longer claimed ahead (its alert was cancelled): it
// must not be sent.
func begin(tx *bolt.Tx, id uint64, now time.Time) (bool, error) {
	m, err := loadMessage(tx, id)
	if err != nil {
		return false, err
	}
	if m.State != StateSending || !m.Ahead {
		return false, nil
	}
	// An erasure in between withdraws it whatever it ignores, as the
	// erasure cancels such messages still queued: the sender holds the
	// number in clear.
	if m.To == ErasedPhone {
		if _, err := transition(tx, id, StateQueued, now, nil); err != nil {
			return false, err
		}
		_, err := transition(tx, id, StateCancelled, now, nil)
		return false, err
	}
	// STOP is checked when the send begins, not only at the claim ahead:
	// a STOP in between withdraws it.
	if !m.IgnoreSuppression && isSuppressed(tx, m.To) {
		if _, err := transition(tx, id, StateQueued, now, nil); err != nil {
			return false, err
		}
		_, err := transition(tx, id, StateSuppressed, now, nil)
		return false, err
	}
	prev := m
	m.Ahead, m.UpdatedAt = false, now
	m.Attempts++
	return true, putMessage(tx, &m, &prev)
}

// stepTime dates a step: its Now, or its claim's; zero if it has neither.
// Not its SMS's time: a send begins after the SMS before it left.
func stepTime(step Step) time.Time {
	if !step.Now.IsZero() {
		return step.Now
	}
	if step.Claim != nil {
		return step.Claim.Now
	}
	return time.Time{}
}

func claimModem(r *ClaimRequest) string {
	if r == nil {
		return "-"
	}
	return r.Modem
}

// noteDone adds alert id to Finished if nothing of it is queued or sending.
func (res *ClaimResult) noteDone(tx *bolt.Tx, id uint64) {
	if id == 0 || slices.ContainsFunc(res.Finished, func(d AlertDone) bool { return d.ID == id }) {
		return
	}
	c := tx.Bucket(bucketAlertCounters)
	if getCount(c, append(u64(id), StateQueued...)) > 0 || getCount(c, append(u64(id), StateSending...)) > 0 {
		return
	}
	res.Finished = append(res.Finished, AlertDone{ID: id, Counts: alertCounts(tx, id)})
}

// markSent is MarkSent in tx. A message still claimed ahead went out with
// its beginning in a send log only: its attempt is counted here.
func markSent(tx *bolt.Tx, id uint64, refs []int, now time.Time) (Message, error) {
	prev, err := loadMessage(tx, id)
	if err != nil {
		return Message{}, err
	}
	m, err := transitionFrom(tx, prev, StateSent, now, func(m *Message) {
		if prev.Ahead {
			m.Attempts++
		}
		m.Refs = slices.Clone(refs)
		m.SentAt = now
		m.PartStatus = nil
		for range refs {
			m.PartStatus = append(m.PartStatus, -1)
		}
	})
	if err != nil {
		return Message{}, err
	}
	if err := countSent(tx, &m); err != nil {
		return Message{}, err
	}
	if err := indexReports(tx, &m); err != nil {
		return Message{}, err
	}
	return m, purgeReports(tx, now.Add(-ReportWindow), purgeBatch)
}

// midnight is the start of the local day after t's.
func midnight(t time.Time) time.Time {
	y, mo, d := t.Date()
	return time.Date(y, mo, d+1, 0, 0, 0, 0, t.Location())
}

// nextDue is NextDueFor in tx.
func nextDue(tx *bolt.Tx, replies bool) (time.Time, bool) {
	var due uint64
	found := false
	c := tx.Bucket(bucketQueue).Cursor()
	for _, p := range bands(replies) {
		k, _ := c.Seek([]byte{p})
		if k == nil || k[0] != p {
			continue
		}
		if d := queueKeyDue(k); !found || d < due {
			due, found = d, true
		}
	}
	if !found {
		return time.Time{}, false
	}
	return time.Unix(0, int64(due^(1<<63))), true
}

// claimBatch claims r.Batch messages at most, one by one as claimNext
// does, those after the first claimed ahead with the parts before them
// counted as pending. It takes no more than the senders' share of what is
// queued, so that a fan-out's tail is not held by one modem.
func claimBatch(tx *bolt.Tx, r ClaimRequest, res *ClaimResult) error {
	if err := claimNext(tx, r, res); err != nil || !res.OK || r.Batch <= 1 || res.Msg.Kind != KindAlert {
		return err
	}
	n := r.Batch
	if r.Share > 1 {
		queued := int(getCount(tx.Bucket(bucketCounters), []byte(StateQueued)))
		n = min(n, 1+(queued+r.Share-1)/r.Share)
	}
	first := *res
	r.Ahead, r.alertsOnly = true, true
	r.Pending += first.Msg.Parts
	for len(first.More)+1 < n {
		next := ClaimResult{Finished: first.Finished}
		if err := claimNext(tx, r, &next); err != nil {
			return err
		}
		first.Finished = next.Finished
		if !next.OK {
			break
		}
		first.More = append(first.More, next.Msg)
		r.Pending += next.Msg.Parts
	}
	*res = first
	return nil
}

// claimNext is the claim of ClaimNext in tx: replies held past their
// share (of the day's cap, always; of the rate, while an alert is due),
// then the first message due by now (or by its due time when it comes
// within the lead), then daily_cap.
func claimNext(tx *bolt.Tx, r ClaimRequest, res *ClaimResult) error {
	now := r.Now
	day := append([]byte(dayKey(now)), r.Modem...)
	hold, until := false, time.Time{}
	if b := tx.Bucket(bucketReplyPartsDay); int(getCount(b, day))+r.PendingReply >= r.ReplyCap {
		hold, until = true, midnight(now)
	} else if due, ok := nextDue(tx, false); ok && !due.After(now) {
		res.Compete = true
		if !r.ReplyRateOK {
			hold, until = true, now.Add(max(r.ReplyWait, 10*time.Millisecond))
		}
	}
	replies := !hold && !r.alertsOnly
	due, ok := nextDue(tx, replies)
	lead, by := time.Duration(0), now
	if hold && (!ok || until.Before(due)) {
		due, ok = until, true // look again when replies may go
	} else {
		lead = r.Lead
	}
	if ok && due.After(by) && !due.After(by.Add(lead)) {
		by = due
	}
	if !ok || due.After(by) {
		res.Next, res.HasNext = due.Add(-lead), ok
		return nil
	}
	next, found, err := dueUnsuppressed(tx, by, replies, now, func(m Message) { res.noteDone(tx, m.AlertID) })
	if err != nil || !found {
		// Nothing due but messages to numbers that sent STOP, now
		// suppressed: the queue changed, look again.
		res.Again = err == nil
		return err
	}
	used := int(getCount(tx.Bucket(bucketPartsPerDay), day)) + r.Pending
	if used+next.Parts > r.DailyCap {
		res.CapReached, res.Used = true, used
		return nil
	}
	m, err := transitionFrom(tx, next, StateSending, now, func(m *Message) {
		if r.Ahead {
			m.Ahead = true // counted when its send begins
		} else {
			m.Attempts++
		}
		m.Modem = r.Modem
	})
	if err != nil {
		return err
	}
	res.Msg, res.OK = m, true
	return nil
}
