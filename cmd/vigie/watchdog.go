package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"vigie/gateway/apitype"
	"vigie/gateway/client"
	"vigie/gateway/config"
)

// watchdog pings systemd's watchdog (WATCHDOG=1) every interval, but only
// while alive says the daemon makes progress: a daemon that hangs stops
// pinging, and systemd kills and restarts it (WatchdogSec= in the unit).
type watchdog struct {
	interval time.Duration
	alive    func(context.Context) error
	notify   func(state string)
	log      *slog.Logger
	stalled  bool // the last check failed; logged once per episode
}

// check is one round: it pings if the daemon is alive, and says whether
// it did.
func (w *watchdog) check(ctx context.Context) bool {
	if err := w.alive(ctx); err != nil {
		if !w.stalled {
			w.log.Error("daemon not making progress: systemd watchdog no longer pinged", "err", err)
		}
		w.stalled = true
		return false
	}
	if w.stalled {
		w.log.Warn("daemon making progress again: systemd watchdog pinged")
	}
	w.stalled = false
	w.notify("WATCHDOG=1")
	return true
}

// run checks at once and then every interval until ctx ends.
func (w *watchdog) run(ctx context.Context) {
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		w.check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// watchdogInterval is how often to ping when systemd set a watchdog for
// this process (WATCHDOG_USEC, and WATCHDOG_PID if set naming pid): half
// the timeout, as sd_watchdog_enabled(3) advises.
func watchdogInterval(getenv func(string) string, pid int) (time.Duration, bool) {
	usec, err := strconv.ParseInt(getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec <= 0 {
		return 0, false
	}
	if p := getenv("WATCHDOG_PID"); p != "" && p != strconv.Itoa(pid) {
		return 0, false
	}
	return time.Duration(usec) * time.Microsecond / 2, true
}

// apiTimeout bounds the watchdog's request to the daemon's own API.
const apiTimeout = 10 * time.Second

// daemonAlive is the watchdog's liveness check: every gateway loop made
// progress recently (gw.Alive), and the API answers on socket. Any HTTP
// answer counts, even an error: it proves the server's loop runs.
func daemonAlive(gatewayAlive func() error, socket string) func(context.Context) error {
	c := client.New(socket)
	return func(ctx context.Context) error {
		if err := gatewayAlive(); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(ctx, apiTimeout)
		defer cancel()
		_, err := c.Status(ctx)
		if ue := (*apitype.UserError)(nil); err != nil && !errors.As(err, &ue) && !errors.Is(err, client.ErrPermission) {
			return fmt.Errorf("API does not answer: %w", err)
		}
		return nil
	}
}

// credentialPIN points the modems that have neither pin nor pin_file at
// the SIM PIN systemd hands over as a credential (LoadCredential=pin:… in
// vigie.service: $CREDENTIALS_DIRECTORY/pin). An absent or empty
// credential changes nothing. It returns the modems it set.
func credentialPIN(cfg *config.Config, credDir string) []string {
	if credDir == "" {
		return nil
	}
	path := filepath.Join(credDir, "pin")
	b, err := os.ReadFile(path)
	if err != nil || strings.TrimSpace(string(b)) == "" {
		return nil
	}
	var set []string
	for i := range cfg.Modems {
		if m := &cfg.Modems[i]; m.PIN == "" && m.PINFile == "" {
			m.PINFile = path
			set = append(set, m.Name)
		}
	}
	return set
}
