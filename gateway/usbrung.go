package gateway

import (
	"errors"
	"io/fs"
	"time"

	"vigie/gateway/apitype"
	"vigie/modem"
	"vigie/modem/usbreset"
)

// When the last rung is due.
const (
	// usbAfter: this many opens in a row found the modem's port but the
	// modem silent: its firmware hangs, and AT+CFUN=1,1 cannot even be
	// sent. With the command timeout at each try and the reopen backoff
	// between them, half a minute.
	usbAfter = 4
	// usbNodeWait: the device node is still missing this long after a
	// reset. Modems re-enumerate 10–25 s after AT+CFUN=1,1.
	usbNodeWait = time.Minute
)

// usbPort finds and resets the USB device behind a modem's serial port
// (usbreset.Sysfs on a real system; tests, which have no USB, replace it).
type usbPort interface {
	Find(port string) (usbreset.Device, error)
	Reset(usbreset.Device) error
}

// usbRung is the state of the recovery ladder's last rung, after reopening
// and AT+CFUN=1,1: resetting the modem at USB level. It belongs to the
// worker's run loop.
type usbRung struct {
	// dev is the modem's USB device, found at its last open: once its tty
	// is gone the device can no longer be found from it. Zero: unknown, or
	// not a USB modem.
	dev usbreset.Device
	// cfun: AT+CFUN=1,1 was sent since the last session that worked; if
	// the modem keeps failing, the next rung is USB.
	cfun bool
	// resetAt is when the modem was last reset (either way), if it has not
	// been opened since: a missing device node then means the modem did
	// not come back. Otherwise it is unplugged, or the config names a wrong
	// device, which no reset cures. Monotonic: the system clock may jump.
	resetAt time.Time
	// mute counts failed opens in a row that found the modem silent.
	mute int
}

// cfunSent records an AT+CFUN=1,1.
func (r *usbRung) cfunSent(now time.Time) { r.cfun, r.resetAt = true, now }

// worked records a session that worked: the ladder starts again at its
// first rung.
func (r *usbRung) worked() { r.cfun = false }

// openFailed records an open that failed at now and says whether the USB
// reset is due.
func (r *usbRung) openFailed(err error, now time.Time) bool {
	if errors.Is(err, modem.ErrTimeout) {
		r.mute++
		return r.mute >= usbAfter
	}
	r.mute = 0 // busy, no permission, no SIM: not the modem's firmware
	return errors.Is(err, fs.ErrNotExist) && !r.resetAt.IsZero() && now.Sub(r.resetAt) >= usbNodeWait
}

// opened records a successful open and the modem's USB device.
func (w *worker) opened(r *usbRung) {
	r.mute, r.resetAt = 0, time.Time{}
	dev, err := w.g.usb.Find(w.cfg.Device)
	if err != nil {
		// A pseudo-terminal or a UART: the last rung does not exist here.
		w.log.Debug("no USB device to reset if the modem hangs", "device", w.cfg.Device, "err", err)
		r.dev = usbreset.Device{}
		return
	}
	r.dev = dev
}

// resetUSB climbs the last rung: the modem stayed unresponsive after being
// reopened and reset with AT+CFUN=1,1 (or could not even be sent it), so
// its USB device is reset, which is what unplugging it would do. The caller
// has closed the modem; the reopen backoff then waits for its node.
func (w *worker) resetUSB(r *usbRung) {
	why := "silent at every open"
	if r.cfun {
		why = "AT+CFUN=1,1 did not help"
	}
	r.cfun, r.mute = false, 0
	dev := r.dev
	if dev.Path == "" {
		d, err := w.g.usb.Find(w.cfg.Device)
		if err != nil {
			w.log.Warn("modem still unresponsive; cannot reset it at USB level", "device", w.cfg.Device, "why", why, "err", err)
			return
		}
		dev = d
	}
	r.resetAt = w.g.monoTime()
	w.log.Warn("modem still unresponsive; resetting its USB device", "device", w.cfg.Device, "why", why, "usb", dev.Name())
	w.setState(stateResetting)
	w.update(func(h *apitype.ModemStatus) { h.USBResets++ })
	if err := w.g.usb.Reset(dev); err != nil {
		w.log.Error("USB reset", "device", w.cfg.Device, "usb", dev.Name(), "err", err)
		w.fail(err)
		return
	}
	w.log.Info("USB device reset; waiting for the modem to come back", "device", w.cfg.Device, "usb", dev.Name())
}
