package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"vigie/gateway"
	"vigie/gateway/apitype"
	"vigie/gateway/config"
	"vigie/modem/sim"
	"vigie/store"
)

// bench holds what every figure shares.
type bench struct {
	opts     options
	log      *slog.Logger
	progress io.Writer // one line per step, so a slow figure shows where it is
	// procs is the runtime's number of processors at the start; each
	// daemon runs with gateway.ProcsFor of it, as vigie serve does (0:
	// left as it is).
	procs int
}

// Zones of the bench config: macon-centre is inside macon, so an alert to
// macon reaches both; solo holds the one subscriber of figure (c).
const (
	zoneCity   = "macon"
	zoneCentre = "macon-centre"
	zoneSolo   = "solo"
)

// alertText is a typical French alert; with the prefix and signature of the
// bench config it is one GSM 7-bit SMS part once transliterated.
const alertText = "Vol à l'étalage rue Carnot : deux individus en survêtement sombre, partis à pied vers la gare."

// configText is the daemon's config for dir, with one [[modem]] per device
// (each its own simulated modem). Rate limits are far above what is
// measured, so the limiter is never what the figures show.
func configText(dir string, devices []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `[station]
name = "vigie-bench"

[store]
path = %q

[api]
socket = %q
`, filepath.Join(dir, "vigie.db"), filepath.Join(dir, "vigie.sock"))
	for i, dev := range devices {
		fmt.Fprintf(&b, `
[[modem]]
name = "m%d"
device = %q
rate_per_minute = 1000000
burst = 1000
daily_cap = 10000000
`, i+1, dev)
	}
	b.WriteString(`
[sms]
prefix = "Vigilance commerce 71 : "
signature = " STOP pour arrêter."
max_parts = 3
transliterate = true

[keywords]
subscription = "open"

[log]
level = "warn"

[[zone]]
id = "macon"
name = "Mâcon"

[[zone]]
id = "macon-centre"
name = "Mâcon centre"
parent = "macon"

[[zone]]
id = "solo"
name = "Solo"
`)
	return b.String()
}

// devicePaths are the pty links of n simulated modems in dir.
func devicePaths(dir string, n int) []string {
	devs := make([]string, n)
	for i := range devs {
		devs[i] = filepath.Join(dir, fmt.Sprintf("modem%d", i+1))
	}
	return devs
}

// phoneOf is the i-th subscriber's number, a valid French mobile.
func phoneOf(i int) string { return fmt.Sprintf("+336%08d", 10_000_000+i) }

// addSubscribers subscribes n shops, the i-th to zoneOf(i), through the
// store API (one transaction each, as the operator path does).
func addSubscribers(st *store.Store, n int, zoneOf func(int) string) ([]string, error) {
	phones := make([]string, n)
	now := time.Now()
	for i := range n {
		phones[i] = phoneOf(i)
		sub := store.Subscription{Phone: phones[i], Zone: zoneOf(i), Source: store.SourceOperator}
		if _, err := st.AddSubscriber(sub, now); err != nil {
			return nil, fmt.Errorf("add subscriber %d: %w", i, err)
		}
	}
	return phones, nil
}

// daemon is the gateway running in this process over a store in a temp dir
// and simulated modems on pseudo-terminals.
type daemon struct {
	dir   string
	cfg   *config.Config
	st    *store.Store
	g     *gateway.Gateway
	sims  []*sim.Modem
	stop  context.CancelFunc
	done  chan error
	ready bool // Run was started
	procs int  // GOMAXPROCS to restore at close (0: untouched)
}

// newDaemon prepares a daemon with one simulated modem per entry of opts;
// nothing runs until start. Call close in every case.
func (b *bench) newDaemon(opts ...sim.Options) (d *daemon, err error) {
	return b.newDaemonWith(0, opts...)
}

// newDaemonWith is newDaemon with the gateway's retry base (0: its
// production default of 1 s).
func (b *bench) newDaemonWith(retryBase time.Duration, opts ...sim.Options) (d *daemon, err error) {
	dir, err := os.MkdirTemp("", "vigie-bench-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	d = &daemon{dir: dir}
	if b.procs > 0 {
		d.procs = runtime.GOMAXPROCS(gateway.ProcsFor(b.procs, len(opts)))
	}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	devs := devicePaths(dir, len(opts))
	d.cfg, err = config.Parse(strings.NewReader(configText(dir, devs)), "bench.toml")
	if err != nil {
		return d, fmt.Errorf("bench config: %w", err)
	}
	if d.st, err = store.Open(d.cfg.Store.Path); err != nil {
		return d, err
	}
	if d.g, err = gateway.New(d.cfg, d.st, gateway.Options{Logger: b.log, Version: "bench", RetryBase: retryBase}); err != nil {
		return d, fmt.Errorf("gateway: %w", err)
	}
	for i, o := range opts {
		o.Logger = b.log.With("component", "sim", "modem", i+1)
		m := sim.New(o)
		d.sims = append(d.sims, m)
		if _, err := m.OpenPTY(devs[i]); err != nil {
			return d, fmt.Errorf("simulated modem %d: %w", i+1, err)
		}
	}
	return d, nil
}

// start runs the gateway and waits until every modem is ready to send.
func (d *daemon) start(ctx context.Context) error {
	rctx, cancel := context.WithCancel(context.Background())
	d.stop, d.done, d.ready = cancel, make(chan error, 1), true
	go func() { d.done <- d.g.Run(rctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := d.g.Status()
		if err != nil {
			return fmt.Errorf("status: %w", err)
		}
		if !slices.ContainsFunc(s.Modems, func(m apitype.ModemStatus) bool { return m.State != apitype.ModemReady }) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("modems not ready after 30 s: %+v", s.Modems)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-d.done:
			d.done <- err
			return fmt.Errorf("gateway stopped while starting: %w", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// close stops the gateway, the simulated modems and the store, and removes
// the temp dir.
func (d *daemon) close() error {
	var errs []error
	if d.procs > 0 {
		defer runtime.GOMAXPROCS(d.procs)
	}
	if d.ready {
		d.stop()
		if err := <-d.done; err != nil {
			errs = append(errs, fmt.Errorf("gateway run: %w", err))
		}
	}
	for _, m := range d.sims {
		if err := m.Close(); err != nil && !errors.Is(err, sim.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if d.st != nil {
		errs = append(errs, d.st.Close())
	}
	errs = append(errs, os.RemoveAll(d.dir))
	return errors.Join(errs...)
}

// sendAlert queues the bench alert to zones and checks it is what the
// figures assume: every recipient, one part each.
func (d *daemon) sendAlert(ctx context.Context, text string, recipients int, zones ...string) (apitype.Alert, error) {
	a, err := d.g.SendAlert(ctx, apitype.AlertRequest{Zones: zones, Text: text}, "vigie-bench")
	if err != nil {
		return a, fmt.Errorf("send alert: %w", err)
	}
	if a.Recipients != recipients || a.Parts != 1 {
		return a, fmt.Errorf("alert to %d recipients in %d parts, want %d in 1 part", a.Recipients, a.Parts, recipients)
	}
	return a, nil
}

// waitAll waits until every phone has received an SMS from one of the
// simulated modems, and returns when the last of them was accepted by the
// simulated network (the earliest copy of each, should one be resent) and
// how many each modem sent.
func (d *daemon) waitAll(ctx context.Context, phones []string, within time.Duration) (time.Time, []int, error) {
	want := make(map[string]bool, len(phones))
	for _, p := range phones {
		want[p] = true
	}
	deadline := time.Now().Add(within)
	for {
		first := map[string]time.Time{}
		perModem := make([]int, len(d.sims))
		for i, m := range d.sims {
			for _, s := range m.AllReceived() {
				if !want[s.To] {
					continue
				}
				perModem[i]++
				if t, ok := first[s.To]; !ok || s.At.Before(t) {
					first[s.To] = s.At
				}
			}
		}
		if len(first) == len(want) {
			var last time.Time
			for _, t := range first {
				if t.After(last) {
					last = t
				}
			}
			return last, perModem, nil
		}
		if time.Now().After(deadline) {
			s, _ := d.g.Status()
			return time.Time{}, perModem, fmt.Errorf("%d of %d SMS received after %v; queue %v", len(first), len(want), within, s.Queue)
		}
		select {
		case <-ctx.Done():
			return time.Time{}, perModem, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}
