package pace

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)

// every returns n send times gap apart from start.
func every(start time.Time, n int, gap time.Duration) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = start.Add(time.Duration(i) * gap)
	}
	return out
}

func TestInterval(t *testing.T) {
	// Ten sends 6 s apart, the modem unplugged five minutes, ten more 6 s
	// apart: the pace is still one every 6 s. Sends over their span
	// (20 in 5 min 54 s) would say one every 17.7 s: an ETA 2.9 times too long.
	recovery := append(every(t0, 10, 6*time.Second), every(t0.Add(54*time.Second+5*time.Minute), 10, 6*time.Second)...)
	for _, c := range []struct {
		name string
		sent []time.Time
		want time.Duration
		ok   bool
	}{
		{"none", nil, 0, false},
		{"two are not a pace", every(t0, 2, time.Second), 0, false},
		{"steady", every(t0, 10, 6*time.Second), 6 * time.Second, true},
		{"after a recovery", recovery, 6 * time.Second, true},
		{"even count of gaps: the mean of the middle two", []time.Time{t0, t0.Add(2 * time.Second), t0.Add(6 * time.Second)}, 3 * time.Second, true},
		{"all at once", every(t0, 5, 0), 0, false},
		{"out of order is no negative gap", []time.Time{t0, t0.Add(-time.Second), t0.Add(time.Second), t0.Add(2 * time.Second)}, time.Second, true},
	} {
		got, ok := Interval(c.sent)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: Interval = %v, %v; want %v, %v", c.name, got, ok, c.want, c.ok)
		}
	}
	if eta, ok := ETA(recovery, 40); !ok || eta != 4*time.Minute {
		t.Errorf("ETA of 40 after the recovery = %v, %v; want 4 min", eta, ok)
	}
	if r, ok := PerMinute(recovery); !ok || r != 10 {
		t.Errorf("PerMinute after the recovery = %v, %v; want 10", r, ok)
	}
	if _, ok := ETA(nil, 3); ok {
		t.Error("ETA without sends must be unknown")
	}
}
