package gateway

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"vigie/gateway/config"
	"vigie/gateway/led"
	"vigie/store"
)

// faultRig is a gateway over a real store whose clocks the test moves.
type faultRig struct {
	g    *Gateway
	dir  string
	logs *syncBuffer
	now  time.Time
	mono time.Duration
}

func newFaultRig(t *testing.T) *faultRig {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Parse(strings.NewReader(fmt.Sprintf(testConfig, dir, "open")), "test.toml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(cfg.Store.Path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &faultRig{dir: dir, logs: &syncBuffer{}, now: time.Date(2026, 12, 3, 10, 0, 0, 0, time.Local), mono: time.Hour}
	r.g, err = New(cfg, st, Options{
		Logger:    slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:       func() time.Time { return r.now },
		Monotonic: func() time.Duration { return r.mono },
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *faultRig) advance(d time.Duration) { r.now, r.mono = r.now.Add(d), r.mono+d }

func (r *faultRig) state(t *testing.T) (string, string) {
	t.Helper()
	st, err := r.g.Status()
	if err != nil {
		t.Fatal(err)
	}
	return st.State, st.WriteError
}

func diskErr(errno syscall.Errno, dir string) error {
	return fmt.Errorf("store: save inbound part 1/1: %w", &os.PathError{Op: "write", Path: filepath.Join(dir, "vigie.db"), Err: errno})
}

// A write the disk refuses puts the daemon in fault, with the French next
// step; the fault clears by itself once writes have worked for
// writeFaultHold since the last failure, and the journal has one error
// line for the episode and one line when it ends.
func TestWriteFaultSetAndClearedByItself(t *testing.T) {
	r := newFaultRig(t)
	full := diskErr(syscall.ENOSPC, r.dir)
	if known := r.g.noteWrite(full); known {
		t.Error("first disk fault reported as known")
	}
	state, msg := r.state(t)
	if state != "fault" || !strings.Contains(msg, "plus de place") || !strings.Contains(msg, "Libérer de la place sur "+r.dir) {
		t.Fatalf("after a full disk: state %q, write_error %q", state, msg)
	}
	if got := r.g.ledState(); got != led.Fault {
		t.Errorf("LED state %q during a write fault, want %q (%v)", got, led.Fault, led.PatternOf(led.Fault))
	}
	r.advance(time.Second)
	if known := r.g.noteWrite(full); !known {
		t.Error("second disk fault not reported as known: the retry would log an error each time")
	}
	// Writes that work again clear it only after the hold: on a full
	// disk small transactions still fit in freed pages.
	r.advance(time.Second)
	r.g.noteWrite(nil)
	if state, _ := r.state(t); state != "fault" {
		t.Errorf("a success 1 s after the last failure cleared the fault (state %q)", state)
	}
	r.advance(3 * time.Second)
	r.g.noteWrite(full) // still failing now and then
	r.advance(time.Second)
	r.g.noteWrite(nil)
	r.advance(writeFaultHold - 2*time.Second)
	if state, _ := r.state(t); state != "fault" {
		t.Errorf("fault cleared %v after the last failure, before the hold", writeFaultHold-time.Second)
	}
	r.advance(2 * time.Second)
	if state, msg := r.state(t); state == "fault" || msg != "" {
		t.Errorf("writes worked for the hold: state %q, write_error %q; want the fault cleared", state, msg)
	}
	logs := r.logs.String()
	if n := strings.Count(logs, `level=ERROR msg="database write failed`); n != 1 {
		t.Errorf("%d error lines for one episode, want 1:\n%s", n, logs)
	}
	if n := strings.Count(logs, "database writes work again"); n != 1 {
		t.Errorf("%d lines saying writes work again, want 1:\n%s", n, logs)
	}
}

// Only the disk's refusals count: the store's own rules, and a success
// without a prior fault, change nothing.
func TestWriteFaultIgnoresRuleErrors(t *testing.T) {
	r := newFaultRig(t)
	r.g.noteWrite(nil)
	r.g.noteWrite(fmt.Errorf("store: apply inbound 3: %w", store.ErrProcessed))
	r.g.noteWrite(fmt.Errorf("store: confirm: %w", store.ErrState))
	if state, msg := r.state(t); state == "fault" || msg != "" {
		t.Errorf("state %q, write_error %q after rule errors; want no fault", state, msg)
	}
	if strings.Contains(r.logs.String(), "level=ERROR") {
		t.Errorf("rule errors logged as disk faults:\n%s", r.logs.String())
	}
}

func TestWriteFaultFrench(t *testing.T) {
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.Local)
	for _, tc := range []struct {
		errno syscall.Errno
		want  []string
	}{
		{syscall.ENOSPC, []string{"plus de place", "Libérer de la place sur /var/lib/vigie", "restent dans le modem"}},
		{syscall.EDQUOT, []string{"plus de place"}},
		{syscall.EROFS, []string{"lecture seule", "journalctl -k"}},
		{syscall.EIO, []string{"erreur du disque", "restaurer une sauvegarde"}},
	} {
		msg := writeFaultFrench(diskErr(tc.errno, "/var/lib/vigie"), "/var/lib/vigie", at)
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%v: %q lacks %q", tc.errno, msg, w)
			}
		}
		if !strings.Contains(msg, "03/12 10:00:00") {
			t.Errorf("%v: %q does not say since when", tc.errno, msg)
		}
	}
}
