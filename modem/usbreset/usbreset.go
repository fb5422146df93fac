// Package usbreset finds the USB device behind a modem's serial port and
// resets it, the recovery ladder's last rung for a modem that neither its
// port being reopened nor AT+CFUN=1,1 brought back: its firmware no longer
// answers, or it never re-enumerated after the reboot.
//
// The device is found from the tty's sysfs directory:
// /sys/class/tty/ttyUSB2/device leads to the USB serial port (or, for
// cdc_acm, the interface) in /sys/devices/…/usb1/1-1/1-1.3/1-1.3:1.2/…;
// the first directory above it holding busnum and devnum is the
// usb_device, 1-1.3, whose node is /dev/bus/usb/BBB/DDD. The roots are
// fields, so tests run on a fake tree in a temporary directory.
package usbreset

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrNotUSB: the serial port is not on a USB device (a pseudo-terminal, a
// UART), so there is nothing to reset at that level.
var ErrNotUSB = errors.New("not a USB device")

// Sysfs is where the kernel's device tree and device nodes are.
type Sysfs struct {
	Sys string // "/sys"
	Dev string // "/dev"
}

// System is the running system's sysfs and /dev.
func System() Sysfs { return Sysfs{Sys: "/sys", Dev: "/dev"} }

// Device is a USB device as sysfs shows it.
type Device struct {
	// Path is its directory under Sys/devices, symlinks resolved. It stays
	// the same across a reset or a re-enumeration on the same socket, when
	// its device number changes, so the node is read again at each reset.
	Path string
}

// Name is the device's USB address on its bus, such as "1-1.3".
func (d Device) Name() string { return filepath.Base(d.Path) }

// Find returns the USB device of the serial port at port, a device node or
// a symlink to one (the udev name /dev/vigie-modem0 -> ttyUSB2).
func (s Sysfs) Find(port string) (Device, error) {
	node, err := filepath.EvalSymlinks(port)
	if err != nil {
		return Device{}, fmt.Errorf("usb device of %s: %w", port, err)
	}
	tty := filepath.Base(node)
	dir, err := filepath.EvalSymlinks(filepath.Join(s.Sys, "class", "tty", tty, "device"))
	if errors.Is(err, os.ErrNotExist) {
		return Device{}, fmt.Errorf("usb device of %s (%s): %w", port, tty, ErrNotUSB)
	}
	if err != nil {
		return Device{}, fmt.Errorf("usb device of %s: %w", port, err)
	}
	devices, err := filepath.EvalSymlinks(filepath.Join(s.Sys, "devices"))
	if err != nil {
		return Device{}, fmt.Errorf("usb device of %s: %w", port, err)
	}
	for ; within(devices, dir); dir = filepath.Dir(dir) {
		if isUSBDevice(dir) {
			return Device{Path: dir}, nil
		}
	}
	return Device{}, fmt.Errorf("usb device of %s (%s): %w", port, tty, ErrNotUSB)
}

// within reports whether dir is strictly below root.
func within(root, dir string) bool {
	rel, err := filepath.Rel(root, dir)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// isUSBDevice reports whether dir is a usb_device: interfaces and the
// drivers' children under them have no bus and device numbers.
func isUSBDevice(dir string) bool {
	for _, f := range []string{"busnum", "devnum"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || !fi.Mode().IsRegular() {
			return false
		}
	}
	return true
}

// Node returns the device's usbfs node, /dev/bus/usb/BBB/DDD, from its
// current bus and device numbers.
func (s Sysfs) Node(d Device) (string, error) {
	bus, err := readNumber(filepath.Join(d.Path, "busnum"))
	if err != nil {
		return "", fmt.Errorf("usb device %s: %w", d.Name(), err)
	}
	dev, err := readNumber(filepath.Join(d.Path, "devnum"))
	if err != nil {
		return "", fmt.Errorf("usb device %s: %w", d.Name(), err)
	}
	return filepath.Join(s.Dev, "bus", "usb", fmt.Sprintf("%03d", bus), fmt.Sprintf("%03d", dev)), nil
}

func readNumber(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	n, err := parseNumber(string(b))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return n, nil
}

// parseNumber reads a sysfs bus or device number: decimal, 1 to 999 (USB
// has at most 127 devices a bus; the node's name has three digits), with
// the kernel's trailing newline.
func parseNumber(s string) (int, error) {
	t := strings.TrimSuffix(s, "\n")
	n, err := strconv.Atoi(t)
	if err != nil || n < 1 || n > 999 || t != strconv.Itoa(n) {
		return 0, fmt.Errorf("bad number %q", s)
	}
	return n, nil
}

// Reset resets the device: USBDEVFS_RESET on its usbfs node, what the
// service unit allows (DeviceAllow=char-usb_device rw); failing that,
// writing 0 then 1 to its authorized file, which needs a writable /sys
// (not under the unit: ProtectKernelTunables). Either way the kernel
// unbinds and rebinds its drivers: the serial port vanishes and comes back,
// maybe under another ttyUSB name behind the same udev symlink.
func (s Sysfs) Reset(d Device) error {
	node, err := s.Node(d)
	if err == nil {
		err = resetNode(node)
		if err == nil {
			return nil
		}
	}
	aerr := reauthorize(d)
	if aerr == nil {
		return nil
	}
	return fmt.Errorf("reset usb device %s: %w; %w", d.Name(), err, aerr)
}

// reauthorize deauthorizes the device, which disconnects it, and
// authorizes it again, which connects it anew.
func reauthorize(d Device) error {
	path := filepath.Join(d.Path, "authorized")
	for _, v := range []string{"0", "1"} {
		if err := writeExisting(path, v); err != nil {
			return fmt.Errorf("authorized=%s: %w", v, err)
		}
	}
	return nil
}

// writeExisting writes v to a sysfs attribute, never creating a file.
func writeExisting(path, v string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(v); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
