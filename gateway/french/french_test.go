package french

import (
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{3*time.Hour + 12*time.Minute, "3 h 12 min"},
		{-3*time.Hour - 12*time.Minute - 20*time.Second, "3 h 12 min"},
		{7*time.Minute + 30*time.Second, "7 min 30 s"},
		{42 * time.Second, "42 s"},
		{24 * time.Hour, "1 jour"},
		{-48 * time.Hour, "2 jours"},
		{49 * time.Hour, "2 jours 1 h"},
		{25*time.Hour + 29*time.Minute, "1 jour 1 h"},
		{3*time.Hour - time.Second, "3 h 00 min"},
		{48*time.Hour - 2*time.Second, "2 jours"},
		{23*time.Hour + 40*time.Minute, "1 jour"},
		{59*time.Minute + 50*time.Second, "1 h 00 min"},
		{59*time.Second + 600*time.Millisecond, "1 min 00 s"},
		{400 * time.Millisecond, "0 s"},
	} {
		if got := Duration(tt.d); got != tt.want {
			t.Errorf("Duration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int]string{0: "0 essai", 1: "1 essai", 2: "2 essais", 4: "4 essais"} {
		if got := Count(n, "essai", "essais"); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}
