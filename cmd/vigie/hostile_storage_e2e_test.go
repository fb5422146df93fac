//go:build e2e

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"vigie/gateway/apitype"
	"vigie/store"
)

// mountTmpfs mounts a tmpfs of size (e.g. "2m") on a new directory, which
// stands for the database's file system, and unmounts it on cleanup, after
// the cleanups registered later (the daemon's).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "fs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs on %s (the test runs as root): %v: %s", dir, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file in dir until its file system is full.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "fill")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 4096)
	for {
		if _, err := f.Write(block); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill %s: %v", path, err)
			}
			break
		}
	}
	// Whatever a byte-sized write can still take.
	for {
		if _, err := f.Write(block[:1]); err != nil {
			break
		}
	}
	return path
}

// status is `vigie status --json`.
func (e *env) status() apitype.Status {
	e.t.Helper()
	var st apitype.Status
	if err := json.Unmarshal(e.mustVigie("status", "--json"), &st); err != nil {
		e.t.Fatal(err)
	}
	return st
}

// waitStatus polls the status until ok says yes, for up to 30 s.
func (e *env) waitStatus(what string, ok func(apitype.Status) bool) apitype.Status {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := e.status()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("status never %s: %+v\n%s", what, st, e.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// An SMS and a STOP that arrive while the database's file system is full
// wait (in the modem, or saved unprocessed) and are handled seconds after
// space comes back, once each; meanwhile the status and the LED say fault
// and the journal has an error line that masks the numbers.
func TestFullDiskInboundHandledOnceRoomComesBack(t *testing.T) {
	t.Parallel()
	dir := mountTmpfs(t, "2m")
	e := start(t, envOptions{transliterate: true, dir: dir})
	const alice, bob = "+33611112222", "+33633334444"
	e.exchange(alice, "INSCRIPTION macon", 1)

	filler := fill(t, dir)
	// On a full disk bbolt still commits into the pages it freed before;
	// only what grows the data fails. Messages for the inbox use up that
	// slack until the disk refuses one.
	var others []string
	for st := e.status(); st.State != "fault"; st = e.status() {
		if len(others) == 20 {
			t.Fatalf("20 SMS saved on a full disk, never a fault:\n%s", e.logs.String())
		}
		n := fmt.Sprintf("+336770000%02d", len(others))
		if err := e.phones.Inject(n, "bonjour, une question"); err != nil {
			t.Fatal(err)
		}
		others = append(others, n)
		time.Sleep(200 * time.Millisecond)
	}
	if err := e.phones.Inject(bob, "INSCRIPTION macon-nord"); err != nil {
		t.Fatal(err)
	}
	if err := e.phones.Inject(alice, "STOP"); err != nil {
		t.Fatal(err)
	}
	// Both are read from the modem (and refused by the disk) before space
	// comes back: the modem's storage empties only when they are saved.
	refused := func(masked string) bool {
		for _, l := range strings.Split(e.logs.String(), "\n") {
			if (strings.Contains(l, "inbound SMS not saved") || strings.Contains(l, "inbound SMS not handled")) &&
				strings.Contains(l, `from="`+masked+`"`) {
				return true
			}
		}
		return false
	}
	deadline := time.Now().Add(20 * time.Second)
	for !refused("+33 6 ** ** ** 22") || !refused("+33 6 ** ** ** 44") {
		if time.Now().After(deadline) {
			t.Fatalf("the STOP and the subscription were never tried:\n%s", e.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	st := e.status()
	if st.State != "fault" {
		t.Errorf("state = %q while the disk is full, want fault", st.State)
	}
	if !strings.Contains(st.WriteError, "plus de place") || !strings.Contains(st.WriteError, dir) {
		t.Errorf("write_error = %q, want « plus de place » and the directory to free", st.WriteError)
	}
	human := string(e.mustVigie("status"))
	for _, want := range []string{"en panne", "BASE DE DONNÉES : écriture impossible", "Libérer de la place sur " + dir} {
		if !strings.Contains(human, want) {
			t.Errorf("status lacks %q:\n%s", want, human)
		}
	}

	freed := time.Now()
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	for _, n := range others {
		e.waitSMS(n, 1)
	}
	welcome := e.waitSMS(bob, 1)
	stopped := e.waitSMS(alice, 2)
	t.Logf("after space came back: bob's subscription answered in %v, alice's STOP in %v",
		welcome.At.Sub(freed).Round(10*time.Millisecond), stopped.At.Sub(freed).Round(10*time.Millisecond))
	if !strings.Contains(stopped.Text, "ne recevrez plus") {
		t.Errorf("STOP answered %q", stopped.Text)
	}
	st = e.waitStatus("out of fault with an empty queue", func(st apitype.Status) bool {
		return st.State != "fault" && st.Queue["queued"]+st.Queue["sending"] == 0
	})
	if st.WriteError != "" {
		t.Errorf("write_error after space came back: %q", st.WriteError)
	}

	// Each SMS handled once: one reply each, the STOP applied.
	if n := len(e.phones.Received(bob)); n != 1 {
		t.Errorf("bob got %d replies, want 1", n)
	}
	for _, n := range others {
		if got := len(e.phones.Received(n)); got != 1 {
			t.Errorf("%s got %d replies, want 1", n, got)
		}
	}
	if n := len(e.phones.Received(alice)); n != 2 {
		t.Errorf("alice got %d SMS, want 2 (subscription, STOP)", n)
	}
	var subs []apitype.Subscriber
	if err := json.Unmarshal(e.mustVigie("subscribers", "list", "--json"), &subs); err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, s := range subs {
		status[s.Phone] = s.Status
	}
	if status[alice] != "stopped" || status[bob] != "active" {
		t.Errorf("subscribers = %v, want alice stopped, bob active", status)
	}

	logs := e.logs.String()
	if !strings.Contains(logs, `level=ERROR msg="database write failed`) {
		t.Errorf("no ERROR line for the failed writes:\n%s", logs)
	}
	if !strings.Contains(logs, "database writes work again") {
		t.Errorf("no line saying writes work again:\n%s", logs)
	}
	for _, l := range strings.Split(logs, "\n") {
		if (strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") || strings.Contains(l, "level=INFO")) &&
			(strings.Contains(l, alice) || strings.Contains(l, bob)) && strings.Contains(l, "component=") {
			t.Errorf("full number in a daemon log line: %s", l)
		}
	}
}

// serveOnce runs `vigie serve` on the database at dir/vigie.db and returns
// its exit code and output, the daemon expected to stop by itself.
func serveOnce(t *testing.T, dir string) (int, string) {
	t.Helper()
	cfg := filepath.Join(dir, "vigie.toml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(e2eConfig, dir, 600, true)), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, vigieBin, "serve", "--config", cfg).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("vigie serve did not stop on a damaged database:\n%s", out)
	}
	var ee *exec.ExitError
	if err == nil {
		return 0, string(out)
	}
	if !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return ee.ExitCode(), string(out)
}

// A truncated or empty database file is refused at start with a French
// message that says how to restore a backup: no panic, no new database.
func TestDamagedDatabaseRefusedAtStart(t *testing.T) {
	t.Parallel()
	// A real database with subscribers, then cut.
	src := filepath.Join(t.TempDir(), "vigie.db")
	st, err := store.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if _, err := st.AddSubscriber(store.Subscription{Phone: fmt.Sprintf("+3361%07d", i), Zone: "macon", Source: store.SourceOperator}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	full, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		size int
	}{
		{"empty", 0},
		{"inside the first meta page", 100},
		{"after the meta pages", 4096*2 + 1000},
		{"in the middle", len(full) / 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "vigie.db")
			if err := os.WriteFile(db, full[:tc.size], 0o600); err != nil {
				t.Fatal(err)
			}
			code, out := serveOnce(t, dir)
			if code != exitError {
				t.Errorf("exit %d, want %d", code, exitError)
			}
			for _, want := range []string{"endommagée", "refuse de démarrer", "restaurer une sauvegarde", "« vigie backup »", "systemctl stop vigie"} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			for _, bad := range []string{"panic", "goroutine ", "SIGBUS"} {
				if strings.Contains(out, bad) {
					t.Errorf("output has %q:\n%s", bad, out)
				}
			}
			if fi, err := os.Stat(db); err != nil || fi.Size() != int64(tc.size) {
				t.Errorf("database file after the refusal: %v bytes (%v), want it left as it was (%d bytes)", fi.Size(), err, tc.size)
			}
		})
	}
}

// A database restored with mode 0644 is restricted to 0600 at start, and
// the journal says so.
func TestDatabaseReadableByOthersRestricted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "vigie.db")
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(db, 0o644); err != nil {
		t.Fatal(err)
	}
	e := start(t, envOptions{dir: dir})
	if fi, err := os.Stat(db); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("database mode after start = %v (%v), want 0600", fi.Mode(), err)
	}
	if logs := e.logs.String(); !strings.Contains(logs, `level=WARN msg="database file was readable by others; restricted to 0600"`) ||
		!strings.Contains(logs, "mode_was=0644") {
		t.Errorf("no WARN line about the mode:\n%s", logs)
	}
}
