package gateway

import (
	"errors"
	"time"

	"vigie/gateway/apitype"
	"vigie/modem"
)

// Time on a box without a clock (issue 11): each worker reads the
// network's time from its modem once registered and every clockEvery; the
// gateway's clock (netclock) compares it with the system clock and, past
// [station] max_clock_skew, dates records from the network's time; the
// status says so and the daemon is degraded. A step of the gateway's clock
// moves this run's outbox timers with it (settleClock).

// clockEvery is how often a registered modem is asked the network's time.
// The system clock does not drift minutes in that time; what this catches
// is a clock set wrong or stepped.
const clockEvery = 10 * time.Minute

// checkClock reads the network's time from m when it is due and the modem
// is registered (before, its clock is its power-on default). Only a modem
// that stopped answering is an error: the network's time is a check on the
// system clock, never needed to send.
func (w *worker) checkClock(m *modem.Modem, registered bool) error {
	if !registered || w.g.mono() < w.clockNext {
		return nil
	}
	t, err := m.NetworkTime()
	switch {
	case errors.Is(err, modem.ErrTimeout) || errors.Is(err, modem.ErrClosed):
		return err
	case errors.Is(err, modem.ErrClockUnset):
		// The network has not sent its time yet (NITZ is optional and may
		// come after registration): ask again at the next probe.
		w.log.Debug("modem clock not set by the network yet", "err", err)
		return nil
	case err != nil:
		w.log.Debug("network time not read", "err", err)
		w.clockNext = w.g.mono() + clockEvery
		return nil
	}
	w.clockNext = w.g.mono() + clockEvery
	w.g.clock.Observe(w.cfg.Name, t)
	off := w.g.clock.Status().Offset
	w.log.Debug("network time", "network", t, "offset", off.Round(time.Second))
	secs := off.Seconds()
	w.update(func(h *apitype.ModemStatus) { h.ClockOffsetSeconds, h.ClockReadAt = &secs, w.g.now() })
	w.g.settleClock()
	return nil
}

// settleClock brings the gateway's clock to the best time known (see
// netclock's Settle), moving the queued and sending messages of this
// run with it when it steps, and logs what changed. The clock waits for the
// store's transaction meanwhile: no callback the gateway hands the store
// may read g.now (none does; they are given the time).
func (g *Gateway) settleClock() {
	ch, err := g.clock.Settle(func(step time.Duration) error {
		n, err := g.store.ShiftTimers(g.runAfter, step)
		if err == nil {
			g.log.Warn("clock stepped; this run's queued messages keep their remaining time", "step", step.Round(time.Second), "messages", n)
		}
		return err
	})
	if err != nil {
		g.log.Error("clock step not applied; dating from the previous reckoning", "err", err)
		return
	}
	if ch.Step != 0 {
		g.rescheduleCare(ch.Step)
	}
	st := ch.Status
	switch {
	case st.Skewed && !ch.WasSkewed:
		g.log.Warn("system clock is off from the network's time; dating records from the network's time",
			"offset", st.Offset.Round(time.Second), "max_clock_skew", g.clock.MaxSkew(), "source", st.Source)
	case !st.Skewed && ch.WasSkewed:
		g.log.Info("system clock agrees with the network's time again", "offset", st.Offset.Round(time.Second), "source", st.Source)
	}
}

// clockStatus adds the system clock's offset from the network to st.
func (g *Gateway) clockStatus(st *apitype.Status) {
	c := g.clock.Status()
	if !c.Known {
		return
	}
	st.Clock = &apitype.Clock{
		Source:         c.Source,
		OffsetSeconds:  c.Offset.Round(time.Second).Seconds(),
		Network:        c.Network,
		MaxSkewSeconds: g.clock.MaxSkew().Seconds(),
		Skewed:         c.Skewed,
		Message:        c.Message(),
	}
}

// rescheduleCare works the daily tasks' next times out again after the
// clock stepped: they are times of day ("03:00"), which moving by the step
// would shift to another hour. Done after Settle, outside the clock's lock:
// the care tasks read the clock while holding theirs.
func (g *Gateway) rescheduleCare(step time.Duration) {
	started := g.startedAt()
	g.care.mu.Lock()
	defer g.care.mu.Unlock()
	if !g.care.backupNext.IsZero() {
		g.care.backupNext = g.cfg.Backup.At.Next(started)
	}
	if !g.care.canaryNext.IsZero() {
		// Not a second canary today for one sent before the step.
		from := started
		if sent := g.care.canary.LastSent.Add(step); g.care.canaryID != 0 && sent.After(from) {
			from = sent
		}
		g.care.canaryNext = g.cfg.Canary.At.Next(from)
	}
}
