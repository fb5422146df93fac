// Package netclock is the gateway's clock: the time it dates records with
// and compares the outbox's stored times against.
//
// A Raspberry Pi has no battery-backed clock. After a power cut without
// network it boots with the time it last saved (fake-hwclock,
// systemd-timesyncd's clock file), hours or days behind, and NTP may step
// it forward later. The mobile network knows the time, and the modems tell
// it (modem.NetworkTime). The Clock is the system clock while the system
// clock agrees with the network within a tolerance (or nothing is known of
// the network), and the network's time, carried forward on the monotonic
// clock, when it does not: "dates what it records from a trustworthy
// source".
//
// The gateway's timers compare wall times the store keeps (a retry's "not
// before", a message's creation for alert_ttl) with Now. A step of Now
// would fire them all at once (forward: every queued message looks older
// than alert_ttl and is expired unsent) or stall them (backward: a retry
// due in a minute waits days). So Now never steps by itself: a step of the
// system clock is held back (Now goes on from where it was, on the
// monotonic clock) until Settle applies it, and Settle first moves the
// live timers of this run by the same amount, through the caller's shift
// function, so that what was due in a minute is still due in a minute.
package netclock

import (
	"fmt"
	"sync"
	"time"

	"vigie/gateway/french"
)

// StepTolerance is the largest jump of the system clock taken as drift and
// followed without moving any timer: NTP slews at most 0.5 ms/s, and the
// network's time has a one-second resolution. (Go's monotonic clock stops
// while the machine is suspended, so a resume looks like a step forward;
// a Raspberry Pi does not suspend.)
const StepTolerance = 2 * time.Second

// Clock is the gateway's clock; its methods are safe for concurrent use.
type Clock struct {
	wall    func() time.Time
	mono    func(wall time.Time) time.Duration
	maxSkew time.Duration

	mu sync.Mutex
	// held: Now is base advanced on the monotonic clock, not the system
	// clock (the system clock is off from the network, or stepped and
	// Settle has not applied the step yet).
	held     bool
	baseWall time.Time
	baseMono time.Duration
	// lastWall/lastMono: the system clock at the latest reading, to see a
	// step (the wall clock moved otherwise than the monotonic one).
	lastWall time.Time
	lastMono time.Duration
	net      *reading
	// skewed: the last Settle found the system clock off from the network
	// and Now follows the network's time.
	skewed bool
}

// reading is one look at the network's time.
type reading struct {
	source  string
	network time.Time
	mono    time.Duration // when it was read
}

// New returns a clock over the system clock wall (nil: time.Now) that
// trusts it within maxSkew of the network's time. mono is a clock that
// never steps, in time since any fixed origin; nil measures it with wall's
// own monotonic reading (time.Now carries one), which is what a daemon
// wants and what tests with a hand-moved wall get by default.
func New(wall func() time.Time, mono func() time.Duration, maxSkew time.Duration) *Clock {
	if wall == nil {
		wall = time.Now
	}
	c := &Clock{wall: wall, maxSkew: maxSkew}
	origin := wall()
	if mono != nil {
		c.mono = func(time.Time) time.Duration { return mono() }
	} else {
		c.mono = func(w time.Time) time.Duration { return w.Sub(origin) }
	}
	c.lastWall, c.lastMono = strip(origin), c.mono(origin)
	return c
}

// strip drops the monotonic reading, so that comparisons are of wall times.
func strip(t time.Time) time.Time { return t.Round(0) }

// read is the system clock and the monotonic one, read together.
func (c *Clock) read() (time.Time, time.Duration) {
	w := c.wall()
	return strip(w), c.mono(w)
}

// Now is the time to date records with and to compare stored times to.
func (c *Clock) Now() time.Time {
	w, m := c.read()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked(w, m)
}

func (c *Clock) nowLocked(w time.Time, m time.Duration) time.Time {
	if c.held {
		return c.baseWall.Add(m - c.baseMono)
	}
	if expect := c.lastWall.Add(m - c.lastMono); abs(w.Sub(expect)) > StepTolerance {
		// The system clock stepped. Go on from where it was until Settle
		// has moved the timers.
		c.held, c.baseWall, c.baseMono = true, expect, m
		return expect
	}
	c.lastWall, c.lastMono = w, m
	return w
}

// Observe records the network's time, as a modem (source) just read it.
// It takes effect at the next Settle.
func (c *Clock) Observe(source string, network time.Time) {
	w, m := c.read()
	c.mu.Lock()
	defer c.mu.Unlock()
	// In the system clock's zone, not the network's: the box's time zone
	// is configuration, right even when its clock is not, and the daily
	// tasks ("03:00") are read in it.
	c.net = &reading{source: source, network: strip(network).In(w.Location()), mono: m}
}

// Status is what is known of the system clock against the network's.
type Status struct {
	// Known: some modem told the network's time.
	Known bool
	// Source is the modem that told it last.
	Source string
	// Offset is the system clock minus the network's time: negative
	// when the system clock is behind.
	Offset time.Duration
	// Network is the network's time now, as carried from the last reading.
	Network time.Time
	// Skewed: |Offset| exceeds the tolerance; Now is the network's time.
	Skewed bool
}

// Status compares the system clock with the network's time now.
func (c *Clock) Status() Status {
	w, m := c.read()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.statusLocked(w, m)
}

func (c *Clock) statusLocked(w time.Time, m time.Duration) Status {
	if c.net == nil {
		return Status{}
	}
	net := c.net.network.Add(m - c.net.mono)
	off := w.Sub(net)
	return Status{Known: true, Source: c.net.source, Offset: off, Network: net, Skewed: abs(off) > c.maxSkew}
}

// Change is what a Settle did.
type Change struct {
	// Step is how far Now moved; the timers moved with it (0: no step).
	Step time.Duration
	// Status is the comparison Settle acted on.
	Status Status
	// WasSkewed is whether the clock followed the network before.
	WasSkewed bool
}

// Settle brings Now to the best time known: the network's when the system
// clock is off from it by more than the tolerance, else the system clock's.
// When that moves Now by more than StepTolerance, shift is called first
// with the step, to move the timers recorded in the old reckoning by the
// same amount; Now does not move unless it succeeds. Now waits while shift
// runs, so no timer is compared against the new time before it moved:
// shift must not call Now.
func (c *Clock) Settle(shift func(step time.Duration) error) (Change, error) {
	w, m := c.read()
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.statusLocked(w, m)
	ch := Change{Status: st, WasSkewed: c.skewed}
	cur := c.nowLocked(w, m)
	want := w
	if st.Skewed {
		want = st.Network
	}
	step := want.Sub(cur)
	if abs(step) <= StepTolerance {
		step = 0
		if st.Skewed && c.skewed {
			want = cur // keep the reckoning: no jitter from each reading
		}
	}
	if step != 0 {
		if err := shift(step); err != nil {
			return Change{Status: st, WasSkewed: c.skewed}, fmt.Errorf("move timers by %v: %w", step, err)
		}
		ch.Step = step
	}
	c.held, c.skewed = st.Skewed, st.Skewed
	c.baseWall, c.baseMono = want, m
	c.lastWall, c.lastMono = w, m
	return ch, nil
}

// MaxSkew is the tolerance the clock was made with.
func (c *Clock) MaxSkew() time.Duration { return c.maxSkew }

// Monotonic is the time since the clock was made on a clock that never
// steps: what in-memory timers (heartbeats) measure with.
func (c *Clock) Monotonic() time.Duration {
	_, m := c.read()
	return m
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// Message is the status line for a skewed clock, in French; "" when the
// clock is not skewed.
func (s Status) Message() string {
	if !s.Skewed {
		return ""
	}
	way := "en retard"
	if s.Offset > 0 {
		way = "en avance"
	}
	return fmt.Sprintf("horloge du système %s de %s sur l'heure du réseau (lue par le modem %s) : "+
		"les alertes, messages et le journal d'audit sont datés à l'heure du réseau ; "+
		"vérifier la mise à l'heure du système (timedatectl status)", way, french.Duration(s.Offset), s.Source)
}
