package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"vigie/modem/sim"
	"vigie/store"
)

// Sizes of figures (w) and (g), as issue #15 sets them.
const (
	wearSubscribers = 6000
	wearRecipients  = 1000 // wearCentre in macon-centre + the same in solo
	wearCentre      = 500
	growthSmall     = 500 // subscribers, all of them recipients
	growthRuns      = 3   // alternated small/large runs of (g), medians
	settleDeadline  = time.Minute
)

// wearZone puts the first wearCentre subscribers in macon-centre, the next
// wearCentre in solo, and the rest in macon: an alert to solo reaches 500
// of the database, one to macon-centre and solo 1,000.
func wearZone(i int) string {
	switch {
	case i < wearCentre:
		return zoneCentre
	case i < 2*wearCentre:
		return zoneSolo
	}
	return zoneCity
}

// diskFanOut is what one alert fanned out measured, disk included.
type diskFanOut struct {
	n         int
	wall      time.Duration // from SendAlert's return to the last SMS accepted by the sim
	accept    diskDelta     // SendAlert alone
	sending   diskDelta     // from SendAlert's return to every message delivered
	delivered int           // messages delivered (or failed) when sending was read
}

func (r diskFanOut) rate() float64 { return float64(r.n) / r.wall.Seconds() }

// total is the whole alert: acceptance, sending, delivery reports.
func (r diskFanOut) total() diskDelta {
	return diskDelta{
		io:       r.accept.io.add(r.sending.io),
		commits:  r.accept.commits + r.sending.commits,
		sizeFrom: r.accept.sizeFrom, sizeTo: r.sending.sizeTo,
	}
}

// diskFanOut subscribes subscribers shops (the i-th in zoneOf(i)), starts
// the daemon on one zero-delay simulated modem, sends one alert to zones
// (recipients of them) and reads the disk before the alert, once it is
// accepted, and once every message is delivered (the last transition of
// a message on a modem that reports delivery).
func (b *bench) diskFanOut(ctx context.Context, subscribers, recipients int, zoneOf func(int) string, zones ...string) (r diskFanOut, err error) {
	d, err := b.newDaemon(sim.Options{})
	if err != nil {
		return r, err
	}
	defer func() {
		if cerr := d.close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	all, err := addSubscribers(d.st, subscribers, zoneOf)
	if err != nil {
		return r, err
	}
	var phones []string
	for i, p := range all {
		if slices.Contains(zones, zoneOf(i)) {
			phones = append(phones, p)
		}
	}
	if err := d.start(ctx); err != nil {
		return r, err
	}
	path := d.cfg.Store.Path
	s0, err := snapDisk(path)
	if err != nil {
		return r, err
	}
	if _, err := d.sendAlert(ctx, alertText, recipients, zones...); err != nil {
		return r, err
	}
	accepted := time.Now()
	s1, err := snapDisk(path)
	if err != nil {
		return r, err
	}
	last, _, err := d.waitAll(ctx, phones, sendsDeadline)
	if err != nil {
		return r, err
	}
	r.delivered, err = waitDelivered(ctx, d.st, recipients, settleDeadline)
	if err != nil {
		return r, err
	}
	s2, err := snapDisk(path)
	if err != nil {
		return r, err
	}
	return diskFanOut{n: recipients, wall: last.Sub(accepted), accept: s1.since(s0), sending: s2.since(s1), delivered: r.delivered}, nil
}

// waitDelivered waits until n messages are delivered or failed (at most
// within), and returns how many are.
func waitDelivered(ctx context.Context, st *store.Store, n int, within time.Duration) (int, error) {
	deadline := time.Now().Add(within)
	for {
		c, err := st.QueueCounts()
		if err != nil {
			return 0, err
		}
		done := c[store.StateDelivered] + c[store.StateFailed]
		if done >= n || time.Now().After(deadline) {
			return done, nil
		}
		if !sleepCtx(ctx, 10*time.Millisecond) {
			return done, ctx.Err()
		}
	}
}

// perSMS describes a delta over n SMS.
func perSMS(d diskDelta, n int) string {
	if d.commits == 0 {
		return fmt.Sprintf("%s written, no commit", kib(d.io.WriteBytes/int64(n)))
	}
	return fmt.Sprintf("%s written, %.2f commits, %.2f fsyncs per SMS (%s per commit)",
		kib(d.io.WriteBytes/int64(n)), float64(d.commits)/float64(n), float64(d.fdatasyncs())/float64(n),
		kib(d.io.WriteBytes/int64(d.commits)))
}

// diskHow is what the "how" of (w) and (g) says about the disk figures.
const diskHow = "bytes: the write_bytes delta of /proc/self/io (the gateway runs in this process; nothing else here writes to disk), which the kernel counts when a page-cache page is dirtied, and bbolt fdatasyncs every commit, so every commit's pages are counted and the figure needs no sync; the send logs (pwrite, never synced) are in it too: a page of theirs is counted again only once the kernel has written it back (dirty_expire, 30 s); the ext4 journal is not in it; commits: the txid delta of the bbolt file's meta pages, read beside the daemon; fsyncs: 2 fdatasync per commit as bbolt v1.5.0 makes them (dirty pages, then meta page), +1 fsync when the file grew (strace -f -c over a whole run of (w) counted 18,015 fdatasync and 10 fsync for about 9,007 commits and 8 growths)"

// wear is figure (w): what one SMS costs the disk, with 6,000 subscribers.
func (b *bench) wear(ctx context.Context) ([]row, error) {
	r, err := b.diskFanOut(ctx, wearSubscribers, wearRecipients, wearZone, zoneCentre, zoneSolo)
	if err != nil {
		return nil, err
	}
	t := r.total()
	return []row{{
		"(w) disk written per SMS, 1,000 of 6,000",
		fmt.Sprintf("%s in all (%.1f MB for %d SMS; acceptance %s, %s; sending and delivery reports %s); %.0f msg/s; file %s → %s; %d of %d delivered",
			perSMS(t, r.n), float64(t.io.WriteBytes)/1e6, r.n, kib(r.accept.io.WriteBytes), commitCount(r.accept.commits), perSMS(r.sending, r.n),
			r.rate(), kib(t.sizeFrom), kib(t.sizeTo), r.delivered, r.n),
		fmt.Sprintf("one alert to macon-centre and solo (%d recipients) on a database of %d subscribers, 1 simulated modem with SendDelay 0 reporting delivery; from just before SendAlert to every message delivered; msg/s from SendAlert's return to the last SMS accepted; %s", r.n, wearSubscribers, diskHow),
	}}, nil
}

// growth is figure (g): whether a fan-out slows as the database grows, the
// alert's size fixed at 500: runs on a database of 500 and of 6,000
// subscribers, alternated.
func (b *bench) growth(ctx context.Context) ([]row, error) {
	var small, large []diskFanOut
	for i := range growthRuns {
		fmt.Fprintf(b.progress, "vigie-bench:   run %d: %d subscribers…\n", i+1, growthSmall)
		s, err := b.diskFanOut(ctx, growthSmall, growthSmall, func(int) string { return zoneSolo }, zoneSolo)
		if err != nil {
			return nil, fmt.Errorf("%d subscribers: %w", growthSmall, err)
		}
		fmt.Fprintf(b.progress, "vigie-bench:   run %d: %d subscribers…\n", i+1, wearSubscribers)
		l, err := b.diskFanOut(ctx, wearSubscribers, growthSmall, wearZone, zoneSolo)
		if err != nil {
			return nil, fmt.Errorf("%d subscribers: %w", wearSubscribers, err)
		}
		small, large = append(small, s), append(large, l)
	}
	med := func(rs []diskFanOut) diskFanOut {
		rs = slices.Clone(rs)
		slices.SortFunc(rs, func(a, b diskFanOut) int { return int(a.wall - b.wall) })
		return rs[len(rs)/2]
	}
	rates := func(rs []diskFanOut) string {
		var each []string
		for _, r := range rs {
			each = append(each, fmt.Sprintf("%.0f", r.rate()))
		}
		return fmt.Sprint(each)
	}
	ms, ml := med(small), med(large)
	return []row{{
		"(g) fan-out msg/s, 500 vs 6,000 subscribers",
		fmt.Sprintf("%.0f msg/s with %d, %.0f msg/s with %d: ratio %.2f (runs %s and %s msg/s); written per SMS %s with %d, %s with %d",
			ms.rate(), growthSmall, ml.rate(), wearSubscribers, ml.rate()/ms.rate(), rates(small), rates(large),
			perSMS(ms.total(), ms.n), growthSmall, perSMS(ml.total(), ml.n), wearSubscribers),
		fmt.Sprintf("one alert to %d recipients (solo) on a database of %d subscribers (all of them recipients) and on one of %d, %d runs of each alternated, medians by wall; 1 simulated modem with SendDelay 0; msg/s from SendAlert's return to the last SMS accepted; the run whose wall is the median gives the bytes; %s", growthSmall, growthSmall, wearSubscribers, growthRuns, diskHow),
	}}, nil
}

// commitCount is "1 commit" or "n commits".
func commitCount(n uint64) string {
	if n == 1 {
		return "1 commit"
	}
	return fmt.Sprintf("%d commits", n)
}
