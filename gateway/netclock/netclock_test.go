package netclock

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// host is a system clock whose wall time the test steps apart from its
// monotonic time, as settimeofday, NTP or a restored clock file do.
type host struct {
	wall time.Time
	mono time.Duration
}

func (h *host) now() time.Time           { return h.wall }
func (h *host) monotonic() time.Duration { return h.mono }
func (h *host) pass(d time.Duration)     { h.wall, h.mono = h.wall.Add(d), h.mono+d }
func (h *host) step(d time.Duration)     { h.wall = h.wall.Add(d) }
func newHost() (*host, *Clock) {
	h := &host{wall: boot}
	return h, New(h.now, h.monotonic, 5*time.Minute)
}
func noShift(time.Duration) error { return errors.New("shift called") }
func shifts(got *[]time.Duration) func(time.Duration) error {
	return func(d time.Duration) error { *got = append(*got, d); return nil }
}

var boot = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

func TestFollowsTheSystemClockWhenNothingElseIsKnown(t *testing.T) {
	h, c := newHost()
	h.pass(time.Minute)
	h.wall = h.wall.Add(time.Second) // NTP slewing: drift, not a step
	if got := c.Now(); !got.Equal(h.wall) {
		t.Fatalf("Now = %v, want the system clock %v", got, h.wall)
	}
	if ch, err := c.Settle(noShift); err != nil || ch.Step != 0 || ch.Status.Known {
		t.Fatalf("Settle = %+v, %v; want nothing to do", ch, err)
	}
}

// A step of the system clock neither fires nor stalls the timers: Now goes
// on from where it was until Settle has moved them by the step.
func TestSystemStepIsHeldUntilTimersMove(t *testing.T) {
	for _, step := range []time.Duration{48 * time.Hour, -3 * time.Hour} {
		h, c := newHost()
		before := c.Now()
		h.pass(10 * time.Second)
		h.step(step)
		if got := c.Now(); !got.Equal(before.Add(10 * time.Second)) {
			t.Fatalf("step %v: Now = %v, want %v (no jump)", step, got, before.Add(10*time.Second))
		}
		h.pass(5 * time.Second)
		if got := c.Now(); !got.Equal(before.Add(15 * time.Second)) {
			t.Fatalf("step %v: Now = %v while held, want %v", step, got, before.Add(15*time.Second))
		}
		if _, err := c.Settle(func(time.Duration) error { return errors.New("disk full") }); err == nil {
			t.Fatalf("step %v: Settle with a failing shift succeeded", step)
		}
		if got := c.Now(); !got.Equal(before.Add(15 * time.Second)) {
			t.Fatalf("step %v: Now moved although the timers did not", step)
		}
		var got []time.Duration
		ch, err := c.Settle(shifts(&got))
		if err != nil || len(got) != 1 || got[0] != step || ch.Step != step {
			t.Fatalf("step %v: Settle = %+v, %v, shifts %v; want one shift by the step", step, ch, err, got)
		}
		if now := c.Now(); !now.Equal(h.wall) {
			t.Errorf("step %v: after Settle Now = %v, want the system clock %v", step, now, h.wall)
		}
	}
}

func TestFollowsTheNetworkWhenTheSystemClockIsOff(t *testing.T) {
	for _, tt := range []struct {
		off  time.Duration // system minus network
		text string
	}{
		{-3*time.Hour - 12*time.Minute, "horloge du système en retard de 3 h 12 min sur l'heure du réseau (lue par le modem m1)"},
		{2 * 24 * time.Hour, "horloge du système en avance de 2 jours sur l'heure du réseau (lue par le modem m1)"},
	} {
		h, c := newHost()
		network := h.wall.Add(-tt.off).In(time.FixedZone("CET", 3600))
		c.Observe("m1", network)
		var got []time.Duration
		ch, err := c.Settle(shifts(&got))
		if err != nil || len(got) != 1 || got[0] != -tt.off {
			t.Fatalf("off %v: Settle = %+v, %v, shifts %v; want one by %v", tt.off, ch, err, got, -tt.off)
		}
		if !ch.Status.Skewed || ch.WasSkewed || ch.Status.Offset != tt.off || ch.Status.Source != "m1" {
			t.Errorf("off %v: status %+v", tt.off, ch.Status)
		}
		if msg := ch.Status.Message(); !strings.HasPrefix(msg, tt.text) || !strings.Contains(msg, "timedatectl") {
			t.Errorf("off %v: message %q, want it to start %q", tt.off, msg, tt.text)
		}
		h.pass(time.Minute)
		if now := c.Now(); !now.Equal(network.Add(time.Minute)) || now.Location() != time.UTC {
			t.Errorf("off %v: Now = %v, want the network's %v in the system's zone", tt.off, now, network.Add(time.Minute))
		}
		// A step of the system clock changes nothing while the network's
		// time rules, and a new reading one second off is no step.
		h.step(time.Hour)
		c.Observe("m1", network.Add(time.Minute+time.Second))
		if ch, err := c.Settle(noShift); err != nil || ch.Step != 0 || !ch.WasSkewed {
			t.Fatalf("off %v: Settle after a reading = %+v, %v", tt.off, ch, err)
		}
		if now := c.Now(); !now.Equal(network.Add(time.Minute)) {
			t.Errorf("off %v: Now = %v after a system step, want %v", tt.off, now, network.Add(time.Minute))
		}
		// NTP puts the system clock right: back to it, with no step.
		h.wall = network.Add(time.Minute).UTC()
		ch, err = c.Settle(noShift)
		if err != nil || ch.Step != 0 || ch.Status.Skewed || !ch.WasSkewed || ch.Status.Message() != "" {
			t.Fatalf("off %v: Settle after NTP = %+v, %v", tt.off, ch, err)
		}
		h.pass(time.Second)
		if now := c.Now(); !now.Equal(h.wall) {
			t.Errorf("off %v: Now = %v, want the system clock %v again", tt.off, now, h.wall)
		}
	}
}

func TestWithinTheToleranceTheSystemClockRules(t *testing.T) {
	h, c := newHost()
	c.Observe("m1", h.wall.Add(4*time.Minute))
	ch, err := c.Settle(noShift)
	if err != nil || ch.Status.Skewed || ch.Status.Offset != -4*time.Minute || !ch.Status.Known {
		t.Fatalf("Settle = %+v, %v", ch, err)
	}
	if now := c.Now(); !now.Equal(h.wall) {
		t.Errorf("Now = %v, want the system clock", now)
	}
}

// Without a monotonic source, the wall clock's own reading serves: a
// hand-moved clock in tests is followed exactly.
func TestDefaultMonotonicFollowsAHandMovedClock(t *testing.T) {
	w := boot
	c := New(func() time.Time { return w }, nil, 5*time.Minute)
	w = w.Add(-time.Hour)
	if now := c.Now(); !now.Equal(w) {
		t.Fatalf("Now = %v, want %v", now, w)
	}
	if c.Monotonic() != -time.Hour {
		t.Errorf("Monotonic = %v", c.Monotonic())
	}
	real := New(nil, nil, 5*time.Minute)
	if d := time.Since(real.Now()); d < 0 || d > time.Minute {
		t.Errorf("real clock: Now is %v from time.Now", d)
	}
}
