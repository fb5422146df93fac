package sim

import (
	"fmt"
	"time"
)

// The simulated modem's clock. Like a real one, it starts at its firmware's
// default when the modem powers up (the GPS epoch, 1980-01-06, on Qualcomm
// firmwares) and counts from there; once automatic time zone update is on
// (AT+CTZU=1) and the modem is registered, the network's NITZ sets it to
// the network's time, which is the host's time plus
// Options.NetworkClockOffset (or what SetNetworkClock set): a test gives
// the network a clock that differs from the host's, as the host of a box
// without an RTC differs from the network after a power cut.

// clockDefault is what the modem's clock says at power-up.
var clockDefault = time.Date(1980, 1, 6, 0, 0, 0, 0, time.UTC)

// networkZone is the zone the network announces with its time: France in
// winter, UTC+1, +04 in quarters of an hour.
var networkZone = time.FixedZone("CET", 3600)

// simClock is the modem's clock; m.mu guards it.
type simClock struct {
	poweredUp time.Time // host time (monotonic) at power-up
	ctzu      int       // AT+CTZU: 1 lets NITZ set the clock
	set       bool      // NITZ has set the clock since power-up
	held      bool      // HoldClock: +CCLK? answers an error
}

// powerUp puts the clock back to its default, as a power cycle does; the
// CTZU setting is kept (modems save it in non-volatile memory).
func (c *simClock) powerUp(now time.Time) {
	c.poweredUp, c.set = now, false
}

// SetNetworkClock sets how far the network's clock is from the host's
// (network minus host); the modem's clock follows it once NITZ set it.
func (m *Modem) SetNetworkClock(offset time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.opts.NetworkClockOffset = offset
}

// HoldClock makes +CCLK? answer an error while held, as a modem busy
// re-registering does. A test that moves the network's clock and the
// daemon's (two processes, one after the other) holds it between the two,
// so that the daemon never reads the network moved while its own clock is
// not, and carries that reading across its own jump a second time.
func (m *Modem) HoldClock(held bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.clock.held = held
}

// NetworkTime is the network's time: the host's plus the configured offset.
func (m *Modem) NetworkTime() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.networkTimeLocked(time.Now())
}

func (m *Modem) networkTimeLocked(host time.Time) time.Time {
	return host.Add(m.opts.NetworkClockOffset).In(networkZone)
}

// clockNowLocked is what the modem's clock says: the network's time once
// NITZ set it (and it is re-sent at each registration, so the clock keeps
// following the network), the default counting from power-up before.
func (m *Modem) clockNowLocked() time.Time {
	now := time.Now()
	if !m.clock.set && m.clock.ctzu == 1 && m.regStatLocked() == regHome {
		m.clock.set = true
	}
	if m.clock.set {
		return m.networkTimeLocked(now)
	}
	return clockDefault.Add(now.Sub(m.clock.poweredUp))
}

// clockCommandLocked serves AT+CCLK (read the clock) and AT+CTZU
// (automatic time zone update). Setting the clock by hand (AT+CCLK=) is
// refused, as on modems whose clock only the network sets.
func (m *Modem) clockCommandLocked(c call) result {
	switch c.name {
	case "+CTZU":
		return intSetting(c, "+CTZU", &m.clock.ctzu, 1, cmeErr(50))
	case "+CCLK":
		switch c.op {
		case opRead:
			if m.clock.held {
				return fail(cmeErr(14)) // SIM busy
			}
			return ok(cclk(m.clockNowLocked()))
		case opTest:
			return ok()
		}
		return fail(cmeErr(4))
	}
	return fail(plainErr())
}

// cclk formats a +CCLK: answer, the zone in quarters of an hour.
func cclk(t time.Time) string {
	_, off := t.Zone()
	q, sign := off/900, '+'
	if q < 0 {
		q, sign = -q, '-'
	}
	return fmt.Sprintf(`+CCLK: "%s%c%02d"`, t.Format("06/01/02,15:04:05"), sign, q)
}
