//go:build e2e

// End-to-end tests: the real vigie binary runs as a separate daemon process
// whose modem is the simulated modem on a real pseudo-terminal, served by
// this test process; the operator's commands are the real CLI binary
// talking to the daemon's Unix socket.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"vigie/gateway/apitype"
	"vigie/modem/sim"
)

var vigieBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vigie-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	vigieBin = filepath.Join(dir, "vigie")
	// With the controllable clock (testclock.go), which only this build has:
	// the Makefile and the package build without the tag.
	build := exec.Command("go", "build", "-race", "-tags", "vigie_testclock", "-o", vigieBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build vigie:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is one daemon on one simulated modem.
type env struct {
	t      *testing.T
	dir    string
	socket string
	phones *sim.Modem
	logs   *syncBuffer
	pid    int // the daemon's
	// clockFile is the daemon's test clock (envOptions.testClock), "" if
	// it runs on the system clock; clockOffset is the daemon's time minus
	// the host's, networkClock the network's minus the daemon's.
	clockFile    string
	clockOffset  time.Duration
	networkClock time.Duration
}

// syncBuffer collects the daemon's output, written by exec's copying
// goroutine and read by the test when it fails.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const e2eConfig = `
[station]
name = "CORG 71 test"

[store]
path = "%[1]s/vigie.db"

[api]
socket = "%[1]s/vigie.sock"

[[modem]]
name = "m1"
device = "%[1]s/modem"
rate_per_minute = %[2]d
burst = 1

[sms]
prefix = "Vigilance commerce 71 : "
signature = " Gendarmerie. STOP pour ne plus recevoir."
max_parts = 5
transliterate = %[3]t
alert_ttl = "4h"

[keywords]
subscription = "open"

[log]
level = "debug"

[[zone]]
id = "macon"
name = "Mâcon"
aliases = ["MACON", "71000"]

[[zone]]
id = "macon-centre"
name = "Mâcon centre"
parent = "macon"

[[zone]]
id = "macon-nord"
name = "Mâcon nord"
parent = "macon"
`

type envOptions struct {
	rate          int
	transliterate bool
	sendDelay     time.Duration
	networkClock  time.Duration       // the network's time minus the host's
	config        func(string) string // edits the config file's text, if set
	dir           string              // for the database, socket and modem link; a new temporary directory if ""
	journal       io.Writer           // also gets what the daemon alone writes (e.logs has the sim's lines too), if set
	// testClock runs the daemon on the test build's controllable clock
	// (e.setClock, e.advance), starting at clockStart (zero: now).
	testClock  bool
	clockStart time.Time
}

// start runs the simulated modem here and `vigie serve` as its own process.
func start(t *testing.T, o envOptions) *env {
	t.Helper()
	if o.rate == 0 {
		o.rate = 600
	}
	dir := o.dir
	if dir == "" {
		dir = t.TempDir()
	}
	e := &env{t: t, dir: dir, socket: filepath.Join(dir, "vigie.sock"), logs: &syncBuffer{}, networkClock: o.networkClock}
	if o.testClock {
		e.clockFile = filepath.Join(dir, "clock")
		if !o.clockStart.IsZero() {
			e.clockOffset = time.Until(o.clockStart)
		}
		e.writeClock()
	}
	// The network keeps the time the daemon lives in (plus the test's
	// networkClock): else the daemon's check of its clock against the
	// network's would find it off by the test clock's offset.
	e.phones = sim.New(sim.Options{SendDelay: o.sendDelay, NetworkClockOffset: o.networkClock + e.clockOffset, Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	t.Cleanup(func() { e.phones.Close() })
	if _, err := e.phones.OpenPTY(filepath.Join(dir, "modem")); err != nil {
		t.Fatalf("open simulated modem: %v", err)
	}
	cfgPath := filepath.Join(dir, "vigie.toml")
	text := fmt.Sprintf(e2eConfig, dir, o.rate, o.transliterate)
	if o.config != nil {
		text = o.config(text)
	}
	if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(vigieBin, "serve", "--config", cfgPath)
	if e.clockFile != "" {
		cmd.Env = append(os.Environ(), "VIGIE_TEST_CLOCK="+e.clockFile)
	}
	out := io.Writer(e.logs)
	if o.journal != nil {
		out = io.MultiWriter(e.logs, o.journal)
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start daemon: %v", err)
	}
	e.pid = cmd.Process.Pid
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		stuck := time.AfterFunc(15*time.Second, func() { cmd.Process.Kill() })
		defer stuck.Stop()
		// A clean stop on SIGINT exits 0; anything else (a data race
		// report from the -race build, a panic) fails the test.
		if err := cmd.Wait(); err != nil {
			t.Errorf("daemon exit: %v\ndaemon log:\n%s", err, e.logs.String())
		} else if t.Failed() {
			t.Logf("daemon log:\n%s", e.logs.String())
		}
	})
	// The daemon is up when the CLI gets a status with a ready modem.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var st apitype.Status
		out, _, code := e.vigie("status", "--json")
		if code == 0 && json.Unmarshal(out, &st) == nil && len(st.Modems) == 1 && st.Modems[0].State == "ready" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemon not ready after 20 s (last status exit %d: %s)\n%s", code, out, e.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if e.clockFile != "" {
		e.waitClock()
	}
	return e
}

// now is the daemon's time on its test clock.
func (e *env) now() time.Time { return time.Now().Add(e.clockOffset) }

// setClock moves the daemon's test clock forward to at, and the network's
// with it, and waits until the daemon lives at that time. Time is taken to
// have passed (the monotonic clock moves too): the daemon's timers on it
// fire, so nothing should be queued across a jump longer than alert_ttl.
func (e *env) setClock(at time.Time) {
	e.t.Helper()
	e.moveClock(time.Until(at))
}

// advance moves the daemon's test clock forward by d.
func (e *env) advance(d time.Duration) {
	e.t.Helper()
	e.moveClock(e.clockOffset + d)
}

func (e *env) moveClock(offset time.Duration) {
	e.t.Helper()
	if e.clockFile == "" {
		e.t.Fatal("the daemon runs on the system clock: start it with envOptions{testClock: true}")
	}
	if offset < e.clockOffset {
		e.t.Fatalf("test clock moved back by %v: it only goes forward", e.clockOffset-offset)
	}
	moved := offset != e.clockOffset
	e.clockOffset = offset
	e.phones.HoldClock(true)
	e.phones.SetNetworkClock(e.networkClock + offset)
	e.writeClock()
	if moved {
		e.waitClockApplied(func() string { return e.logs.String() })
	}
	e.phones.HoldClock(false)
	e.waitClock()
}

// The network's clock and the daemon's move one after the other (two
// processes), and the daemon carries a reading of the network's time on
// its monotonic clock, which jumps with its test clock: a reading taken
// between the two moves would be carried across the daemon's jump once
// more, a day ahead after a day's move, and the daemon would find its
// clock skewed. A reading is due at any probe after a jump (every 10 min
// of the monotonic clock), so the modem's clock is held (+CCLK? answers an
// error) from the network's move until the daemon says it applied its
// own.

// clockMovedTo reports whether a line of the daemon's log says its test
// clock moved to offset (testclock.go's "test clock moved").
func clockMovedTo(line string, offset time.Duration) bool {
	return strings.Contains(line, `msg="test clock moved"`) && strings.HasSuffix(strings.TrimSpace(line), " offset="+offset.String())
}

// waitClockApplied waits until the daemon's log (logs) says its clock
// moved to e.clockOffset.
func (e *env) waitClockApplied(logs func() string) {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		for line := range strings.Lines(logs()) {
			if clockMovedTo(line, e.clockOffset) {
				return
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("daemon's test clock not moved to %v after 20 s\n%s", e.clockOffset, tail(logs()))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// writeClock replaces the clock file whole, so that the daemon never reads
// half of it.
func (e *env) writeClock() {
	e.t.Helper()
	tmp := e.clockFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(e.clockOffset.String()+"\n"), 0o600); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Rename(tmp, e.clockFile); err != nil {
		e.t.Fatal(err)
	}
}

// waitClock waits until the daemon's status shows its time at e.now(): the
// network's time as the daemon carries it on its monotonic clock, which
// moves with the test clock (within the 1 s the network's time is read to,
// far below any jump a test makes: a move under 2 s is not waited for),
// and no skew found unless the test set the network's clock apart.
func (e *env) waitClock() {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := decodeJSON[apitype.Status](e.t, e.mustVigie("status", "--json"))
		if c := st.Clock; c != nil && (!c.Skewed || e.networkClock != 0) && c.Network.Add(-e.networkClock).Sub(e.now()).Abs() < 2*time.Second {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("daemon's clock not at %v after 20 s: status clock %+v\n%s", e.now(), st.Clock, e.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// vigie runs the CLI binary against this env's daemon.
func (e *env) vigie(args ...string) (stdout, stderr []byte, code int) {
	cmd := exec.Command(vigieBin, args...)
	cmd.Env = append(os.Environ(), apitype.SocketEnv+"="+e.socket)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("run vigie %v: %v", args, err)
	}
	return out.Bytes(), errb.Bytes(), code
}

// mustVigie runs the CLI and fails the test unless it exits 0.
func (e *env) mustVigie(args ...string) []byte {
	e.t.Helper()
	out, errb, code := e.vigie(args...)
	if code != 0 {
		e.t.Fatalf("vigie %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errb)
	}
	return out
}

// sms sends text from number and waits for the n-th SMS to that number.
func (e *env) exchange(number, text string, n int) sim.SMS {
	e.t.Helper()
	if err := e.phones.Inject(number, text); err != nil {
		e.t.Fatalf("inject %q from %s: %v", text, number, err)
	}
	return e.waitSMS(number, n)
}

func (e *env) waitSMS(number string, n int) sim.SMS {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := e.phones.WaitReceived(ctx, number, n)
	if err != nil {
		e.t.Fatalf("%s: waiting for SMS #%d: %v (got %d)\n%s", number, n, err, len(got), e.logs.String())
	}
	return got[n-1]
}

func (e *env) sendAlert(args ...string) apitype.Alert {
	e.t.Helper()
	out := e.mustVigie(append([]string{"alert", "send", "--yes", "--json"}, args...)...)
	var a apitype.Alert
	if err := json.Unmarshal(out, &a); err != nil {
		e.t.Fatalf("alert send output %q: %v", out, err)
	}
	return a
}

// waitAlert polls `vigie alert show ID --json` until every message is final.
func (e *env) waitAlert(id uint64) apitype.AlertReport {
	e.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var rep apitype.AlertReport
		out := e.mustVigie("alert", "show", fmt.Sprint(id), "--json")
		if err := json.Unmarshal(out, &rep); err != nil {
			e.t.Fatalf("alert show output %q: %v", out, err)
		}
		if rep.Done {
			return rep
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("alert %d not done after 60 s: %+v", id, rep.Counts)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

const (
	prefix    = "Vigilance commerce 71 : "
	signature = " Gendarmerie. STOP pour ne plus recevoir."
)

func TestSubscribeAlertStop(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{transliterate: true})
	const alice, bob = "+33611111111", "+33622222222"

	conf := e.exchange(alice, "INSCRIPTION macon-centre", 1)
	if !strings.Contains(conf.Text, "Macon centre") || !strings.Contains(conf.Text, "STOP") {
		t.Errorf("subscription confirmation = %q, want the zone name and how to stop", conf.Text)
	}
	e.exchange(bob, "  inscription MACON-NORD ", 1)

	var subs []apitype.Subscriber
	if err := json.Unmarshal(e.mustVigie("subscribers", "list", "--json"), &subs); err != nil {
		t.Fatal(err)
	}
	if len(subs) != 2 || subs[0].Phone != alice || subs[0].Zones[0] != "macon-centre" || subs[0].Status != "active" {
		t.Fatalf("subscribers = %+v", subs)
	}

	// An alert to the parent zone reaches both sub-zones, with exactly the
	// rendered text.
	text := "vol à l'étalage rue Carnot, homme 30 ans, veste bleue."
	a1 := e.sendAlert("--zone", "macon", "--category", "vol", text)
	if a1.Recipients != 2 {
		t.Fatalf("alert 1 recipients = %d, want 2", a1.Recipients)
	}
	want := prefix + text + signature
	for _, n := range []string{alice, bob} {
		if got := e.waitSMS(n, 2); got.Text != want {
			t.Errorf("%s received %q, want %q", n, got.Text, want)
		}
	}
	rep1 := e.waitAlert(a1.ID)
	if rep1.Counts["sent"]+rep1.Counts["delivered"] != 2 || len(rep1.Messages) != 2 {
		t.Errorf("alert 1 report counts = %v, want 2 sent", rep1.Counts)
	}

	// STOP in any case is confirmed, and honoured by the next alert.
	stop := e.exchange(alice, "Stop", 3)
	if !strings.Contains(stop.Text, "ne recevrez plus") {
		t.Errorf("STOP confirmation = %q", stop.Text)
	}
	a2 := e.sendAlert("--zone", "macon", "fin d'alerte : auteur interpellé.")
	rep2 := e.waitAlert(a2.ID)
	e.waitSMS(bob, 3)
	if got := e.phones.Received(alice); len(got) != 3 {
		t.Errorf("alice got %d SMS after STOP, want 3 (confirmation, alert 1, STOP confirmation): last %q", len(got), got[len(got)-1].Text)
	}
	if rep2.Recipients != 1 || rep2.Counts["sent"]+rep2.Counts["delivered"] != 1 {
		t.Errorf("alert 2 = %d recipients, counts %v; want 1 sent", rep2.Recipients, rep2.Counts)
	}
	// The report's counts match what the phones got.
	for _, id := range []uint64{a1.ID, a2.ID} {
		rep := e.waitAlert(id)
		got := 0
		for _, n := range []string{alice, bob} {
			for _, m := range e.phones.Received(n) {
				if m.Text == rep.Rendered {
					got++
				}
			}
		}
		if left := rep.Counts["sent"] + rep.Counts["delivered"]; got != left {
			t.Errorf("alert %d: phones got %d copies, report says %d sent", id, got, left)
		}
	}
}

func TestLongFrenchAlertArrivesIntact(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{transliterate: false})
	const carole = "+33633333333"
	e.exchange(carole, "INSCRIPTION 71000", 1)

	text := "Escroquerie « au faux policier » aujourd’hui : un homme se disant agent demande " +
		"à voir les billets de 50 € pour « vérification ». Œillet à la boutonnière. Appelez le 17."
	a := e.sendAlert("--zone", "macon", text)
	if a.Encoding != "UCS2" || a.Parts < 3 {
		t.Fatalf("alert encoding %s in %d parts, want UCS2 in 3 or more", a.Encoding, a.Parts)
	}
	got := e.waitSMS(carole, 2)
	if want := prefix + text + signature; got.Text != want {
		t.Errorf("received\n%q\nwant\n%q", got.Text, want)
	}
	if got.Parts != a.Parts || got.Alphabet != "UCS2" {
		t.Errorf("received %d parts in %s, alert says %d parts", got.Parts, got.Alphabet, a.Parts)
	}
}

func TestSenderNeverFasterThanItsRate(t *testing.T) {
	t.Parallel()
	const rate, burst, n = 120, 1, 6 // per minute; (n-burst)/rate min = 2.5 s
	e := start(t, envOptions{rate: rate, transliterate: true})
	phones := make([]string, n)
	for i := range phones {
		phones[i] = fmt.Sprintf("+3361000000%d", i)
		if err := e.phones.Inject(phones[i], "INSCRIPTION macon"); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range phones {
		e.waitSMS(p, 1)
	}
	begin := time.Now()
	a := e.sendAlert("--all", "test de cadence")
	e.waitAlert(a.ID)
	last := begin
	for _, p := range phones {
		if at := e.waitSMS(p, 2).At; at.After(last) {
			last = at
		}
	}
	min := time.Duration(float64(n-burst) / rate * float64(time.Minute))
	if took := last.Sub(begin); took < min {
		t.Errorf("%d SMS at %d/min went out in %v, faster than the %v the rate allows", n, rate, took, min)
	}
}

func TestCLIExitCodes(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{})
	if _, errb, code := e.vigie("alert", "send", "--yes", "--zone", "atlantide", "texte"); code != 1 || !strings.Contains(string(errb), "zone inconnue") {
		t.Errorf("unknown zone: exit %d, stderr %q; want 1 and « zone inconnue »", code, errb)
	}
	if _, _, code := e.vigie("alert", "send", "--yes", "texte"); code != 2 {
		t.Errorf("no target: exit %d, want 2 (usage)", code)
	}
	cmd := exec.Command(vigieBin, "status", "--socket", filepath.Join(e.dir, "absent.sock"))
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
		t.Errorf("status without daemon: %v, want exit 3", err)
	}
}
