package sim

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// lastClose gives a pseudo-terminal the one behaviour of a real tty that the
// simulated modem's own slave descriptor would otherwise hide: at the last
// close of the port, exclusive mode (TIOCEXCL, set by go.bug.st/serial) is
// forgotten. A real tty's state goes away with its last descriptor; a pty
// slave lives on while its master is open, and the modem keeps a slave
// descriptor so that its master never reads EIO between two clients. So a
// daemon killed with SIGKILL, which never says TIOCNXCL, would leave its
// restarted self a port "opened in exclusive mode by another program".
//
// The master sees nothing of the clients' opens and closes while the
// modem's own descriptor is open; inotify does: every open and every close
// of the slave's node, including the kernel's closes at a process's death.
// When no client descriptor is left, the modem clears exclusive mode through
// its own descriptor (TIOCNXCL needs no privilege on an open descriptor,
// whereas reopening an exclusive port does).
//
// inotify merges an event into the previous one when both are identical and
// the first is still unread: two opens in a row (the modem layer's probe
// descriptor, then the serial port's) would count as one. The directory is
// watched too, only so that each open or close queues two different events
// (the directory's, named, then the node's) and none is ever merged.
type lastClose struct {
	ino   *os.File // the inotify descriptor, through the runtime poller
	node  int      // the watch on the slave's node, whose events count
	slave *os.File
	log   *slog.Logger

	open int // client descriptors open now; owned by run

	// events and cleared count what run saw and did, for the tests.
	events, cleared atomic.Int64
}

// watchLastClose starts watching the opens and closes of slave's node. The
// modem's own descriptors must all be open already: they are not counted.
func watchLastClose(slave *os.File, log *slog.Logger) (*lastClose, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	node, err := unix.InotifyAddWatch(fd, slave.Name(), unix.IN_OPEN|unix.IN_CLOSE)
	if err == nil {
		_, err = unix.InotifyAddWatch(fd, filepath.Dir(slave.Name()), unix.IN_OPEN|unix.IN_CLOSE|unix.IN_ONLYDIR)
	}
	if err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("inotify watch %s: %w", slave.Name(), err)
	}
	return &lastClose{ino: os.NewFile(uintptr(fd), "inotify "+slave.Name()), node: node, slave: slave, log: log}, nil
}

// close ends run (a pending Read returns) and releases the watch.
func (w *lastClose) close() error {
	if err := w.ino.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("sim: close inotify: %w", err)
	}
	return nil
}

// run follows the slave's opens and closes until close, or until the node
// is gone.
func (w *lastClose) run() {
	buf := make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
	for {
		n, err := w.ino.Read(buf)
		if err != nil {
			if !errors.Is(err, os.ErrClosed) {
				w.log.Warn("pty: watching the port's opens and closes", "path", w.slave.Name(), "err", err)
			}
			return
		}
		closed, gone := w.apply(buf[:n])
		if gone {
			return
		}
		if closed && w.open == 0 && !w.pending() {
			w.release()
		}
	}
}

// apply counts the events in b; closed: one of them was a close; gone: the
// watch ended with the node.
func (w *lastClose) apply(b []byte) (closed, gone bool) {
	for len(b) >= unix.SizeofInotifyEvent {
		ev := (*unix.InotifyEvent)(unsafe.Pointer(&b[0]))
		size := unix.SizeofInotifyEvent + int(ev.Len)
		if size > len(b) {
			break // the kernel never splits an event; be safe anyway
		}
		b = b[size:]
		if int(ev.Wd) != w.node && ev.Mask&unix.IN_Q_OVERFLOW == 0 {
			continue // the directory's: a separator, or another terminal's
		}
		w.events.Add(1)
		switch {
		case ev.Mask&unix.IN_Q_OVERFLOW != 0:
			// Lost events: the count may be off until the modem is
			// replugged. Thousands of opens queued unread; not expected.
			w.log.Warn("pty: open and close events lost", "path", w.slave.Name())
		case ev.Mask&unix.IN_IGNORED != 0:
			return closed, true
		case ev.Mask&unix.IN_OPEN != 0:
			w.open++
		case ev.Mask&unix.IN_CLOSE != 0:
			w.open = max(w.open-1, 0)
			closed = true
		}
	}
	return closed, false
}

// pending reports whether more events wait to be read: a client that
// reopened at once (the daemon's reopen after a lost session) must not have
// its fresh exclusive mode cleared.
func (w *lastClose) pending() bool {
	var n int
	// FIONREAD, which x/sys/unix names TIOCINQ on Linux.
	ctl := func(fd uintptr) { n, _ = unix.IoctlGetInt(int(fd), unix.TIOCINQ) }
	if c, err := w.ino.SyscallConn(); err == nil && c.Control(ctl) == nil {
		return n > 0
	}
	return false
}

// release clears exclusive mode, as the port's last close would.
func (w *lastClose) release() {
	c, err := w.slave.SyscallConn()
	if err != nil {
		return
	}
	var ierr error
	if err := c.Control(func(fd uintptr) { ierr = unix.IoctlSetInt(int(fd), unix.TIOCNXCL, 0) }); err != nil {
		return // the slave closed meanwhile: the port is going away
	}
	if ierr != nil {
		w.log.Warn("pty: clear exclusive mode", "path", w.slave.Name(), "err", ierr)
		return
	}
	w.cleared.Add(1)
	w.log.Debug("pty: last client gone; exclusive mode cleared", "path", w.slave.Name())
}
