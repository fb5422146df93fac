package sim

import (
	"cmp"
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
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
	if cmsCode == 0 {
		rate = 0
	}
	m.FailRateCodes(rate, cmsCode)
}

// FailRateCodes is FailRate with the code drawn at random among codes for
// each failure, as a congested cell answers now 38, now 500. A rate <= 0 or
// no code clears it.
func (m *Modem) FailRateCodes(rate float64, codes ...int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	codes = slices.DeleteFunc(slices.Clone(codes), func(c int) bool { return c == 0 })
	if len(codes) == 0 || rate <= 0 {
		m.failCodes, m.failRate = nil, 0
		return
	}
	m.failCodes, m.failRate = codes, rate
}

// ErrorAfterPDU makes the next n submits (+CMGS, once the PDU and Ctrl-Z are
// in) end with a bare ERROR instead of +CMGS: <mr> and OK, as modems do when
// something goes wrong between them and the network. With sent, the network
// took each of those parts all the same (the phone gets it, a message
// reference is spent): the sender cannot tell. n <= 0 clears it.
func (m *Modem) ErrorAfterPDU(n int, sent bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.strayErrors, m.straySent = max(n, 0), sent
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

// Crashes returns how many times the firmware rebooted by itself (Huawei 3G:
// a command too soon after the PIN).
func (m *Modem) Crashes() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.crashes
}

// ResetIdle starts counting the modem's idle time anew (Idle): the time
// its AT session waits for a command, a response written and no command
// begun.
func (m *Modem) ResetIdle() {
	m.idleMu.Lock()
	defer m.idleMu.Unlock()
	m.idleSpans, m.idleFrom = nil, time.Now()
}

// Idle is the time the modem waited for a command between ResetIdle and
// until: what a sender left of the modem unused (every command, status
// report reads included, counts as used).
func (m *Modem) Idle(until time.Time) time.Duration {
	m.idleMu.Lock()
	defer m.idleMu.Unlock()
	var total time.Duration
	spans := m.idleSpans
	if !m.idleOpen.IsZero() {
		spans = append(spans[:len(spans):len(spans)], [2]time.Time{m.idleOpen, until})
	}
	for _, sp := range spans {
		from, to := sp[0], sp[1]
		if from.Before(m.idleFrom) {
			from = m.idleFrom
		}
		if to.After(until) {
			to = until
		}
		if to.After(from) {
			total += to.Sub(from)
		}
	}
	return total
}

// fellIdle and woke mark the start and end of a wait for a command.
func (m *Modem) fellIdle(at time.Time) {
	m.idleMu.Lock()
	defer m.idleMu.Unlock()
	m.idleOpen = at
}

func (m *Modem) woke(at time.Time) {
	m.idleMu.Lock()
	defer m.idleMu.Unlock()
	if !m.idleFrom.IsZero() && !m.idleOpen.IsZero() && at.After(m.idleFrom) {
		m.idleSpans = append(m.idleSpans, [2]time.Time{m.idleOpen, at})
	}
	m.idleOpen = time.Time{}
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

// flood emits the vendor unsolicited lines every URCEvery while the
// personality's floodOff has not been obeyed. It runs in a goroutine started
// by New and ends with Close.
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
		if m.floodingLocked() && !m.hung && m.cfun == 1 {
			lines := m.floodLocked(n)
			for s := range m.sessions {
				s.emit(lines, true)
			}
		}
		m.mu.Unlock()
	}
}

// scale applies Options.BootScale to a real modem's delay.
func (m *Modem) scale(d time.Duration) time.Duration {
	return time.Duration(float64(d) * m.opts.BootScale)
}

// powerUpLocked puts the modem in its power-up state: settings at their
// defaults, the SIM locked again if it has a PIN and busy for SIMBusy, the
// vendor reports on, and the personality's start-up sequence under way.
// The storage survives. m.mu is held.
func (m *Modem) powerUpLocked() {
	m.epoch++
	m.set = m.defaultSettings()
	m.mem = [3]string{m.d.store.mem1[0], m.d.store.mem2[0], m.d.store.mem3[0]}
	m.partial = make(map[string]*partial)
	m.cfun, m.curcOn, m.broken, m.cpmsAsked = 1, 1, m.wedged, false
	m.boot, m.glued = nil, nil // what a vanished port held is gone
	m.pinRebootUntil, m.cpmsBusyUntil = time.Time{}, time.Time{}
	if m.sim != simAbsent && m.pin != "" {
		m.sim, m.pinLeft = simPIN, 3
	}
	m.poweredAt = time.Now()
	m.clock.powerUp(m.poweredAt)
	m.simBusyUntil = m.poweredAt.Add(m.opts.SIMBusy)
	if n := len(m.d.cpinPhases); n > 0 {
		// The SIM commands wait for the end of the SIM start, too.
		m.simBusyUntil = m.simBusyUntil.Add(m.scale(m.d.cpinPhases[n-1].until))
	}
	m.smsReady = !slices.ContainsFunc(m.d.simLines, func(l timedLine) bool { return l.smsReady })
	lines := scaled(m.d.power, 0, m.opts.BootScale)
	switch {
	case m.sim == simReady:
		// No PIN: the SIM is ready once SIMBusy is over.
		lines = append(lines, scaled(m.d.simLines, m.opts.SIMBusy, m.opts.BootScale)...)
		m.simReadyLocked(m.opts.SIMBusy)
	case m.sim == simPIN && len(m.d.simLines) > 0 && m.d.simLines[0].line == "+CPIN: READY":
		first := scaled(m.d.simLines[:1], m.opts.SIMBusy, m.opts.BootScale)[0]
		first.line, first.smsReady = "+CPIN: SIM PIN", false
		lines = append(lines, first)
	}
	m.timelineLocked(lines)
}

// scaled returns lines with their times scaled, plus delay.
func scaled(lines []timedLine, delay time.Duration, scale float64) []timedLine {
	out := make([]timedLine, len(lines))
	for i, l := range lines {
		l.at = delay + time.Duration(float64(l.at)*scale)
		out[i] = l
	}
	return out
}

// simUpLocked starts what follows the SIM being unlocked: the
// personality's SIM lines, its SMS-not-ready window, ZTE's busy +CPMS?.
func (m *Modem) simUpLocked() {
	m.simReadyLocked(0)
	m.timelineLocked(scaled(m.d.simLines, 0, m.opts.BootScale))
}

// simReadyLocked arms the states that start when the SIM is ready, after delay.
func (m *Modem) simReadyLocked(delay time.Duration) {
	if m.d.cpmsBusy > 0 {
		m.cpmsBusyUntil = time.Now().Add(delay + m.scale(m.d.cpmsBusy))
	}
	m.glued = m.d.glued
}

// timelineLocked emits lines at their times after now, in order, from a
// goroutine the Modem owns; the lines due at once are emitted before it
// returns. A power cycle (epoch change) stops it. m.mu is held.
func (m *Modem) timelineLocked(lines []timedLine) {
	start := time.Now()
	slices.SortStableFunc(lines, func(a, b timedLine) int { return cmp.Compare(a.at, b.at) })
	i := 0
	for ; i < len(lines) && lines[i].at <= 0; i++ {
		m.timedLineLocked(lines[i])
	}
	if i == len(lines) || m.closed {
		return
	}
	epoch, rest := m.epoch, lines[i:]
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		for _, l := range rest {
			t := time.NewTimer(time.Until(start.Add(l.at)))
			select {
			case <-t.C:
			case <-m.ctx.Done():
				t.Stop()
				return
			}
			m.mu.Lock()
			if m.epoch != epoch {
				m.mu.Unlock()
				return
			}
			m.timedLineLocked(l)
			m.mu.Unlock()
		}
	}()
}

// timedLineLocked emits one start-up line and what it means.
// The SMS subsystem answers once its ready line is out of the port: set
// when the line is queued, a command answered in the same step would say
// OK before the line (seen under load).
func (m *Modem) timedLineLocked(l timedLine) {
	if !l.smsReady || len(m.sessions) == 0 {
		m.bootURCLocked(l.line)
		m.smsReady = m.smsReady || l.smsReady
		return
	}
	for s := range m.sessions {
		s.postReady(l.line, m.epoch)
	}
}

// smsReadyAt makes the SMS subsystem answer if one of the SMS-ready lines
// of epochs, now written, is of this power-up.
func (m *Modem) smsReadyAt(epochs []int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.smsReadyAtLocked(epochs)
}

func (m *Modem) smsReadyAtLocked(epochs []int) {
	if slices.Contains(epochs, m.epoch) {
		m.smsReady = true
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

// takeGlued returns the lines to put before the next echo.
func (m *Modem) takeGlued() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	g := m.glued
	m.glued = nil
	return g
}

// reboot obeys AT+CFUN=1,1 once its OK is written: when the client has read
// it, the pseudo-terminal is closed and its link removed (the device node
// vanishes, as in USB re-enumeration), and RebootDelay later the modem comes
// back powered up on a new pseudo-terminal behind the same link. Without a pseudo-terminal (Serve
// on a pipe) the modem powers up again at once.
func (m *Modem) reboot(obeyed bool) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	if obeyed {
		m.resets++
	} else {
		m.crashes++
	}
	m.epoch++ // the start-up sequence under way ends with the power
	p := m.pty
	if p == nil {
		m.powerUpLocked()
		m.mu.Unlock()
		return
	}
	m.pty, m.rebooting = nil, true
	m.set = m.defaultSettings()
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
			// The port goes with its ready line unwritten; the SMS
			// subsystem is ready all the same.
			m.smsReadyAtLocked(s.takeReady())
		}
	}
}
