package gateway

import (
	"context"
	"log/slog"
	"time"

	"vigie/gateway/led"
)

// ledEvery is how often the status LED follows the daemon's state.
const ledEvery = 500 * time.Millisecond

// runLED shows the daemon's state on the status LED (SPEC §8) until ctx
// ends, then turns it off. Without [led] path it writes nothing; an LED
// that cannot be opened is logged and the daemon runs without it.
func (g *Gateway) runLED(ctx context.Context) {
	if g.cfg.LED.Path == "" {
		return
	}
	log := g.log.With("component", "led", "led", g.cfg.LED.Path)
	l, err := led.Open(g.cfg.LED.Path)
	if err != nil {
		log.Error("status LED unusable; running without it", "err", err)
		return
	}
	s := &ledShow{led: l, log: log}
	s.show(led.Starting)
	t := time.NewTicker(ledEvery)
	defer t.Stop()
	beat := g.loops["led"]
	defer beat.park()
	for {
		beat.stamp(g.mono())
		select {
		case <-ctx.Done():
			s.show(led.Stopped)
			return
		case <-t.C:
			s.show(g.ledState())
		}
	}
}

// ledState is the state the LED shows: Status's, or fault when the
// database cannot say it.
func (g *Gateway) ledState() string {
	st, err := g.Status()
	if err != nil {
		return led.Fault
	}
	return st.State
}

// ledShow writes the LED only when the state changes; a failed write is
// logged once and tried again at the next tick.
type ledShow struct {
	led    *led.LED
	log    *slog.Logger
	shown  string // state on the LED; "" before the first write
	failed string // state whose write failed last
}

func (s *ledShow) show(state string) {
	if state == s.shown {
		return
	}
	p := led.PatternOf(state)
	if err := s.led.Set(p); err != nil {
		if s.failed != state {
			s.log.Warn("status LED", "state", state, "err", err)
		}
		s.failed = state
		return
	}
	s.shown, s.failed = state, ""
	s.log.Info("status LED", "state", state, "pattern", p.String())
}
