package gateway

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"vigie/gateway/apitype"
	"vigie/gateway/config"
	"vigie/gateway/led"
	"vigie/modem/sim"
	"vigie/store"
)

// host is a system clock whose wall time the test steps apart from its
// monotonic time, as settimeofday, NTP or a restored clock file do.
type host struct {
	mu   sync.Mutex
	wall time.Time
	mono time.Duration
}

func (h *host) now() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.wall
}

func (h *host) monotonic() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.mono
}

// pass lets d go by on both clocks; step moves the wall clock alone.
func (h *host) pass(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.wall, h.mono = h.wall.Add(d), h.mono+d
}

func (h *host) step(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.wall = h.wall.Add(d)
}

func newHostGateway(t *testing.T) (*Gateway, *store.Store, *host) {
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
	h := &host{wall: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}
	g, err := New(cfg, st, Options{Now: h.now, Monotonic: h.monotonic})
	if err != nil {
		t.Fatal(err)
	}
	return g, st, h
}

// A system clock stepped by NTP does not make the loops look silent (and
// systemd kill a healthy daemon), nor hide a hang when stepped back.
func TestWatchdogIgnoresClockSteps(t *testing.T) {
	g, _, h := newHostGateway(t)
	w := g.workers[0]
	w.beat.stamp(g.mono())
	h.pass(time.Second)
	h.step(48 * time.Hour)
	if err := g.Alive(); err != nil {
		t.Fatalf("after a +48 h step: %v", err)
	}
	h.step(-96 * time.Hour)
	h.pass(4 * time.Minute)
	if err := g.Alive(); err == nil {
		t.Fatal("a sender silent 4 min behind a -96 h step is not seen as stalled")
	}
}

// A step of the system clock neither fires nor stalls the outbox timers:
// a message queued a minute before a +2 days step is not expired by
// alert_ttl, and a retry due in a minute before a -3 days step is still
// due in about a minute, not in three days.
func TestClockStepKeepsRetriesAndTTL(t *testing.T) {
	for _, step := range []time.Duration{48 * time.Hour, -72 * time.Hour} {
		g, st, h := newHostGateway(t)
		if _, err := st.AddSubscriber(store.Subscription{Phone: "+33611111111", Zone: "macon", Source: "operator"}, g.now()); err != nil {
			t.Fatal(err)
		}
		a, err := g.SendAlert(context.Background(), apitype.AlertRequest{Zones: []string{"macon"}, Text: "vol"}, "test")
		if err != nil {
			t.Fatal(err)
		}
		m, ok, err := st.Claim("m1", g.now())
		if err != nil || !ok {
			t.Fatalf("claim: %v %v", ok, err)
		}
		if err := st.Retry(m.ID, "congestion", g.now().Add(time.Minute), g.now()); err != nil {
			t.Fatal(err)
		}
		h.pass(10 * time.Second)
		h.step(step)
		// Between the step and the next settle, the clock goes on.
		if due, _, _ := st.NextDue(); due.Sub(g.now()) != 50*time.Second {
			t.Fatalf("step %v, before settle: retry due in %v, want 50s", step, due.Sub(g.now()))
		}
		g.settleClock()
		if got := g.now(); !got.Equal(h.now()) {
			t.Fatalf("step %v: after settle the clock says %v, want the system clock %v", step, got, h.now())
		}
		if rep, err := g.Alert(a.ID); err != nil || !rep.CreatedAt.Equal(a.CreatedAt.Add(step)) {
			t.Errorf("step %v: alert accepted at %v (%v), want %v: 10 s ago by the new reckoning", step, rep.CreatedAt, err, a.CreatedAt.Add(step))
		}
		due, ok, err := st.NextDue()
		if err != nil || !ok || due.Sub(g.now()) != 50*time.Second {
			t.Errorf("step %v: retry due in %v (%v, %v), want 50s", step, due.Sub(g.now()), ok, err)
		}
		h.pass(time.Minute)
		if n, _, err := st.ExpireQueued(g.now().Add(-g.cfg.SMS.AlertTTL), g.now()); err != nil || n != 0 {
			t.Errorf("step %v: %d messages expired (%v), want none: it was queued a minute ago", step, n, err)
		}
		if _, ok, _ := st.Claim("m1", g.now()); !ok {
			t.Errorf("step %v: the retry is not due a minute later", step)
		}
	}
}

// The network's clock differs from the host's: the status shows the
// offset, the daemon is degraded with a French message, and what it
// records (the alert, its messages, the audit log) is dated from the
// network's time; the alert still goes out.
func TestNetworkClockDiffersFromTheHost(t *testing.T) {
	for _, tt := range []struct {
		offset time.Duration // network minus host
		says   string
	}{
		{3 * time.Hour, "horloge du système en retard de 3 h 00 min sur l'heure du réseau (lue par le modem m1)"},
		{-48 * time.Hour, "horloge du système en avance de 2 jours sur l'heure du réseau (lue par le modem m1)"},
	} {
		t.Run(tt.offset.String(), func(t *testing.T) {
			g, st, dir := newGateway(t, "open")
			const shop = "+33611111111"
			if _, err := st.AddSubscriber(store.Subscription{Phone: shop, Zone: "macon", Source: "operator"}, g.now()); err != nil {
				t.Fatal(err)
			}
			phones := sim.New(sim.Options{NetworkClockOffset: tt.offset})
			t.Cleanup(func() { phones.Close() })
			if _, err := phones.OpenPTY(filepath.Join(dir, "modem")); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- g.Run(ctx) }()
			t.Cleanup(func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("gateway run: %v", err)
				}
			})

			st1 := waitClock(t, g)
			if st1.State != "degraded" || g.ledState() != led.Degraded {
				t.Errorf("state %q, LED %q; want degraded", st1.State, g.ledState())
			}
			c := st1.Clock
			if !c.Skewed || c.Source != "m1" || !near(time.Duration(c.OffsetSeconds*float64(time.Second)), -tt.offset) || c.MaxSkewSeconds != 300 {
				t.Errorf("clock status %+v, want skewed by %v", c, -tt.offset)
			}
			if !strings.HasPrefix(c.Message, tt.says) {
				t.Errorf("message %q, want it to start %q", c.Message, tt.says)
			}
			if m := st1.Modems[0]; m.ClockOffsetSeconds == nil || !near(time.Duration(*m.ClockOffsetSeconds*float64(time.Second)), -tt.offset) {
				t.Errorf("modem health clock offset %v", m.ClockOffsetSeconds)
			}

			a, err := g.SendAlert(context.Background(), apitype.AlertRequest{Zones: []string{"macon"}, Text: "vol"}, "test")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := g.AppendAudit(apitype.AuditRecord{User: "test", Action: "alert.send"}); err != nil {
				t.Fatal(err)
			}
			wait(t, phones, shop, 1)
			network := phones.NetworkTime()
			if !near(a.CreatedAt.Sub(network), 0) {
				t.Errorf("alert dated %v, network says %v, host %v", a.CreatedAt, network, time.Now())
			}
			rep := waitDone(t, g, a.ID)
			if len(rep.Messages) != 1 || !near(rep.Messages[0].SentAt.Sub(network), 0) {
				t.Errorf("messages %+v: want sent, dated from the network (%v)", rep.Messages, network)
			}
			recs, err := g.Audit(time.Time{})
			if err != nil || len(recs) == 0 || !near(recs[len(recs)-1].Time.Sub(network), 0) {
				t.Errorf("audit %+v, %v: want the last record dated from the network (%v)", recs, err, network)
			}

			// NTP (or an operator) puts the host right: the next reading
			// clears the warning. The sim's network then agrees with the host.
			phones.SetNetworkClock(0)
			g.clock.Observe("m1", phones.NetworkTime())
			g.settleClock()
			if st2, _ := g.Status(); st2.Clock == nil || st2.Clock.Skewed || st2.Clock.Message != "" || st2.State == "degraded" {
				t.Errorf("after the host agrees: %+v, state %s", st2.Clock, st2.State)
			}
		})
	}
}

// near accepts the one-second resolution of the modem's clock and the
// time a test step takes.
func near(d, want time.Duration) bool {
	d -= want
	return d > -5*time.Second && d < 5*time.Second
}

// waitClock waits until a modem told the network's time.
func waitClock(t *testing.T, g *Gateway) apitype.Status {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := g.Status()
		if err != nil {
			t.Fatal(err)
		}
		if st.Clock != nil && st.State != "starting" {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("no network time in status: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitDone(t *testing.T, g *Gateway, id uint64) apitype.AlertReport {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		rep, err := g.Alert(id)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Done {
			return rep
		}
		if time.Now().After(deadline) {
			t.Fatalf("alert %d not done: %v", id, rep.Counts)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The daily tasks are times of day: after a step they are worked out again
// in the new reckoning, not moved by the step nor left overdue.
func TestClockStepReschedulesTheDailyTasks(t *testing.T) {
	g, _, h := newHostGateway(t) // the system clock says 1 Dec 08:00
	g.care.backupNext = g.cfg.Backup.At.Next(g.now())
	g.care.canaryNext = g.cfg.Canary.At.Next(g.now())
	// The network says 3 Dec 08:00 (Paris time, one hour ahead of UTC).
	g.clock.Observe("m1", h.now().Add(48*time.Hour).In(time.FixedZone("CET", 3600)))
	g.settleClock()
	if want := time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC); !g.care.backupNext.Equal(want) {
		t.Errorf("backup next at %v, want %v", g.care.backupNext, want)
	}
	if want := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC); !g.care.canaryNext.Equal(want) {
		t.Errorf("canary next at %v, want %v", g.care.canaryNext, want)
	}
}
