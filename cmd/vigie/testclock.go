//go:build vigie_testclock

package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// The controllable clock of the test build (go build -tags vigie_testclock;
// the e2e suite builds so, never the Makefile or the package): the daemon's
// time is the system clock plus an offset a test writes, as a Go duration
// ("-10200h"), in the file named by VIGIE_TEST_CLOCK. Without the tag this
// file is not compiled and the variable does nothing (testclock_off.go).
//
// The offset moves the wall and the monotonic reading together (time.Time's
// Add moves both), so the gateway's clock (netclock) sees time having
// passed, as if the box had run through it, not a step of the system clock
// to hold back and settle: timers on the gateway's monotonic clock (the
// network time check, heartbeats) see the same jump, while sleeps and the
// rate limiter run on real time. For the same reason the offset only grows:
// a monotonic clock never goes back, and a later value below the present
// one is refused.

// testClockEnv names the file the offset is read from.
const testClockEnv = "VIGIE_TEST_CLOCK"

// testClockPoll is how often the file is read again: the tests wait for the
// daemon to show the new time, so this only bounds how long they wait.
const testClockPoll = 20 * time.Millisecond

// testClock is the system clock plus offset (nanoseconds), which follow
// moves forward as the file changes.
type testClock struct {
	path   string
	log    *slog.Logger
	offset atomic.Int64
}

// newTestClock returns the daemon's clock when VIGIE_TEST_CLOCK names a
// file (nil otherwise: the system clock), following the file until ctx ends.
// A file that cannot be read or parsed at start-up stops the daemon: a test
// that asked for a clock must not run on another one.
func newTestClock(ctx context.Context, log *slog.Logger) (func() time.Time, error) {
	path := os.Getenv(testClockEnv)
	if path == "" {
		return nil, nil
	}
	c := &testClock{path: path, log: log.With("component", "testclock")}
	text, off, err := c.read()
	if err != nil {
		return nil, fmt.Errorf("test clock: %w", err)
	}
	c.offset.Store(int64(off))
	c.log.Warn("test build: the daemon's time is the system clock plus an offset the test controls", "file", path, "offset", off)
	go c.follow(ctx, text)
	return c.now, nil
}

func (c *testClock) now() time.Time {
	return time.Now().Add(time.Duration(c.offset.Load()))
}

// read returns the file's text and the offset it says.
func (c *testClock) read() (string, time.Duration, error) {
	b, err := os.ReadFile(c.path)
	if err != nil {
		return "", 0, fmt.Errorf("read offset: %w", err)
	}
	text := strings.TrimSpace(string(b))
	off, err := time.ParseDuration(text)
	if err != nil {
		return text, 0, fmt.Errorf("offset in %s: %w", c.path, err)
	}
	return text, off, nil
}

// follow applies each new offset the file says, forward only.
func (c *testClock) follow(ctx context.Context, last string) {
	t := time.NewTicker(testClockPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		text, off, err := c.read()
		if text == last && err == nil {
			continue
		}
		switch cur := time.Duration(c.offset.Load()); {
		case err != nil:
			// A test writes the file by renaming a complete one, so this
			// is a test's mistake: say it, keep the clock.
			c.log.Error("test clock offset not applied", "err", err)
		case off < cur:
			c.log.Error("test clock offset not applied: the clock only goes forward", "offset", off, "current", cur)
		default:
			c.offset.Store(int64(off))
			c.log.Info("test clock moved", "by", off-cur, "offset", off)
		}
		last = text
	}
}
