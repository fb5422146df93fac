package gateway

import (
	"context"
	"time"

	"vigie/gateway/apitype"
	"vigie/store"
)

// Modem availability for the period report (issue #14): how long each
// modem was ready (registered, able to send) of how long the daemon
// watched it, per local day, in the store's never-purged modem_days.

// availabilityEvery is how often the time is accounted by default
// (Options.AvailabilityEvery): a crash loses at most this much of it.
const availabilityEvery = time.Minute

// uptime is the availability loop's own state: when it last accounted and
// whether each worker was ready then.
type uptime struct {
	last  time.Duration // g.mono() at the last accounting
	ready []bool        // by g.workers index
}

// newUptime starts the accounting now.
func (g *Gateway) newUptime() *uptime {
	u := &uptime{last: g.mono(), ready: make([]bool, len(g.workers))}
	for i, w := range g.workers {
		u.ready[i] = w.status().State == apitype.ModemReady
	}
	return u
}

// availabilityLoop accounts the modems' time every g.availabilityEvery, and
// once more when ctx ends (shutdown), so a clean stop loses nothing.
func (g *Gateway) availabilityLoop(ctx context.Context) {
	beat := g.loops["availability"]
	defer beat.park()
	u := g.newUptime()
	for {
		beat.stamp(g.mono())
		more := g.pause(ctx, beat, g.availabilityEvery)
		g.accountUptime(u)
		if !more {
			return
		}
	}
}

// accountUptime adds the time since the last accounting to each modem's
// day (the local day of now: an interval across midnight goes to the new
// day, at most g.availabilityEvery misplaced). The state between two
// readings is taken from the health's Since: a modem ready now was ready
// since it became so (within the interval), one not ready now was ready,
// if it was at the last reading, until it changed.
func (g *Gateway) accountUptime(u *uptime) {
	mono, now := g.mono(), g.now()
	elapsed := mono - u.last
	if elapsed <= 0 {
		return
	}
	times := make([]store.ModemTime, len(g.workers))
	for i, w := range g.workers {
		h := w.status()
		ready := h.State == apitype.ModemReady
		// How long the present state has lasted, within the interval; an
		// unknown or stepped Since counts as the whole interval.
		lasted := elapsed
		if !h.Since.IsZero() {
			lasted = min(max(now.Sub(h.Since), 0), elapsed)
		}
		var up time.Duration
		switch {
		case ready:
			// Also when it was ready at the last reading: a Since within
			// the interval means an outage in between, counted down.
			up = lasted
		case u.ready[i]:
			up = elapsed - lasted
		}
		times[i] = store.ModemTime{Modem: w.cfg.Name, Up: up, Observed: elapsed}
		u.ready[i] = ready
	}
	u.last = mono
	if err := g.store.AddModemTime(times, now); err != nil {
		// The interval is lost; the next one is counted from here, not
		// doubled.
		g.log.Error("account modem availability", "err", err)
	}
}
