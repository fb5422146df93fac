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
func (w *worker) serve(ctx context.Context, m *modem.Modem) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-m.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	w.probe(m)
	w.update(func(h *apitype.ModemStatus) { h.State = "ready" })

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.receive(ctx, m)
	}()
	w.send(ctx, m, cancel)
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
func (w *worker) receive(ctx context.Context, m *modem.Modem) {
	poll := time.NewTicker(pollEvery)
	defer poll.Stop()
	probe := time.NewTicker(probeEvery)
	defer probe.Stop()
	w.readStored(m)
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.Arrivals():
			w.readStored(m)
		case <-poll.C:
			w.readStored(m)
		case <-probe.C:
			w.probe(m)
		}
	}
}

func (w *worker) readStored(m *modem.Modem) {
	if _, err := m.ReceiveStored(w.handleStored); err != nil {
		w.log.Warn("read stored SMS", "err", err)
		w.fail(err)
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
func (w *worker) send(ctx context.Context, m *modem.Modem, reset func()) {
	for ctx.Err() == nil {
		// The token comes before the message, so a message never waits in
		// "sending" on the limiter; if there is no work it is given back.
		r := w.limiter.Reserve()
		if !sleep(ctx, r.Delay()) {
			r.Cancel()
			return
		}
		msg, ok, err := w.g.store.Claim(w.cfg.Name, w.g.now())
		if err != nil {
			r.Cancel()
			w.log.Error("claim next message", "err", err)
			w.fail(err)
			if !sleep(ctx, time.Second) {
				return
			}
			continue
		}
		if !ok {
			r.Cancel()
			w.idle(ctx)
			continue
		}
		if !w.deliver(ctx, m, msg) {
			reset()
			return
		}
	}
}

// idle waits until work is queued, the next retry is due, or ctx ends.
func (w *worker) idle(ctx context.Context) {
	wait := time.Hour
	if due, ok, err := w.g.store.NextDue(); err == nil && ok {
		wait = max(time.Until(due), 10*time.Millisecond)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-w.wakeCh:
	case <-t.C:
	}
}

// deliver sends one claimed message and records the outcome. It returns
// false when the modem must be reopened.
func (w *worker) deliver(ctx context.Context, m *modem.Modem, msg store.Message) bool {
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
		}
		w.update(func(h *apitype.ModemStatus) { h.Sent++ })
		w.log.Info("SMS sent", "id", msg.ID, "to", phone.Mask(msg.To), "parts", len(refs))
		if msg.AlertID != 0 {
			w.g.alertProgress(msg.AlertID)
		}
		return true
	}

	action := modem.Classify(err)
	if ctx.Err() != nil {
		action = modem.RetryLater // shutting down: the message goes back to the queue
	}
	w.log.Warn("SMS not sent", "id", msg.ID, "to", phone.Mask(msg.To), "action", action, "err", err)
	w.fail(err)
	switch {
	case action == modem.FailRecipient || action == modem.FailMessage || msg.Attempts >= maxAttempts:
		if err := w.g.store.MarkFailed(msg.ID, err.Error(), now); err != nil {
			w.log.Error("record failed message", "id", msg.ID, "err", err)
		}
		if msg.AlertID != 0 {
			w.g.alertProgress(msg.AlertID)
		}
	default:
		at := now.Add(retryDelay(msg.Attempts))
		if err := w.g.store.Retry(msg.ID, err.Error(), at, now); err != nil {
			w.log.Error("requeue message", "id", msg.ID, "err", err)
		}
	}
	return action != modem.ResetModem && action != modem.Ambiguous
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
