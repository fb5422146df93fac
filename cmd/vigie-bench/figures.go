package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"time"

	"vigie/modem/sim"
)

// Sizes of the figures, as issue #4 sets them.
const (
	throughputN   = 500
	utilisationN  = 48
	pickupRuns    = 20
	pickupIdle    = time.Second // how long the daemon idles before each pick-up run
	acceptN       = 6000
	acceptCentre  = 4000 // of acceptN, in macon-centre; the rest in macon itself
	acceptRuns    = 5
	rssQueued     = 10000
	rssSendDelay  = 500 * time.Millisecond
	rssSample     = 20 * time.Millisecond // (e): how often the daemon's memory is sampled for its peaks
	sendsDeadline = 2 * time.Minute
)

// cpuTime is the CPU time (user + system) this process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fanOutResult is what one alert fanned out through the daemon measured.
type fanOutResult struct {
	wall     time.Duration // from the alert's acceptance to the last SMS accepted by the network
	cpu      time.Duration // CPU of this process (gateway and simulated modems) over wall
	perModem []int         // SMS each modem sent
	commands map[string]int
	// stalled is how long, over wall, some task of the machine waited for
	// a CPU (stallKnown: the kernel said).
	stalled    time.Duration
	stallKnown bool
	// idle is, per modem, how long it waited for a command between the
	// alert's acceptance and the last SMS (sim.Modem.Idle).
	idle []time.Duration
}

// atCommands are the AT commands counted during a fan-out, by prefix ("" is
// every command line).
var atCommands = []string{"", "+CMMS", "+CMGS", "+CMGL", "+CMGR", "+CMGD"}

// commandCounts sums, over the simulated modems, the command lines received
// so far by prefix.
func commandCounts(sims []*sim.Modem) map[string]int {
	counts := map[string]int{}
	for _, p := range atCommands {
		for _, m := range sims {
			counts[p] += m.CommandCount(p)
		}
	}
	return counts
}

// fanOut subscribes n shops under macon, starts the daemon on modems made
// with opts and sends them one alert. The wall time runs from the alert's
// acceptance (SendAlert returned: committed) to the simulated network's
// acceptance of the last SMS.
func (b *bench) fanOut(ctx context.Context, n int, opts ...sim.Options) (r fanOutResult, err error) {
	return b.fanOutWith(ctx, n, 0, nil, opts...)
}

// fanOutWith is fanOut with the gateway's retry base (0: its production
// default) and prepare (if not nil) run on the simulated modems once the
// daemon is ready, before the alert: fault injection.
func (b *bench) fanOutWith(ctx context.Context, n int, retryBase time.Duration, prepare func([]*sim.Modem), opts ...sim.Options) (r fanOutResult, err error) {
	d, err := b.newDaemonWith(retryBase, opts...)
	if err != nil {
		return r, err
	}
	defer func() {
		if cerr := d.close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	phones, err := addSubscribers(d.st, n, func(int) string { return zoneCity })
	if err != nil {
		return r, err
	}
	if err := d.start(ctx); err != nil {
		return r, err
	}
	if prepare != nil {
		prepare(d.sims)
	}
	cmd0, cpu0 := commandCounts(d.sims), cpuTime()
	if _, err := d.sendAlert(ctx, alertText, n, zoneCity); err != nil {
		return r, err
	}
	accepted := time.Now()
	for _, m := range d.sims {
		m.ResetIdle()
	}
	stall0, known0 := cpuStalled()
	last, perModem, err := d.waitAll(ctx, phones, sendsDeadline)
	if err != nil {
		return r, err
	}
	for _, m := range d.sims {
		r.idle = append(r.idle, m.Idle(last))
	}
	stall1, known1 := cpuStalled()
	r = fanOutResult{idle: r.idle, wall: last.Sub(accepted), cpu: cpuTime() - cpu0, perModem: perModem, commands: commandCounts(d.sims),
		stalled: stall1 - stall0, stallKnown: known0 && known1}
	for p, c := range cmd0 {
		r.commands[p] -= c
	}
	return r, nil
}

// throughput is figure (a): the gateway's own cost per message, the
// simulated network taking no time.
func (b *bench) throughput(ctx context.Context) ([]row, error) {
	n := orDefault(b.opts.n, throughputN)
	r, err := b.fanOut(ctx, n, sim.Options{})
	if err != nil {
		return nil, err
	}
	perMsg := func(c int) string { return fmt.Sprintf("%.2f", float64(c)/float64(n)) }
	return []row{{
		"(a) throughput, zero send delay",
		fmt.Sprintf("%.0f msg/s, %s/message wall, %s/message CPU; AT commands/message %s (CMMS %s, CMGS %s, CMGL %s, CMGR %s, CMGD %s)",
			float64(n)/r.wall.Seconds(), micro(r.wall/time.Duration(n)), micro(r.cpu/time.Duration(n)),
			perMsg(r.commands[""]), perMsg(r.commands["+CMMS"]), perMsg(r.commands["+CMGS"]), perMsg(r.commands["+CMGL"]), perMsg(r.commands["+CMGR"]), perMsg(r.commands["+CMGD"])),
		fmt.Sprintf("one alert to %d subscribers, 1 simulated modem on a pty (SendDelay 0, rate and burst far above); wall from SendAlert's return to the sim's acceptance of the last SMS; CPU of the whole process (gateway + sim) over that span; AT commands counted by the sim (status reports are read from its storage)", n),
	}}, nil
}

// utilisation is figure (b): how close to the modems' own limit the engine
// keeps them when each SMS takes the network a fixed time.
func (b *bench) utilisation(ctx context.Context) ([]row, error) {
	n, delay := orDefault(b.opts.n, utilisationN), b.opts.delay
	var rows []row
	for _, k := range []int{1, 2, 4} {
		fmt.Fprintf(b.progress, "vigie-bench:   %s…\n", modemCount(k))
		opts := make([]sim.Options, k)
		for i := range opts {
			opts[i] = sim.Options{SendDelay: delay}
		}
		r, err := b.fanOut(ctx, n, opts...)
		if err != nil {
			return rows, fmt.Errorf("%d modems: %w", k, err)
		}
		wall, per := r.wall, r.perModem
		ideal := time.Duration(n) * delay / time.Duration(k)
		split := make([]string, len(per))
		for i, c := range per {
			split[i] = fmt.Sprint(c)
		}
		var idle time.Duration
		for _, d := range r.idle {
			idle += d
		}
		// Modem time: the wall less what the modems waited for a command,
		// on average; the engine's share of the wall is what they waited.
		busy := wall - idle/time.Duration(k)
		rows = append(rows, row{
			"(b) modem utilisation, " + modemCount(k),
			fmt.Sprintf("%.3f (%.2f s for a floor of %.2f s; %s/message over the floor; split %s); by modem time %.4f: the modems waited %s per SMS for a command",
				wall.Seconds()/ideal.Seconds(), wall.Seconds(), ideal.Seconds(),
				micro((wall-ideal)*time.Duration(k)/time.Duration(n)), strings.Join(split, "/"),
				wall.Seconds()/busy.Seconds(), micro(idle/time.Duration(n))),
			fmt.Sprintf("one alert to %d subscribers; each modem its own sim on its own pty with SendDelay %v per SMS; GOMAXPROCS = CPUs + modems, as vigie serve sets it (gateway.ProcsFor); wall from SendAlert's return to the last SMS accepted, divided by N×d/modems; by modem time: divided by the time the modems were not waiting for a command (the sim adds up, from the alert's acceptance to the last SMS, the time its AT session waited with a response written and no command begun: the AT exchange itself, status report reads included, is the modem's time, as on a real modem)", n, delay),
		})
	}
	return rows, nil
}

// pickup is figure (c): one message queued into an idle daemon, until the
// simulated modem takes its +CMGS. With a zero send delay the sim records
// the SMS as soon as it reads the PDU, so its timestamp is the +CMGS's.
func (b *bench) pickup(ctx context.Context) (rows []row, err error) {
	d, err := b.newDaemon(sim.Options{})
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := d.close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	phones, err := addSubscribers(d.st, 1, func(int) string { return zoneSolo })
	if err != nil {
		return nil, err
	}
	if err := d.start(ctx); err != nil {
		return nil, err
	}
	lat := make([]time.Duration, 0, pickupRuns)
	for i := range pickupRuns {
		if !sleepCtx(ctx, pickupIdle) {
			return nil, ctx.Err()
		}
		if _, err := d.sendAlert(ctx, fmt.Sprintf("Essai de prise en charge n°%d.", i+1), 1, zoneSolo); err != nil {
			return nil, err
		}
		accepted := time.Now()
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		got, err := d.sims[0].WaitReceived(wctx, phones[0], i+1)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("run %d: %w", i+1, err)
		}
		lat = append(lat, got[i].At.Sub(accepted))
	}
	slices.Sort(lat)
	return []row{{
		"(c) pick-up latency",
		fmt.Sprintf("median %s, max %s (min %s)", milli(median(lat)), milli(lat[len(lat)-1]), milli(lat[0])),
		fmt.Sprintf("%d runs: an alert to 1 subscriber queued into the daemon idle for %v, from SendAlert's return to the sim accepting its +CMGS (SendDelay 0)", pickupRuns, pickupIdle),
	}}, nil
}

// accept is figure (d): how long SendAlert takes to commit an alert to
// 6,000 recipients (resolve the zones, render, one transaction).
func (b *bench) accept(ctx context.Context) (rows []row, err error) {
	d, err := b.newDaemon(sim.Options{})
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := d.close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	if _, err := addSubscribers(d.st, acceptN, centreFirst); err != nil {
		return nil, err
	}
	took := make([]time.Duration, 0, acceptRuns)
	for range acceptRuns {
		t0 := time.Now()
		if _, err := d.sendAlert(ctx, alertText, acceptN, zoneCity); err != nil {
			return nil, err
		}
		took = append(took, time.Since(t0))
	}
	slices.Sort(took)
	return []row{{
		"(d) accept an alert to 6,000",
		fmt.Sprintf("median %s (min %s, max %s), %s/recipient", milli(median(took)), milli(took[0]), milli(took[len(took)-1]), micro(median(took)/acceptN)),
		fmt.Sprintf("gateway.SendAlert to macon (%d subscribers added with the store API, %d of them in its sub-zone), %d alerts in a row on one database (no worker running), median", acceptN, acceptCentre, acceptRuns),
	}}, nil
}

// centreFirst puts the first acceptCentre subscribers in macon-centre and
// the others in macon itself.
func centreFirst(i int) string {
	if i < acceptCentre {
		return zoneCentre
	}
	return zoneCity
}

// orDefault is v, or def when v is zero.
func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// median of sorted durations.
func median(sorted []time.Duration) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func micro(d time.Duration) string {
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}
func milli(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// sleepCtx waits d or until ctx ends; false if ctx ended.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// modemCount is "1 modem" or "k modems".
func modemCount(k int) string {
	if k == 1 {
		return "1 modem"
	}
	return fmt.Sprintf("%d modems", k)
}
