//go:build !vigie_testclock

package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// The production build ignores VIGIE_TEST_CLOCK: the daemon keeps the
// system clock even when the variable names a valid offset file.
func TestProductionBuildIgnoresTestClock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clock")
	if err := os.WriteFile(path, []byte("-10000h"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VIGIE_TEST_CLOCK", path)
	now, err := newTestClock(t.Context(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil || now != nil {
		t.Fatalf("production newTestClock = %v, %v; want no clock (nil: the system's) and no error", now != nil, err)
	}
}
