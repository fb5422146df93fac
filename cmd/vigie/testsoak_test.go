//go:build vigie_testclock

package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Named TestTestClock… so that the Makefile's run of the tagged build
// (-run 'TestTestClock') takes it.
func TestTestClockSoakHooks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "goroutines")
	t.Setenv(testCareTickEnv, "50ms")
	t.Setenv(testAvailabilityTickEnv, "20ms")
	t.Setenv(testGoroutinesEnv, path)
	ticks, err := testSoakHooks(t.Context(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if want := (soakTicks{care: 50 * time.Millisecond, availability: 20 * time.Millisecond}); err != nil || ticks != want {
		t.Fatalf("testSoakHooks = %+v, %v; want %+v", ticks, err, want)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err != nil || n < 2 {
				t.Errorf("goroutine count %q (%v), want a number above 1", b, err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no goroutine count written within 10 s of SIGUSR1")
		}
		time.Sleep(5 * time.Millisecond)
	}

	t.Setenv(testCareTickEnv, "vite")
	t.Setenv(testGoroutinesEnv, "")
	if _, err := testSoakHooks(t.Context(), slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil {
		t.Error("a care tick that is no duration was taken")
	}
	t.Setenv(testCareTickEnv, "")
	t.Setenv(testAvailabilityTickEnv, "souvent")
	if _, err := testSoakHooks(t.Context(), slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil {
		t.Error("an availability tick that is no duration was taken")
	}
}
