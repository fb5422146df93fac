//go:build !vigie_testclock

package main

import (
	"context"
	"log/slog"
)

// testSoakHooks is the production build's: the default ticks and no
// goroutine count, whatever the environment says (testsoak.go).
func testSoakHooks(context.Context, *slog.Logger) (soakTicks, error) {
	return soakTicks{}, nil
}
