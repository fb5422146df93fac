package gateway

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"vigie/gateway/apitype"
	"vigie/gateway/config"
	"vigie/store"
)

// The availability loop at a short period (Options.AvailabilityEvery, what
// the soak's test build sets) follows the injected clock: a day the clock
// jumps through is accounted to that day, and an outage the clock jumps
// through is counted down, to the millisecond, with no real time in it.
func TestAvailabilityLoopFollowsTheInjectedClock(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	cfg, err := config.Parse(strings.NewReader(fmt.Sprintf(testConfig, dir, "open")), "test.toml")
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	st, err := store.Open(cfg.Store.Path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	g, err := New(cfg, st, Options{Now: clock.Now, AvailabilityEvery: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	setState := func(state string) {
		g.workers[0].update(func(h *apitype.ModemStatus) { h.State, h.Since = state, clock.Now() })
	}
	day := func(d string) store.ModemDay {
		t.Helper()
		days, err := st.ModemHistory(d, d+"~")
		if err != nil {
			t.Fatal(err)
		}
		for _, md := range days {
			if md.Modem == cfg.Modems[0].Name {
				return md
			}
		}
		return store.ModemDay{}
	}
	// waitObserved waits until the loop has accounted observed time on d:
	// the clock does not move meanwhile, so no more comes.
	waitObserved := func(d string, observed time.Duration) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for day(d).Observed != observed {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %+v after 10 s, want %v observed", d, day(d), observed)
			}
			time.Sleep(time.Millisecond)
		}
	}

	setState(apitype.ModemReady)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.availabilityLoop(ctx)
	}()
	for g.loops["availability"].last.Load() == nil {
		time.Sleep(time.Millisecond)
	}
	// A day of the clock, ready throughout: 24 h on the day it ends.
	clock.Set(clock.Now().Add(24 * time.Hour))
	waitObserved("2026-05-05", 24*time.Hour)
	// Lost for six hours of the clock, then back for the eighteen that
	// end the next day.
	setState(apitype.ModemFault)
	clock.Set(clock.Now().Add(6 * time.Hour))
	waitObserved("2026-05-05", 30*time.Hour)
	setState(apitype.ModemReady)
	clock.Set(clock.Now().Add(18 * time.Hour))
	waitObserved("2026-05-06", 18*time.Hour)
	cancel()
	<-done

	for _, want := range []store.ModemDay{
		{Modem: cfg.Modems[0].Name, Day: "2026-05-05", Up: 24 * time.Hour, Observed: 30 * time.Hour},
		{Modem: cfg.Modems[0].Name, Day: "2026-05-06", Up: 18 * time.Hour, Observed: 18 * time.Hour},
	} {
		if got := day(want.Day); got != want {
			t.Errorf("modem day %s = %+v, want %+v", want.Day, got, want)
		}
	}
}
