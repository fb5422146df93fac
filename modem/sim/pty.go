package sim

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// ptyPort is an open pseudo-terminal served by the modem.
type ptyPort struct {
	master, slave *os.File   // slave kept open so the master never sees EIO
	watch         *lastClose // forgets TIOCEXCL at the clients' last close
	path, link    string
}

// close closes both sides, which ends the Serve goroutine, and removes the link.
func (p *ptyPort) close() error {
	var errs []error
	if err := p.master.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		// Close may already have closed the master as a session's rw.
		errs = append(errs, err)
	}
	errs = append(errs, p.closeSlave())
	if p.link != "" {
		if err := os.Remove(p.link); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("sim: remove link: %w", err))
		}
	}
	return errors.Join(errs...)
}

// closeSlave stops watching the clients and closes the modem's own slave
// descriptor.
func (p *ptyPort) closeSlave() error {
	var errs []error
	if p.watch != nil {
		errs = append(errs, p.watch.close())
	}
	if err := p.slave.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// OpenPTY creates a pseudo-terminal, serves the AT dialect on its master side
// and returns the slave path (/dev/pts/N) for the client to open. If link is
// not empty, a symlink link -> slave path is created (replacing an existing
// symlink) and removed on Close or Unplug. Only one pseudo-terminal is open at
// a time; after Unplug (or during a reboot), OpenPTY plugs the modem in
// again: it powers up as Unplug describes. Like a real tty, the port forgets
// exclusive mode (TIOCEXCL) when its last client descriptor closes, even
// when the client was killed without closing it.
func (m *Modem) OpenPTY(link string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return "", ErrClosed
	}
	if m.pty != nil {
		return "", ErrAlreadyOpen
	}
	if m.unplugged || m.rebooting {
		m.unplugged, m.rebooting = false, false
		m.powerUpLocked()
	}
	return m.openPTYLocked(link)
}

// openPTYLocked creates and serves a pseudo-terminal. m.mu is held.
func (m *Modem) openPTYLocked(link string) (string, error) {
	master, slave, err := pty.Open()
	if err != nil {
		return "", fmt.Errorf("sim: open pty: %w", err)
	}
	p := &ptyPort{master: master, slave: slave, path: slave.Name()}
	fail := func(err error) (string, error) {
		_ = p.close()
		return "", err
	}
	// pty.Open leaves the master in blocking mode (it calls Fd), so closing
	// it would not interrupt a pending Read: serve a non-blocking duplicate
	// through the runtime poller instead.
	if p.master, err = pollable(master); err != nil {
		p.master = master
		return fail(fmt.Errorf("sim: pty master: %w", err))
	}
	_ = master.Close()
	// Raw slave: the line discipline must neither echo nor translate CR
	// before the client (which also sets raw mode) opens it.
	if _, err := term.MakeRaw(int(slave.Fd())); err != nil {
		return fail(fmt.Errorf("sim: raw mode on %s: %w", p.path, err))
	}
	if link != "" {
		if fi, err := os.Lstat(link); err == nil {
			if fi.Mode()&fs.ModeSymlink == 0 {
				return fail(fmt.Errorf("sim: link %s exists and is not a symlink", link))
			}
			if err := os.Remove(link); err != nil {
				return fail(fmt.Errorf("sim: replace link: %w", err))
			}
		}
		if err := os.Symlink(p.path, link); err != nil {
			return fail(fmt.Errorf("sim: link %s: %w", link, err))
		}
		p.link = link
	}
	// Last: the modem's own opens of the slave are not clients'. Without
	// inotify (its 128 instances a user are all taken) the modem still
	// works; only a client killed with the port open leaves it exclusive.
	if w, err := watchLastClose(slave, m.log); err != nil {
		m.log.Warn("pty: exclusive mode will outlive a killed client", "path", p.path, "err", err)
	} else {
		p.watch = w
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			w.run()
		}()
	}
	m.pty = p
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		err := m.Serve(p.master)
		m.log.Debug("pty served", "path", p.path, "err", err)
	}()
	m.log.Info("pty open", "path", p.path, "link", link)
	return p.path, nil
}

// Unplug simulates pulling the USB modem out: the pseudo-terminal is closed
// (the client's reads fail), the link removed, and the modem loses power: a
// hang (SetHang, HangAfter), SetBroken and SetWedged end, a pending reboot is
// cancelled.
// OpenPTY plugs it in again, with a new slave path behind the same link, and
// it powers up: settings at their defaults, the SIM locked again if it has a
// PIN and busy for Options.SIMBusy; the SIM storage survives.
func (m *Modem) Unplug() error {
	m.mu.Lock()
	p := m.pty
	m.pty = nil
	m.epoch++ // the start-up sequence under way ends with the power
	m.set = m.defaultSettings()
	m.partial = make(map[string]*partial)
	m.hung, m.hangLeft, m.broken, m.wedged = false, 0, false, false
	m.unplugged, m.rebooting = true, false
	if p != nil {
		m.forgetSessionsLocked(p.master)
	}
	m.mu.Unlock()
	if p == nil {
		return nil
	}
	return p.close()
}

// pollable returns a non-blocking duplicate of f that the runtime poller
// manages, so that Close unblocks a pending Read.
func pollable(f *os.File) (*os.File, error) {
	fd, err := unix.Dup(int(f.Fd()))
	if err != nil {
		return nil, fmt.Errorf("dup: %w", err)
	}
	unix.CloseOnExec(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("non-blocking: %w", err)
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}
