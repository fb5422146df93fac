package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"vigie/gateway"
	"vigie/gateway/config"
	"vigie/modem/sim"
	"vigie/store"
)

// memory is what /proc/<pid>/status says about a process's memory, in bytes.
type memory struct {
	HWM, RSS, Anon, File int64 // VmHWM (peak), VmRSS, RssAnon, RssFile
}

// parseStatus reads the memory lines of a /proc/<pid>/status file.
func parseStatus(r io.Reader) (memory, error) {
	var m memory
	fields := map[string]*int64{"VmHWM": &m.HWM, "VmRSS": &m.RSS, "RssAnon": &m.Anon, "RssFile": &m.File}
	err := readProcFields(r, fields, func(value string) (int64, bool) {
		f := strings.Fields(value)
		if len(f) != 2 || f[1] != "kB" {
			return 0, false
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		return kb << 10, err == nil && kb >= 0
	})
	if err != nil {
		return memory{}, err
	}
	if _, missing := fields["VmHWM"]; missing {
		return memory{}, errors.New("no VmHWM line")
	}
	return m, nil
}

// mapped is what /proc/<pid>/smaps says of a process's resident pages, in
// bytes: file-backed ones by what they map (the executable, the database,
// anything else), and the anonymous ones.
type mapped struct {
	Binary, Database, OtherFile, Anon int64
}

// parseSmaps sums the Rss and Anonymous lines of a /proc/<pid>/smaps file
// per mapping: a mapping of bin or db counts there (its private copies of
// pages, Anonymous, counted anonymous as the kernel's RssAnon does), any
// other named file as OtherFile.
func parseSmaps(r io.Reader, bin, db string) (mapped, error) {
	var m mapped
	var file *int64 // where the current mapping's file-backed pages go; nil: anonymous
	var rss int64
	flush := func(anon int64) {
		if file != nil {
			*file += rss - anon
		}
		m.Anon += anon
	}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if !strings.HasSuffix(f[0], ":") { // a mapping's header: range perms offset dev inode [path]
			file, rss = nil, 0
			if len(f) >= 6 && f[4] != "0" {
				switch path := strings.Join(f[5:], " "); path {
				case bin:
					file = &m.Binary
				case db:
					file = &m.Database
				default:
					file = &m.OtherFile
				}
			}
			continue
		}
		if len(f) != 3 || f[2] != "kB" || (f[0] != "Rss:" && f[0] != "Anonymous:") {
			continue
		}
		kb, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return mapped{}, fmt.Errorf("smaps: %q: %w", line, err)
		}
		if f[0] == "Rss:" {
			rss = kb << 10
		} else {
			flush(kb << 10)
		}
	}
	return m, sc.Err()
}

// readSmaps reads the smaps of process pid.
func readSmaps(pid int, bin, db string) (mapped, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return mapped{}, err
	}
	defer f.Close()
	return parseSmaps(f, bin, db)
}

// peaks are the highest anonymous, file-backed and total resident memory
// the samples saw, each at its own moment.
type peaks struct {
	Anon, File, RSS int64
}

func (p *peaks) see(m memory) {
	p.Anon, p.File, p.RSS = max(p.Anon, m.Anon), max(p.File, m.File), max(p.RSS, m.RSS)
}

// readStatus reads /proc/<pid>/status.
func readStatus(pid int) (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	defer f.Close()
	return parseStatus(f)
}

// rss is figure (e): the real vigie binary serving a database of 6,000
// subscribers and 10,000 queued messages, against an empty one for a
// baseline.
func (b *bench) rss(ctx context.Context) (rows []row, err error) {
	dir, err := os.MkdirTemp("", "vigie-bench-rss-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	defer func() {
		if rerr := os.RemoveAll(dir); err == nil && rerr != nil {
			err = rerr
		}
	}()
	bin := b.opts.vigie
	if bin == "" {
		bin = filepath.Join(dir, "vigie")
		fmt.Fprintln(b.progress, "vigie-bench:   go build vigie/cmd/vigie…")
		// Static, as the Makefile builds what ships: a cgo build maps libc too.
		build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "vigie/cmd/vigie")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := build.CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("go build vigie/cmd/vigie (run from inside the module, or pass -vigie): %w\n%s", err, out)
		}
	}
	if abs, err := filepath.Abs(bin); err == nil { // smaps names the executable by its absolute path
		bin = abs
	}
	fmt.Fprintln(b.progress, "vigie-bench:   baseline: empty database…")
	empty, err := b.serveMeasured(ctx, bin, filepath.Join(dir, "empty"), false)
	if err != nil {
		return nil, fmt.Errorf("empty database: %w", err)
	}
	fmt.Fprintln(b.progress, "vigie-bench:   6,000 subscribers, 10,000 queued…")
	full, err := b.serveMeasured(ctx, bin, filepath.Join(dir, "full"), true)
	if err != nil {
		return nil, fmt.Errorf("loaded database: %w", err)
	}
	m, e := full.mem, empty.mem
	return []row{{
		"(e) daemon RSS, 6,000 subscribers, 10,000 queued",
		fmt.Sprintf("steady %s VmRSS = %s anon (RssAnon) + %s file (RssFile: %s binary + %s database + %s other) + %s shmem; peak %s VmHWM, peaks apart %s anon and %s file; %d B of peak/queued message in all, %d B over the empty-database daemon (steady %s = %s anon + %s file, of which %s binary; peak %s VmHWM)",
			mib(m.RSS), mib(m.Anon), mib(m.File), mib(full.maps.Binary), mib(full.maps.Database), mib(full.maps.OtherFile), mib(m.RSS-m.Anon-m.File),
			mib(m.HWM), mib(full.peak.Anon), mib(full.peak.File), m.HWM/rssQueued, (m.HWM-e.HWM)/rssQueued,
			mib(e.RSS), mib(e.Anon), mib(e.File), mib(empty.maps.Binary), mib(e.HWM)),
		fmt.Sprintf("vigie serve (built from ./cmd/vigie, CGO_ENABLED=0 as the Makefile) as a subprocess on a bbolt file prepared with the store and gateway packages (%d subscribers, alerts making %d queued messages), a sim on a pty with SendDelay %v (%d SMS sent meanwhile); steady: /proc/<pid>/status after %v, the file-backed part split by /proc/<pid>/smaps (Rss less Anonymous per mapping: the executable, the database file, other files), then SIGTERM; peaks: VmHWM, and the highest RssAnon and RssFile of samples every %v from the start", acceptN, rssQueued, rssSendDelay, full.sent, b.opts.hold, rssSample),
	}, {
		"(e) database per queued message",
		fmt.Sprintf("%s; file %s → %s, opened in %v", full.after.perItem(full.before, rssQueued), kib(full.before.size), kib(full.after.size), full.after.open.Round(100*time.Microsecond)),
		fmt.Sprintf("the bbolt file of (e) opened read-only (go.etcd.io/bbolt) once its %d subscribers were added and again once the two alerts had queued %d messages, before the daemon ran; the differences over %d: the file's size (bbolt grows it by doubling up to the store's allocation step, then by steps: coarse to a step over the messages), its used pages (the meta's high-water mark less free and pending pages), and the bytes in use in the buckets' pages (Bucket.Stats BranchInuse + LeafInuse, nested buckets included), with the 3 top-level buckets that grew most (bytes and keys per message); opened: the median of 3 store.Open+Close of the loaded file (no freelist is stored: it is rebuilt by walking the pages)", acceptN, rssQueued, rssQueued),
	}}, nil
}

// served is what serveMeasured measured.
type served struct {
	mem           memory
	maps          mapped // the resident pages by what they map, at the end
	peak          peaks  // the highest samples from the start
	sent          int    // SMS the daemon sent meanwhile
	before, after usage  // the database file before and after the alerts were queued (loaded only)
}

// serveMeasured runs `vigie serve` in dir against a slow simulated modem,
// with the database loaded or empty, and returns its memory after the hold
// time and how many SMS it sent meanwhile.
func (b *bench) serveMeasured(ctx context.Context, bin, dir string, loaded bool) (r served, err error) {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return r, err
	}
	devs := devicePaths(dir, 1)
	text := configText(dir, devs)
	cfgPath := filepath.Join(dir, "vigie.toml")
	if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
		return r, err
	}
	if loaded {
		if r.before, r.after, err = prepareQueue(ctx, cfgPath); err != nil {
			return r, err
		}
	}
	phones := sim.New(sim.Options{SendDelay: rssSendDelay, Logger: b.log.With("component", "sim")})
	defer phones.Close()
	if _, err := phones.OpenPTY(devs[0]); err != nil {
		return r, err
	}

	var logs bytes.Buffer
	cmd := exec.Command(bin, "serve", "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return r, fmt.Errorf("start vigie serve: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() error {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			return err
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			return errors.New("vigie serve ignored SIGTERM for 10 s; killed")
		}
	}

	pid := cmd.Process.Pid
	tick := time.NewTicker(rssSample)
	defer tick.Stop()
	hold := time.After(b.opts.hold)
sample:
	for {
		select {
		case err := <-exited:
			return r, fmt.Errorf("vigie serve exited early (%v):\n%s", err, tail(logs.String()))
		case <-ctx.Done():
			_ = stop()
			return r, ctx.Err()
		case <-tick.C:
			if m, err := readStatus(pid); err == nil { // a failed sample is left to the final read to report
				r.peak.see(m)
			}
		case <-hold:
			break sample
		}
	}
	r.mem, err = readStatus(pid)
	if err == nil {
		r.peak.see(r.mem)
		r.maps, err = readSmaps(pid, bin, filepath.Join(dir, "vigie.db"))
	}
	if err != nil {
		_ = stop()
		return r, fmt.Errorf("read the daemon's memory: %w", err)
	}
	r.sent = len(phones.AllReceived())
	if serr := stop(); serr != nil {
		err = errors.Join(err, fmt.Errorf("vigie serve: %w\n%s", serr, tail(logs.String())))
	}
	if err == nil && loaded && r.sent == 0 {
		err = fmt.Errorf("vigie serve sent nothing in %v:\n%s", b.opts.hold, tail(logs.String()))
	}
	return r, err
}

// prepareQueue fills the database of the config at cfgPath: acceptN
// subscribers, then two alerts (to macon, to macon-centre) that queue
// rssQueued messages, through the same gateway code the daemon runs. It
// returns how the file's pages were used before the alerts and after.
func prepareQueue(ctx context.Context, cfgPath string) (before, after usage, err error) {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return before, after, err
	}
	withStore := func(f func(*store.Store) error) (err error) {
		st, err := store.Open(cfg.Store.Path)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := st.Close(); err == nil {
				err = cerr
			}
		}()
		return f(st)
	}
	if err := withStore(func(st *store.Store) error {
		_, err := addSubscribers(st, acceptN, centreFirst)
		return err
	}); err != nil {
		return before, after, err
	}
	if before, err = boltUsage(cfg.Store.Path); err != nil {
		return before, after, err
	}
	err = withStore(func(st *store.Store) error {
		g, err := gateway.New(cfg, st, gateway.Options{})
		if err != nil {
			return err
		}
		d := &daemon{g: g}
		if _, err := d.sendAlert(ctx, alertText, acceptN, zoneCity); err != nil {
			return err
		}
		if _, err := d.sendAlert(ctx, "Fin d'alerte : individus interpellés rue Carnot.", acceptCentre, zoneCentre); err != nil {
			return err
		}
		counts, err := st.QueueCounts()
		if err != nil {
			return err
		}
		if counts[store.StateQueued] != rssQueued {
			return fmt.Errorf("%d messages queued, want %d", counts[store.StateQueued], rssQueued)
		}
		return nil
	})
	if err != nil {
		return before, after, err
	}
	if after, err = boltUsage(cfg.Store.Path); err != nil {
		return before, after, err
	}
	after.open, err = timeOpen(cfg.Store.Path)
	return before, after, err
}

// timeOpen is the median time of opening and closing the store at path
// (3 runs): with no freelist in the file, bbolt rebuilds it at open by a
// walk of the pages, after the store's own walk (checkImage).
func timeOpen(path string) (time.Duration, error) {
	var runs []time.Duration
	for range 3 {
		start := time.Now()
		st, err := store.Open(path)
		if err != nil {
			return 0, err
		}
		if err := st.Close(); err != nil {
			return 0, err
		}
		runs = append(runs, time.Since(start))
	}
	slices.Sort(runs)
	return runs[1], nil
}

// tail is the end of a daemon's log, for an error message.
func tail(s string) string {
	const keep = 2000
	if len(s) > keep {
		s = "…" + s[len(s)-keep:]
	}
	return s
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
