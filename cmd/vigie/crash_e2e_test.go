//go:build e2e

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"vigie/gateway/apitype"
	"vigie/gateway/client"
	"vigie/modem/sim"
	"vigie/store"
)

// Crash test parameters (issue #4): a 200-recipient alert sent one SMS at a
// time by a simulated network that takes crashSendDelay per SMS, so the
// fan-out lasts several seconds and most moments fall inside a +CMGS.
const (
	crashRecipients = 200
	crashKills      = 12 // at least 10 must land while the fan-out runs
	crashMinKills   = 10
	crashSendDelay  = 30 * time.Millisecond
	crashRate       = 6000 // per minute: the network, not the limiter, sets the pace
	crashMaxPause   = 500 * time.Millisecond
	// crashSeedEnv replays a failed run's kill moments (as far as the
	// scheduler allows).
	crashSeedEnv = "VIGIE_CRASH_SEED"
)

// daemon is one `vigie serve` process that the test may SIGKILL and start
// again on the same config, database and simulated modem.
type daemon struct {
	t       *testing.T
	e       *env
	cfgPath string
	cmd     *exec.Cmd
	exited  chan error // receives cmd.Wait's result once
	starts  int
}

// start runs a new daemon process and waits until its modem is ready.
func (d *daemon) start() {
	d.t.Helper()
	d.starts++
	fmt.Fprintf(d.e.logs, "=== crash test: daemon start #%d\n", d.starts)
	cmd := exec.Command(vigieBin, "serve", "--config", d.cfgPath)
	cmd.Stdout, cmd.Stderr = d.e.logs, d.e.logs
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		d.t.Fatalf("start daemon #%d: %v", d.starts, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	d.cmd, d.exited = cmd, exited

	// Polled through the API client in this process: spawning the -race
	// CLI for each poll would leave the fan-out running for most of the
	// time between kills.
	api := client.New(d.e.socket)
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-exited:
			d.cmd = nil
			d.t.Fatalf("daemon #%d exited while starting: %v", d.starts, err)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st, err := api.Status(ctx)
		cancel()
		if err == nil && len(st.Modems) == 1 && st.Modems[0].State == apitype.ModemReady {
			return
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("daemon #%d not ready after 20 s: %+v, %v", d.starts, st.Modems, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// kill SIGKILLs the running daemon: no deferred code, no bbolt close, the
// port and socket left as they are (the port in exclusive mode, which the
// simulated modem forgets at its last close as a real tty does). A daemon
// that had already exited on its own fails the test.
func (d *daemon) kill() {
	d.t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		d.t.Fatalf("kill daemon #%d: %v", d.starts, err)
	}
	err := <-d.exited
	d.cmd = nil
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		d.t.Fatalf("daemon #%d ended by itself before the kill: %v", d.starts, err)
	}
	fmt.Fprintf(d.e.logs, "=== crash test: daemon #%d killed\n", d.starts)
}

// stop asks the daemon to stop (SIGINT) and fails the test unless it exits
// 0: a data race reported by the -race build or a panic exit otherwise.
func (d *daemon) stop() {
	d.t.Helper()
	if d.cmd == nil {
		return
	}
	cmd := d.cmd
	d.cmd = nil
	cmd.Process.Signal(os.Interrupt)
	stuck := time.AfterFunc(15*time.Second, func() { cmd.Process.Kill() })
	defer stuck.Stop()
	err := <-d.exited
	if err != nil {
		d.t.Errorf("daemon #%d exit after SIGINT: %v", d.starts, err)
	}
}

// crashSeed is the seed of the kill moments: VIGIE_CRASH_SEED if set, else
// a fresh one.
func crashSeed(t *testing.T) uint64 {
	if s := os.Getenv(crashSeedEnv); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", crashSeedEnv, s, err)
		}
		return seed
	}
	return rand.Uint64()
}

// dumpLogs keeps the whole interleaved daemon and modem log of a failed run
// in a file that outlives t.TempDir, and shows its tail.
func dumpLogs(t *testing.T, logs *syncBuffer) {
	all := logs.String()
	lines := strings.Split(all, "\n")
	tail := strings.Join(lines[max(len(lines)-150, 0):], "\n")
	f, err := os.CreateTemp("", "vigie-crash-*.log")
	if err == nil {
		_, err = f.WriteString(all)
		f.Close()
	}
	if err != nil {
		t.Logf("cannot keep the log: %v; its tail:\n%s", err, tail)
		return
	}
	t.Logf("full log in %s; its tail:\n%s", f.Name(), tail)
}

// TestCrashDuringFanOut is issue #4's check: kill -9 the daemon at random
// moments (some inside a +CMGS) during a 200-recipient alert, restarting it
// each time; every recipient ends with the alert, no message is lost or
// stuck, and duplicates happen only where the report says uncertain.
func TestCrashDuringFanOut(t *testing.T) {
	t.Parallel()
	seed := crashSeed(t)
	t.Logf("seed %d (replay with %s=%d)", seed, crashSeedEnv, seed)
	rng := rand.New(rand.NewPCG(seed, 0x76696769))

	dir := t.TempDir()
	e := &env{t: t, dir: dir, socket: filepath.Join(dir, "vigie.sock"), logs: &syncBuffer{}}
	e.phones = sim.New(sim.Options{
		SendDelay: crashSendDelay,
		Seed:      seed,
		Logger:    slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	t.Cleanup(func() { e.phones.Close() })
	if _, err := e.phones.OpenPTY(filepath.Join(dir, "modem")); err != nil {
		t.Fatalf("open simulated modem: %v", err)
	}
	cfgPath := filepath.Join(dir, "vigie.toml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(e2eConfig, dir, crashRate, true)), 0o600); err != nil {
		t.Fatal(err)
	}

	// The subscribers are written straight into the daemon's database
	// before its first start, spread over the zone and its two sub-zones.
	phones := make([]string, crashRecipients)
	st, err := store.Open(filepath.Join(dir, "vigie.db"))
	if err != nil {
		t.Fatal(err)
	}
	zones := []string{"macon", "macon-centre", "macon-nord"}
	for i := range phones {
		phones[i] = fmt.Sprintf("+3361%07d", i)
		sub := store.Subscription{Phone: phones[i], Zone: zones[i%len(zones)]}
		if _, err := st.AddSubscriber(sub, time.Now()); err != nil {
			t.Fatalf("add subscriber %s: %v", phones[i], err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	d := &daemon{t: t, e: e, cfgPath: cfgPath}
	t.Cleanup(func() {
		if d.cmd != nil { // a Fatalf left it running
			d.cmd.Process.Kill()
			<-d.exited
		}
		if t.Failed() {
			t.Logf("seed %d", seed)
			dumpLogs(t, e.logs)
		}
	})
	d.start()

	text := "vol a l'etalage rue Carnot, homme 30 ans, veste bleue. Prevenez le 17."
	a := e.sendAlert("--zone", "macon", text)
	if a.Recipients != crashRecipients || a.Parts != 1 {
		t.Fatalf("alert to %d recipients in %d parts, want %d in 1", a.Recipients, a.Parts, crashRecipients)
	}

	// Kill at random moments while the fan-out runs, restarting each time
	// once the modem is ready again.
	distinct := func() int {
		seen := make(map[string]bool)
		for _, m := range e.phones.AllReceived() {
			seen[m.To] = true
		}
		return len(seen)
	}
	began := time.Now()
	kills := 0
	for kills < crashKills {
		pause := time.Duration(rng.Int64N(int64(crashMaxPause)))
		time.Sleep(pause)
		if n := distinct(); n == crashRecipients {
			break // the fan-out ended: a kill now would test nothing
		}
		d.kill()
		kills++
		t.Logf("kill %d at %v, %v after ready (%d recipients reached, %d SMS in all)", kills, time.Since(began).Round(time.Millisecond), pause.Round(time.Millisecond), distinct(), len(e.phones.AllReceived()))
		restart := time.Now()
		d.start()
		t.Logf("restart %d ready in %v", kills, time.Since(restart).Round(time.Millisecond))
	}
	if kills < crashMinKills {
		t.Fatalf("the fan-out ended after %d kills in %v; want at least %d during it (slow the simulated network down)", kills, time.Since(began), crashMinKills)
	}

	rep := e.waitAlert(a.ID)
	t.Logf("%d kills; alert done %v after it was sent; counts %v", kills, time.Since(began).Round(time.Millisecond), rep.Counts)

	// Every count is final: sent or delivered, nothing queued, sending,
	// failed or expired.
	final := rep.Counts["sent"] + rep.Counts["delivered"]
	if final != crashRecipients || len(rep.Messages) != crashRecipients {
		t.Errorf("counts %v over %d messages, want all %d sent or delivered", rep.Counts, len(rep.Messages), crashRecipients)
	}
	byPhone := make(map[string]apitype.Message, len(rep.Messages))
	for _, m := range rep.Messages {
		byPhone[m.To] = m
		if m.LastError != "" {
			t.Logf("message %d to %s: %s after %d attempts, uncertain %v, last error %q", m.ID, m.To, m.State, m.Attempts, m.Uncertain, m.LastError)
		}
		if m.State != "sent" && m.State != "delivered" {
			t.Errorf("message %d to %s is %s (%s) after %d attempts", m.ID, m.To, m.State, m.LastError, m.Attempts)
		}
	}

	// Every number got the alert; a number that got it more than once is
	// uncertain in the report, and never got more copies than its message
	// had attempts.
	total, extra, uncertain, unfinished := 0, 0, 0, 0
	for _, p := range phones {
		m, ok := byPhone[p]
		if !ok {
			t.Errorf("%s: no message in the report", p)
			continue
		}
		if m.Uncertain {
			uncertain++
			unfinished += m.Attempts - 1
		}
		copies := 0
		for _, s := range e.phones.Received(p) {
			if s.Text != rep.Rendered {
				t.Errorf("%s received %q, want only the alert %q", p, s.Text, rep.Rendered)
				continue
			}
			copies++
		}
		total += copies
		switch {
		case copies == 0:
			t.Errorf("%s never received the alert (message %d: %s, %d attempts, last error %q)", p, m.ID, m.State, m.Attempts, m.LastError)
		case copies > 1 && !m.Uncertain:
			t.Errorf("%s received the alert %d times, but message %d is not marked uncertain", p, copies, m.ID)
		case copies > m.Attempts:
			t.Errorf("%s received the alert %d times from %d attempts", p, copies, m.Attempts)
		}
		extra += max(copies-1, 0)
	}
	t.Logf("%d SMS for %d recipients: %d duplicates; %d messages uncertain, %d sends cut by a kill", total, crashRecipients, extra, uncertain, unfinished)
	if total < crashRecipients {
		t.Errorf("%d SMS received in all, want at least %d", total, crashRecipients)
	}
	// Duplicates are bounded by the messages in flight at a crash: one
	// per kill with one modem, and no more than the sends the report
	// shows cut short.
	if extra > unfinished || extra > kills {
		t.Errorf("%d duplicates, more than the %d uncertain sends or the %d kills", extra, unfinished, kills)
	}
	if uncertain == 0 {
		t.Errorf("no kill landed during a send in %d kills: the test did not test the crash path", kills)
	}
	if unfinished > kills {
		t.Errorf("%d sends left unfinished by %d kills: more than one per kill with one modem", unfinished, kills)
	}
	d.stop()
}
