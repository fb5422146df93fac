//go:build !vigie_testclock

package main

import (
	"context"
	"log/slog"
	"time"
)

// testSoakHooks is the production build's: the default care tick and no
// goroutine count, whatever the environment says (testsoak.go).
func testSoakHooks(context.Context, *slog.Logger) (time.Duration, error) {
	return 0, nil
}
