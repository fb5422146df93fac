//go:build vigie_testclock

package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// Hooks of the test build for the soak test (soak_e2e_test.go), beside the
// controllable clock: without the tag this file is not compiled and the
// variables do nothing (testsoak_off.go), so no production daemon has a
// faster care loop nor tells its goroutines.
const (
	// testCareTickEnv sets the care loops' tick (a Go duration): the soak
	// moves its clock a day at a time and waits for that day's backup and
	// retention, which the production tick (30 s) would make last hours.
	testCareTickEnv = "VIGIE_TEST_CARE_TICK"
	// testAvailabilityTickEnv sets how often the modems' up-time is
	// accounted (a Go duration): at the production minute a day of the
	// soak's clock, which passes in a fraction of a second, would mostly
	// go unaccounted, and an outage with it.
	testAvailabilityTickEnv = "VIGIE_TEST_AVAILABILITY_TICK"
	// testGoroutinesEnv names a file the daemon writes its goroutine count
	// into on each SIGUSR1, so the soak can watch for a leak without an
	// API field that production would carry.
	testGoroutinesEnv = "VIGIE_TEST_GOROUTINES"
)

// testSoakHooks returns the ticks the environment asks for (0: the
// defaults) and, if asked, answers SIGUSR1 with the goroutine count until
// ctx ends.
func testSoakHooks(ctx context.Context, log *slog.Logger) (soakTicks, error) {
	var ticks soakTicks
	for _, v := range []struct {
		env  string
		tick *time.Duration
		what string
	}{
		{testCareTickEnv, &ticks.care, "test build: care loops tick faster"},
		{testAvailabilityTickEnv, &ticks.availability, "test build: modem up-time accounted more often"},
	} {
		text := os.Getenv(v.env)
		if text == "" {
			continue
		}
		d, err := time.ParseDuration(text)
		if err != nil {
			return soakTicks{}, fmt.Errorf("%s: %w", v.env, err)
		}
		*v.tick = d
		log.Warn(v.what, "tick", d)
	}
	if path := os.Getenv(testGoroutinesEnv); path != "" {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGUSR1)
		go func() {
			defer signal.Stop(sig)
			for {
				select {
				case <-ctx.Done():
					return
				case <-sig:
				}
				// Renamed whole so the test never reads half a number.
				tmp := path + ".tmp"
				err := os.WriteFile(tmp, []byte(strconv.Itoa(runtime.NumGoroutine())+"\n"), 0o600)
				if err == nil {
					err = os.Rename(tmp, path)
				}
				if err != nil {
					log.Error("goroutine count not written", "err", err)
				}
			}
		}()
	}
	return ticks, nil
}
