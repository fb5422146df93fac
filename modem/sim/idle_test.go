package sim

import (
	"testing"
	"time"
)

// TestIdleCountsWaitsForCommands: the time between a response and the
// next command is idle; the time a command takes (the network's delay
// included) is not; nothing before ResetIdle counts, and a wait still
// open is counted up to the time asked for.
func TestIdleCountsWaitsForCommands(t *testing.T) {
	h := newHarness(t, Options{})
	h.send("ATE0\r") // idle from here, but before ResetIdle
	time.Sleep(20 * time.Millisecond)
	h.m.ResetIdle()
	start := time.Now()
	time.Sleep(30 * time.Millisecond) // waiting for a command: idle
	h.send("AT\r")
	time.Sleep(30 * time.Millisecond) // idle again, still open
	until := time.Now()
	got := h.m.Idle(until)
	if most := until.Sub(start); got > most {
		t.Errorf("idle %v, more than the %v since ResetIdle", got, most)
	}
	if got < 55*time.Millisecond {
		t.Errorf("idle %v, want about 60 ms (two waits of 30 ms)", got)
	}
	if early := h.m.Idle(start.Add(10 * time.Millisecond)); early > 11*time.Millisecond {
		t.Errorf("idle up to 10 ms after ResetIdle = %v", early)
	}
}
