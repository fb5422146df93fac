package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"vigie/gateway/apitype"
	"vigie/gateway/config"
	"vigie/gateway/phone"
	"vigie/modem"
	"vigie/store"
)

// Timings of a worker. Variables of the package only in name: they are
// constants a test cannot change, kept together so they read as a policy.
const (
	// pollEvery: list the modem storage even without +CMTI, so an SMS whose
	// indication was missed (or arrived while we were down) is still read.
	pollEvery = time.Minute
	// probeEvery: refresh signal, registration and operator for status.
	probeEvery = 30 * time.Second
	// reopenMin/reopenMax bound the backoff between attempts to open a modem.
	reopenMin = time.Second
	reopenMax = time.Minute
	// maxAttempts: a message that failed this many times for temporary
	// reasons is given up (alert_ttl expiry comes with the delivery engine).
	maxAttempts = 8
	// outagePause: how long the sender waits after an error that is about
	// the network, the SIM or the modem rather than the message.
	outagePause = 30 * time.Second
)

// worker owns one modem: it opens it (again, after a loss), sends what the
// outbox gives it at the modem's rate, and reads what the modem received.
type worker struct {
	g       *Gateway
	cfg     config.Modem
	log     *slog.Logger
	limiter *rate.Limiter
	wakeCh  chan struct{}

	mu     sync.Mutex // guards health
	health apitype.ModemStatus
}

func newWorker(g *Gateway, mc config.Modem) *worker {
	// Every SMS part takes one token: rate_per_minute parts per minute,
	// with at most burst parts back to back.
	lim := rate.NewLimiter(rate.Limit(mc.RatePerMinute/60), max(mc.Burst, 1))
	return &worker{
		g:       g,
		cfg:     mc,
		log:     g.log.With("component", "modem", "modem", mc.Name),
		limiter: lim,
		wakeCh:  make(chan struct{}, 1),
		health:  apitype.ModemStatus{Name: mc.Name, Device: mc.Device, State: "starting"},
	}
}

func (w *worker) wake() {
	select {
	case w.wakeCh <- struct{}{}:
	default:
	}
}

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

func (w *worker) fail(err error) {
	w.update(func(h *apitype.ModemStatus) {
		h.LastError = err.Error()
		h.LastErrorAt = w.g.now()
	})
}

// run opens the modem and serves it until ctx ends, reopening it with
// backoff whenever it is lost.
func (w *worker) run(ctx context.Context) {
	backoff := reopenMin
	for ctx.Err() == nil {
		m, err := w.open()
		if err != nil {
			w.log.Error("cannot open modem", "device", w.cfg.Device, "err", err)
			w.fail(err)
			w.update(func(h *apitype.ModemStatus) { h.State = "fault" })
			if errors.Is(err, modem.ErrSIMLocked) {
				// Opening again would enter the same PIN again: three wrong
				// tries lock the SIM behind its PUK. A person must look.
				w.log.Error("SIM locked: not retrying; fix the PIN and restart vigie", "device", w.cfg.Device)
				<-ctx.Done()
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, reopenMax)
			continue
		}
		backoff = reopenMin
		w.log.Info("modem ready", "device", w.cfg.Device)
		w.serve(ctx, m)
		m.Close()
		if ctx.Err() == nil {
			w.log.Warn("modem lost; reopening", "device", w.cfg.Device)
			w.update(func(h *apitype.ModemStatus) { h.State = "starting" })
		}
	}
	w.update(func(h *apitype.ModemStatus) { h.State = "stopped" })
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
		Name:     w.cfg.Name,
		Device:   w.cfg.Device,
		Baud:     w.cfg.Baud,
		PIN:      pin,
		Validity: w.g.cfg.SMS.AlertTTL,
		Logger:   w.g.log,
	})
}

// serve runs the receiver and the sender on an open modem until ctx ends or
// the modem is lost (its connection closes, or the sender asks for a reset).
func (w *worker) serve(parent context.Context, m *modem.Modem) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	go func() {
		select {
		case <-m.Done():
			cancel()
		case <-ctx.Done():
			// Closing the port is the only way to cut a pending AT command
			// short (the driver has no context): shutdown does not wait for
			// a +CMGS to time out.
			m.Close()
		}
	}()
	w.probe(m)
	w.update(func(h *apitype.ModemStatus) { h.State = "ready" })

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.receive(ctx, m, cancel)
	}()
	w.send(ctx, parent, m, cancel)
	cancel()
	wg.Wait()
}

// probe refreshes signal, registration and operator for `vigie status`.
func (w *worker) probe(m *modem.Modem) {
	sig, err1 := m.Signal()
	reg, err2 := m.Registration()
	op, err3 := m.Operator()
	if err := errors.Join(err1, err2, err3); err != nil {
		w.log.Warn("modem probe", "err", err)
		w.fail(err)
	}
	w.update(func(h *apitype.ModemStatus) {
		h.SignalDBm, h.SignalBars = sig.DBm, sig.Bars
		h.Registration = reg.String()
		h.Operator = op
	})
}

// receive reads the modem storage at start, on every arrival and every
// minute, and probes the modem's health now and then.
func (w *worker) receive(ctx context.Context, m *modem.Modem, reset func()) {
	poll := time.NewTicker(pollEvery)
	defer poll.Stop()
	probe := time.NewTicker(probeEvery)
	defer probe.Stop()
	w.readStored(m, reset)
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.Arrivals():
			w.readStored(m, reset)
		case <-poll.C:
			w.readStored(m, reset)
			// An SMS saved but not handled (database error) is retried here,
			// not only at the next start: it may be a STOP.
			if err := w.g.processUnhandled(); err != nil {
				w.log.Error("inbound SMS left unhandled", "err", err)
			}
		case <-probe.C:
			w.probe(m)
		}
	}
}

func (w *worker) readStored(m *modem.Modem, reset func()) {
	_, err := m.ReceiveStored(w.handleStored)
	if err == nil {
		return
	}
	w.log.Warn("read stored SMS", "err", err)
	w.fail(err)
	if errors.Is(err, modem.ErrTimeout) || errors.Is(err, modem.ErrClosed) {
		// A late answer would be taken for the next command's: start over.
		reset()
	}
}

// handleStored commits one SMS read from the modem; the modem deletes it
// only if this returns nil.
func (w *worker) handleStored(r modem.Received) error {
	now := w.g.now()
	if r.Report != nil {
		// Matching reports to messages comes with the delivery engine; the
		// report is read so the storage does not fill up.
		w.log.Info("status report", "ref", r.Report.Ref, "to", phone.Mask(r.Report.Recipient), "status", r.Report.Status)
		return nil
	}
	part := store.InboundPart{
		Key: r.Key, From: r.From, SCTS: r.SCTS,
		ConcatRef: r.ConcatRef, Total: r.Total, Seq: r.Seq,
		Text: r.Text, ReceivedAt: now,
	}
	if r.Err != nil {
		// Kept, not dropped: an operator can still read the raw PDU.
		w.log.Warn("undecodable SMS kept in the inbox", "err", r.Err)
		part.Total, part.Seq = 1, 1
		part.Text = "(SMS illisible, PDU : " + r.PDU + ")"
	}
	in, dup, err := w.g.store.SaveInboundPart(part)
	if err != nil {
		return fmt.Errorf("save inbound SMS: %w", err)
	}
	w.update(func(h *apitype.ModemStatus) { h.Received++ })
	if dup || in == nil {
		return nil
	}
	w.g.handleInbound(*in)
	return nil
}

// send takes messages from the outbox and sends them, one token per part.
// ctx ends when the modem is lost or the daemon stops; shutdown only with
// the daemon.
func (w *worker) send(ctx, shutdown context.Context, m *modem.Modem, reset func()) {
	for ctx.Err() == nil {
		due, ok, err := w.g.store.NextDue()
		if err != nil {
			w.log.Error("next message due", "err", err)
			w.fail(err)
			if !sleep(ctx, time.Second) {
				return
			}
			continue
		}
		if now := w.g.now(); !ok || due.After(now) {
			w.idle(ctx, due, ok)
			continue
		}
		// The token comes before the message, so a message never waits in
		// "sending" on the limiter.
		if err := w.limiter.Wait(ctx); err != nil {
			return
		}
		msg, ok, err := w.g.store.Claim(w.cfg.Name, w.g.now())
		if err != nil {
			w.log.Error("claim next message", "err", err)
			w.fail(err)
			if !sleep(ctx, time.Second) {
				return
			}
			continue
		}
		if !ok {
			continue // another modem took it
		}
		pause, keep := w.deliver(ctx, shutdown, m, msg)
		if !keep {
			reset()
			return
		}
		if pause > 0 && !sleep(ctx, pause) {
			return
		}
	}
}

// idle waits until work is queued, the next retry is due, or ctx ends.
func (w *worker) idle(ctx context.Context, due time.Time, ok bool) {
	wait := time.Hour
	if ok {
		wait = max(due.Sub(w.g.now()), 10*time.Millisecond)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-w.wakeCh:
	case <-t.C:
	}
}

// deliver sends one claimed message and records the outcome. It returns how
// long the sender should pause (the network or the SIM is out, not this
// message) and false when the modem must be reopened.
func (w *worker) deliver(ctx, shutdown context.Context, m *modem.Modem, msg store.Message) (time.Duration, bool) {
	first := true
	refs, err := m.Send(msg.To, msg.Text, func() error {
		if first { // the first part's token was taken before the claim
			first = false
			return nil
		}
		return w.limiter.Wait(ctx)
	})
	now := w.g.now()
	if err == nil {
		if err := w.g.store.MarkSent(msg.ID, refs, now); err != nil {
			w.log.Error("record sent message", "id", msg.ID, "err", err)
			w.fail(err)
			return time.Second, true
		}
		w.update(func(h *apitype.ModemStatus) { h.Sent++ })
		w.log.Info("SMS sent", "id", msg.ID, "to", phone.Mask(msg.To), "parts", len(refs))
		if msg.AlertID != 0 {
			w.g.alertProgress(msg.AlertID)
		}
		return 0, true
	}
	if shutdown.Err() != nil {
		// Shutting down, the port closed under a +CMGS that may have gone
		// out: the message stays "sending", and the next start sends it
		// again marked uncertain (SPEC §5, at-least-once).
		w.log.Warn("SMS interrupted by shutdown; resent at next start, marked uncertain", "id", msg.ID)
		return 0, false
	}

	action := modem.Classify(err)
	if ctx.Err() != nil || errors.Is(err, modem.ErrBadResponse) {
		// The modem went away mid-send, or answered OK without a readable
		// reference: the SMS may have gone out.
		action = modem.Ambiguous
	}
	w.log.Warn("SMS not sent", "id", msg.ID, "to", phone.Mask(msg.To), "action", action, "err", err)
	w.fail(err)
	var recordErr error
	pause, keep := time.Duration(0), true
	switch action {
	case modem.FailRecipient, modem.FailMessage:
		recordErr = w.g.store.MarkFailed(msg.ID, err.Error(), now)
	case modem.Ambiguous:
		// It may have left: one more try at most, marked uncertain.
		if msg.Uncertain {
			recordErr = w.g.store.MarkFailed(msg.ID, err.Error(), now)
		} else {
			recordErr = w.g.store.RetryUncertain(msg.ID, err.Error(), now, now)
		}
		keep = false
	case modem.RetryLater:
		if msg.Attempts >= maxAttempts {
			recordErr = w.g.store.MarkFailed(msg.ID, err.Error(), now)
		} else {
			recordErr = w.g.store.Retry(msg.ID, err.Error(), now.Add(retryDelay(msg.Attempts)), now)
		}
	default:
		// No network, our SIM barred, the modem confused: not this
		// message's fault. It goes back as it is, never failed for it; the
		// sender pauses instead of burning through the queue.
		recordErr = w.g.store.Retry(msg.ID, err.Error(), now, now)
		pause = outagePause
		keep = action != modem.ResetModem
	}
	if recordErr != nil {
		w.log.Error("record send outcome", "id", msg.ID, "err", recordErr)
	}
	if msg.AlertID != 0 {
		w.g.alertProgress(msg.AlertID)
	}
	return pause, keep
}

// retryDelay backs off 30 s, 1 min, 2 min… capped at 10 min.
func retryDelay(attempts int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempts && d < 10*time.Minute; i++ {
		d *= 2
	}
	return min(d, 10*time.Minute)
}

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
