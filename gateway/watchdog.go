package gateway

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync/atomic"
	"time"
)

// The daemon's liveness for systemd's watchdog: every worker loop stamps a
// heartbeat each time it goes round, and every beatEvery while it waits
// (idle, backoff, rate limiter, network outage, daily cap), so a loop that
// waits on purpose still looks alive and only a loop stuck inside an
// operation (a deadlock, a call that never returns) falls silent. Alive
// checks the stamps; `vigie serve` pings the watchdog only while it is nil.

// beatEvery is how often a loop blocked in a long wait still stamps.
const beatEvery = 10 * time.Second

// minSilence is the least silence Alive tolerates, whatever the timeouts.
const minSilence = 3 * time.Minute

// ErrStalled: a loop of the daemon has not made progress for too long.
var ErrStalled = errors.New("daemon loop stalled")

// heartbeat is one loop's proof of life: the time of its last stamp on the
// gateway's monotonic clock (g.mono), or parked while the loop is not
// running (nothing to check). Monotonic, not wall, time: a system clock
// stepped forward by NTP would otherwise make every loop look silent for
// hours, and systemd would kill a healthy daemon; stepped back, it would
// hide a real hang for as long.
type heartbeat struct {
	last atomic.Pointer[time.Duration] // on g.mono; nil: parked
}

func (h *heartbeat) stamp(at time.Duration) { h.last.Store(&at) }

// park says the loop has ended (or has not begun): it is not checked.
func (h *heartbeat) park() { h.last.Store(nil) }

// silent is how long the loop has not stamped; 0 if it is parked.
func (h *heartbeat) silent(now time.Duration) time.Duration {
	last := h.last.Load()
	if last == nil {
		return 0
	}
	return now - *last
}

// maxSilence is how long a loop may go without stamping before it counts
// as stalled: longer than any single bounded operation of a worker (one
// +CMGS, a modem opening a command after the other).
func (g *Gateway) maxSilence() time.Duration {
	d := minSilence
	for _, m := range g.cfg.Modems {
		d = max(d, m.SendTimeout+2*m.CommandTimeout+time.Minute, 20*m.CommandTimeout)
	}
	return d
}

// Alive says whether every running loop of the gateway made progress
// recently; the error (ErrStalled) names those that did not.
func (g *Gateway) Alive() error {
	now, limit := g.mono(), g.maxSilence()
	var errs []error
	for _, w := range g.workers {
		for _, b := range []struct {
			loop string
			h    *heartbeat
		}{{"sender", &w.beat}, {"receiver", &w.recvBeat}} {
			if s := b.h.silent(now); s > limit {
				errs = append(errs, fmt.Errorf("modem %s %s silent for %v: %w", w.cfg.Name, b.loop, s.Round(time.Second), ErrStalled))
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(g.loops)) {
		if s := g.loops[name].silent(now); s > limit {
			errs = append(errs, fmt.Errorf("%s loop silent for %v: %w", name, s.Round(time.Second), ErrStalled))
		}
	}
	return errors.Join(errs...)
}

// pause waits d, or until ctx ends (false then), stamping h every
// beatEvery on the way.
func (g *Gateway) pause(ctx context.Context, h *heartbeat, d time.Duration) bool {
	for ; d > beatEvery; d -= beatEvery {
		if !sleep(ctx, beatEvery) {
			return false
		}
		h.stamp(g.mono())
	}
	ok := sleep(ctx, d)
	h.stamp(g.mono())
	return ok
}

// token waits for the worker's next rate token, stamping h meanwhile (at a
// low rate_per_minute a token may be minutes away).
func (w *worker) token(ctx context.Context, h *heartbeat) error {
	r := w.limiter.Reserve()
	if !r.OK() {
		return errors.New("rate limiter: burst below one part")
	}
	if !w.g.pause(ctx, h, r.Delay()) {
		r.Cancel()
		return ctx.Err()
	}
	return nil
}
