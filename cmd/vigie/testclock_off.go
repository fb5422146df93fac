//go:build !vigie_testclock

package main

import (
	"context"
	"log/slog"
	"time"
)

// newTestClock is the production build's: the system clock, whatever the
// environment says (the controllable clock of testclock.go exists only in
// the test build, -tags vigie_testclock).
func newTestClock(context.Context, *slog.Logger) (func() time.Time, error) {
	return nil, nil
}
