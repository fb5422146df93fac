package gateway

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"vigie/gateway/apitype"
	"vigie/gateway/config"
	"vigie/gateway/phone"
	"vigie/modem"
	"vigie/store"
)

// Timings of a worker: constants, kept together so they read as a policy.
const (
	// pollEvery: list the modem storage even without +CMTI, so an SMS whose
	// indication was missed (or arrived while we were down) is still read.
	pollEvery = time.Minute
	// probeEvery: refresh signal, registration and operator for status.
	probeEvery = 30 * time.Second
	// networkPoll: how often a sender paused for the network asks again.
	networkPoll = 3 * time.Second
	// reopenMin/reopenMax bound the backoff between attempts to open a modem.
	reopenMin = time.Second
	reopenMax = time.Minute
	// resetAfter: a modem that stopped answering, or said it is confused,
	// this many sessions in a row is reset (AT+CFUN=1,1) rather than only
	// reopened.
	resetAfter = 3
	// maxAttempts: a message that failed this many times for temporary
	// reasons is given up (alert_ttl expires it sooner if it is shorter).
	// With retryDelay's steps (1 s five times, then doubling to 10 min)
	// the tries span about 37 minutes, as the 30 s steps of old did.
	maxAttempts = 17
	// outagePause: how long the sender waits after an error that is about
	// our SIM or line rather than the message.
	outagePause = 30 * time.Second
	// inboundRetryMin/inboundRetryMax bound the backoff between attempts
	// to handle an inbound SMS whose handling failed on the database (disk
	// full): a STOP must be honoured seconds after the disk has room, not
	// at the next minute's poll.
	inboundRetryMin = time.Second
	inboundRetryMax = 5 * time.Second
	// defaultRetryBase: the first retries of a temporary failure wait this
	// long (retryDelay).
	defaultRetryBase = time.Second
	// reportWait bounds how long a status report that matched nothing
	// waits for the sender to record the SMS it may be about (a commit
	// while the next SMS is in flight, milliseconds).
	reportWait = 5 * time.Second
)

// worker owns one modem: it opens it (again, after a loss, resetting it when
// it keeps failing), sends what the outbox gives it at the modem's rate, and
// reads what the modem received.
type worker struct {
	g       *Gateway
	cfg     config.Modem
	log     *slog.Logger
	limiter *rate.Limiter
	// replies is the replies' share of the modem (SPEC §3): their own
	// bucket, at reply_share of the rate, and their part of daily_cap.
	replies      *rate.Limiter
	repliesDaily int
	wakeCh       chan struct{}

	mu     sync.Mutex // guards health and state
	health apitype.ModemStatus
	state  modemState // health.State is its API name

	// beat is stamped by run and the sender, recvBeat by the receiver,
	// for the watchdog (watchdog.go).
	beat, recvBeat heartbeat

	clockNext time.Duration // when to read the network's time again (clock.go); owned by probe's caller

	// sendTime is how long the modem's last answered attempt took per
	// part, on the real clock (0 until one was answered); owned by the
	// sender (send, deliver).
	sendTime time.Duration

	// marks lets a status report wait for the record of its SMS, which the
	// sender writes while the next one is in flight.
	marks marks

	// sendLog holds the sends begun and the SMS sent since the last
	// commit (pending.go); nil when it could not be opened: every send is
	// then begun and recorded by a commit. Opened by run.
	sendLog *store.SendLog
	// pending is the SMS sent not yet recorded.
	pending unrecorded
}

// A sender faster than the reader of the modem's storage (a modem that
// takes an SMS in milliseconds) fills it with the fan-out's status
// reports, and a full storage drops them: past unreadHigh entries
// announced and not yet read (or read and not yet deleted), the next SMS
// waits, at most unreadWait, for the reader to bring them down to
// unreadLow (unreadLimits). Real modems, which take a second or more per
// SMS, never wait here.
const unreadWait = 2 * time.Second

// unreadLimits are unreadHigh and unreadLow for a storage of capacity
// entries (modem.Capacity; 0 unknown): half of it may wait to be read, the
// other half is room for the reports of SMS already out and not yet
// announced. Bounded by the 32 announcements the modem package follows
// one by one.
func unreadLimits(capacity int) (high, low int) {
	if capacity <= 0 {
		return 8, 2
	}
	high = min(max(capacity/2, 2), 32)
	return high, max(high/4, 1)
}

// letReaderCatchUp holds the next SMS while m's storage fills (see
// unreadLimits).
func (w *worker) letReaderCatchUp(ctx context.Context, m *modem.Modem) {
	unreadHigh, unreadLow := unreadLimits(m.Capacity())
	if m.Unread() < unreadHigh {
		return
	}
	limit := time.NewTimer(unreadWait)
	defer limit.Stop()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for m.Unread() > unreadLow {
		select {
		case <-ctx.Done():
			return
		case <-limit.C:
			w.log.Debug("storage still full after waiting for the reader", "unread", m.Unread())
			return
		case <-tick.C:
		}
	}
}

// marks counts the SMS this worker sent and those recorded as sent: a
// status report that matched nothing while some are not yet recorded is
// tried again once they are (retryUnmatched).
type marks struct {
	mu       sync.Mutex
	sent     uint64
	recorded uint64
	changed  chan struct{} // closed and replaced at every record
}

// returned counts an SMS the modem took.
func (k *marks) returned() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.sent++
}

// settle counts the oldest SMS sent as recorded (or given up on).
func (k *marks) settle() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.recorded < k.sent {
		k.recorded++
	}
	if k.changed != nil {
		close(k.changed)
		k.changed = nil
	}
}

// wait waits until every SMS sent so far is recorded, ctx ends or limit
// passes; false if nothing was pending.
func (k *marks) wait(ctx context.Context, limit time.Duration) bool {
	k.mu.Lock()
	target := k.sent
	if k.recorded >= target {
		k.mu.Unlock()
		return false
	}
	k.mu.Unlock()
	t := time.NewTimer(limit)
	defer t.Stop()
	for {
		k.mu.Lock()
		if k.recorded >= target {
			k.mu.Unlock()
			return true
		}
		if k.changed == nil {
			k.changed = make(chan struct{})
		}
		ch := k.changed
		k.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return true
		case <-t.C:
			return true
		}
	}
}

func newWorker(g *Gateway, mc config.Modem) *worker {
	// Every SMS part takes one token: rate_per_minute parts per minute,
	// with at most burst parts back to back.
	lim := rate.NewLimiter(rate.Limit(mc.RatePerMinute/60), max(mc.Burst, 1))
	share := g.cfg.Keywords.ReplyShare
	return &worker{
		g:       g,
		cfg:     mc,
		log:     g.log.With("component", "modem", "modem", mc.Name),
		limiter: lim,
		replies: rate.NewLimiter(rate.Limit(mc.RatePerMinute*share/60), 1),
		// At least one part, or a tiny daily_cap would silence replies.
		repliesDaily: max(int(float64(mc.DailyCap)*share), 1),
		wakeCh:       make(chan struct{}, 1),
		health:       apitype.ModemStatus{Name: mc.Name, Device: mc.Device, State: apitype.ModemStarting, Since: g.now()},
	}
}

func (w *worker) wake() {
	select {
	case w.wakeCh <- struct{}{}:
	default:
	}
}

// status is the health snapshot, a copy.
func (w *worker) status() apitype.ModemStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.health
}

func (w *worker) update(f func(h *apitype.ModemStatus)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f(&w.health)
}

// setState records a state change (and when it happened) for status and LED.
func (w *worker) setState(state modemState) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.setStateLocked(state)
}

// setStateLocked is setState with w.mu held.
func (w *worker) setStateLocked(state modemState) {
	if w.state != state || w.health.State != state.api() {
		w.state = state
		w.health.State, w.health.Since = state.api(), w.g.now()
	}
}

// control is the worker's control state.
func (w *worker) control() modemState {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.state
}

func (w *worker) fail(err error) {
	w.update(func(h *apitype.ModemStatus) {
		h.LastError = err.Error()
		h.LastErrorAt = w.g.now()
		h.LastErrorKind = errorKind(err)
		if errors.Is(err, modem.ErrTimeout) {
			h.Timeouts++
		}
	})
}

// forgetLive clears what only an open modem can say (SIM, signal,
// network, storage): once the session ends they are no longer true, and a
// status showing them would send the technician after the wrong cause.
// ProbedAt keeps when they were last read.
func (w *worker) forgetLive() {
	w.update(func(h *apitype.ModemStatus) {
		h.SIM, h.SignalDBm, h.SignalBars, h.Registration, h.Operator = "", 0, 0, "", ""
		h.StorageUsed, h.StorageTotal = 0, 0
	})
}

// errorKind classifies a modem error for the technician (apitype.ErrKind*).
func errorKind(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return apitype.ErrKindNoDevice
	case errors.Is(err, fs.ErrPermission):
		return apitype.ErrKindPermission
	case errors.Is(err, modem.ErrPortBusy):
		return apitype.ErrKindPortBusy
	case errors.Is(err, modem.ErrSIMLocked):
		return apitype.ErrKindSIMLocked
	case errors.Is(err, modem.ErrTimeout):
		return apitype.ErrKindTimeout
	case modem.IsClosed(err):
		return apitype.ErrKindClosed
	case errors.Is(err, modem.ErrBadResponse):
		return apitype.ErrKindBadResponse
	case modem.IsCode(err):
		return apitype.ErrKindNetwork
	}
	return apitype.ErrKindOther
}

// ending says why a session with an open modem ended.
type ending int

const (
	endShutdown     ending = iota // the daemon stops
	endLost                       // the port closed under us: unplugged, rebooted
	endUnresponsive               // a command timed out: the modem may be hung
	endConfused                   // the modem reported it is in a bad state (ME failure)
	endSIM                        // the SIM went away or asks for a PIN again
)

// run opens the modem and serves it until ctx ends, reopening it with
// backoff whenever it is lost, and resetting it when it keeps failing.
func (w *worker) run(ctx context.Context) {
	defer w.setState(stateStopped)
	defer w.beat.park()
	if l, err := w.g.store.OpenSendLog(w.cfg.Name); err != nil {
		w.log.Warn("no send log: each SMS is recorded by its own commit", "err", err)
	} else {
		w.sendLog = l
		defer func() {
			if err := l.Close(); err != nil {
				w.log.Warn("close send log", "err", err)
			}
		}()
	}
	backoff := reopenMin
	strikes := 0 // sessions in a row that ended with the modem hung or confused
	var usb usbRung
	for opened := false; ctx.Err() == nil; opened = true {
		w.beat.stamp(w.g.mono())
		if opened {
			w.update(func(h *apitype.ModemStatus) { h.Reopens++ })
		}
		m, err := w.open()
		if err != nil {
			w.log.Error("cannot open modem", "device", w.cfg.Device, "err", err)
			w.fail(err)
			w.setState(openFailureState(err))
			if errors.Is(err, modem.ErrSIMLocked) {
				// Opening again would enter the same PIN again: three wrong
				// tries lock the SIM behind its PUK. A person must look.
				w.log.Error("SIM locked: not retrying; fix the PIN and restart vigie", "device", w.cfg.Device)
				for w.g.pause(ctx, &w.beat, time.Hour) { // waiting for a person is no hang
				}
				return
			}
			if usb.openFailed(err, w.g.monoTime()) {
				w.resetUSB(&usb)
				backoff = reopenMin // a fresh start: look for it again soon
			}
			if !w.g.pause(ctx, &w.beat, backoff) {
				return
			}
			backoff = min(backoff*2, reopenMax)
			continue
		}
		w.opened(&usb)
		id := m.Identity()
		w.log.Info("modem ready", "device", w.cfg.Device, "manufacturer", id.Manufacturer, "model", id.Model, "firmware", id.Revision)
		w.update(func(h *apitype.ModemStatus) {
			h.Manufacturer, h.Model, h.Firmware, h.IMEI, h.SMSC = id.Manufacturer, id.Model, id.Revision, id.IMEI, id.SMSC
		})
		began := w.g.mono()
		why, sent := w.serve(ctx, m)
		w.forgetLive()
		switch {
		case why == endUnresponsive || why == endConfused:
			strikes++
		case sent || w.g.mono()-began > reopenMax:
			strikes, backoff = 0, reopenMin
			usb.worked()
		}
		if ctx.Err() == nil && strikes >= resetAfter && usb.cfun {
			// AT+CFUN=1,1 did not help either: the last rung.
			strikes, backoff = 0, reopenMin
			m.Close()
			w.resetUSB(&usb)
			if !w.g.pause(ctx, &w.beat, reopenMin) {
				return
			}
			continue
		}
		if ctx.Err() == nil && strikes >= resetAfter {
			// Reopening did not help: restart the modem itself. Its device
			// node vanishes and comes back (maybe as another ttyUSB behind
			// the same udev symlink), which the reopen backoff waits for,
			// from its start: the modem is fresh.
			strikes, backoff = 0, reopenMin
			w.log.Warn("modem keeps failing; resetting it (AT+CFUN=1,1)", "device", w.cfg.Device)
			w.setState(stateResetting)
			w.update(func(h *apitype.ModemStatus) { h.Resets++ })
			usb.cfunSent(w.g.monoTime())
			if err := m.Reset(); err != nil {
				w.log.Warn("modem reset", "err", err)
				w.fail(err)
			}
			m.Close()
			if !w.g.pause(ctx, &w.beat, reopenMin) {
				return
			}
			continue
		}
		m.Close()
		if ctx.Err() != nil {
			return
		}
		w.setState(stateStarting)
		if strikes == 0 {
			w.log.Warn("modem lost; reopening", "device", w.cfg.Device)
		} else {
			w.log.Warn("modem hung or confused; reopening", "device", w.cfg.Device, "in", backoff, "strikes", strikes)
			// Hung or confused: do not hammer it; a session that sent
			// something resets the backoff.
			if !w.g.pause(ctx, &w.beat, backoff) {
				return
			}
			backoff = min(backoff*2, reopenMax)
		}
	}
}

// openFailureState names what a failed open means for the technician.
func openFailureState(err error) modemState {
	switch {
	case errors.Is(err, modem.ErrSIMLocked):
		return stateSIMLocked
	case errors.Is(err, modem.ErrTimeout):
		return stateNoAnswer
	}
	return stateFault
}

func (w *worker) open() (*modem.Modem, error) {
	pin := w.cfg.PIN
	if w.cfg.PINFile != "" {
		b, err := os.ReadFile(w.cfg.PINFile)
		if err != nil {
			return nil, fmt.Errorf("read PIN file: %w", err)
		}
		pin = strings.TrimSpace(string(b))
	}
	return modem.Open(modem.Config{
		Name:           w.cfg.Name,
		Device:         w.cfg.Device,
		Baud:           w.cfg.Baud,
		PIN:            pin,
		CommandTimeout: w.cfg.CommandTimeout,
		SendTimeout:    w.cfg.SendTimeout,
		Validity:       w.g.cfg.SMS.AlertTTL,
		Logger:         w.log,
	})
}

// session is one open modem's lifetime: the receiver and the sender end it,
// the first one saying why.
type session struct {
	ctx    context.Context
	cancel context.CancelFunc
	once   sync.Once
	why    ending
	sent   atomic.Bool // at least one SMS went out: the modem works
}

func (s *session) end(why ending) {
	s.once.Do(func() { s.why = why })
	s.cancel()
}

// serve runs the receiver and the sender on an open modem until ctx ends or
// the session does, and says why it ended and whether anything was sent.
func (w *worker) serve(parent context.Context, m *modem.Modem) (ending, bool) {
	ctx, cancel := context.WithCancel(parent)
	s := &session{ctx: ctx, cancel: cancel}
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-m.Done():
			s.end(endLost)
		case <-parent.Done():
			// Closing the port is the only way to cut a pending AT command
			// short (the driver has no context): shutdown does not wait for
			// a +CMGS to time out.
			m.Close()
		case <-ctx.Done():
			// The session ended on its own: the port stays open, the caller
			// may still reset the modem through it.
		}
	}()
	if err := w.probe(m); err != nil && errors.Is(err, modem.ErrTimeout) {
		s.end(endUnresponsive)
	}

	wg.Add(1)
	go func() {
		defer wg.Done()
		w.receive(s, m)
	}()
	w.send(s, parent, m)
	s.end(endShutdown)
	wg.Wait()
	return s.why, s.sent.Load()
}

// probe refreshes the health snapshot: SIM, signal, registration, operator
// and storage. It says (by error) when the modem did not answer.
func (w *worker) probe(m *modem.Modem) error {
	simState, err1 := m.SIMState()
	sig, err2 := m.Signal()
	reg, err3 := m.Registration()
	op, err4 := m.Operator()
	stor, err5 := m.Storage()
	err := errors.Join(err1, err2, err3, err4, err5)
	if err != nil {
		w.log.Warn("modem probe", "err", err)
		w.fail(err)
	}
	w.mu.Lock()
	func(h *apitype.ModemStatus) {
		if err1 == nil || err2 == nil || err3 == nil || err4 == nil || err5 == nil {
			h.ProbedAt = w.g.now()
		}
		if err1 == nil {
			h.SIM = simState
		}
		if err2 == nil {
			h.SignalDBm, h.SignalBars = sig.DBm, sig.Bars
		}
		if err3 == nil {
			h.Registration = reg.String()
		}
		if err4 == nil {
			h.Operator = op
		}
		if err5 == nil {
			h.StorageUsed, h.StorageTotal = stor.Used, stor.Total
		}
		// The probe speaks for the modem and the network only: a sender's
		// own pause (send-blocked, daily-cap) is left to the sender.
		switch {
		case err3 == nil && !reg.Registered():
			w.setStateLocked(stateNoNetwork)
		case w.state != stateReady && w.state != stateSendBlocked && w.state != stateDailyCap:
			w.setStateLocked(stateReady)
		}
	}(&w.health)
	w.mu.Unlock() // checkClock takes it again
	return errors.Join(err, w.checkClock(m, err3 == nil && reg.Registered()))
}

// receive reads the modem storage at start, on every arrival and every
// minute, and probes the modem's health now and then. An SMS it could not
// save (left in the modem) or not handle (saved, unprocessed) arms a retry,
// sooner than the poll, until the database takes it.
func (w *worker) receive(s *session, m *modem.Modem) {
	poll := time.NewTicker(pollEvery)
	defer poll.Stop()
	probe := time.NewTicker(probeEvery)
	defer probe.Stop()
	retry := time.NewTimer(inboundRetryMin)
	retry.Stop()
	defer retry.Stop()
	backoff := inboundRetryMin
	// again arms the retry while something is left, with backoff, and
	// forgets the backoff once all is handled.
	again := func(left bool) {
		if !left {
			backoff = inboundRetryMin
			return
		}
		retry.Reset(backoff)
		backoff = min(backoff*2, inboundRetryMax)
	}
	defer w.recvBeat.park()
	w.recvBeat.stamp(w.g.mono())
	again(w.readStored(s, m))
	var lastPass time.Time // when the last reading of announced entries ended (real clock)
	for {
		w.recvBeat.stamp(w.g.mono())
		select {
		case <-s.ctx.Done():
			return
		case <-m.Arrivals():
			// The announced entries alone; a listing only when one cannot
			// be followed (ReceiveAnnounced).
			pile(s.ctx, m, lastPass)
			again(w.readAnnounced(s, m))
			lastPass = time.Now()
		case <-retry.C:
			left := w.readStored(s, m)
			again(w.unhandled() || left)
		case <-poll.C:
			left := w.readStored(s, m)
			// An SMS saved but not handled (database error) is retried here
			// too, not only at the next start: it may be a STOP.
			again(w.unhandled() || left)
		case <-probe.C:
			if err := w.probe(m); errors.Is(err, modem.ErrTimeout) {
				s.end(endUnresponsive)
				return
			}
		}
	}
}

// A fan-out's reports arrive one after the other; read as they come,
// each pass would commit one. When the previous pass ended less than
// pileRecent ago, the reader lets them pile up for at most pileMax (an
// inbound SMS, a STOP, waits no longer than that), or until half the
// storage waits (unreadLimits: the sender then waits for the reader), so
// that one commit records several.
const (
	pileRecent = 250 * time.Millisecond
	pileMax    = 30 * time.Millisecond
)

// pile waits before a pass while arrivals come close together (see
// pileRecent). The real clock: a stepped or frozen engine clock says
// nothing of the modem's pace.
func pile(ctx context.Context, m *modem.Modem, lastPass time.Time) {
	if lastPass.IsZero() || time.Since(lastPass) > pileRecent {
		return
	}
	high, _ := unreadLimits(m.Capacity())
	limit := time.NewTimer(pileMax)
	defer limit.Stop()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for m.Unread() < high {
		select {
		case <-ctx.Done():
			return
		case <-limit.C:
			return
		case <-tick.C:
		}
	}
}

// unhandled handles the SMS saved but not handled (by this worker, another
// one, or a previous run); true if some are still left.
func (w *worker) unhandled() bool {
	left, err := w.g.processUnhandled()
	if err != nil {
		// Reading failed, not writing: the poll tries again.
		w.log.Error("inbound SMS left unhandled", "err", err)
	}
	return left > 0
}

// errNotBegun stops a send whose beginning the store did not record: no
// PDU goes out unless the store says it may have.
var errNotBegun = errors.New("send not begun: the store did not record it")

// errInboundKept marks the failure to save an SMS read from the modem: it
// stays in the modem and is read again at the retry (logged by
// handleStored).
var errInboundKept = errors.New("inbound SMS kept in the modem")

// readStored reads and handles what the modem stores; true if the disk
// refused an SMS, which is left for a retry: not saved (still in the
// modem) or saved but not handled.
func (w *worker) readStored(s *session, m *modem.Modem) (left bool) {
	return w.readWith(s, m, m.ReceiveStored)
}

// readAnnounced is readStored for the entries +CMTI and +CDSI announced.
func (w *worker) readAnnounced(s *session, m *modem.Modem) (left bool) {
	return w.readWith(s, m, func(handle func(modem.Received) error) (int, error) {
		n, _, err := m.ReceiveAnnounced(handle)
		return n, err
	})
}

// readWith is readStored with read as the way to read the modem. The
// status reports read in the pass are kept in the modem, recorded in one
// commit at its end, and only then deleted (flash wear: one commit per
// pass, not per report); a disk that refuses them leaves them in the modem,
// read again at the retry. Inbound SMS are handled one by one, as read.
func (w *worker) readWith(s *session, m *modem.Modem, read func(func(modem.Received) error) (int, error)) (left bool) {
	var reports []store.Report
	_, err := read(func(r modem.Received) error {
		if r.Report != nil {
			reports = append(reports, w.storeReport(*r.Report))
			return modem.ErrDeleteLater
		}
		err := w.handleStored(s.ctx, r)
		left = left || store.IsDiskFault(err)
		if errors.Is(err, errInboundKept) {
			return err // not saved: the modem keeps it
		}
		return nil // saved: if its handling failed, it is retried from the store
	})
	if len(reports) > 0 {
		switch rerr := w.recordReports(s.ctx, reports); {
		case rerr != nil:
			m.ReleaseKept()
			left = left || store.IsDiskFault(rerr)
		case errors.Is(err, modem.ErrTimeout) || errors.Is(err, modem.ErrClosed):
			// The session is over: the next one reads them again, and the
			// store absorbs a report already recorded.
		default:
			if _, derr := m.DeleteKept(); derr != nil {
				err = errors.Join(err, derr)
			}
		}
	}
	if err == nil {
		return left
	}
	if !errors.Is(err, errInboundKept) { // handleStored logged those
		w.log.Warn("read stored SMS", "err", err)
		w.fail(err)
	}
	switch {
	case errors.Is(err, modem.ErrTimeout):
		// A late answer would be taken for the next command's: start over.
		s.end(endUnresponsive)
	case errors.Is(err, modem.ErrClosed):
		s.end(endLost)
	}
	return left
}

// handleStored commits one SMS read from the modem; the modem deletes it
// only if the error wraps no errInboundKept (it is then saved). The error
// is the save's, or, the SMS saved, that of applying its effect: the SMS
// then waits, unprocessed, for the retry.
func (w *worker) handleStored(ctx context.Context, r modem.Received) error {
	now := w.g.now()
	if r.Report != nil {
		return w.handleReport(ctx, *r.Report, now)
	}
	part := store.InboundPart{
		Key: r.Key, From: r.From, FromKind: string(r.FromKind), SCTS: r.SCTS,
		ConcatRef: r.ConcatRef, Total: r.Total, Seq: r.Seq,
		Text: r.Text, ReceivedAt: now, Window: w.g.cfg.SMS.ConcatWindow,
	}
	if r.Err != nil {
		// Kept, not dropped: an operator can still read the raw PDU.
		// The error quotes the PDU, whose sender address is the number in
		// swapped digits: debug only, the operator has the whole PDU in
		// the inbox.
		w.log.Warn("undecodable SMS kept in the inbox", "index", r.Index)
		w.log.Debug("undecodable SMS", "index", r.Index, "err", r.Err)
		part.Total, part.Seq = 1, 1
		part.Text = "(SMS illisible, PDU : " + r.PDU + ")"
	}
	if part.Total <= 1 {
		kept, err := w.receiveSingle(part)
		if kept || err == nil {
			return err
		}
		// Refused by the store's rules, not the disk: saved alone below, it
		// waits unprocessed, as an SMS whose handling failed always did.
	}
	in, dup, err := w.g.store.SaveInboundPart(part)
	if err != nil {
		level := slog.LevelError
		if w.g.noteWrite(err) {
			level = slog.LevelDebug // the fault is reported; this is a retry
		}
		w.log.Log(context.Background(), level, "inbound SMS not saved; left in the modem, read again later",
			"from", phone.Mask(r.From), "index", r.Index, "err", err)
		return fmt.Errorf("%w: save: %w", errInboundKept, err)
	}
	if !dup { // a duplicate wrote nothing: it proves nothing about the disk
		w.g.noteWrite(nil)
	}
	w.update(func(h *apitype.ModemStatus) { h.Received++ })
	if dup || in == nil {
		return nil
	}
	return w.g.handleInbound(*in)
}

// receiveSingle saves a single-part SMS and applies its effect in one
// transaction (store.ReceiveInbound): the common case, one commit. Nothing
// is written when it fails, so the SMS stays in the modem: kept says so for
// a disk fault (err wraps errInboundKept, read again at the retry); any
// other error is for the caller to save the SMS alone.
func (w *worker) receiveSingle(part store.InboundPart) (kept bool, err error) {
	e := w.g.effect(store.Single(part))
	in, applied, dup, err := w.g.store.ReceiveInbound(part, e, w.g.now())
	if err != nil {
		if !store.IsDiskFault(err) {
			w.log.Debug("inbound SMS not applied with its save; saved alone", "err", err)
			return false, err
		}
		level := slog.LevelError
		if w.g.noteWrite(err) {
			level = slog.LevelDebug // the fault is reported; this is a retry
		}
		w.log.Log(context.Background(), level, "inbound SMS not saved; left in the modem, read again later",
			"from", phone.Mask(part.From), "err", err)
		return true, fmt.Errorf("%w: save: %w", errInboundKept, err)
	}
	if !dup { // a duplicate wrote nothing: it proves nothing about the disk
		w.g.noteWrite(nil)
	}
	w.update(func(h *apitype.ModemStatus) { h.Received++ })
	if !dup {
		w.g.handled(in, applied)
	}
	return false, nil
}

// handleReport matches a status report to the message part it is about
// (modem, reference, recipient, time window) and records the outcome; the
// error wraps errInboundKept when it was not recorded.
func (w *worker) handleReport(ctx context.Context, r modem.StatusReport, now time.Time) error {
	if err := w.recordReports(ctx, []store.Report{w.storeReport(r)}); err != nil {
		return fmt.Errorf("%w: apply status report: %w", errInboundKept, err)
	}
	return nil
}

// storeReport is r as the store matches it, from this worker's modem.
func (w *worker) storeReport(r modem.StatusReport) store.Report {
	return store.Report{
		Modem: w.cfg.Name, Ref: r.Ref, Recipient: r.Recipient,
		Status: r.Status, SCTS: r.SCTS, Discharge: r.Discharge,
	}
}

// recordReports matches status reports to the message parts they are
// about and records the outcomes, in one commit (store.ApplyReports), the
// reports that matched nothing tried again once (retryUnmatched). A
// refusal is logged here.
func (w *worker) recordReports(ctx context.Context, reports []store.Report) error {
	now := w.g.now()
	res, err := w.applyReports(reports, now)
	if err == nil {
		res, err = w.retryUnmatched(ctx, reports, res, now)
	}
	if err != nil {
		level := slog.LevelError
		if w.g.noteWrite(err) {
			level = slog.LevelDebug // the fault is reported; this is a retry
		}
		w.log.Log(context.Background(), level, "status reports not recorded; left in the modem, read again later",
			"reports", len(reports), "err", err)
		return err
	}
	w.g.noteWrite(nil)
	w.update(func(h *apitype.ModemStatus) { h.Reports += len(reports) })
	for i, r := range reports {
		if !res[i].Matched {
			w.log.Info("status report matches no message", "ref", r.Ref, "to", phone.Mask(r.Recipient), "status", r.Status)
			continue
		}
		// No alertProgress here: the alert finished when its last message
		// left the queue; a report changes sent into delivered or failed,
		// and must not log the end of the alert once more per report.
		w.log.Debug("status report", "id", res[i].Msg.ID, "ref", r.Ref, "status", r.Status, "state", res[i].Msg.State)
	}
	return nil
}

// retryUnmatched applies once more the reports that matched nothing, once
// the SMS sent so far are recorded: the sender records an SMS as sent
// while the next one is in flight, and a quick report may come before that
// record. It returns res with their new results.
func (w *worker) retryUnmatched(ctx context.Context, reports []store.Report, res []store.ReportResult, now time.Time) ([]store.ReportResult, error) {
	var again []int
	for i := range res {
		if !res[i].Matched {
			again = append(again, i)
		}
	}
	if len(again) == 0 || !w.marks.wait(ctx, reportWait) {
		return res, nil
	}
	retry := make([]store.Report, len(again))
	for j, i := range again {
		retry[j] = reports[i]
	}
	got, err := w.g.store.ApplyReports(retry, now)
	if err != nil {
		return nil, err
	}
	for j, i := range again {
		res[i] = got[j]
	}
	return res, nil
}

// ahead is the sender's pipeline: the messages claimed for the next sends
// while the current one is in flight (so the modem never waits for the
// store between two SMS). The SMS sent wait in w.pending for the
// transaction that claims the ones after.
type ahead struct {
	queue   []store.Message // claimed, not yet sent, in order
	compete bool            // the queue was claimed while an alert was due
}

// send takes messages from the outbox and sends them, one token per part,
// keeping the next one claimed while a send is in flight. s ends when the
// modem is lost or the daemon stops; shutdown only with the daemon. What
// it holds when it returns is settled: the last SMS sent is recorded, the
// message claimed ahead goes back to the queue.
func (w *worker) send(s *session, shutdown context.Context, m *modem.Modem) {
	ctx := s.ctx
	var p ahead
	defer w.settle(s, &p, "session ended before it was sent")
	for ctx.Err() == nil {
		w.beat.stamp(w.g.mono())
		if w.control() == stateNoNetwork {
			// Not registered: wait for the network without holding (and
			// so without burning attempts of) any message.
			w.settle(s, &p, "no network on modem "+w.cfg.Name)
			if !w.waitNetwork(s, m) {
				return
			}
			continue
		}
		if len(p.queue) == 0 {
			// Nothing claimed ahead: the token comes before the message, so
			// that a message never waits in "sending" on the limiter. The
			// SMS sent do not wait for it to be recorded.
			if w.limiter.Tokens() < 1 && w.pending.count() > 0 {
				if err := w.recordPending(); err != nil {
					w.log.Error("record sent messages", "err", err)
				}
			}
			if !w.tokenReady(ctx) {
				return
			}
			res, _, err := w.advance(s, &p, 0, w.claimRequest(nil))
			if err != nil {
				w.log.Error("claim next message", "err", err)
				w.fail(err)
				if !w.g.pause(ctx, &w.beat, time.Second) {
					return
				}
				continue
			}
			switch {
			case res.CapReached:
				w.capReached(s, res.Used)
				continue
			case res.Again:
				continue
			case !res.OK:
				w.idle(ctx, res.Next, res.HasNext)
				continue
			}
		}
		if len(p.queue) > 0 && w.woken() {
			// Something was queued since the batch was claimed: a reply
			// goes ahead of the alert messages claimed with it.
			w.claimInFront(s, &p)
		}
		msg, compete := p.queue[0], p.compete
		p.queue = p.queue[1:]
		if w.expired(msg) {
			continue
		}
		if msg.Kind == store.KindReply && compete {
			for range msg.Parts { // debt past the burst delays the next reply
				w.replies.Reserve()
			}
		}
		pause, why := w.deliver(s, shutdown, m, &p, msg)
		if why != endShutdown {
			s.end(why)
			return
		}
		if pause > 0 {
			w.settle(s, &p, "modem "+w.cfg.Name+" paused")
			if !w.g.pause(ctx, &w.beat, pause) {
				return
			}
		}
	}
}

// woken takes a wake-up (something was queued, or given back by another
// sender) if there is one.
func (w *worker) woken() bool {
	select {
	case <-w.wakeCh:
		return true
	default:
		return false
	}
}

// claimInFront claims the first message due, the batch held counted
// against the caps, and puts it in front of the batch: the queue's order
// (replies first) holds between the messages of a batch too. One commit,
// only when something was queued meanwhile.
func (w *worker) claimInFront(s *session, p *ahead) {
	held := p.queue
	r := w.claimRequest(nil)
	r.Batch = 1
	for _, m := range held {
		r.Pending += m.Parts
		if m.Kind == store.KindReply {
			r.PendingReply += m.Parts
		}
	}
	p.queue = nil
	_, _, err := w.advance(s, p, 0, r)
	if err != nil {
		w.log.Error("claim next message", "err", err)
		w.fail(err)
	}
	p.queue = append(p.queue, held...)
}

// claimRequest is the claim for this modem now; inFlight is the message
// being sent meanwhile (nil: none), whose parts the caps count as spent
// and whose send the lead covers.
func (w *worker) claimRequest(inFlight *store.Message) *store.ClaimRequest {
	r := &store.ClaimRequest{
		Modem: w.cfg.Name, Now: w.g.now(), Lead: w.lead(),
		DailyCap: w.cfg.DailyCap, ReplyCap: w.repliesDaily,
		ReplyRateOK: true,
		Batch:       w.batchSize(), Share: len(w.g.workers),
	}
	if inFlight != nil {
		r.Ahead = true // its attempt is counted when its send begins
		r.Pending = inFlight.Parts
		if inFlight.Kind == store.KindReply {
			r.PendingReply = inFlight.Parts
		}
		// The message claimed now goes out after the one in flight.
		r.Lead += w.sendTime * time.Duration(inFlight.Parts)
	}
	// The limiters run on the real clock (as token does), not on now,
	// which a clock correction may step.
	if tokens := w.replies.Tokens(); tokens < 1 {
		r.ReplyRateOK = false
		r.ReplyWait = time.Duration((1 - tokens) / float64(w.replies.Limit()) * float64(time.Second))
	}
	return r
}

// advance records the SMS sent not yet recorded (w.pending), the send
// begun of the message claimed ahead begun (0: none) and, if r is not nil,
// claims the next messages into p.queue, in one transaction. A disk that
// refuses the write leaves the SMS sent unrecorded: they are then recorded
// one by one, tried again every second while the session lasts
// (markSent), and nothing is claimed.
func (w *worker) advance(s *session, p *ahead, begun uint64, r *store.ClaimRequest) (res store.ClaimResult, stepped bool, err error) {
	sents := w.pending.take()
	res, err = w.g.store.Advance(store.Step{Sents: sents, Go: begun, Claim: r, Now: w.g.now()})
	if len(sents) > 0 || res.OK || err != nil {
		// Not an empty claim: a transaction that changed nothing
		// succeeds on a full disk and proves nothing.
		w.g.noteWrite(err)
	}
	if err != nil && len(sents) > 0 {
		var done []uint64
		for _, sent := range sents {
			if merr := w.markSent(s, sent.ID, sent.Refs, sent.At); merr != nil {
				// Its send log record stays: the next start records it.
				w.log.Error("record sent message", "id", sent.ID, "err", merr)
				w.fail(merr)
			} else {
				done = append(done, sent.ID)
			}
			w.marks.settle()
		}
		w.forgetLogged(done...)
		if len(done) == len(sents) {
			err = nil // recorded; the claim is asked again
			res = store.ClaimResult{Again: true}
		}
		return res, false, err
	}
	if err != nil {
		return res, false, err
	}
	w.recorded(sents, res)
	if res.OK {
		p.queue = append(append(p.queue, res.Msg), res.More...)
		p.compete = res.Compete
	}
	return res, true, nil
}

// settle records the SMS sent and gives the messages claimed ahead back to
// the queue, as if never claimed (their attempt not counted): the sender
// steps back (shutdown, modem lost, paused, no network).
func (w *worker) settle(s *session, p *ahead, why string) {
	if w.pending.count() > 0 {
		if _, _, err := w.advance(s, p, 0, nil); err != nil {
			w.log.Error("record sent message", "err", err)
		}
	}
	released := false
	for _, m := range p.queue {
		var err error
		if m.Ahead {
			err = w.g.store.ReleaseAhead(m.ID, w.g.now())
		} else {
			err = w.g.store.Release(m.ID, why, w.g.now())
		}
		w.g.noteWrite(err)
		if err != nil {
			// Left sending: the next start sends it again (RecoverSending).
			w.log.Error("release message claimed ahead", "id", m.ID, "err", err)
			continue
		}
		released = true
	}
	p.queue = nil
	if released {
		w.g.wake() // another modem may take them
	}
}

// tokenReady waits until the limiter has a token for the next part,
// without taking it (the send takes it); false if ctx ended.
func (w *worker) tokenReady(ctx context.Context) bool {
	tokens := w.limiter.Tokens()
	if tokens >= 1 {
		return true
	}
	wait := time.Duration((1 - tokens) / float64(w.limiter.Limit()) * float64(time.Second))
	return w.g.pause(ctx, &w.beat, wait)
}

// aheadWorthIt says whether to claim the next message while msg is sent:
// only if the limiter will have a token for it once msg is out; a modem
// held back by its rate would otherwise keep a message the others could
// send.
func (w *worker) aheadWorthIt(msg store.Message) bool {
	// The bucket refills during the send, past its burst when the send
	// takes its tokens first: counted by hand, not capped as TokensAt is.
	send := w.sendTime * time.Duration(msg.Parts)
	return w.limiter.Tokens()-float64(msg.Parts)+float64(w.limiter.Limit())*send.Seconds() >= 1
}

// expired expires a claimed message older than alert_ttl instead of sending
// it late (the sweep may not have run since it became too old).
func (w *worker) expired(msg store.Message) bool {
	now := w.g.now()
	if now.Sub(msg.CreatedAt) <= w.g.cfg.SMS.AlertTTL {
		return false
	}
	if err := w.g.store.MarkExpired(msg.ID, now); err != nil {
		w.log.Error("expire message", "id", msg.ID, "err", err)
		return false
	}
	w.log.Info("message expired: not sent within alert_ttl", "id", msg.ID, "to", phone.Mask(msg.To))
	if msg.AlertID != 0 {
		w.g.alertProgress(msg.AlertID)
	}
	return true
}

// capReached: the next message would pass today's daily_cap (in SMS
// parts); it stays queued for the other modems and this one waits for the
// next day.
func (w *worker) capReached(s *session, used int) {
	now := w.g.now()
	w.g.wake() // another modem may still have room
	w.log.Warn("daily_cap reached; sending again tomorrow", "cap", w.cfg.DailyCap, "used", used)
	w.setState(stateDailyCap)
	if w.g.pause(s.ctx, &w.beat, midnight(now).Sub(now)) {
		w.setState(stateReady)
	}
}

// midnight is the start of the local day after t's.
func midnight(t time.Time) time.Time {
	y, mo, d := t.Date()
	return time.Date(y, mo, d+1, 0, 0, 0, 0, t.Location())
}

// waitNetwork polls the registration until the modem is registered again;
// false if the session ended meanwhile.
func (w *worker) waitNetwork(s *session, m *modem.Modem) bool {
	if !w.g.pause(s.ctx, &w.beat, networkPoll) {
		return false
	}
	reg, err := m.Registration()
	switch {
	case errors.Is(err, modem.ErrTimeout):
		w.fail(err)
		s.end(endUnresponsive)
		return false
	case err != nil:
		w.fail(err)
	case reg.Registered():
		w.log.Info("network back; sending again", "registration", reg)
		w.update(func(h *apitype.ModemStatus) { h.Registration = reg.String() })
		w.setState(stateReady)
		w.wake()
	}
	return true
}

// lead is how far ahead of its due time the sender takes a message when
// nothing is due before it: the time of one send, at most the retry base.
// A quick retry then leaves at once rather than idle the modem at an
// alert's tail (or behind a lone reply): had another message been due, the
// retry would have waited as long behind its send, so the network sees the
// same pace. The base bounds it so that a backed-off retry, whose wait is
// for trouble that lasts, comes at most one base early.
func (w *worker) lead() time.Duration {
	return min(w.sendTime, w.g.retry)
}

// idle waits until work is queued, the next retry is due, or ctx ends.
func (w *worker) idle(ctx context.Context, due time.Time, ok bool) {
	wait := time.Hour
	if ok {
		wait = max(due.Sub(w.g.now()), 10*time.Millisecond)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	beat := time.NewTicker(beatEvery)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.wakeCh:
			return
		case <-t.C:
			return
		case <-beat.C:
			w.beat.stamp(w.g.mono())
		}
	}
}

// deliver sends one claimed message and records the outcome. As it
// begins, one transaction on a goroutine of its own (joined before the
// outcome is recorded) records the previous SMS sent, counts this one's
// attempt and claims the next message ahead (p), the token wait
// overlapping the commit. It returns how long the sender should pause (our
// SIM or line refuses SMS, not this message), and why the session must end
// (endShutdown: it need not).
func (w *worker) deliver(s *session, shutdown context.Context, m *modem.Modem, p *ahead, msg store.Message) (time.Duration, ending) {
	var r *store.ClaimRequest
	if len(p.queue) == 0 && w.aheadWorthIt(msg) {
		r = w.claimRequest(&msg)
	}
	// A message claimed ahead has its attempt counted by the step below,
	// with the SMS before it recorded and the next one claimed ahead. Its
	// first part waits for that commit (gate): once a PDU may be out, the
	// store must say so, or a kill -9 then would have it sent twice
	// without its attempt counted. The token wait overlaps the commit.
	// With a send log, its beginning is written there instead, and the
	// commit waits for the batch's end.
	var begun uint64
	var gate chan bool
	logged := false
	if msg.Ahead {
		logged = w.beginLogged(msg)
		if !logged {
			begun, gate = msg.ID, make(chan bool, 1)
		}
		msg.Attempts++
		msg.Ahead = false
	}
	withdrawn := false    // read after bg.Wait
	var bg sync.WaitGroup // the store's work meanwhile: owned here, joined below
	if r != nil || begun != 0 || w.pending.due() {
		bg.Go(func() {
			res, stepped, err := w.advance(s, p, begun, r)
			if err != nil {
				w.log.Error("claim next message", "err", err)
				w.fail(err)
			}
			withdrawn = res.Withdrawn
			if gate != nil {
				gate <- stepped && !res.Withdrawn
			}
		})
	}
	// The modem's time is measured on the real clock, as the limiters
	// run: the engine's clock may be stepped, or frozen by a test.
	began := time.Now()
	refs, err := m.Send(msg.To, msg.Text, func() error {
		if err := w.token(s.ctx, &w.beat); err != nil {
			return err
		}
		w.letReaderCatchUp(s.ctx, m)
		if gate != nil {
			stepped := <-gate
			gate = nil
			if !stepped {
				return errNotBegun
			}
		}
		return nil
	})
	took := time.Since(began)
	now := w.g.now()
	if err == nil {
		w.marks.returned()
		// Every SMS sent goes in the log, whichever way its send began:
		// until committed, the log is what says it left.
		if w.logUsable() && len(refs) <= store.SendLogMaxRefs {
			if lerr := w.sendLog.Sent(msg, refs, now); lerr != nil {
				w.log.Warn("send log refused a record", "id", msg.ID, "err", lerr)
			}
		}
		w.pending.add(store.Sent{ID: msg.ID, Refs: refs, At: now})
	}
	bg.Wait()
	if errors.Is(err, errNotBegun) && withdrawn {
		w.log.Info("message withdrawn before its send: alert cancelled, or the number sent STOP", "id", msg.ID)
		return 0, endShutdown
	}
	if errors.Is(err, errNotBegun) {
		// Nothing went out; the message is still claimed ahead in the
		// store: back to the queue (or, if the disk refuses that too, to
		// RecoverSending at the next start).
		if rerr := w.g.store.ReleaseAhead(msg.ID, now); rerr != nil {
			w.log.Error("release message claimed ahead", "id", msg.ID, "err", rerr)
		}
		return time.Second, endShutdown
	}
	if err == nil {
		w.sendTime = took / time.Duration(max(len(refs), 1))
		s.sent.Store(true)
		w.update(func(h *apitype.ModemStatus) { h.Sent++ })
		if w.control() == stateSendBlocked {
			w.setState(stateReady)
		}
		w.log.Info("SMS sent", "id", msg.ID, "to", phone.Mask(msg.To), "parts", len(refs))
		return 0, endShutdown
	}
	if shutdown.Err() != nil {
		// Shutting down, the port closed under a +CMGS that may have gone
		// out: the message stays "sending", and the next start sends it
		// again marked uncertain (SPEC §5, at-least-once).
		w.log.Warn("SMS interrupted by shutdown; resent at next start, marked uncertain", "id", msg.ID)
		return 0, endLost
	}

	// Only an answer that says so fails a message for good; what came after
	// the PDU went out and says nothing clear is ambiguous (modem.Classify).
	action := modem.Classify(err)
	lost := s.ctx.Err() != nil || errors.Is(err, modem.ErrClosed)
	what := "SMS not sent"
	if action == modem.Ambiguous {
		what = "SMS may have gone out: the modem did not confirm it"
	}
	w.log.Warn(what, "id", msg.ID, "to", phone.Mask(msg.To), "action", action, "err", err)
	w.fail(err)
	w.update(func(h *apitype.ModemStatus) { h.Failed++ })
	if logged {
		// Its beginning is in the send log only: the database counts the
		// attempt before its outcome is recorded.
		if aerr := w.g.store.Attempted(msg.ID, now); aerr != nil {
			w.log.Error("count attempt", "id", msg.ID, "err", aerr)
		}
	}
	var recordErr error
	final := false // the message left the queue for good: its alert may be over
	failed := func() error {
		final = true
		return w.g.store.MarkFailed(msg.ID, err.Error(), now)
	}
	// unconfirmed ends a message that may have gone out: taken as sent,
	// marked uncertain, so that no report says the shop did not get it.
	unconfirmed := func() error {
		final = true
		w.log.Warn("SMS outcome unknown after its retry: taken as sent, marked uncertain", "id", msg.ID, "to", phone.Mask(msg.To))
		return w.g.store.MarkSentUncertain(msg.ID, err.Error(), now)
	}
	switch action {
	case modem.RetryLater, modem.FailRecipient, modem.FailMessage:
		// The network answered: the attempt took a send's time (per part:
		// a refusal may have come at any of them, so this errs short).
		w.sendTime = took / time.Duration(max(msg.Parts, 1))
	}
	pause, why := time.Duration(0), endShutdown
	switch action {
	case modem.FailRecipient, modem.FailMessage:
		recordErr = failed()
	case modem.Ambiguous:
		// It may have left: one more try at most, marked uncertain, at
		// once (an alert must not wait on a doubt).
		if msg.Uncertain {
			recordErr = unconfirmed()
		} else {
			recordErr = w.g.store.RetryUncertain(msg.ID, err.Error(), now, now)
		}
	case modem.RetryLater:
		switch {
		case msg.Attempts < maxAttempts:
			recordErr = w.g.store.Retry(msg.ID, err.Error(), now.Add(retryDelay(w.g.retry, msg.Attempts)), now)
		case msg.Uncertain:
			// An earlier attempt may have gone out: never "failed".
			recordErr = unconfirmed()
		default:
			recordErr = failed()
		}
	case modem.WaitNetwork:
		// Not this message's fault: it keeps its place and its attempts,
		// and the sender waits for the network.
		recordErr = w.g.store.Release(msg.ID, err.Error(), now)
		w.setState(stateNoNetwork)
	case modem.StopSending:
		recordErr = w.g.store.Release(msg.ID, err.Error(), now)
		w.setState(stateSendBlocked)
		pause = outagePause
	case modem.CallHuman:
		recordErr = w.g.store.Release(msg.ID, err.Error(), now)
		why = endSIM
	default: // ResetModem: the modem is confused; the attempt counts, so a
		// modem that never recovers does not hold a message forever.
		recordErr = w.g.store.Retry(msg.ID, err.Error(), now, now)
		why = endConfused
	}
	w.g.noteWrite(recordErr)
	if logged && recordErr == nil {
		w.forgetLogged(msg.ID)
	}
	// Whatever became of the message, a modem that went silent is started
	// over (a late answer would be taken for the next command's), and one
	// that went away is reopened.
	switch {
	case lost:
		why = endLost
	case errors.Is(err, modem.ErrTimeout):
		why = endUnresponsive
	}
	if recordErr != nil {
		w.log.Error("record send outcome", "id", msg.ID, "err", recordErr)
	}
	if pause > 0 || why != endShutdown || action == modem.WaitNetwork {
		w.g.wake() // this modem steps back: the others take its work
	}
	if final && msg.AlertID != 0 {
		w.g.alertProgress(msg.AlertID)
	}
	return pause, why
}

// markSent records that message id went out. A disk that refuses the
// write (full) is tried again every second while the session lasts:
// otherwise the message would stay "sending" until the next start, and be
// sent again then.
func (w *worker) markSent(s *session, id uint64, refs []int, now time.Time) error {
	for tries := 1; ; tries++ {
		err := w.g.store.MarkSent(id, refs, now)
		w.g.noteWrite(err)
		if !store.IsDiskFault(err) || !w.g.pause(s.ctx, &w.beat, time.Second) {
			return err
		}
		if tries == 1 {
			w.log.Error("SMS sent but not recorded: the disk refuses the write; trying again every second", "id", id, "err", err)
		}
	}
}

// retryDelay is how long a message waits after its attempts-th try failed
// for a temporary reason. The first retries come soon (base, 1 s by
// default): a congested cell refuses sends at random and takes the next try
// as often as not, while a message that waits when nothing else is due
// idles the modem; retrying at the modem's own pace loads the network no
// more than sending the next message would (the rate limiter holds both).
// Five retries in a row fail under 30 % of random refusals once in 400, so
// only then does the delay double, up to 600 × base (10 min), for trouble
// that lasts (a recipient's network out of order). While other messages are
// due they go first (the queue is ordered by due time), and when none is, a
// retry due within one send leaves at once (lead), so a short delay never
// holds the modem.
func retryDelay(base time.Duration, attempts int) time.Duration {
	d := base
	for i := quickRetries; i < attempts && d < retryCap*base; i++ {
		d *= 2
	}
	return min(d, retryCap*base)
}

// quickRetries is how many retries wait only the base delay; retryCap the
// longest delay, in units of the base.
const (
	quickRetries = 5
	retryCap     = 600
)

// sleep waits d or until ctx ends; false if ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
