//go:build e2e

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"vigie/gateway/apitype"
	"vigie/gateway/client"
	"vigie/modem/sim"
)

// The soak (issue #15): the scheme's year in compressed time, on the real
// daemon (the test build's controllable clock, moved a day at a time) and
// the simulated modem with no send delay. VIGIE_SOAK picks the variant:
// unset, the short one that `make test` runs (three months with a one-month
// retention, so the purge and its compaction bite; a modem lost every week,
// a kill -9 every month) and that asserts the bounds; "year" and "bad" the
// full ones `make soak` runs, which print the table. The full runs keep
// three months of history (the default is twelve) so that a year shows
// nine months after the first retention period: the plateau the issue asks
// for, not only the growth to it.
const soakEnv = "VIGIE_SOAK"

// soakPlan is one variant.
type soakPlan struct {
	name            string
	days            int
	retentionMonths int
	alerts          int // over the whole run
	smallAlerts     bool
	joinsPerDay     int
	stopsPerDay     int
	inboundPerDay   int  // free-text SMS from shops, beside joins and STOPs
	modemLossEvery  int  // days; 0: never
	killEveryMonth  bool // a kill -9 on each month's first day, mid-alert
}

// Subscribers by CSV: soakSectors sectors of soakStreets streets, each
// street a zone of soakPerStreet shops. An ordinary alert goes to a sector
// (500 shops), a bad year's to a street (50): a thousand alerts to 500
// would be half a million SMS, hours of wall time for nothing the smaller
// ones do not show.
const (
	soakSectors   = 12
	soakStreets   = 10
	soakPerStreet = 50
	soakShops     = soakSectors * soakStreets * soakPerStreet // 6,000
)

// soakInboundEnv sets the bad year's inbound SMS a day.
const soakInboundEnv = "VIGIE_SOAK_INBOUND"

func soakPlanFor(t *testing.T) soakPlan {
	switch v := os.Getenv(soakEnv); v {
	case "":
		return soakPlan{name: "short", days: 75, retentionMonths: 1, alerts: 4, joinsPerDay: 2, stopsPerDay: 1,
			inboundPerDay: 2, modemLossEvery: 10, killEveryMonth: true}
	case "year":
		return soakPlan{name: "year", days: 365, retentionMonths: 3, alerts: 15, joinsPerDay: 3, stopsPerDay: 2}
	case "bad":
		// 100,000 inbound SMS a year is 274 a day, given as fast as the
		// modem's storage takes them: on 2 cores that year takes about an
		// hour, so make soak gives a tenth (27 a day) unless
		// VIGIE_SOAK_INBOUND says how many a day.
		p := soakPlan{name: "bad", days: 365, retentionMonths: 3, alerts: 1000, smallAlerts: true, joinsPerDay: 3,
			stopsPerDay: 2, inboundPerDay: 27, modemLossEvery: 7, killEveryMonth: true}
		if s := os.Getenv(soakInboundEnv); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				t.Fatalf("%s=%q: want a number of inbound SMS a day", soakInboundEnv, s)
			}
			p.inboundPerDay = n
		}
		return p
	default:
		t.Fatalf("%s=%q: want unset (short), year or bad", soakEnv, v)
		return soakPlan{}
	}
}

// injectKept sends the modem an SMS as the network does: while the modem's
// storage is full the network keeps it and tries again, so that a day of
// many SMS goes at the pace the daemon reads them.
func (e *env) injectKept(from, text string) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := e.phones.Inject(from, text)
		if err == nil {
			return
		}
		if !errors.Is(err, sim.ErrStorageFull) || time.Now().After(deadline) {
			e.t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// soakRow is one simulated month of the table.
type soakRow struct {
	month             int
	dbBefore, dbAfter int64 // bytes, before and after the day's purge
	// data is the size of the month's last nightly copy (compacted: what
	// the data takes), history its bytes of keys and values in the
	// buckets retention purges (soakKept names the others).
	data, history         int64
	census                census // of that copy
	rssAnon, rssFile      int64  // kB
	goroutines, fds       int
	sent                  int // SMS the phones got this month
	written               int64
	backupBytes           int64         // the nightly copies' share of written
	accept, last          time.Duration // the month's slowest alert
	alerts, kills, losses int
	// The modem's up-time and observed time on the month's days, from the
	// period report (modem_days).
	up, seen time.Duration
}

// soakOutage is how long of the test clock each modem loss lasts: the
// clock jumps while the modem is unplugged, so that the up-time shows the
// loss (a few real seconds would not). The day's jump is shorter by as
// much, so each day still lands at noon. Under the retention purge's six
// hours (retentionEvery), so that the purge still runs at the day's jump,
// where the soak waits for it, and not in the outage.
const soakOutage = 5 * time.Hour

// soakJournal forwards the daemon's output and counts the lines that tell
// the care tasks acted, which the soak waits for after each day's jump.
type soakJournal struct {
	out io.Writer
	mu  sync.Mutex
	buf []byte
	// counts by phrase
	counts map[string]int
	// clockMove is the last "test clock moved" line.
	clockMove string
}

var soakPhrases = []string{"old history purged", "nightly backup written", "database compacted after the purge"}

func (j *soakJournal) Write(p []byte) (int, error) {
	j.mu.Lock()
	j.buf = append(j.buf, p...)
	for {
		i := bytes.IndexByte(j.buf, '\n')
		if i < 0 {
			break
		}
		line := j.buf[:i]
		for _, ph := range soakPhrases {
			if bytes.Contains(line, []byte(ph)) {
				j.counts[ph]++
			}
		}
		if bytes.Contains(line, []byte(`msg="test clock moved"`)) {
			j.clockMove = string(line)
		}
		j.buf = j.buf[i+1:]
	}
	j.mu.Unlock()
	return j.out.Write(p)
}

func (j *soakJournal) lastClockMove() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.clockMove
}

func (j *soakJournal) count(phrase string) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.counts[phrase]
}

// soakDaemon is the daemon of the soak, run from a binary built without
// the race detector (its memory figures are the product's, not the
// detector's), on the test clock, that the soak kills and starts again.
type soakDaemon struct {
	t       *testing.T
	e       *env
	bin     string
	cfgPath string
	journal *soakJournal
	api     *client.Client
	cmd     *exec.Cmd
	exited  chan error
	// written is what the processes killed or stopped before wrote
	// (write_bytes), so that the figures run across restarts.
	written int64
}

func (d *soakDaemon) start() {
	d.t.Helper()
	cmd := exec.Command(d.bin, "serve", "--config", d.cfgPath)
	cmd.Env = append(os.Environ(), "VIGIE_TEST_CLOCK="+d.e.clockFile,
		"VIGIE_TEST_CARE_TICK=50ms", "VIGIE_TEST_AVAILABILITY_TICK=50ms", "VIGIE_TEST_GOROUTINES="+filepath.Join(d.e.dir, "goroutines"))
	cmd.Stdout, cmd.Stderr = d.journal, d.journal
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		d.t.Fatalf("start daemon: %v", err)
	}
	d.cmd, d.exited = cmd, make(chan error, 1)
	go func() { d.exited <- cmd.Wait() }()
	d.e.pid = cmd.Process.Pid
	d.waitModem(apitype.ModemReady)
	d.waitClock()
}

// advance moves the test clock by dt as env.advance does, waiting through
// the API client rather than the -race CLI (a year is 365 of these).
func (d *soakDaemon) advance(dt time.Duration) {
	d.t.Helper()
	e := d.e
	e.clockOffset += dt
	// The modem's clock held between the two moves, as env.moveClock
	// does; the journal keeps the daemon's last move, so that a year of
	// log is not searched each day.
	e.phones.HoldClock(true)
	e.phones.SetNetworkClock(e.networkClock + e.clockOffset)
	e.writeClock()
	if dt != 0 {
		deadline := time.Now().Add(20 * time.Second)
		for !clockMovedTo(d.journal.lastClockMove(), e.clockOffset) {
			if time.Now().After(deadline) {
				d.t.Fatalf("daemon's test clock not moved to %v after 20 s: last move %q", e.clockOffset, d.journal.lastClockMove())
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	e.phones.HoldClock(false)
	d.waitClock()
}

// waitClock waits until the daemon's status shows its time at e.now()
// (env.waitClock's test).
func (d *soakDaemon) waitClock() {
	d.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := d.status()
		if c := st.Clock; err == nil && c != nil && !c.Skewed && c.Network.Sub(d.e.now()).Abs() < 2*time.Second {
			return
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("daemon's clock not at %v after 20 s: %+v, %v", d.e.now(), st.Clock, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitModem waits until the modem's state is want.
func (d *soakDaemon) waitModem(want string) {
	d.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-d.exited:
			d.cmd = nil
			d.t.Fatalf("daemon exited: %v\n%s", err, tail(d.e.logs.String()))
		default:
		}
		st, err := d.status()
		if err == nil && len(st.Modems) == 1 && st.Modems[0].State == want {
			return
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("modem not %s after 30 s: %+v, %v\n%s", want, st.Modems, err, tail(d.e.logs.String()))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (d *soakDaemon) status() (apitype.Status, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return d.api.Status(ctx)
}

// kill SIGKILLs the daemon, keeping what it wrote.
func (d *soakDaemon) kill() {
	d.t.Helper()
	d.written += d.proc().writeBytes
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		d.t.Fatalf("kill: %v", err)
	}
	err := <-d.exited
	d.cmd = nil
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		d.t.Fatalf("daemon ended by itself before the kill: %v", err)
	}
}

// stop asks the daemon to stop and fails the test unless it exits 0.
func (d *soakDaemon) stop() {
	if d.cmd == nil {
		return
	}
	cmd := d.cmd
	d.cmd = nil
	cmd.Process.Signal(os.Interrupt)
	stuck := time.AfterFunc(15*time.Second, func() { cmd.Process.Kill() })
	defer stuck.Stop()
	if err := <-d.exited; err != nil {
		d.t.Errorf("daemon exit after SIGINT: %v", err)
	}
}

// modemTime is the modem's up-time and observed time over the local days
// [from, to), from the period report.
func (d *soakDaemon) modemTime(from, to time.Time) (up, seen time.Duration) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := d.api.Report(ctx, from, to, nil)
	if err != nil || len(r.Modems) != 1 {
		d.t.Fatalf("report %s to %s: %+v, %v", from.Format(time.DateOnly), to.Format(time.DateOnly), r.Modems, err)
	}
	return time.Duration(r.Modems[0].UpSeconds) * time.Second, time.Duration(r.Modems[0].ObservedSeconds) * time.Second
}

// waitAccounted waits until the daemon has accounted at least want of the
// modem's time on today: a kill -9 before it would lose the clock's last
// jump, which the up-time would then show as a day the daemon did not
// watch.
func (d *soakDaemon) waitAccounted(want time.Duration) {
	d.t.Helper()
	today := d.e.now()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, seen := d.modemTime(today, today.AddDate(0, 0, 1))
		if seen >= want {
			return
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("modem time on %s: %v observed after 20 s, want %v", today.Format(time.DateOnly), seen, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// procFigures are the daemon's from /proc.
type procFigures struct {
	rssAnon, rssFile int64 // kB
	fds              int
	writeBytes       int64
}

func (d *soakDaemon) proc() procFigures {
	d.t.Helper()
	var f procFigures
	dir := fmt.Sprintf("/proc/%d", d.cmd.Process.Pid)
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		d.t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "RssAnon:":
			f.rssAnon = v
		case "RssFile:":
			f.rssFile = v
		}
	}
	fds, err := os.ReadDir(dir + "/fd")
	if err != nil {
		d.t.Fatal(err)
	}
	f.fds = len(fds)
	io, err := os.ReadFile(dir + "/io")
	if err != nil {
		d.t.Fatal(err)
	}
	for _, line := range strings.Split(string(io), "\n") {
		if v, ok := strings.CutPrefix(line, "write_bytes: "); ok {
			f.writeBytes, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return f
}

// writtenTotal is write_bytes over every process of the run.
func (d *soakDaemon) writtenTotal() int64 { return d.written + d.proc().writeBytes }

// goroutines asks the test build's daemon for its goroutine count
// (testsoak.go): SIGUSR1, then the file it rewrites.
func (d *soakDaemon) goroutines() int {
	d.t.Helper()
	path := filepath.Join(d.e.dir, "goroutines")
	os.Remove(path)
	if err := d.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		d.t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b, err := os.ReadFile(path); err == nil {
			n, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				d.t.Fatalf("goroutine count %q: %v", b, err)
			}
			return n
		}
		if time.Now().After(deadline) {
			d.t.Fatal("no goroutine count after SIGUSR1 within 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// idle waits until nothing is queued or sending and the modem's storage
// is read: a jump of the clock past alert_ttl must find nothing queued.
func (d *soakDaemon) idle() {
	d.t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for {
		st, err := d.status()
		if err == nil && st.Queue["queued"]+st.Queue["sending"] == 0 && d.e.phones.Stored() == 0 {
			return
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("not idle after 120 s: queue %v, %v, %d stored in the modem", st.Queue, err, d.e.phones.Stored())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func tail(journal string) string {
	if len(journal) > 20000 {
		return "…" + journal[len(journal)-20000:]
	}
	return journal
}

func soakFileSize(t *testing.T, path string) int64 {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Size()
}

func soakConfig(dir string, p soakPlan) string {
	text := fmt.Sprintf(e2eConfig, dir, 60000, true)
	text = strings.Replace(text, `level = "debug"`, `level = "info"`, 1)
	text = strings.Replace(text, "burst = 1", "burst = 1\ndaily_cap = 100000", 1)
	var b strings.Builder
	b.WriteString(text)
	fmt.Fprintf(&b, "\n[backup]\ndir = %q\nkeep = 7\nat = \"03:00\"\n\n[retention]\nmonths = %d\n", filepath.Join(dir, "backups"), p.retentionMonths)
	for s := 1; s <= soakSectors; s++ {
		fmt.Fprintf(&b, "\n[[zone]]\nid = \"s%02d\"\nname = \"Secteur %d\"\n", s, s)
		for r := 1; r <= soakStreets; r++ {
			fmt.Fprintf(&b, "\n[[zone]]\nid = \"s%02d-%02d\"\nname = \"Secteur %d rue %d\"\nparent = \"s%02d\"\n", s, r, s, r, s)
		}
	}
	return b.String()
}

// shop is the i-th imported shop's number, and street its zone.
func soakShop(i int) string { return fmt.Sprintf("+3361%07d", i) }
func soakStreet(i int) string {
	return fmt.Sprintf("s%02d-%02d", i/(soakStreets*soakPerStreet)+1, i/soakPerStreet%soakStreets+1)
}

func TestSoak(t *testing.T) {
	t.Parallel()
	p := soakPlanFor(t)
	wallStart := time.Now()
	if p.name != "short" {
		t.Logf("soak %q: %+v", p.name, p)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "vigie-norace")
	build := exec.Command("go", "build", "-tags", "vigie_testclock", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// Noon tomorrow: each day's jump lands after the 03:00 backup.
	now := time.Now()
	begin := time.Date(now.Year(), now.Month(), now.Day()+1, 12, 0, 0, 0, time.Local)
	e := &env{t: t, dir: dir, socket: filepath.Join(dir, "vigie.sock"), logs: &syncBuffer{},
		clockFile: filepath.Join(dir, "clock"), clockOffset: time.Until(begin)}
	e.writeClock()
	e.phones = sim.New(sim.Options{NetworkClockOffset: e.clockOffset,
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	t.Cleanup(func() { e.phones.Close() })
	link := filepath.Join(dir, "modem")
	if _, err := e.phones.OpenPTY(link); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "vigie.toml")
	if err := os.WriteFile(cfgPath, []byte(soakConfig(dir, p)), 0o600); err != nil {
		t.Fatal(err)
	}
	d := &soakDaemon{t: t, e: e, bin: bin, cfgPath: cfgPath, api: client.New(e.socket),
		journal: &soakJournal{out: e.logs, counts: make(map[string]int)}}
	t.Cleanup(func() {
		if d.cmd != nil {
			d.stop()
		}
		if t.Failed() {
			t.Logf("daemon log (end):\n%s", tail(e.logs.String()))
		}
	})
	d.start()
	db := filepath.Join(dir, "vigie.db")

	var csv strings.Builder
	csv.WriteString("tel;zone\n")
	for i := range soakShops {
		fmt.Fprintf(&csv, "0%s;%s\n", soakShop(i)[3:], soakStreet(i))
	}
	csvPath := filepath.Join(dir, "adherents.csv")
	if err := os.WriteFile(csvPath, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	e.mustVigie("subscribers", "import", csvPath)
	if subs := e.listSubscribers(); len(subs) != soakShops {
		t.Fatalf("%d subscribers after the import, want %d", len(subs), soakShops)
	}

	var rows []soakRow
	row := soakRow{month: 1}
	monthStart := d.writtenTotal()
	sentStart := len(e.phones.AllReceived())
	joined, stopped, alertsSent := 0, 0, 0
	var lossFds, lossGoroutines []int
	// What each day sent and received, for the bound on what retention
	// keeps.
	var sentPerDay, receivedPerDay []int
	var purgedTo time.Time // the furthest limit of a purge so far
	monthFrom := e.now()   // the first local day of the month's modem time
	lastJump := time.Duration(0)
	for day := range p.days {
		dayStart := len(e.phones.AllReceived())
		received := 0
		killToday := p.killEveryMonth && day > 0 && day%30 == 0
		if killToday {
			d.waitAccounted(lastJump - time.Minute)
		}
		// The day's alerts, spread evenly over the run.
		for n := (day+1)*p.alerts/p.days - day*p.alerts/p.days; n > 0; n-- {
			accept, last := d.soakAlert(alertsSent, p, killToday && n == 1)
			if killToday && n == 1 {
				row.kills++
				killToday = false
			}
			alertsSent++
			row.alerts++
			row.accept, row.last = max(row.accept, accept), max(row.last, last)
		}
		if killToday { // a month without an alert that day
			d.kill()
			d.start()
			row.kills++
		}
		// Joins from new numbers, STOPs from imported ones, and questions.
		for range p.joinsPerDay {
			num := fmt.Sprintf("+3375%07d", joined)
			joined++
			e.exchange(num, "INSCRIPTION "+soakStreet(joined%soakShops), 1)
			received++
		}
		for range p.stopsPerDay {
			// Spread over the streets (37 is prime to 6,000), so that
			// no zone an alert targets empties in a year.
			num := soakShop(stopped * 37 % soakShops)
			stopped++
			e.exchange(num, "STOP", len(e.phones.Received(num))+1)
			received++
		}
		for k := range p.inboundPerDay {
			e.injectKept(soakShop((day*p.inboundPerDay+k)%(soakShops/2)), fmt.Sprintf("Bonjour, question %d du jour %d", k, day))
			received++
		}
		lastJump = 24 * time.Hour
		if p.modemLossEvery > 0 && day%p.modemLossEvery == p.modemLossEvery-1 {
			d.idle()
			if err := e.phones.Unplug(); err != nil {
				t.Fatal(err)
			}
			d.waitModem(apitype.ModemFault)
			d.advance(soakOutage)
			lastJump -= soakOutage
			if _, err := e.phones.OpenPTY(link); err != nil {
				t.Fatal(err)
			}
			d.waitModem(apitype.ModemReady)
			row.losses++
			d.idle()
			lossFds = append(lossFds, d.proc().fds)
			lossGoroutines = append(lossGoroutines, d.goroutines())
		}
		d.idle()
		sentPerDay = append(sentPerDay, len(e.phones.AllReceived())-dayStart)
		receivedPerDay = append(receivedPerDay, received)

		monthEnd := (day+1)%30 == 0 || day == p.days-1
		if monthEnd {
			row.dbBefore = soakFileSize(t, db)
		}
		// The next day: its backup, and its purge once the retention
		// period has passed (each day then has history a period old).
		purges, backups := d.journal.count(soakPhrases[0]), d.journal.count(soakPhrases[1])
		d.advance(lastJump)
		d.waitJournal(soakPhrases[1], backups)
		bak := filepath.Join(dir, "backups", "vigie-"+e.now().Format("20060102")+".db")
		row.backupBytes += soakFileSize(t, bak)
		if monthEnd {
			row.data = soakFileSize(t, bak)
			row.census = soakCensus(t, bak)
			row.history = row.census.history()
		}
		// AddDate folds a month end back (31 May less three months is
		// 3 March, 1 June's is 1 March): a day whose limit did not pass the
		// furthest one yet has nothing to purge.
		if limit := e.now().AddDate(0, -p.retentionMonths, 0); limit.Sub(purgedTo) >= 23*time.Hour {
			if day+1 > p.retentionMonths*31+1 {
				d.waitJournal(soakPhrases[0], purges)
			}
			purgedTo = limit
		}
		if !monthEnd {
			continue
		}
		pf := d.proc()
		row.dbAfter = soakFileSize(t, db)
		row.rssAnon, row.rssFile, row.fds = pf.rssAnon, pf.rssFile, pf.fds
		row.goroutines = d.goroutines()
		// The days before today's: today's jump may not be accounted yet.
		row.up, row.seen = d.modemTime(monthFrom, e.now())
		monthFrom = e.now()
		all := len(e.phones.AllReceived())
		row.sent = all - sentStart
		row.written = d.writtenTotal() - monthStart
		rows = append(rows, row)
		t.Logf("month %d done after %s: %s", row.month, time.Since(wallStart).Round(time.Second), soakLine(row))
		sentStart, monthStart = all, d.writtenTotal()
		row = soakRow{month: row.month + 1}
	}
	// The last day is a month's end: its row has the census of the last
	// copy.
	census := rows[len(rows)-1].census
	table := soakTable(p, rows, d.journal.count(soakPhrases[2])) + census.String()
	if out := os.Getenv("VIGIE_SOAK_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(table), 0o644); err != nil {
			t.Error(err)
		}
	}
	t.Logf("soak %s:\n%s", p.name, table)
	if testing.Verbose() || p.name != "short" {
		fmt.Print(table)
	}

	// The bounds. Once a retention period has passed, the file after the
	// day's purge (and compaction) grows no more than its data (the
	// compacted copy) plus one megabyte: freed pages are reused, not left
	// to pile up. The data itself may grow: the subscribers, the numbers
	// that said STOP and the alerts' and days' figures are kept on purpose,
	// and the history retention purges follows the traffic of the last
	// period (the key counts below bound it by what the run made then).
	first := p.retentionMonths + 1
	if len(rows) > first {
		ref, end := rows[first-1], rows[len(rows)-1]
		if grown, data := end.dbAfter-ref.dbAfter, end.data-ref.data; grown > max(data, 0)+1<<20 {
			t.Errorf("database after retention grows beyond its data: %d B in month %d, %d B in month %d (the data grew %d B; history by bucket: %s)",
				ref.dbAfter, first, end.dbAfter, end.month, data, end.census.grownFrom(ref.census))
		}
	}
	// Across modem losses, descriptors and goroutines come back to what
	// they were after the first (a leak of one per loss shows within a
	// handful of losses).
	for i := 1; i < len(lossFds); i++ {
		if lossFds[i] > lossFds[0]+2 {
			t.Errorf("open files after modem loss %d: %d, after the first %d", i+1, lossFds[i], lossFds[0])
		}
		if lossGoroutines[i] > lossGoroutines[0]+8 {
			t.Errorf("goroutines after modem loss %d: %d, after the first %d", i+1, lossGoroutines[i], lossGoroutines[0])
		}
	}
	// Counters and per-number stamps expire with the history: what the
	// last day's copy holds of each is at most what the run made in the
	// last retention period (two days more for the copy taken before the
	// day's purge; a month more for the buckets keyed by month).
	window := func(perDay []int, extraDays int) int {
		n := 0
		for day := max(len(perDay)-p.retentionMonths*31-2-extraDays, 0); day < len(perDay); day++ {
			n += perDay[day]
		}
		return n
	}
	days := make([]int, len(sentPerDay))
	for i := range days {
		days[i] = 1
	}
	for _, b := range []struct {
		name  string
		bound int
	}{
		{"seen", window(receivedPerDay, 0)},
		{"inbound", window(receivedPerDay, 0)},
		{"outbox", window(sentPerDay, 0)},
		{"sent", window(sentPerDay, 0)},
		{"replies", window(sentPerDay, 0)},
		{"month_recipients", window(sentPerDay, 31)},
		{"parts_per_day", window(days, 0)},
		{"reply_parts_per_day", window(days, 0)},
	} {
		if got, ok := census.keys[b.name]; !ok || got > b.bound {
			t.Errorf("bucket %s keeps %d keys (present %t) at the end, more than the %d the last retention period made", b.name, got, ok, b.bound)
		}
	}
	// The modem's time follows the test clock: every day of the run is
	// observed (but the first, which the first jump ends), and each loss
	// is down for its outage plus the real seconds of the unplugging.
	var up, seen time.Duration
	losses := 0
	for _, r := range rows {
		up, seen, losses = up+r.up, seen+r.seen, losses+r.losses
	}
	if days := time.Duration(p.days-1) * 24 * time.Hour; seen < days-time.Hour || seen > days+24*time.Hour {
		t.Errorf("modem observed %v over the run, want %v (the days after the first)", seen, days)
	}
	if down, want := seen-up, time.Duration(losses)*soakOutage; down < want-time.Duration(losses)*time.Minute || down > want+time.Duration(losses)*10*time.Minute {
		t.Errorf("modem down %v over the run, want about %v (%d losses of %v)", down, want, losses, soakOutage)
	}
	if p.modemLossEvery > 0 && len(lossFds) < 3 {
		t.Errorf("%d modem losses, want several", len(lossFds))
	}
}

// waitJournal waits until the daemon has logged phrase more than was times.
func (d *soakDaemon) waitJournal(phrase string, was int) {
	d.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for d.journal.count(phrase) <= was {
		if time.Now().After(deadline) {
			d.t.Fatalf("no %q in the daemon's log within 60 s of the day's jump (daemon at %v)\n%s", phrase, d.e.now(), tail(d.e.logs.String()))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// soakAlert sends the n-th alert and waits until it is done; with kill, the
// daemon is killed once its first SMS is out and started again. Every
// recipient must get it (accepted means durable, nothing lost). It returns
// the time the API took to accept it and the time to its last SMS.
func (d *soakDaemon) soakAlert(n int, p soakPlan, kill bool) (accept, last time.Duration) {
	d.t.Helper()
	zone := fmt.Sprintf("s%02d", n%soakSectors+1)
	if p.smallAlerts {
		zone = soakStreet(n * soakPerStreet % soakShops)
	}
	text := fmt.Sprintf("Alerte %d : vol a l'etalage, homme 30 ans, veste bleue. Prevenez le 17.", n)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	before := len(d.e.phones.AllReceived())
	start := time.Now()
	a, err := d.api.SendAlert(ctx, apitype.AlertRequest{Zones: []string{zone}, Text: text})
	if err != nil {
		d.t.Fatalf("alert %d: %v", n, err)
	}
	accept = time.Since(start)
	if kill {
		for first := time.Now(); len(d.e.phones.AllReceived()) == before; time.Sleep(time.Millisecond) {
			if time.Since(first) > 30*time.Second {
				d.t.Fatalf("alert %d: no SMS within 30 s", n)
			}
		}
		d.kill()
		d.start()
	}
	deadline := time.Now().Add(120 * time.Second)
	for {
		rep, err := d.api.Alert(ctx, a.ID)
		if err == nil && rep.Done {
			break
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("alert %d not done after 120 s: %+v, %v", n, rep.Counts, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	got := make(map[string]bool)
	var lastAt time.Time
	for _, m := range d.e.phones.AllReceived()[before:] {
		if m.Text == a.Rendered {
			got[m.To] = true
			if m.At.After(lastAt) {
				lastAt = m.At
			}
		}
	}
	if len(got) != a.Recipients {
		d.t.Errorf("alert %d to %d recipients reached %d", n, a.Recipients, len(got))
	}
	return accept, lastAt.Sub(start)
}

func soakLine(r soakRow) string {
	perSMS := int64(0)
	if r.sent > 0 {
		perSMS = r.written / int64(r.sent)
	}
	nonBackup := int64(0)
	if r.sent > 0 {
		nonBackup = (r.written - r.backupBytes) / int64(r.sent)
	}
	return fmt.Sprintf("%5d %10.2f %10.2f %6.2f %7.2f %8.1f %8.1f %5d %4d %7d %9.1f %9.1f %8d %9.1f %9.1f %3d %5d %6.2f %6.2f",
		r.month, float64(r.dbBefore)/(1<<20), float64(r.dbAfter)/(1<<20), float64(r.data)/(1<<20), float64(r.history)/(1<<20),
		float64(r.rssAnon)/1024, float64(r.rssFile)/1024,
		r.goroutines, r.fds, r.sent, float64(perSMS)/1024, float64(nonBackup)/1024, r.alerts, r.accept.Seconds()*1000, r.last.Seconds(), r.kills, r.losses, r.up.Hours()/24, r.seen.Hours()/24)
}

func soakTable(p soakPlan, rows []soakRow, compactions int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "soak %s: %d days, %d shops by CSV, %d alerts, retention %d months, %d compactions after a purge\n",
		p.name, p.days, soakShops, p.alerts, p.retentionMonths, compactions)
	b.WriteString("month  db_before   db_after   data history rss_anon rss_file gorou  fds     sms   KiB/sms  w/o_bak   alerts accept_ms   last_s  -9 modem   up_d seen_d\n")
	b.WriteString("          (MiB)      (MiB)  (MiB)   (MiB)    (MiB)    (MiB)                    (written per SMS sent)  (slowest of the month)  losses (modem days)\n")
	w := bufio.NewWriter(&b)
	for _, r := range rows {
		fmt.Fprintln(w, soakLine(r))
	}
	w.Flush()
	return b.String()
}

// census is the key count of each top-level bucket in a copy of the
// database, and the bytes of its keys and values.
type census struct {
	keys  map[string]int
	bytes map[string]int64
}

// soakKept are the buckets kept on purpose beyond the retention period:
// the subscribers and the numbers that said STOP, the alerts' records and
// figures, the per-day figures the period report reads, and the store's
// own keys.
var soakKept = []string{"meta", "counters", "subscribers", "suppressed", "alerts", "alert_counters",
	"alert_minutes", "alert_timeline", "alert_reply_counts", "sub_days", "parts_days", "modem_days", "reply_days"}

// grownFrom lists the buckets retention purges that hold more bytes than
// in before, with both sizes.
func (c census) grownFrom(before census) string {
	var grown []string
	for name, n := range c.bytes {
		if !slices.Contains(soakKept, name) && n > before.bytes[name] {
			grown = append(grown, fmt.Sprintf("%s %d→%d", name, before.bytes[name], n))
		}
	}
	slices.Sort(grown)
	return strings.Join(grown, ", ")
}

// history is the bytes of the buckets retention purges.
func (c census) history() int64 {
	var n int64
	for name, b := range c.bytes {
		if !slices.Contains(soakKept, name) {
			n += b
		}
	}
	return n
}

func (c census) String() string {
	var b strings.Builder
	b.WriteString("keys per bucket at the end:")
	names := make([]string, 0, len(c.keys))
	for n := range c.keys {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(&b, " %s=%d", n, c.keys[n])
	}
	return b.String() + "\n"
}

// soakCensus counts the keys of each bucket in the backup at path (a
// compacted copy the daemon wrote, read without disturbing it).
func soakCensus(t *testing.T, path string) census {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatalf("open the last backup: %v", err)
	}
	defer db.Close()
	c := census{keys: make(map[string]int), bytes: make(map[string]int64)}
	if err := db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			c.keys[string(name)] = b.Stats().KeyN
			return b.ForEach(func(k, v []byte) error {
				c.bytes[string(name)] += int64(len(k) + len(v))
				return nil
			})
		})
	}); err != nil {
		t.Fatal(err)
	}
	return c
}
