package sim

import (
	"strings"
	"testing"
	"time"

	"vigie/modem"
)

// The clock says the firmware's default until CTZU is on and the modem is
// registered, then the network's time (host + offset); ATZ keeps CTZU, a
// power cycle puts the clock back to its default.
func TestClock(t *testing.T) {
	h := newHarness(t, Options{NetworkClockOffset: -48 * time.Hour})
	h.send("ATE0\r")
	if got := h.send("AT+CCLK?\r"); !strings.Contains(got, `+CCLK: "80/01/06,00:00:`) || !strings.HasSuffix(got, "OK\r\n") {
		t.Fatalf("before CTZU: %q, want the 1980 default", got)
	}
	if got := h.send("AT+CTZU=?\r"); got != okReply("+CTZU: (0-1)") {
		t.Errorf("AT+CTZU=? = %q", got)
	}
	if got := h.send("AT+CTZU=2\r"); !strings.Contains(got, "ERROR") {
		t.Errorf("AT+CTZU=2 = %q, want an error", got)
	}
	h.m.SetNetwork(false)
	h.send("AT+CTZU=1\r")
	if got := h.send("AT+CCLK?\r"); !strings.Contains(got, `"80/01/06,`) {
		t.Fatalf("not registered: %q, want the default", got)
	}
	h.m.SetNetwork(true)
	h.idle()
	want := h.m.NetworkTime()
	got := h.send("AT+CCLK?\r")
	v, _, _ := strings.Cut(strings.TrimSpace(got), "\r\n")
	said, err := modem.ParseClock(strings.TrimPrefix(v, "+CCLK:"))
	if d := said.Sub(want); err != nil || d > time.Second || d < -time.Second || !strings.Contains(got, `+04"`) {
		t.Fatalf("registered: %q (%v, %v), want about %q", got, said, err, cclk(want))
	}
	if want.Sub(time.Now()) > -47*time.Hour {
		t.Errorf("network time %v is not two days behind the host", want)
	}
	h.send("ATZ\r")
	h.send("ATE0\r")
	if got := h.send("AT+CTZU?\r"); got != okReply("+CTZU: 1") {
		t.Errorf("after ATZ: %q, want CTZU kept", got)
	}
	if got := h.send("AT+CCLK=\"26/01/01,00:00:00+04\"\r"); !strings.Contains(got, "ERROR") {
		t.Errorf("setting the clock by hand: %q, want refused", got)
	}
	h.m.mu.Lock()
	h.m.powerUpLocked()
	h.m.mu.Unlock()
	h.m.SetNetwork(false)
	if got := h.send("AT+CCLK?\r"); !strings.Contains(got, `"80/01/06,`) {
		t.Errorf("after a power cycle, not registered: %q, want the default", got)
	}
}

// A held clock answers an error, and the time again once let go.
func TestHoldClock(t *testing.T) {
	h := newHarness(t, Options{})
	h.send("ATE0\r")
	h.send("AT+CTZU=1\r")
	h.idle()
	h.m.HoldClock(true)
	if got := h.send("AT+CCLK?\r"); !strings.Contains(got, "ERROR") {
		t.Fatalf("held: %q, want an error", got)
	}
	h.m.HoldClock(false)
	if got := h.send("AT+CCLK?\r"); !strings.HasPrefix(strings.TrimSpace(got), "+CCLK: ") || !strings.HasSuffix(got, "OK\r\n") {
		t.Fatalf("let go: %q, want the time", got)
	}
}

func TestCCLKFormat(t *testing.T) {
	for _, tt := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 12, 3, 9, 5, 7, 0, time.FixedZone("", 3600)), `+CCLK: "26/12/03,09:05:07+04"`},
		{time.Date(2026, 7, 1, 23, 0, 0, 0, time.FixedZone("", -9000)), `+CCLK: "26/07/01,23:00:00-10"`},
		{time.Date(2026, 7, 1, 23, 0, 0, 0, time.UTC), `+CCLK: "26/07/01,23:00:00+00"`},
	} {
		if got := cclk(tt.t); got != tt.want {
			t.Errorf("cclk(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}
}
