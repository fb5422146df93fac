// Package led drives Vigie's status LED (SPEC §8): a Linux LED class device
// (/sys/class/leds/NAME) whose pattern tells a technician, without a
// screen, what the daemon is doing. It owns the mapping from the daemon's
// state to a pattern and the sysfs writes that show it; the gateway decides
// the state.
//
// The kernel drives the blinking itself through the "timer" trigger, so the
// LED keeps its pattern while the daemon is busy. The timer's delay_on and
// delay_off files exist only while "timer" is the LED's trigger: the driver
// selects the trigger first, then checks they appeared.
package led

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// States of the daemon, as gateway.Status().State and `vigie status` name
// them, plus Stopped for a daemon that has shut down.
const (
	Starting = "starting"
	Ready    = "ready"
	Sending  = "sending"
	Degraded = "degraded"
	Fault    = "fault"
	Stopped  = "stopped"
)

// Pattern is what the LED shows: on for On, off for Off, repeated. Off == 0
// with On > 0 is steady on; both 0 is off.
type Pattern struct {
	On, Off time.Duration
}

// Blinks says whether the pattern needs the kernel's timer trigger.
func (p Pattern) Blinks() bool { return p.On > 0 && p.Off > 0 }

func (p Pattern) String() string {
	switch {
	case p.Blinks():
		return fmt.Sprintf("blink %d/%d ms", p.On.Milliseconds(), p.Off.Milliseconds())
	case p.On > 0:
		return "on"
	}
	return "off"
}

// patterns is SPEC §8's table.
var patterns = map[string]Pattern{
	Starting: {100 * time.Millisecond, 100 * time.Millisecond},
	Ready:    {On: time.Millisecond}, // steady: any On with Off 0
	Sending:  {500 * time.Millisecond, 500 * time.Millisecond},
	Degraded: {100 * time.Millisecond, 1900 * time.Millisecond},
	Fault:    {50 * time.Millisecond, 150 * time.Millisecond},
	Stopped:  {},
}

// PatternOf is the pattern for a state. A state this package does not know
// shows as fault: the LED must never look fine when the daemon says
// something it cannot tell.
func PatternOf(state string) Pattern {
	if p, ok := patterns[state]; ok {
		return p
	}
	return patterns[Fault]
}

// Errors of the driver.
var (
	// ErrNotLED: the directory is not an LED class device.
	ErrNotLED = errors.New("not an LED class device")
	// ErrNoTimer: the kernel did not create delay_on/delay_off after the
	// "timer" trigger was selected (ledtrig-timer missing from the kernel).
	ErrNoTimer = errors.New("LED timer trigger unavailable")
)

// LED is one LED class device. Its methods are not safe for concurrent use:
// one goroutine owns the LED.
type LED struct {
	dir    string
	fs     sysfs
	max    string // brightness written for "on"
	settle time.Duration
}

// sysfs is where an LED's attributes are written: the LED's directory in
// /sys, or in tests a fake kernel over a temporary directory that, like
// the real one, makes delay_on and delay_off appear with the timer trigger.
type sysfs interface {
	// write sets one attribute; an attribute that does not exist is an
	// error, never a new file.
	write(name, value string) error
	// writable says whether an attribute exists and may be written.
	writable(name string) error
}

// dirFS is the real sysfs: files in the LED's directory.
type dirFS string

var _ sysfs = dirFS("")

func (d dirFS) writable(name string) error {
	f, err := os.OpenFile(filepath.Join(string(d), name), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	return f.Close()
}

func (d dirFS) write(name, value string) error {
	f, err := os.OpenFile(filepath.Join(string(d), name), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Option tunes an LED.
type Option func(*LED)

// WithSettle bounds how long Set waits, after selecting the timer trigger,
// for delay_on and delay_off to appear and become writable (a udev rule
// may fix their group a moment after the kernel creates them). Default 2 s.
func WithSettle(d time.Duration) Option { return func(l *LED) { l.settle = d } }

// Open checks that dir (e.g. /sys/class/leds/ACT) is an LED class device:
// it has trigger and brightness files. It writes nothing.
func Open(dir string, opts ...Option) (*LED, error) {
	return open(dir, dirFS(dir), opts...)
}

func open(dir string, fsys sysfs, opts ...Option) (*LED, error) {
	l := &LED{dir: dir, fs: fsys, max: "1", settle: 2 * time.Second}
	for _, o := range opts {
		o(l)
	}
	for _, name := range []string{"trigger", "brightness"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return nil, fmt.Errorf("LED %s: %w: %w", dir, ErrNotLED, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "max_brightness")); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n > 0 {
			l.max = strconv.Itoa(n)
		}
	}
	return l, nil
}

// Dir is the LED's sysfs directory.
func (l *LED) Dir() string { return l.dir }

// Set shows p: off (trigger none, brightness 0), steady on (trigger none,
// full brightness) or blinking (trigger timer, delay_on, delay_off).
func (l *LED) Set(p Pattern) error {
	if !p.Blinks() {
		if err := l.write("trigger", "none"); err != nil {
			return err
		}
		b := "0"
		if p.On > 0 {
			b = l.max
		}
		return l.write("brightness", b)
	}
	if err := l.write("trigger", "timer"); err != nil {
		return err
	}
	if err := l.awaitTimer(); err != nil {
		return err
	}
	if err := l.write("delay_on", ms(p.On)); err != nil {
		return err
	}
	return l.write("delay_off", ms(p.Off))
}

// awaitTimer waits, at most l.settle, until the timer trigger's files
// exist and can be opened for writing.
func (l *LED) awaitTimer() error {
	deadline := time.Now().Add(l.settle)
	for {
		err := l.fs.writable("delay_on")
		if err == nil {
			err = l.fs.writable("delay_off")
		}
		if err == nil {
			return nil
		}
		if !time.Now().Before(deadline) {
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("LED %s: %w: delay_on/delay_off absent after selecting the timer trigger", l.dir, ErrNoTimer)
			}
			return fmt.Errorf("LED %s: timer trigger: %w", l.dir, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// write writes one attribute, saying which and what in its error.
func (l *LED) write(name, value string) error {
	if err := l.fs.write(name, value); err != nil {
		return fmt.Errorf("LED %s: write %s = %s: %w", l.dir, name, value, err)
	}
	return nil
}

func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
