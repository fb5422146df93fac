package gateway

import (
	"errors"
	"sync"
	"time"

	"vigie/store"
)

// A sender on a fast modem records its SMS sent in batches, so that many
// share one commit (issue #15: an SD card wears by the page, and a commit
// rewrites a dozen). What keeps this safe is its send log
// (store.SendLog): the beginning of each send and each SMS sent are in it
// before the next step, so a killed daemon knows at its next start which
// message was at the modem. The batch is sized to what the modem sends in
// batchWindow, at most maxBatch: a real modem, a second or more per SMS,
// still records each SMS as it goes.
const (
	maxBatch    = 32
	batchWindow = time.Second
	// flushEvery bounds how long an SMS sent waits for its record, for
	// what the operator reads (alert progress, status).
	flushEvery = time.Second
)

// unrecorded holds the SMS a sender saw go out that no commit recorded
// yet. The sender's next step takes them, or the receiver, when a status
// report is about one of them.
type unrecorded struct {
	mu    sync.Mutex
	sents []store.Sent
	since time.Time // real time the oldest came
}

func (u *unrecorded) add(s store.Sent) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.sents) == 0 {
		u.since = time.Now()
	}
	u.sents = append(u.sents, s)
}

// take empties the ledger and returns what it held.
func (u *unrecorded) take() []store.Sent {
	u.mu.Lock()
	defer u.mu.Unlock()
	s := u.sents
	u.sents = nil
	return s
}

// due says whether the SMS held should be recorded now: many, or one
// waiting for flushEvery.
func (u *unrecorded) due() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.sents) >= maxBatch || len(u.sents) > 0 && time.Since(u.since) >= flushEvery
}

// putBack returns sents, which a commit did not record, ahead of what
// came since.
func (u *unrecorded) putBack(sents []store.Sent) {
	if len(sents) == 0 {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.sents) == 0 {
		u.since = time.Now()
	}
	u.sents = append(sents, u.sents...)
}

func (u *unrecorded) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.sents)
}

// batchSize is how many messages the sender claims at once: what it sends
// in batchWindow at the modem's last measured pace and within its rate
// (a modem held back by its rate must not hold messages the others could
// send), one while the pace is not known or without a send log (or with
// one broken by a failed write).
func (w *worker) batchSize() int {
	if !w.logUsable() || w.sendTime <= 0 {
		return 1
	}
	byRate := w.limiter.Tokens() + float64(w.limiter.Limit())*batchWindow.Seconds()
	return max(1, min(maxBatch, int(batchWindow/w.sendTime), int(byRate)))
}

// beginLogged begins msg, claimed ahead, in the send log rather than by a
// commit: false if it cannot (no log, too many parts, a write error) or
// the database says it must not go (withdrawn, STOP): the caller then
// begins it by a commit, which also withdraws it if it must.
func (w *worker) beginLogged(msg store.Message) bool {
	if !w.logUsable() || msg.Parts > store.SendLogMaxRefs {
		return false
	}
	if err := w.sendLog.Begun(msg); errors.Is(err, store.ErrWithdrawn) {
		// Its alert is being cancelled: the commit that begins it waits
		// for the cancellation's and says it is withdrawn.
		w.log.Info("message being withdrawn as its send begins", "id", msg.ID)
		return false
	} else if err != nil {
		w.log.Warn("send log refused a record; recording each send", "err", err)
		return false
	}
	ok, err := w.g.store.MaySend(msg)
	if err == nil && ok {
		return true
	}
	if err != nil {
		w.log.Warn("check message before its send", "id", msg.ID, "err", err)
	}
	w.forgetLogged(msg.ID)
	return false
}

// logUsable says whether the sender has a send log that takes records.
func (w *worker) logUsable() bool {
	return w.sendLog != nil && !w.sendLog.Broken()
}

// forgetLogged drops the send log's records of message id: a commit
// recorded what became of it.
func (w *worker) forgetLogged(ids ...uint64) {
	if w.sendLog == nil || len(ids) == 0 {
		return
	}
	err := w.sendLog.Settled(func(id uint64) bool {
		for _, x := range ids {
			if x == id {
				return true
			}
		}
		return false
	})
	if errors.Is(err, store.ErrSendLogBroken) {
		// Its file no longer has a header: a restart sends again, marked
		// uncertain, what this sender held. Said once: the log takes no
		// more records.
		w.log.Error("send log broken: each SMS is now recorded by its own commit", "err", err)
	} else if err != nil {
		// The records stay; the next start reads them against the
		// database, which says they are settled.
		w.log.Warn("send log not rewritten", "err", err)
	}
}

// recordPending commits the SMS sent not yet recorded (before the sender
// waits for its rate); on failure they stay for its next step.
func (w *worker) recordPending() error {
	sents := w.pending.take()
	if len(sents) == 0 {
		return nil
	}
	res, err := w.g.store.Advance(store.Step{Sents: sents, Now: w.g.now()})
	w.g.noteWrite(err)
	if err != nil {
		w.pending.putBack(sents)
		return err
	}
	w.recorded(sents, res)
	return nil
}

// recorded accounts for sents, recorded by a commit whose result is res.
func (w *worker) recorded(sents []store.Sent, res store.ClaimResult) {
	ids := make([]uint64, 0, len(sents))
	for _, s := range sents {
		ids = append(ids, s.ID)
		w.marks.settle()
	}
	for _, id := range res.Unrecorded {
		w.log.Warn("SMS sent as its alert was cancelled: left as cancelled", "id", id)
	}
	w.forgetLogged(ids...)
	for _, done := range res.Finished {
		w.g.alertDone(done)
	}
}

// applyReports records reports in one commit with the SMS sent not yet
// recorded, which they are likely about: a fan-out's reports come while
// its SMS wait for their batch's commit. On failure the SMS stay for the
// sender's next step.
func (w *worker) applyReports(reports []store.Report, now time.Time) ([]store.ReportResult, error) {
	sents := w.pending.take()
	res, err := w.g.store.Advance(store.Step{Sents: sents, Reports: reports, ReportsAt: now, Now: now})
	if err != nil {
		w.pending.putBack(sents)
		return nil, err
	}
	w.recorded(sents, res)
	return res.Reports, nil
}
