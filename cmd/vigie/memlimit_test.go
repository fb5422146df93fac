package main

import (
	"io"
	"log/slog"
	"math"
	"runtime"
	"runtime/debug"
	"testing"
)

// The daemon sets its memory limit unless GOMEMLIMIT chose one, which the
// runtime applied at start and the daemon must leave alone.
func TestLimitMemory(t *testing.T) {
	was := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(was) })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	debug.SetMemoryLimit(math.MaxInt64)
	limitMemory(func(string) string { return "" }, log)
	if got := debug.SetMemoryLimit(-1); got != defaultMemoryLimit {
		t.Errorf("limit %d without GOMEMLIMIT, want %d", got, defaultMemoryLimit)
	}
	debug.SetMemoryLimit(64 << 20)
	limitMemory(func(k string) string {
		if k == "GOMEMLIMIT" {
			return "64MiB"
		}
		return ""
	}, log)
	if got := debug.SetMemoryLimit(-1); got != 64<<20 {
		t.Errorf("limit %d with GOMEMLIMIT=64MiB, want it left at %d", got, 64<<20)
	}
}

// The daemon adds a processor per modem to what the runtime chose, unless
// GOMAXPROCS chose their number.
func TestAddProcs(t *testing.T) {
	was := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(was) })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	runtime.GOMAXPROCS(2)
	addProcs(func(string) string { return "" }, 3, log)
	if got := runtime.GOMAXPROCS(0); got != 5 {
		t.Errorf("%d processors for 2 and 3 modems, want 5", got)
	}
	runtime.GOMAXPROCS(2)
	addProcs(func(k string) string {
		if k == "GOMAXPROCS" {
			return "2"
		}
		return ""
	}, 3, log)
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Errorf("%d processors with GOMAXPROCS=2, want them left at 2", got)
	}
}
