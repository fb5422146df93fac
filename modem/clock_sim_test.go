package modem_test

import (
	"errors"
	"testing"
	"time"

	"vigie/modem"
	"vigie/modem/sim"
)

// The daemon turns automatic time zone update on at start-up, so the
// modem's clock is the network's once it is registered, however far the
// host's clock is from it.
func TestNetworkTimeFollowsTheNetwork(t *testing.T) {
	for _, offset := range []time.Duration{3 * time.Hour, -48 * time.Hour, 0} {
		m, s := open(t, sim.Options{NetworkClockOffset: offset})
		got, err := m.NetworkTime()
		if err != nil {
			t.Fatalf("offset %v: NetworkTime: %v", offset, err)
		}
		// The modem's clock has a one-second resolution.
		if d := got.Sub(s.NetworkTime()); d > time.Second || d < -2*time.Second {
			t.Errorf("offset %v: modem says %v, network %v", offset, got, s.NetworkTime())
		}
		if _, zone := got.Zone(); zone != 3600 {
			t.Errorf("offset %v: zone offset %d s, want the network's +01:00", offset, zone)
		}
		if n := s.CommandCount("+CTZU=1"); n != 1 {
			t.Errorf("AT+CTZU=1 sent %d times, want once", n)
		}
	}
}

// A modem the network has not set keeps its default clock: that is no time.
func TestNetworkTimeUnsetWithoutNetwork(t *testing.T) {
	m, s := open(t, sim.Options{NetworkClockOffset: time.Hour})
	s.SetNetwork(false)
	if got, err := m.NetworkTime(); !errors.Is(err, modem.ErrClockUnset) {
		t.Fatalf("not registered: NetworkTime = %v, %v; want ErrClockUnset", got, err)
	}
	s.SetNetwork(true)
	if _, err := m.NetworkTime(); err != nil {
		t.Fatalf("registered again: NetworkTime: %v", err)
	}
}

// A family that announces the network's time unsolicited (here Quectel's
// +CTZE) is believed when its clock itself is not set; the code landing in
// the middle of a reply does not break the reply.
func TestNetworkTimeFromNITZCode(t *testing.T) {
	m, s := open(t, sim.Options{})
	s.SetNetwork(false) // the modem's own clock stays at its default
	s.EmitDuringNextCommand(`+CTZE: "+04",0,"2026/12/03,09:15:42"`)
	if _, err := m.SIMState(); err != nil {
		t.Fatalf("+CPIN? with a NITZ code inside: %v", err)
	}
	// The driver hands indications to their handler on a goroutine of
	// their own: the code is kept a moment after the reply.
	got, err := m.NetworkTime()
	for deadline := time.Now().Add(2 * time.Second); err != nil && time.Now().Before(deadline); got, err = m.NetworkTime() {
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("NetworkTime: %v", err)
	}
	want := time.Date(2026, 12, 3, 8, 15, 42, 0, time.UTC)
	if d := got.Sub(want); d < 0 || d > 5*time.Second {
		t.Errorf("NetworkTime = %v, want %v advanced by the time since the code", got, want)
	}
}
