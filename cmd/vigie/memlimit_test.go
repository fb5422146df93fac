package main

import (
	"io"
	"log/slog"
	"math"
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
