package led

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// kernel is a fake LED class device over a temporary directory: writes go
// to real files, and, as in Linux, selecting the "timer" trigger creates
// delay_on and delay_off (500 ms each), any other trigger removes them,
// and brightness 0 stops the trigger. noTimer models a kernel built
// without ledtrig-timer.
type kernel struct {
	dir     string
	noTimer bool
	writes  []string
}

var _ sysfs = (*kernel)(nil)

func newKernel(t *testing.T, files map[string]string) *kernel {
	t.Helper()
	k := &kernel{dir: t.TempDir()}
	if files == nil {
		files = map[string]string{"trigger": "none", "brightness": "0", "max_brightness": "1"}
	}
	for name, v := range files {
		if err := os.WriteFile(filepath.Join(k.dir, name), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return k
}

func (k *kernel) writable(name string) error { return dirFS(k.dir).writable(name) }

func (k *kernel) write(name, value string) error {
	if err := dirFS(k.dir).write(name, value); err != nil {
		return err
	}
	k.writes = append(k.writes, name+"="+value)
	switch {
	case name == "trigger" && value == "timer" && !k.noTimer:
		for _, f := range []string{"delay_on", "delay_off"} {
			if err := os.WriteFile(filepath.Join(k.dir, f), []byte("500"), 0o644); err != nil {
				return err
			}
		}
	case name == "trigger", name == "brightness" && value == "0":
		k.stopTimer()
	}
	return nil
}

func (k *kernel) stopTimer() {
	os.Remove(filepath.Join(k.dir, "delay_on"))
	os.Remove(filepath.Join(k.dir, "delay_off"))
	if name := "trigger"; k.read(name) == "timer" {
		os.WriteFile(filepath.Join(k.dir, name), []byte("none"), 0o644)
	}
}

func (k *kernel) read(name string) string {
	b, err := os.ReadFile(filepath.Join(k.dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return "(absent)"
	}
	return string(b)
}

// shown is the LED's visible configuration.
func (k *kernel) shown() string {
	return strings.Join([]string{k.read("trigger"), k.read("brightness"), k.read("delay_on"), k.read("delay_off")}, " ")
}

func TestPatternPerState(t *testing.T) {
	tests := []struct {
		state string
		want  string // trigger brightness delay_on delay_off
		str   string
	}{
		{Starting, "timer 0 100 100", "blink 100/100 ms"},
		{Ready, "none 1 (absent) (absent)", "on"},
		{Sending, "timer 0 500 500", "blink 500/500 ms"},
		{Degraded, "timer 0 100 1900", "blink 100/1900 ms"},
		{Fault, "timer 0 50 150", "blink 50/150 ms"},
		{Stopped, "none 0 (absent) (absent)", "off"},
		{"what?", "timer 0 50 150", "blink 50/150 ms"},
	}
	for _, tt := range tests {
		t.Run(tt.state, func(t *testing.T) {
			k := newKernel(t, nil)
			l, err := open(k.dir, k)
			if err != nil {
				t.Fatal(err)
			}
			p := PatternOf(tt.state)
			if p.String() != tt.str {
				t.Errorf("PatternOf(%q) = %s, want %s", tt.state, p, tt.str)
			}
			if err := l.Set(p); err != nil {
				t.Fatal(err)
			}
			if got := k.shown(); got != tt.want {
				t.Errorf("LED shows %q, want %q (writes %v)", got, tt.want, k.writes)
			}
		})
	}
}

// Going through every state in turn, the timer files come and go with the
// trigger and each blink writes its own delays after selecting the timer.
func TestStateSequence(t *testing.T) {
	k := newKernel(t, map[string]string{"trigger": "none", "brightness": "0", "max_brightness": "255"})
	l, err := open(k.dir, k)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct{ state, want string }{
		{Starting, "timer 0 100 100"},
		{Ready, "none 255 (absent) (absent)"},
		{Sending, "timer 255 500 500"},
		{Degraded, "timer 255 100 1900"},
		{Fault, "timer 255 50 150"},
		{Ready, "none 255 (absent) (absent)"},
		{Stopped, "none 0 (absent) (absent)"},
	}
	for _, s := range steps {
		k.writes = nil
		if err := l.Set(PatternOf(s.state)); err != nil {
			t.Fatalf("%s: %v", s.state, err)
		}
		if got := k.shown(); got != s.want {
			t.Errorf("%s: LED shows %q, want %q", s.state, got, s.want)
		}
		if PatternOf(s.state).Blinks() && (len(k.writes) != 3 || k.writes[0] != "trigger=timer") {
			t.Errorf("%s: writes %v, want the trigger first then both delays", s.state, k.writes)
		}
	}
}

func TestNoTimerTrigger(t *testing.T) {
	k := newKernel(t, nil)
	k.noTimer = true
	l, err := open(k.dir, k, WithSettle(0))
	if err != nil {
		t.Fatal(err)
	}
	err = l.Set(PatternOf(Sending))
	if !errors.Is(err, ErrNoTimer) {
		t.Fatalf("Set = %v, want ErrNoTimer", err)
	}
	// Steady patterns need no timer.
	if err := l.Set(PatternOf(Ready)); err != nil {
		t.Fatal(err)
	}
}

func TestOpen(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		err   error
		on    string
	}{
		{"gpio LED", map[string]string{"trigger": "mmc0", "brightness": "0", "max_brightness": "1"}, nil, "1"},
		{"pwm LED", map[string]string{"trigger": "none", "brightness": "0", "max_brightness": "255\n"}, nil, "255"},
		{"no max_brightness", map[string]string{"trigger": "none", "brightness": "0"}, nil, "1"},
		{"no trigger", map[string]string{"brightness": "0"}, ErrNotLED, ""},
		{"empty dir", map[string]string{}, ErrNotLED, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newKernel(t, tt.files)
			l, err := Open(k.dir)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Open = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if l.Dir() != k.dir {
				t.Errorf("Dir = %s", l.Dir())
			}
			if err := l.Set(PatternOf(Ready)); err != nil {
				t.Fatal(err)
			}
			if got := k.read("brightness"); got != tt.on {
				t.Errorf("brightness = %q, want %q", got, tt.on)
			}
			if got := k.read("trigger"); got != "none" {
				t.Errorf("trigger = %q, want none", got)
			}
		})
	}
}

// The real driver on a plain directory: it never creates an attribute,
// so without a kernel making delay_on appear a blink fails clearly.
func TestRealDirNeverCreatesFiles(t *testing.T) {
	dir := newKernel(t, nil).dir
	l, err := Open(dir, WithSettle(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Set(PatternOf(Starting)); !errors.Is(err, ErrNoTimer) {
		t.Fatalf("Set = %v, want ErrNoTimer", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "delay_on")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("delay_on was created: %v", err)
	}
}

func TestPatternBlinks(t *testing.T) {
	for _, tt := range []struct {
		p    Pattern
		want bool
	}{
		{Pattern{}, false},
		{Pattern{On: time.Second}, false},
		{Pattern{Off: time.Second}, false},
		{Pattern{On: time.Second, Off: time.Second}, true},
	} {
		if got := tt.p.Blinks(); got != tt.want {
			t.Errorf("%+v.Blinks() = %v", tt.p, got)
		}
	}
}
