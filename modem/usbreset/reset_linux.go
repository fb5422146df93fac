package usbreset

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// usbdevfsReset is USBDEVFS_RESET, _IO('U', 20) in linux/usbdevice_fs.h;
// the same number on every architecture (no argument, no size).
const usbdevfsReset = 0x5514

// resetNode issues USBDEVFS_RESET on a usbfs node: the kernel resets the
// port the device hangs on and re-enumerates it at the same address.
func resetNode(node string) error {
	fd, err := unix.Open(node, unix.O_WRONLY|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", node, err)
	}
	defer unix.Close(fd)
	if err := unix.IoctlSetInt(fd, usbdevfsReset, 0); err != nil {
		return fmt.Errorf("USBDEVFS_RESET on %s: %w", node, err)
	}
	return nil
}
