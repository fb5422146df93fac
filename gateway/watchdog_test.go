package gateway

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"vigie/gateway/config"
	"vigie/store"
)

// clock is a hand-moved clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newClockedGateway(t *testing.T, modemKeys string) (*Gateway, *clock) {
	t.Helper()
	dir := t.TempDir()
	text := strings.Replace(fmt.Sprintf(testConfig, dir, "open"), "burst = 1", "burst = 1\n"+modemKeys, 1)
	cfg, err := config.Parse(strings.NewReader(text), "test.toml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(cfg.Store.Path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	g, err := New(cfg, st, Options{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	return g, c
}

func TestAliveWatchesEveryRunningLoop(t *testing.T) {
	g, c := newClockedGateway(t, "")
	w := g.workers[0]
	if err := g.Alive(); err != nil {
		t.Fatalf("before Run nothing runs: %v", err)
	}
	w.beat.stamp(g.mono())
	w.recvBeat.stamp(g.mono())
	steps := []struct {
		name     string
		do       func()
		stalled  bool
		mentions string
	}{
		{"just stamped", func() {}, false, ""},
		{"silent 3 min", func() { c.advance(3 * time.Minute) }, false, ""},
		{"sender stamps, receiver silent past the limit", func() {
			c.advance(time.Second)
			w.beat.stamp(g.mono())
		}, true, "modem m1 receiver silent for 3m1s"},
		{"receiver's session ended", func() { w.recvBeat.park() }, false, ""},
		{"sender silent too", func() { c.advance(4 * time.Minute) }, true, "modem m1 sender silent for 4m0s"},
		{"sender goes round again", func() { w.beat.stamp(g.mono()) }, false, ""},
		{"the expiry loop starts", func() { g.loops["expiry"].stamp(g.mono()) }, false, ""},
		{"the expiry loop is stuck", func() {
			c.advance(3*time.Minute + time.Second)
			w.beat.stamp(g.mono())
		}, true, "expiry loop silent for 3m1s"},
		{"the expiry loop ends", func() { g.loops["expiry"].park() }, false, ""},
	}
	for _, s := range steps {
		s.do()
		err := g.Alive()
		if got := errors.Is(err, ErrStalled); got != s.stalled {
			t.Fatalf("%s: Alive = %v, want stalled %v", s.name, err, s.stalled)
		}
		if err != nil && !strings.Contains(err.Error(), s.mentions) {
			t.Errorf("%s: Alive = %v, want it to say %q", s.name, err, s.mentions)
		}
	}
}

// The limit grows with the timeouts: a long +CMGS is not a hang.
func TestMaxSilenceCoversTheLongestOperation(t *testing.T) {
	tests := []struct {
		keys string
		want time.Duration
	}{
		{"", 3 * time.Minute},
		{`send_timeout = "10m"`, 10*time.Minute + 10*time.Second + time.Minute},
		{`command_timeout = "30s"`, 10 * time.Minute},
	}
	for _, tt := range tests {
		g, _ := newClockedGateway(t, tt.keys)
		if got := g.maxSilence(); got != tt.want {
			t.Errorf("%q: maxSilence = %v, want %v", tt.keys, got, tt.want)
		}
	}
}

// pause stamps its heartbeat when it returns, and says whether ctx ended.
func TestPauseStamps(t *testing.T) {
	g, c := newClockedGateway(t, "")
	var h heartbeat
	c.advance(time.Hour)
	if !g.pause(context.Background(), &h, 0) {
		t.Fatal("pause with a live context returned false")
	}
	if h.silent(g.mono()) != 0 || h.last.Load() == nil || *h.last.Load() != g.mono() {
		t.Errorf("pause did not stamp now")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if g.pause(ctx, &h, time.Hour) {
		t.Error("pause with an ended context returned true")
	}
}
