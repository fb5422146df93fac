package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"vigie/gateway/config"
)

// The pinger pings exactly on the rounds where the daemon is alive, and
// logs once when it stops and once when it resumes.
func TestWatchdogPingsOnlyWhileAlive(t *testing.T) {
	stalled := errors.New("modem m1 sender silent for 4m0s: daemon loop stalled")
	rounds := []error{nil, nil, stalled, stalled, stalled, nil, stalled, nil}
	var logs bytes.Buffer
	var pings []int
	round := 0
	w := &watchdog{
		interval: time.Minute,
		alive:    func(context.Context) error { return rounds[round] },
		notify: func(state string) {
			if state != "WATCHDOG=1" {
				t.Errorf("notify(%q)", state)
			}
			pings = append(pings, round)
		},
		log: slog.New(slog.NewTextHandler(&logs, nil)),
	}
	for round = range rounds {
		if got, want := w.check(t.Context()), rounds[round] == nil; got != want {
			t.Errorf("round %d: check = %v, want %v", round, got, want)
		}
	}
	if want := []int{0, 1, 5, 7}; !slices.Equal(pings, want) {
		t.Errorf("pinged on rounds %v, want %v", pings, want)
	}
	if n := strings.Count(logs.String(), "no longer pinged"); n != 2 {
		t.Errorf("%d stall lines, want 2 (one per episode):\n%s", n, logs.String())
	}
	if n := strings.Count(logs.String(), "progress again"); n != 2 {
		t.Errorf("%d recovery lines, want 2:\n%s", n, logs.String())
	}
}

func TestWatchdogInterval(t *testing.T) {
	tests := []struct {
		usec, pid string
		want      time.Duration
		ok        bool
	}{
		{"", "", 0, false},
		{"120000000", "", time.Minute, true},
		{"120000000", "42", time.Minute, true},
		{"120000000", "43", 0, false}, // meant for another process
		{"0", "", 0, false},
		{"two minutes", "", 0, false},
	}
	for _, tt := range tests {
		env := map[string]string{"WATCHDOG_USEC": tt.usec, "WATCHDOG_PID": tt.pid}
		got, ok := watchdogInterval(func(k string) string { return env[k] }, 42)
		if got != tt.want || ok != tt.ok {
			t.Errorf("USEC=%q PID=%q: %v %v, want %v %v", tt.usec, tt.pid, got, ok, tt.want, tt.ok)
		}
	}
}

// The API counts as alive when it answers at all, even with an error; a
// socket nobody serves, or a stalled gateway, is not alive.
func TestDaemonAlive(t *testing.T) {
	dir := t.TempDir()
	socket := filepath.Join(dir, "api.sock")
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"error":"database error"}`, http.StatusInternalServerError)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	stalled := errors.New("stalled")
	tests := []struct {
		name    string
		gateway error
		socket  string
		alive   bool
	}{
		{"gateway and API", nil, socket, true},
		{"gateway stalled", stalled, socket, false},
		{"API gone", nil, filepath.Join(dir, "none.sock"), false},
	}
	for _, tt := range tests {
		err := daemonAlive(func() error { return tt.gateway }, tt.socket)(t.Context())
		if (err == nil) != tt.alive {
			t.Errorf("%s: %v, want alive %v", tt.name, err, tt.alive)
		}
	}
}

func TestCredentialPIN(t *testing.T) {
	modems := func() []config.Modem {
		return []config.Modem{{Name: "m1"}, {Name: "m2", PIN: "1234"}, {Name: "m3", PINFile: "/etc/vigie/pin3"}}
	}
	tests := []struct {
		name    string
		content *string // nil: no credential file
		noDir   bool
		set     []string
	}{
		{"credential", ptr("0000\n"), false, []string{"m1"}},
		{"empty credential (the unit's fallback)", ptr("\n"), false, nil},
		{"no credential file", nil, false, nil},
		{"not under systemd", nil, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.content != nil {
				if err := os.WriteFile(filepath.Join(dir, "pin"), []byte(*tt.content), 0o400); err != nil {
					t.Fatal(err)
				}
			}
			if tt.noDir {
				dir = ""
			}
			cfg := &config.Config{Modems: modems()}
			got := credentialPIN(cfg, dir)
			if !slices.Equal(got, tt.set) {
				t.Errorf("set %v, want %v", got, tt.set)
			}
			for i, m := range cfg.Modems {
				want := modems()[i]
				if slices.Contains(tt.set, m.Name) {
					want.PINFile = filepath.Join(dir, "pin")
				}
				if m != want {
					t.Errorf("modem %+v, want %+v", m, want)
				}
			}
		})
	}
}

func ptr(s string) *string { return &s }

// A logger derived from another carries each key once, the latest value
// where the first one stood.
func TestLoggerKeysOnce(t *testing.T) {
	var b bytes.Buffer
	log := newLogger(&b, slog.LevelDebug)
	gw := log.With("component", "gateway")
	gw.With("component", "modem", "modem", "m1").With("modem", "m1").Info("modem ready", "device", "/dev/vigie-modem0")
	gw.Debug("tick")
	gw.WithGroup("g").With("component", "x").Info("grouped")
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	want := []string{
		`level=INFO msg="modem ready" component=modem modem=m1 device=/dev/vigie-modem0`,
		`level=DEBUG msg=tick component=gateway`,
		`level=INFO msg=grouped component=gateway g.component=x`,
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines:\n%s", len(lines), b.String())
	}
	for i, line := range lines {
		_, rest, _ := strings.Cut(line, " ") // time=…
		if rest != want[i] {
			t.Errorf("line %d: %s\nwant   %s", i, rest, want[i])
		}
	}
}

// A daemon that exits on an error leaves the LED in its fault pattern, not
// in the last healthy one (a temp dir stands for /sys/class/leds/X, with the
// timer trigger's files present).
func TestShowFaultOnExit(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"trigger", "brightness", "delay_on", "delay_off"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("0\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	showFault(dir, slog.New(slog.DiscardHandler))
	for f, want := range map[string]string{"trigger": "timer", "delay_on": "50", "delay_off": "150"} {
		if b, _ := os.ReadFile(filepath.Join(dir, f)); strings.TrimSpace(string(b)) != want {
			t.Errorf("%s = %q, want %q", f, b, want)
		}
	}
	showFault("", slog.New(slog.DiscardHandler)) // no LED configured: nothing to do, no panic
}
