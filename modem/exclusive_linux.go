package modem

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// checkExclusive refuses a terminal another program opened in exclusive
// mode (TIOCEXCL, as go.bug.st/serial and ModemManager do). The kernel only
// enforces that lock on unprivileged openers, so root would otherwise share
// the port and both programs would read half of each other's answers. The
// probe descriptor stays open until release, after the real open, so that
// closing it never hangs the line up.
func checkExclusive(path string) (release func(), err error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	switch {
	case errors.Is(err, unix.EBUSY):
		return nil, ErrPortBusy
	case err != nil:
		// Let the real open report it (not found, permission) the usual way.
		return func() {}, nil
	}
	release = func() { unix.Close(fd) }
	excl, err := unix.IoctlGetInt(fd, unix.TIOCGEXCL)
	if err == nil && excl != 0 {
		release()
		return nil, fmt.Errorf("%w: opened in exclusive mode by another program", ErrPortBusy)
	}
	return release, nil
}
