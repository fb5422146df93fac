//go:build vigie_testclock

package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// writeOffset replaces the clock file whole, as the e2e helpers do.
func writeOffset(t *testing.T, path string, off string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(off+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitOffset waits until now() is the system clock plus want (within a
// second, far below the offsets used).
func waitOffset(t *testing.T, now func() time.Time, want time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		got := now().Sub(time.Now())
		if (got - want).Abs() < time.Second {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("clock offset %v, want %v", got, want)
		}
	}
}

func TestTestClockFollowsItsFileForwardOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clock")
	writeOffset(t, path, "-10000h")
	t.Setenv(testClockEnv, path)
	logs := &lockedBuffer{}
	now, err := newTestClock(t.Context(), slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil || now == nil {
		t.Fatalf("newTestClock = %v, %v", now != nil, err)
	}
	// The start-up offset holds from the first reading.
	waitOffset(t, now, -10000*time.Hour)
	// The monotonic reading moves with the offset: the gateway's clock
	// measures elapsed time with it.
	before := now()
	writeOffset(t, path, "-5000h")
	waitOffset(t, now, -5000*time.Hour)
	if el := now().Sub(before); el < 5000*time.Hour || el > 5000*time.Hour+5*time.Second {
		t.Errorf("elapsed across the jump %v, want 5000h and a little", el)
	}
	// Back in time and garbage are refused, the clock kept.
	writeOffset(t, path, "-6000h")
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(logs.String(), "only goes forward"); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no refusal of a backward offset logged:\n%s", logs.String())
		}
	}
	writeOffset(t, path, "demain")
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(logs.String(), "demain"); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no refusal of an unreadable offset logged:\n%s", logs.String())
		}
	}
	waitOffset(t, now, -5000*time.Hour)
	writeOffset(t, path, "1h")
	waitOffset(t, now, time.Hour)
}

func TestTestClockRefusesABadFileAtStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clock")
	t.Setenv(testClockEnv, path)
	if _, err := newTestClock(t.Context(), slog.New(slog.NewTextHandler(&lockedBuffer{}, nil))); err == nil {
		t.Error("no error for a missing clock file")
	}
	writeOffset(t, path, "hier")
	if _, err := newTestClock(t.Context(), slog.New(slog.NewTextHandler(&lockedBuffer{}, nil))); err == nil {
		t.Error("no error for an unreadable offset")
	}
}
