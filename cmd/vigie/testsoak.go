//go:build vigie_testclock

package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
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
	// testHeapEnv names a file prefix: on each SIGUSR1 the daemon also
	// writes <prefix>.<pid>.<n>.pprof (its heap profile) and .txt
	// (runtime.MemStats), so the anonymous memory of a busy soak month can
	// be told apart (live heap, heap kept idle, stacks) without a profiling
	// endpoint in production.
	testHeapEnv = "VIGIE_TEST_HEAP"
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
	path, heap := os.Getenv(testGoroutinesEnv), os.Getenv(testHeapEnv)
	if path != "" || heap != "" {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGUSR1)
		go func() {
			defer signal.Stop(sig)
			for n := 1; ; n++ {
				select {
				case <-ctx.Done():
					return
				case <-sig:
				}
				if heap != "" {
					if err := writeHeap(fmt.Sprintf("%s.%d.%d", heap, os.Getpid(), n)); err != nil {
						log.Error("heap profile not written", "err", err)
					}
				}
				if path == "" {
					continue
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

// writeHeap writes the heap profile and the runtime's memory statistics
// to prefix.pprof and prefix.txt.
func writeHeap(prefix string) error {
	f, err := os.Create(prefix + ".pprof")
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("heap profile: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	text := fmt.Sprintf("HeapAlloc %d\nHeapInuse %d\nHeapIdle %d\nHeapReleased %d\nStackInuse %d\nMSpanInuse %d\nGCSys %d\nOtherSys %d\nSys %d\nNextGC %d\nNumGC %d\nGoroutines %d\n",
		ms.HeapAlloc, ms.HeapInuse, ms.HeapIdle, ms.HeapReleased, ms.StackInuse, ms.MSpanInuse, ms.GCSys, ms.OtherSys, ms.Sys, ms.NextGC, ms.NumGC, runtime.NumGoroutine())
	return os.WriteFile(prefix+".txt", []byte(text), 0o600)
}
