package gateway

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"vigie/gateway/apitype"
	"vigie/modem"
	"vigie/modem/sim"
	"vigie/modem/usbreset"
)

// fakeUSB stands for the modem's USB device, which these machines do not
// have: its reset does what a real one does to the modem, a replug at the
// same link (power lost, firmware restarted).
type fakeUSB struct {
	phones *sim.Modem

	mu     sync.Mutex
	port   string // the serial port Find was asked about
	resets int
}

func (f *fakeUSB) Find(port string) (usbreset.Device, error) {
	if _, err := os.Stat(port); err != nil {
		return usbreset.Device{}, fmt.Errorf("usb device of %s: %w", port, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.port = port
	return usbreset.Device{Path: "/sys/devices/platform/soc/3f980000.usb/usb1/1-1/1-1.3"}, nil
}

func (f *fakeUSB) Reset(d usbreset.Device) error {
	f.mu.Lock()
	f.resets++
	port := f.port
	f.mu.Unlock()
	if d.Name() != "1-1.3" || port == "" {
		return fmt.Errorf("reset of %q (port %q): not the device Find gave", d.Path, port)
	}
	if err := f.phones.Unplug(); err != nil {
		return err
	}
	_, err := f.phones.OpenPTY(port)
	return err
}

func (f *fakeUSB) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.resets
}

// newUSBRig is a daemon on a simulated modem whose USB device is usb.
func newUSBRig(t *testing.T, extra string, opts sim.Options) (*rig, *fakeUSB) {
	t.Helper()
	phones := sim.New(opts)
	t.Cleanup(func() { phones.Close() })
	usb := &fakeUSB{phones: phones}
	r := newRigConfig(t, func(text, _ string) string {
		return strings.Replace(text, "burst = 1", "burst = 1\n"+extra, 1)
	}, Options{usb: usb}, phones)
	return r, usb
}

// A firmware that AT+CFUN=1,1 does not cure (SetWedged): after the reset
// and three more failed sessions, the modem is reset at USB level, once;
// then the queue drains.
func TestFaultWedgedModemIsResetAtUSBLevel(t *testing.T) {
	t.Parallel()
	r, usb := newUSBRig(t, "", sim.Options{RebootDelay: 500 * time.Millisecond, SIMBusy: 500 * time.Millisecond})
	r.waitModem("ready", 10*time.Second, ready)
	r.phones.SetWedged(true)
	a, shops := r.alert(2, "vol à main armée")
	counts := r.finished(a.ID, 60*time.Second)
	if gone(counts) != 2 {
		t.Errorf("counts %v, want both sent after the USB reset", counts)
	}
	for _, p := range shops {
		r.waitPhones(p, 1)
	}
	if n := r.phones.Resets(); n != 1 {
		t.Errorf("the modem obeyed %d AT+CFUN=1,1, want 1 before the USB reset", n)
	}
	if n := usb.count(); n != 1 {
		t.Errorf("%d USB resets, want 1", n)
	}
	if m := r.modem(); m.Resets != 1 || m.USBResets != 1 || m.Reopens < 2*resetAfter {
		t.Errorf("health %+v: want 1 reset, 1 USB reset, %d reopens or more", m, 2*resetAfter)
	}
}

// A modem whose firmware hangs answers nothing at all, not even
// AT+CFUN=1,1: after a few silent opens it is reset at USB level, and the
// SMS whose +CMGS went unanswered is sent again, marked uncertain.
func TestFaultSilentModemIsResetAtUSBLevel(t *testing.T) {
	t.Parallel()
	r, usb := newUSBRig(t, `command_timeout = "1s"`+"\n"+`send_timeout = "2s"`, sim.Options{})
	r.readyAndListed()
	r.phones.HangAfter(0)
	a, shops := r.alert(1, "vol de carte bancaire")
	counts := r.finished(a.ID, 60*time.Second)
	if gone(counts) != 1 {
		t.Errorf("counts %v, want it sent after the USB reset", counts)
	}
	r.waitPhones(shops[0], 1)
	if n := usb.count(); n != 1 {
		t.Errorf("%d USB resets, want 1", n)
	}
	m := r.modem()
	if m.USBResets != 1 || m.Resets != 0 || m.Reopens < usbAfter {
		t.Errorf("health %+v: want 1 USB reset, no AT+CFUN=1,1, %d reopens or more", m, usbAfter)
	}
	if m.Timeouts == 0 {
		t.Errorf("health %+v: the silence is not counted", m)
	}
}

// When the rung is due, and only then.
func TestUSBRungIsDue(t *testing.T) {
	silent := fmt.Errorf("init: %w", modem.ErrTimeout)
	missing := fmt.Errorf("open /dev/vigie-modem0: %w", fs.ErrNotExist)
	busy := fmt.Errorf("open: %w", modem.ErrPortBusy)
	t0 := time.Now()

	var r usbRung
	for i := 1; i < usbAfter; i++ {
		if r.openFailed(silent, t0) {
			t.Fatalf("due after %d silent opens, want %d", i, usbAfter)
		}
	}
	if !r.openFailed(silent, t0) {
		t.Fatalf("not due after %d silent opens", usbAfter)
	}

	r = usbRung{}
	for i := 1; i < usbAfter; i++ {
		r.openFailed(silent, t0)
	}
	if r.openFailed(busy, t0) || r.openFailed(silent, t0) {
		t.Error("silent opens that another error interrupted still count")
	}

	r = usbRung{}
	if r.openFailed(missing, t0.Add(time.Hour)) {
		t.Error("due for a node missing without any reset: unplugged, not hung")
	}
	r.cfunSent(t0)
	if r.openFailed(missing, t0.Add(usbNodeWait-time.Second)) {
		t.Error("due before the modem had time to re-enumerate")
	}
	if !r.openFailed(missing, t0.Add(usbNodeWait)) {
		t.Errorf("not due with the node missing %v after AT+CFUN=1,1", usbNodeWait)
	}
	if !errors.Is(missing, fs.ErrNotExist) {
		t.Fatal("the test's missing node is not ErrNotExist")
	}
}

// A modem that is not on USB (here, a pseudo-terminal and the real sysfs):
// the rung says it cannot reset it, counts nothing, and the ladder goes on.
func TestUSBRungWithoutUSB(t *testing.T) {
	t.Parallel()
	r := newRig(t, `command_timeout = "1s"`+"\n"+`send_timeout = "2s"`, sim.Options{})
	r.readyAndListed()
	r.phones.HangAfter(0)
	a, _ := r.alert(1, "vol")
	// One open more than the rung needs: it was climbed, in vain.
	r.waitModem("silent", 60*time.Second, func(m apitype.ModemStatus) bool { return m.Reopens > usbAfter })
	if err := r.phones.Unplug(); err != nil { // what a technician does
		t.Fatal(err)
	}
	r.plug()
	if counts := r.finished(a.ID, 60*time.Second); gone(counts) != 1 {
		t.Errorf("counts %v, want it sent after the replug", counts)
	}
	if m := r.modem(); m.USBResets != 0 {
		t.Errorf("health %+v: a USB reset counted on a pseudo-terminal", m)
	}
}
