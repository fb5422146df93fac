// Package gateway is Vigie's core: it composes the store and the modems. It
// fans an alert out to the subscribers of its zones, keeps one sender per
// modem busy at the modem's rate, turns shopkeepers' SMS into subscriptions,
// STOPs and inbox entries, and answers the local API.
//
// The pure parts (config, zones, keywords, text rendering, phone numbers)
// live in sub-packages; this package holds what needs the store and the
// modems at once.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"vigie/gateway/config"
	"vigie/gateway/netclock"
	"vigie/gateway/zone"
	"vigie/modem/usbreset"
	"vigie/store"
)

// Gateway runs the workers of every configured modem over one store.
type Gateway struct {
	cfg     *config.Config
	store   *store.Store
	zones   *zone.Tree
	trades  *zone.Trades
	log     *slog.Logger
	version string
	// startMono is when the daemon started, on the monotonic clock; see
	// startedAt.
	startMono time.Duration
	// launched is closed by Run once every worker is started.
	launched chan struct{}
	// loops are the heartbeats of Run's own loops, by name, for the
	// watchdog; the map is fixed by New.
	loops map[string]*heartbeat
	// clock dates records and runs the outbox's timers: the system clock,
	// or the network's time when the system clock is off from it
	// (clock.go). now is its Now, mono its never-stepping Monotonic.
	clock *netclock.Clock
	now   func() time.Time
	mono  func() time.Duration
	// runAfter marks the last message and alert of earlier runs: the later
	// ones are dated by this run's clock, and move when it steps.
	runAfter store.Mark
	retry    time.Duration // first retry delay of a temporary failure
	usb      usbPort       // the modems' USB devices, for the last recovery rung

	workers  []*worker
	careTick time.Duration // how often the care loops look at the clock
	// availabilityEvery is how often the modems' up-time is accounted
	// (availability.go).
	availabilityEvery time.Duration
	care              care       // database check, backups, retention, canary (care.go)
	writes            writeFault // the database's write health (dbfault.go)

	mu      sync.Mutex
	running bool
}

// Options are the parts of a Gateway that are not in the config file.
type Options struct {
	Logger  *slog.Logger
	Version string
	// Now is the system clock; nil is time.Now.
	Now func() time.Time
	// Monotonic is a clock that never steps (time since any fixed origin);
	// nil takes Now's own monotonic reading. Tests that step Now apart
	// from it set it.
	Monotonic func() time.Duration
	// RetryBase is the delay before the first retries of a temporary send
	// failure, then doubled at each attempt up to 600 times it
	// (retryDelay); 0 is 1 s. Tests shorten it.
	RetryBase time.Duration
	// CareTick is how often the care loops (backup, retention, canary)
	// look at the clock; 0 is careTick. The soak test, which moves a test
	// clock a day at a time, shortens it so that each day's tasks run.
	CareTick time.Duration
	// AvailabilityEvery is how often the modems' up-time is accounted; 0
	// is availabilityEvery (a minute). The soak test, which moves a test
	// clock a day at a time within a second, shortens it so that each
	// simulated day, and each outage, is accounted to its own day.
	AvailabilityEvery time.Duration

	// usb finds and resets the modems' USB devices; nil is the system's
	// sysfs. Tests, which have no USB, replace it.
	usb usbPort
}

// New checks the config and prepares a worker per modem. Nothing is opened
// before Run.
func New(cfg *config.Config, st *store.Store, opts Options) (*Gateway, error) {
	zones, err := zone.New(cfg.Zones)
	if err != nil {
		return nil, fmt.Errorf("zones: %w", err)
	}
	trades, err := zone.NewTrades(cfg.Trades)
	if err != nil {
		return nil, fmt.Errorf("trades: %w", err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	maxSkew := cfg.Station.MaxClockSkew
	if maxSkew <= 0 {
		maxSkew = config.DefaultMaxClockSkew
	}
	clock := netclock.New(opts.Now, opts.Monotonic, maxSkew)
	if opts.RetryBase <= 0 {
		opts.RetryBase = defaultRetryBase
	}
	if opts.CareTick <= 0 {
		opts.CareTick = careTick
	}
	if opts.AvailabilityEvery <= 0 {
		opts.AvailabilityEvery = availabilityEvery
	}
	if opts.usb == nil {
		opts.usb = usbreset.System()
	}
	g := &Gateway{
		cfg:       cfg,
		store:     st,
		zones:     zones,
		trades:    trades,
		log:       opts.Logger.With("component", "gateway"),
		version:   opts.Version,
		startMono: clock.Monotonic(),
		launched:  make(chan struct{}),
		loops:     make(map[string]*heartbeat),
		clock:     clock,
		now:       clock.Now,
		mono:      clock.Monotonic,
		retry:     opts.RetryBase,
		careTick:  opts.CareTick,
		usb:       opts.usb,

		availabilityEvery: opts.AvailabilityEvery,
	}
	// Before the API can accept an alert: every message after this one is
	// dated by this run's clock.
	if g.runAfter, err = st.Mark(); err != nil {
		return nil, err
	}
	for _, t := range g.tasks() {
		g.loops[t.name] = &heartbeat{}
	}
	for _, mc := range cfg.Modems {
		g.workers = append(g.workers, newWorker(g, mc))
	}
	return g, nil
}

// Run recovers what a crash left half-sent, processes inbound SMS saved but
// not handled, then runs every modem worker until ctx ends.
func (g *Gateway) Run(ctx context.Context) error {
	g.mu.Lock()
	if g.running {
		g.mu.Unlock()
		return errors.New("gateway already running")
	}
	g.running = true
	g.mu.Unlock()

	g.checkDatabase()
	n, err := g.store.RecoverSending(g.now())
	if err != nil {
		return fmt.Errorf("recover messages left sending: %w", err)
	}
	if n > 0 {
		g.log.Warn("messages were being sent when the daemon stopped; sending again, marked uncertain", "count", n)
	}
	// What cannot be handled now (disk full) waits for the workers'
	// retries: the daemon starts and says so.
	if _, err := g.processUnhandled(); err != nil {
		return err
	}

	var wg sync.WaitGroup // Run owns every task and worker: it returns once all have
	for _, t := range g.tasks() {
		wg.Go(func() { t.run(ctx) })
	}
	for _, w := range g.workers {
		wg.Go(func() { w.run(ctx) })
	}
	close(g.launched)
	wg.Wait()
	return nil
}

// task is one of Run's background loops, by the name of its heartbeat in
// g.loops (the watchdog reports a silent one by it).
type task struct {
	name string
	run  func(context.Context)
}

// tasks lists Run's background loops: the one list both the heartbeat
// registry and Run are built from, so that no loop runs unwatched.
func (g *Gateway) tasks() []task {
	return []task{
		{"expiry", g.expireLoop},
		{"led", g.runLED},
		{"backup", g.backupLoop},
		{"retention", g.retentionLoop},
		{"canary", g.canaryLoop},
		{"concat", g.concatLoop},
		{"availability", g.availabilityLoop},
	}
}

// monoTime is the never-stepping clock as a time, for what compares
// instants (usbRung) rather than dates them: only differences of two
// monoTime readings mean anything.
func (g *Gateway) monoTime() time.Time { return time.Unix(0, 0).Add(g.mono()) }

// startedAt is when the daemon started, by the clock's present reckoning:
// a start dated by a system clock found off later is dated again.
func (g *Gateway) startedAt() time.Time {
	return g.now().Add(-(g.mono() - g.startMono))
}

// Launched is closed once Run has recovered what a crash left and started
// every loop and modem worker: what systemd's READY=1 waits for.
func (g *Gateway) Launched() <-chan struct{} { return g.launched }

// expireEvery is how often queued messages older than alert_ttl are expired.
const expireEvery = 15 * time.Second

// expireLoop expires, now and then, what alert_ttl says is too late to send
// (SPEC §5: not sent late). The network drops what it holds past the same
// time (TP-VP).
func (g *Gateway) expireLoop(ctx context.Context) {
	t := time.NewTicker(expireEvery)
	defer t.Stop()
	beat := g.loops["expiry"]
	defer beat.park()
	for {
		beat.stamp(g.mono())
		g.settleClock() // a stepped clock moves the timers before they are compared
		now := g.now()
		n, alerts, err := g.store.ExpireQueued(now.Add(-g.cfg.SMS.AlertTTL), now)
		switch {
		case err != nil:
			g.log.Error("expire late messages", "err", err)
		case n > 0:
			g.log.Warn("messages expired: not sent within alert_ttl", "count", n, "alert_ttl", g.cfg.SMS.AlertTTL)
			for _, id := range alerts {
				g.alertProgress(id)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// wake tells every sender that work is waiting.
func (g *Gateway) wake() {
	for _, w := range g.workers {
		w.wake()
	}
}
