package sim

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Emit writes unsolicited raw lines to every session now, as given (RING,
// NO CARRIER, "", garbage bytes), each framed by CR LF like a result code,
// whatever the session is doing: between commands, inside a half-typed
// command line or while a command is pending. A hung modem says nothing.
func (m *Modem) Emit(lines ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for s := range m.sessions {
		s.emit(lines, false)
	}
}

// EmitDuringNextCommand makes the reply to the next command line carry lines
// after its first information line, or right before its final result code if
// it has none, as cheap modems do with their unsolicited codes.
func (m *Modem) EmitDuringNextCommand(lines ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.during = append(m.during, lines...)
}

// FailRate makes each +CMGS fail with `+CMS ERROR: <cmsCode>` with
// probability rate, drawn from a generator seeded by Options.Seed; a rate
// <= 0 or a zero code clears it.
func (m *Modem) FailRate(cmsCode int, rate float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cmsCode == 0 || rate <= 0 {
		m.failCode, m.failRate = 0, 0
		return
	}
	m.failCode, m.failRate = cmsCode, rate
}

// HangAfter makes the modem answer n more command lines, then behave as
// SetHang(true) until SetHang(false) or Unplug and OpenPTY (a USB replug).
// n <= 0 hangs at once.
func (m *Modem) HangAfter(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n <= 0 {
		m.hung, m.hangLeft = true, 0
		return
	}
	m.hangLeft = n
}

// SetBroken confuses the firmware (true): every +CMGS answers
// `+CMS ERROR: 300` (ME failure) until AT+CFUN=1,1, a replug or
// SetBroken(false).
func (m *Modem) SetBroken(on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.broken = on
}

// SetWedged confuses the firmware for good (true): as SetBroken, but
// AT+CFUN=1,1 does not help; only a replug (what a USB reset does) or
// SetWedged(false) does. Some modems need exactly that.
func (m *Modem) SetWedged(on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.wedged, m.broken = on, on
}

// Resets returns how many AT+CFUN=1,1 the modem obeyed.
func (m *Modem) Resets() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.resets
}

// CommandCount returns how many command lines the modem received (and was
// not hung for) that start with "AT"+prefix, case-insensitively, e.g.
// "+CPIN=", "+CMMS=1", "^CURC=0".
func (m *Modem) CommandCount(prefix string) int {
	prefix = strings.ToUpper(prefix)
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for line, count := range m.commands {
		if strings.HasPrefix(line, prefix) {
			n += count
		}
	}
	return n
}

// maxCommandKinds bounds the distinct command lines CommandCount remembers.
const maxCommandKinds = 1 << 12

// countLocked records a received command line (what follows "AT").
func (m *Modem) countLocked(body string) {
	key := strings.ToUpper(body)
	if _, known := m.commands[key]; !known && len(m.commands) >= maxCommandKinds {
		m.log.Warn("too many distinct command lines to count", "line", body)
		return
	}
	m.commands[key]++
}

// goAfterLocked runs fn after d in a goroutine the Modem owns, unless Close
// comes first. m.mu is held.
func (m *Modem) goAfterLocked(d time.Duration, fn func()) {
	if m.closed {
		return
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			fn()
		case <-m.ctx.Done():
		}
	}()
}

// flood emits the Huawei unsolicited lines every URCEvery while ^CURC is 1.
// It runs in a goroutine started by New and ends with Close.
func (m *Modem) flood(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case <-m.ctx.Done():
			return
		case <-t.C:
		}
		m.mu.Lock()
		if m.curcOn == 1 && !m.hung && m.cfun == 1 {
			lines := m.floodLocked(n)
			for s := range m.sessions {
				s.emit(lines, true)
			}
		}
		m.mu.Unlock()
	}
}

// powerUpLocked puts the modem in its power-up state: settings at their
// defaults, the SIM locked again if it has a PIN and busy for SIMBusy, the
// vendor reports on. The SIM storage survives. m.mu is held.
func (m *Modem) powerUpLocked() {
	m.set = defaultSettings()
	m.partial = make(map[string]*partial)
	m.cfun, m.curcOn, m.broken = 1, 1, m.wedged
	if m.sim != simAbsent && m.pin != "" {
		m.sim, m.pinLeft = simPIN, 3
	}
	m.simBusyUntil = time.Now().Add(m.opts.SIMBusy)
	if m.opts.Personality != Quectel {
		return
	}
	m.bootURCLocked("RDY")
	if m.opts.SIMBusy <= 0 {
		m.simReadyURCLocked()
		return
	}
	m.goAfterLocked(m.opts.SIMBusy, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.simReadyURCLocked()
	})
}

// simReadyURCLocked announces the end of the SIM initialisation (Quectel).
func (m *Modem) simReadyURCLocked() {
	switch m.sim {
	case simReady:
		m.bootURCLocked("+CPIN: READY", "+QIND: SMS DONE")
	case simPIN:
		m.bootURCLocked("+CPIN: SIM PIN")
	}
}

// bootURCLocked announces power-up lines to the sessions, or keeps them for
// the first session if none is attached yet (the port is not served yet at
// power-on; the lines then wait in the pseudo-terminal as in a real one).
func (m *Modem) bootURCLocked(lines ...string) {
	if len(m.sessions) == 0 {
		m.boot = append(m.boot, lines...)
		return
	}
	m.postLocked(lines...)
}

// simBusyLocked reports whether the SIM is still initialising.
func (m *Modem) simBusyLocked() bool {
	return m.sim != simAbsent && time.Now().Before(m.simBusyUntil)
}

// reboot obeys AT+CFUN=1,1 once its OK is written: when the client has read
// it, the pseudo-terminal is closed and its link removed (the device node
// vanishes, as in USB re-enumeration), and RebootDelay later the modem comes
// back powered up on a new pseudo-terminal behind the same link. Without a pseudo-terminal (Serve
// on a pipe) the modem powers up again at once.
func (m *Modem) reboot() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.resets++
	p := m.pty
	if p == nil {
		m.powerUpLocked()
		m.mu.Unlock()
		return
	}
	m.pty, m.rebooting = nil, true
	m.set = defaultSettings()
	m.forgetSessionsLocked(p.master)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.powerCycle(p)
	}()
	m.mu.Unlock()
}

// rebootDrainMax bounds how long a reboot waits for the client to read the
// OK of AT+CFUN=1,1 before the port vanishes.
const rebootDrainMax = 2 * time.Second

// powerCycle takes the pseudo-terminal p away once the client has read what
// was written to it, and plugs a new one in RebootDelay later.
func (m *Modem) powerCycle(p *ptyPort) {
	// The old slave stays open until the new pty exists, so the kernel
	// cannot hand out the same /dev/pts number again.
	defer func() { _ = p.closeSlave() }()
	// The kernel moves what the master wrote to the slave's input queue
	// asynchronously: look after a tick, then until the queue is empty.
	tick := time.NewTicker(5 * time.Millisecond)
	for deadline := time.Now().Add(rebootDrainMax); time.Now().Before(deadline); {
		select {
		case <-tick.C:
		case <-m.ctx.Done():
			deadline = time.Time{}
			continue
		}
		if n, err := unix.IoctlGetInt(int(p.slave.Fd()), unix.TIOCINQ); err != nil || n == 0 {
			break
		}
	}
	tick.Stop()
	m.log.Info("rebooting", "path", p.path, "link", p.link)
	// The link goes first, so that a client seeing its port fail finds no
	// device behind the link.
	var errs []error
	if p.link != "" {
		if err := os.Remove(p.link); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := p.master.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		m.log.Warn("reboot: closing the pseudo-terminal", "err", err)
	}
	t := time.NewTimer(m.rebootDelay)
	defer t.Stop()
	select {
	case <-t.C:
		m.replug(p.link)
	case <-m.ctx.Done():
	}
}

// replug ends a reboot: the modem is back, on a new pseudo-terminal.
func (m *Modem) replug(link string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || !m.rebooting || m.pty != nil {
		return // closed, unplugged or plugged in by hand meanwhile
	}
	m.rebooting = false
	m.powerUpLocked()
	path, err := m.openPTYLocked(link)
	if err != nil {
		m.log.Error("reboot: the modem did not come back", "err", err)
		return
	}
	m.log.Info("rebooted", "path", path, "link", link)
}

// hangNow ends a HangAfter countdown: the modem stops answering.
func (m *Modem) hangNow() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hung = true
}

// forgetSessionsLocked stops announcing anything to the sessions served on
// rw, which is about to be closed: power-up lines are for the next port.
func (m *Modem) forgetSessionsLocked(rw io.ReadWriter) {
	for s := range m.sessions {
		if s.rw == rw {
			delete(m.sessions, s)
		}
	}
}
