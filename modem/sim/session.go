package sim

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"time"
)

// Control characters of the AT dialect.
const (
	cr  = '\r'
	lf  = '\n'
	bs  = 0x08
	del = 0x7f
	sub = 0x1a // Ctrl-Z: ends a PDU
	esc = 0x1b // cancels a PDU
)

// Bounds on buffered input, like a real modem's buffers.
const (
	maxLine    = 560
	maxPDUHex  = 2 * (12 + 176)
	maxPending = 4096
)

// mode is what the session expects next from the client.
type mode int

const (
	modeCommand mode = iota // reading a command line
	modePDU                 // after the "> " prompt, reading hex up to Ctrl-Z
	modeBusy                // a final result code is pending (latency, network)
)

// session is one connection to the modem. The fields after werr are owned by
// the loop goroutine (or by a test driving the state machine step by step).
type session struct {
	m        *Modem
	rw       io.ReadWriter
	in       chan []byte // chunks read by Serve
	kick     chan struct{}
	ctx      context.Context
	cancel   context.CancelFunc
	loopDone chan struct{}

	urcMu sync.Mutex // guards urcs, ready, raw, flood and werr
	urcs  []string   // unsolicited result codes waiting for an idle moment
	// ready holds the power-up epochs of SMS-ready lines queued in urcs:
	// the SMS subsystem answers once such a line is written (postReady).
	ready []int
	raw   []string // Emit lines: out at the next step, whatever the state
	flood []string // vendor lines: out at once, or inside the pending reply
	werr  error    // the write error that ended the session

	mode         mode
	line         []byte
	overflow     bool
	pdu          []byte
	pduLen       int
	pending      []byte       // input received while busy
	hangAfterPDU bool         // HangAfter ends with the pending +CMGS
	timer        *time.Timer  // ends modeBusy
	finish       func() reply // produces the pending final answer
	splice       []string     // lines to carry inside the pending reply
	then         []func()     // run once the output of the step is written
	out          bytes.Buffer // output of the current step, written at its end
	waiting      bool         // idle, waiting for a command (Modem.Idle); loop only
}

func newSession(m *Modem, rw io.ReadWriter) *session {
	ctx, cancel := context.WithCancel(m.ctx)
	return &session{
		m:        m,
		rw:       rw,
		in:       make(chan []byte),
		kick:     make(chan struct{}, 1),
		ctx:      ctx,
		cancel:   cancel,
		loopDone: make(chan struct{}),
	}
}

// post queues unsolicited result codes and wakes the loop.
func (s *session) post(urcs []string) {
	s.urcMu.Lock()
	s.urcs = append(s.urcs, urcs...)
	s.urcMu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// postReady queues the SMS-ready line of power-up epoch: the SMS
// subsystem answers once the line is written (flush), so that no reply
// written before it says OK already.
func (s *session) postReady(line string, epoch int) {
	s.urcMu.Lock()
	s.ready = append(s.ready, epoch)
	s.urcMu.Unlock()
	s.post([]string{line})
}

// takeReady returns the epochs of SMS-ready lines queued and not written.
func (s *session) takeReady() []int {
	s.urcMu.Lock()
	defer s.urcMu.Unlock()
	r := s.ready
	s.ready = nil
	return r
}

// emit queues lines that do not wait for an idle moment: Emit's (flood
// false) go out at the next step; a vendor flood's go out at once too,
// unless a reply is pending, which then carries them.
func (s *session) emit(lines []string, flood bool) {
	s.urcMu.Lock()
	if flood {
		s.flood = append(s.flood, lines...)
	} else {
		s.raw = append(s.raw, lines...)
	}
	s.urcMu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// takeFlood returns the queued vendor lines.
func (s *session) takeFlood() []string {
	s.urcMu.Lock()
	defer s.urcMu.Unlock()
	f := s.flood
	s.flood = nil
	return f
}

func (s *session) err() error {
	s.urcMu.Lock()
	defer s.urcMu.Unlock()
	return s.werr
}

// loop is the session's event loop: input, end of a busy period, URCs.
func (s *session) loop() {
	defer close(s.loopDone)
	defer s.cancel()
	defer func() {
		if s.timer != nil {
			s.timer.Stop()
		}
	}()
	for {
		var timerC <-chan time.Time
		if s.timer != nil {
			timerC = s.timer.C
		}
		select {
		case <-s.ctx.Done():
			return
		case b := <-s.in:
			s.input(b)
		case <-timerC:
			s.timer = nil
			s.complete()
		case <-s.kick:
		}
		if err := s.flush(); err != nil {
			s.urcMu.Lock()
			s.werr = err
			s.urcMu.Unlock()
			return
		}
	}
}

// flush ends a step: what the step produced is written in one piece, with
// the URCs if the session is idle and the raw lines in any case; then the
// actions waiting for the write run. A hung modem keeps its URCs for later
// and drops the raw lines.
func (s *session) flush() error {
	hung := s.m.isHung()
	s.urcMu.Lock()
	raw, flood := s.raw, s.flood
	s.raw, s.flood = nil, nil
	var urcs []string
	if s.idle() && !hung {
		urcs = s.urcs
		s.urcs = nil
		if ready := s.ready; len(ready) > 0 {
			s.ready = nil
			s.then = append(s.then, func() { s.m.smsReadyAt(ready) })
		}
	}
	s.urcMu.Unlock()
	if s.mode != modeCommand && !hung {
		s.splice = append(s.splice, flood...) // the pending reply carries them
		flood = nil
	}
	if !hung {
		for _, u := range append(append(raw, flood...), urcs...) {
			s.m.log.Debug("urc", "line", u)
			s.out.WriteString("\r\n" + u + "\r\n")
		}
	}
	var err error
	if s.out.Len() > 0 {
		s.m.log.Debug("tx", "data", s.out.String())
		_, err = s.rw.Write(s.out.Bytes())
		s.out.Reset()
	}
	then := s.then
	s.then = nil
	for _, fn := range then {
		fn()
	}
	if !s.waiting && s.idle() {
		s.m.fellIdle(time.Now())
		s.waiting = true
	}
	return err
}

// idle reports whether an unsolicited result code may be written now:
// between commands, never inside a response or a half-typed line.
func (s *session) idle() bool {
	return s.mode == modeCommand && len(s.line) == 0 && !s.overflow
}

// input feeds received bytes to the state machine. A hung modem drops them.
func (s *session) input(b []byte) {
	if s.m.isHung() {
		return
	}
	for i, c := range b {
		if i > 0 && s.m.isHung() {
			return // the previous command line was the last HangAfter allowed
		}
		switch s.mode {
		case modeBusy:
			room := maxPending - len(s.pending)
			rest := b[i:]
			if len(rest) > room {
				rest = rest[:room]
			}
			s.pending = append(s.pending, rest...)
			return
		case modePDU:
			s.pduByte(c)
		default:
			s.commandByte(c)
		}
	}
}

func (s *session) echo(c byte) {
	if s.m.echoOn() {
		s.out.WriteByte(c)
	}
}

func (s *session) commandByte(c byte) {
	switch c {
	case esc, sub:
		s.line, s.overflow = s.line[:0], false
		return
	}
	if len(s.line) == 0 && c != cr && c != lf {
		if s.waiting {
			s.m.woke(time.Now())
			s.waiting = false
		}
		// Row 3: the lines a Huawei 3G stick had pending come right
		// before the echo, without the CR LF that starts a result code.
		if g := s.m.takeGlued(); len(g) > 0 {
			s.out.WriteString(strings.Join(g, "\r\n\r\n") + "\r\n")
		}
	}
	s.echo(c)
	switch c {
	case cr:
		line, overflow := string(s.line), s.overflow
		s.line, s.overflow = s.line[:0], false
		s.commandLine(line, overflow)
	case lf:
	case bs, del:
		if n := len(s.line); n > 0 {
			s.line = s.line[:n-1]
		}
	default:
		if len(s.line) >= maxLine {
			s.overflow = true
			return
		}
		s.line = append(s.line, c)
	}
}

// commandLine runs a complete command line. Text before "AT" is ignored, as
// is a line without "AT".
func (s *session) commandLine(line string, overflow bool) {
	i := indexAT(line)
	if i < 0 {
		if overflow {
			s.answer(reply{final: "ERROR"})
		}
		return
	}
	s.m.log.Debug("rx", "line", line[i:])
	if overflow {
		s.answer(reply{final: "ERROR"})
		return
	}
	r := s.m.execLine(line[i+2:])
	if r.prompt > 0 {
		// The +CMGS final result, after the PDU, carries what this line
		// would have, and the HangAfter verdict.
		s.splice = append(s.splice, r.during...)
		s.hangAfterPDU = r.hang
		s.mode, s.pdu, s.pduLen = modePDU, s.pdu[:0], r.prompt
		s.overflow = false
		s.out.WriteString("\r\n> ")
		return
	}
	s.answer(r)
}

// answer writes a reply now or, with latency, at the end of a busy period.
func (s *session) answer(r reply) {
	s.after(s.m.getLatency(), func() reply { return r })
}

// after writes the reply finish produces once d has elapsed; meanwhile the
// session is busy and queues its input.
func (s *session) after(d time.Duration, finish func() reply) {
	if d <= 0 {
		s.write(finish())
		return
	}
	s.mode, s.finish = modeBusy, finish
	s.timer = time.NewTimer(d)
}

// write puts a reply in the output, carrying the lines that landed while it
// was pending, and arranges what follows it: a reboot, a hang.
func (s *session) write(r reply) {
	if s.hangAfterPDU {
		r.hang, s.hangAfterPDU = true, false
	}
	r.during = append(append(s.splice, s.takeFlood()...), r.during...)
	s.splice = nil
	if r.crash {
		r = reply{crash: true} // nothing comes out of a crashing firmware
	}
	out := r.String()
	if r.split && strings.HasSuffix(out, "\n") {
		// The LF of the final result comes in a write of its own (row 49).
		out = out[:len(out)-1]
		s.then = append(s.then, func() {
			s.m.log.Debug("tx", "data", "\n")
			if _, err := s.rw.Write([]byte{lf}); err != nil {
				s.m.log.Debug("split write", "err", err)
			}
		})
	}
	s.out.WriteString(out)
	if r.hang {
		s.m.hangNow() // the input after this reply is dropped
	}
	if r.reboot || r.crash {
		obeyed := r.reboot
		s.then = append(s.then, func() { s.m.reboot(obeyed) })
	}
}

// complete ends a busy period and replays the input queued meanwhile. If the
// modem hung meanwhile, the command takes effect but its answer is lost.
func (s *session) complete() {
	r := s.finish()
	s.mode, s.finish = modeCommand, nil
	if !s.m.isHung() {
		s.write(r)
	}
	pending := s.pending
	s.pending = nil
	s.input(pending)
}

func (s *session) pduByte(c byte) {
	switch c {
	case esc:
		s.m.log.Debug("rx", "pdu", "cancelled")
		s.mode = modeCommand
		s.write(reply{final: "OK"})
		return
	case sub:
		s.echo(c)
		hexPDU, n, overflow := string(s.pdu), s.pduLen, s.overflow
		s.mode, s.overflow = modeCommand, false
		s.m.log.Debug("rx", "pdu", hexPDU)
		if overflow {
			s.answer(reply{final: s.m.errFinal(cmsErr(304))})
			return
		}
		d, finish := s.m.submit(hexPDU, n)
		s.after(d, finish)
		return
	}
	s.echo(c)
	switch c {
	case cr, lf, ' ':
	case bs, del:
		if n := len(s.pdu); n > 0 {
			s.pdu = s.pdu[:n-1]
		}
	default:
		if len(s.pdu) >= maxPDUHex {
			s.overflow = true
			return
		}
		s.pdu = append(s.pdu, c)
	}
}

// indexAT finds "AT" in any letter case, byte-wise (the line may hold any
// bytes, not UTF-8).
func indexAT(line string) int {
	for i := 0; i+1 < len(line); i++ {
		if (line[i] == 'A' || line[i] == 'a') && (line[i+1] == 'T' || line[i+1] == 't') {
			return i
		}
	}
	return -1
}
