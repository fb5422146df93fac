// Package modem drives one GSM/LTE modem over a serial port: it opens the
// port with go.bug.st/serial, speaks AT commands through
// github.com/warthog618/modem/at and builds and reads SMS PDUs with
// github.com/warthog618/sms (PDU mode only).
//
// It owns the serial port and the AT conversation, nothing else: it does not
// know about alerts, subscribers or the database. What it receives is handed
// to a callback and deleted from the modem only once that callback says it is
// stored.
//
// The AT driver has no context: every command is bounded by a timeout and a
// Modem is stopped by closing its port, which unblocks the pending read.
package modem

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warthog618/modem/at"
	"go.bug.st/serial"

	"vigie/modem/internal/charsets"
)

// Config says how to reach and set up a modem.
type Config struct {
	// Name identifies the modem in logs and in the outbox.
	Name string
	// Device is the serial device, ideally the stable udev symlink.
	Device string
	// Baud is the serial speed; USB modems ignore it but the port needs one.
	Baud int
	// PIN unlocks the SIM when it asks for one. It is entered once: a wrong
	// PIN is never retried, since three wrong tries lock the SIM behind a PUK.
	PIN string
	// CommandTimeout bounds every ordinary AT command.
	CommandTimeout time.Duration
	// SendTimeout bounds one +CMGS, which waits for the network.
	SendTimeout time.Duration
	// SIMWait bounds the wait for a SIM that is still busy after the modem
	// booted (+CME ERROR: 14 or 515, +CMS ERROR: 314). Default 2 minutes.
	SIMWait time.Duration
	// Validity is the TP-VP of outgoing SMS (0: none); the network drops what
	// it could not deliver in that time instead of delivering it late.
	Validity time.Duration
	// Logger receives the AT conversation at debug level.
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Baud == 0 {
		c.Baud = 115200
	}
	if c.CommandTimeout == 0 {
		c.CommandTimeout = 5 * time.Second
	}
	if c.SendTimeout == 0 {
		c.SendTimeout = 90 * time.Second
	}
	if c.SIMWait == 0 {
		c.SIMWait = 2 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Name == "" {
		c.Name = c.Device
	}
}

// simRetry is the pause between two looks at a busy SIM.
const simRetry = time.Second

// linkHold is how recent the previous Send must be for +CMMS=1 to be worth
// it: modems keep the radio link 1–5 s after a send in that mode.
const linkHold = 4 * time.Second

// linkTimer is the shortest time a modem in +CMMS=1 mode keeps the link
// after a send (TS 27.005 §3.5.6: 1–5 s, implementation specific).
const linkTimer = time.Second

// Identity is what a modem says about itself, read once at start-up.
type Identity struct {
	Manufacturer string `json:"manufacturer"`
	Model        string `json:"model"`
	Revision     string `json:"revision"`
	IMEI         string `json:"imei"`
	// SMSC is the service centre address the SIM holds (+CSCA?); empty
	// when unknown. Without one no SMS can be sent.
	SMSC string `json:"smsc"`
}

// Support says which optional SMS features the modem accepts.
type Support struct {
	// CMMS: AT+CMMS=1 keeps the radio link open between consecutive SMS.
	CMMS bool `json:"cmms"`
	// CSMS is the +CSMS? answer: <service>,<mt>,<mo>,<bm>; empty if unread.
	CSMS string `json:"csms"`
	// StatusReports: status reports can be stored and announced (+CNMI ds=2).
	StatusReports bool `json:"status_reports"`
}

// Modem is an open, initialised modem. Its methods may be called from
// several goroutines: the AT driver runs one command at a time.
type Modem struct {
	cfg  Config
	log  *slog.Logger
	port io.Closer
	at   *at.AT

	// arrivals is signalled (never blocking) when the modem announces a
	// stored SMS or status report; the receiver then lists the storage.
	arrivals chan struct{}

	encoder *encoder
	// filter normalises what the modem sends before the AT driver reads it.
	filter *lineFilter
	nitz   nitz // the network's time from unsolicited codes (clock.go)

	// identity, support, family, mem, readsSR and quirks are written by
	// init, before New returns, and only read afterwards.
	identity Identity
	support  Support
	family   family
	// mem is the +CPMS selection made at start-up; zero when the modem
	// would not take one and keeps its own.
	mem memories
	// readsSR: status reports can be read from the "SR" memory.
	readsSR bool
	// smsUp: the SMS service answered once (+CMGF=0 passed).
	smsUp bool
	// stage is how far init went, for the probe's diagnosis.
	stage initStage
	// ready is set once init has finished: a boot line after it means the
	// modem restarted by itself. Read from the indication goroutine.
	ready atomic.Bool
	// quirks says what init did beyond the standard, for the probe.
	quirks []Quirk

	// annMu guards announced, the memories +CMTI/+CDSI named other than
	// mem1, in the order first seen.
	annMu     sync.Mutex
	announced []string
	// slots are the entries announced and not yet read, in order
	// (ReceiveAnnounced); overflow: more came than slots keeps, so only a
	// listing finds them all.
	slots    []announcedSlot
	overflow bool
	// reading counts the slots ReceiveAnnounced took and has not finished
	// with: still in the modem's storage (Unread).
	reading int
	// kept are the entries a handler kept for DeleteKept (ErrDeleteLater):
	// still in the storage, never handed over again by this session.
	// Written with readMu held too.
	kept []keptEntry

	// capacity is the total of the memory received SMS and reports are
	// stored in (mem3), from the +CPMS set at start-up; 0 if unknown.
	// Written by init.
	capacity int

	// readMu serialises the readers of the storage (ReceiveStored,
	// ReceiveAnnounced) and guards current, the memory mem1 is set to now:
	// ReceiveAnnounced leaves it where the last report was read ("SR"), so
	// the next report costs no +CPMS.
	readMu  sync.Mutex
	current string

	// sendMu guards lastSend, when the previous Send ended.
	sendMu   sync.Mutex
	lastSend time.Time
	// linkHeldUntil: +CMMS=1 is still in force until then.
	linkHeldUntil time.Time

	closeOnce sync.Once
}

// Open opens the serial port and initialises the modem: escape a
// half-finished command, reset, echo off, numeric errors, PDU mode, SIM
// ready, unsolicited codes off, store-then-notify for inbound SMS.
func Open(cfg Config) (*Modem, error) {
	cfg.setDefaults()
	port, err := openPort(cfg)
	if err != nil {
		return nil, err
	}
	m, err := New(port, cfg)
	if err != nil {
		port.Close()
		return nil, err
	}
	return m, nil
}

// openPort opens the serial device, refusing one another program holds.
func openPort(cfg Config) (serial.Port, error) {
	release, err := checkExclusive(cfg.Device)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", cfg.Device, err)
	}
	defer release()
	port, err := serial.Open(cfg.Device, &serial.Mode{BaudRate: cfg.Baud})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", cfg.Device, classifyOpenError(err))
	}
	return port, nil
}

// New initialises a modem reached through rw (a serial port, or a pipe in
// tests). Closing the modem closes rw if it is an io.Closer.
func New(rw io.ReadWriter, cfg Config) (*Modem, error) {
	m := newModem(rw, cfg)
	if err := m.init(); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// newModem starts the AT driver on rw without talking to the modem.
func newModem(rw io.ReadWriter, cfg Config) *Modem {
	cfg.setDefaults()
	charsets.Ready() // the sender encodes while the receiver decodes
	m := &Modem{
		cfg:      cfg,
		log:      cfg.Logger.With("modem", cfg.Name),
		arrivals: make(chan struct{}, 1),
		encoder:  newEncoder(cfg.Validity),
	}
	if c, ok := rw.(io.Closer); ok {
		m.port = c
	}
	// The tracer logs the bytes as the modem sent them; the driver reads
	// them as the filter made them.
	m.filter = newLineFilter(&tracer{rw: rw, log: m.log})
	m.at = at.New(m.filter, at.WithTimeout(cfg.CommandTimeout),
		at.WithIndication("+CMTI:", m.announce),
		at.WithIndication("+CDSI:", m.announce),
		at.WithIndication("RING", func([]string) {}),
		at.WithIndication("RDY", m.booted),
		at.WithIndication("*ATREADY:", m.booted))
	return m
}

// booted handles a modem that announces its own start-up (Quectel and
// SIMCom "RDY", A7670 "*ATREADY: 1"; ModemManager re-probes on a late
// RDY, real-modems.md row 15): after init, it means the modem rebooted on
// its own — over a UART the port stays open — and lost every setting (PDU
// mode, storage, indications). The connection is closed, so the owner
// opens and sets it up again. During init the line is expected.
func (m *Modem) booted([]string) {
	if m.ready.Load() {
		m.log.Warn("modem restarted on its own: reconnecting")
		m.Close()
	}
}

// maxAnnounced bounds the memories kept from announcements: a modem
// names two or three, line noise could name more.
const maxAnnounced = 4

// announce notes the memory an arrival was stored in and wakes the
// receiver. It runs on the driver's indication goroutine: nothing slow.
func (m *Modem) announce(lines []string) {
	if len(lines) > 0 {
		slot, ok := announcedEntry(lines[0])
		m.annMu.Lock()
		if mem := slot.mem; mem != "" && !slices.Contains(m.announced, mem) && len(m.announced) < maxAnnounced {
			m.announced = append(m.announced, mem)
		}
		switch {
		case !ok:
			m.overflow = true // an index we cannot read: list them all
		case len(m.slots) < maxSlots:
			m.slots = append(m.slots, slot)
		default:
			m.overflow = true
		}
		m.annMu.Unlock()
	}
	select {
	case m.arrivals <- struct{}{}:
	default:
	}
}

// Unread is how many announced entries (+CMTI, +CDSI) are still in the
// modem's storage, waiting or being read; maxSlots when more came than it
// keeps. A sender that outpaces the reader fills the storage, and a modem
// with a full storage drops the status reports a fan-out brings back.
func (m *Modem) Unread() int {
	m.annMu.Lock()
	defer m.annMu.Unlock()
	if m.overflow {
		return maxSlots + len(m.kept)
	}
	return len(m.slots) + m.reading + len(m.kept)
}

// Capacity is how many entries the memory received SMS and status reports
// are stored in holds (the +CPMS total of mem3, as the modem answered the
// selection at start-up); 0 when the modem did not say. A reader that lets
// entries pile up must leave room below it.
func (m *Modem) Capacity() int { return m.capacity }

// receiveCapacity reads mem3's total from the answer to the +CPMS set
// command, "+CPMS: <used1>,<total1>,<used2>,<total2>,<used3>,<total3>";
// 0 when absent or unreadable.
func receiveCapacity(info []string) int {
	f, ok := answer(info, "+CPMS:", func(f []string) bool {
		return len(f) >= 6 && isInt(f[4]) && isInt(f[5])
	})
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(f[5])
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// initStage is a step of init.
type initStage int

const (
	stageReset initStage = iota // ESC, ATZ, ATE0: does anything answer?
	stageSIM                    // identity, unsolicited codes, SIM and PIN
	stageSMS                    // SMS mode, storage, indications
	stageDone
)

func (m *Modem) init() error {
	m.stage = stageReset
	// Escape whatever a previous run left half-typed (a +CMGS waiting for its
	// PDU swallows every command until Ctrl-Z or ESC), then reset and
	// turn echo off.
	if err := m.at.Init(); err != nil {
		return wrapAT("initialise "+m.cfg.Device, err)
	}
	m.stage = stageSIM
	if _, err := m.command("+CMEE=1"); err != nil {
		return err
	}
	// Identity first: modems answer it without a SIM, and the family's
	// quirks apply to everything after.
	m.identity = m.readIdentity()
	m.family = identify(m.identity)
	if m.family.cpinNoOK {
		m.filter.setCPINNoOK()
		m.quirk(QuirkCPINNoOK, "")
	}
	// Unsolicited codes off: the state is polled instead, and a code in
	// the middle of a reply is one more thing to skip. Not every modem
	// knows each command; none of them is needed.
	for _, cmd := range append([]string{"+CREG=0", "+CEREG=0"}, m.family.setup...) {
		if slices.Contains(m.family.setup, cmd) {
			m.quirk(QuirkSetupCommand, "AT"+cmd)
		}
		if _, err := m.command(cmd); err != nil {
			m.log.Debug("setup command refused", "cmd", cmd, "err", err)
		}
	}
	deadline := time.Now().Add(m.cfg.SIMWait)
	if err := m.unlockSIM(deadline); err != nil {
		return err
	}
	if m.identity.Model == "" {
		// Read during a SIM start that kept the modem busy: once more.
		m.identity = m.readIdentity()
		m.family = identify(m.identity)
	}
	m.enableNetworkTime()
	m.stage = stageSMS
	// The SMS service starts after the SIM, seconds after power-on or a
	// PIN, and until then answers ERROR, +CMS ERROR: 500 or 302
	// (real-modems.md rows 15, 18, 20): waited for, not failed.
	start := time.Now()
	if err := m.whenSMSReady(deadline, func() error {
		_, err := m.command("+CMGF=0")
		return err
	}); err != nil {
		return err
	}
	if waited := time.Since(start); waited >= simRetry {
		m.quirk(QuirkSMSWait, seconds(waited))
	}
	if err := m.selectStorage(deadline); err != nil {
		return err
	}
	if err := m.setIndications(deadline); err != nil {
		return err
	}
	m.identity.SMSC = m.readSMSC()
	m.support.CMMS = m.acceptsCMMS()
	m.support.CSMS = m.readCSMS()
	m.stage = stageDone
	m.ready.Store(true)
	return nil
}

// quirk notes something init did beyond the standard.
func (m *Modem) quirk(code QuirkCode, detail string) {
	m.quirks = append(m.quirks, Quirk{Code: code, Detail: detail})
	m.log.Debug("modem quirk", "family", m.family.Name, "quirk", code, "detail", detail)
}

// seconds writes a duration as a quirk's detail: "3.0".
func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) }

// selectStorage sets all three +CPMS memories explicitly, in the
// three-argument form some modems insist on (Huawei E3372-325,
// real-modems.md row 11), to the SIM where offered, and learns whether
// status reports can be read from "SR". A modem that takes no selection
// keeps its own; only not-ready answers are waited out.
func (m *Modem) selectStorage(deadline time.Time) error {
	var f []string
	err := m.whenSMSReady(deadline, func() (err error) {
		f, err = m.query("+CPMS=?", "+CPMS:", nil)
		return err
	})
	if fatal(err) {
		return err
	}
	mem, sr, ok := memoryChoice(f)
	if !ok {
		m.log.Debug("+CPMS=? not read, trying the SIM", "err", err, "answer", f)
		mem, sr = memories{read: "SM", write: "SM", receive: "SM"}, false
	}
	var set []string
	err = m.whenSMSReady(deadline, func() (err error) {
		set, err = m.command(mem.command(mem.read))
		return err
	})
	switch {
	case fatal(err):
		return err
	case err != nil:
		m.quirk(QuirkStorageKept, err.Error())
		return nil
	}
	m.mem, m.readsSR = mem, sr
	m.current = mem.read
	m.capacity = receiveCapacity(set)
	if sr {
		m.quirk(QuirkReportsSR, "")
	}
	return nil
}

// setIndications asks for store-then-notify: SMS and status reports
// stored and announced, never routed straight to us, so one that arrives
// while we are busy or down waits in the modem. The setting is built from
// what +CNMI=? offers (Cinterion takes only bfr 1, real-modems.md row 28),
// then the usual ones are tried.
func (m *Modem) setIndications(deadline time.Time) error {
	var f []string
	if err := m.whenSMSReady(deadline, func() (err error) {
		f, err = m.query("+CNMI=?", "+CNMI:", nil)
		return err
	}); fatal(err) {
		return err
	}
	choices := cnmiChoices(f)
	var err error
	for i, c := range choices {
		if err = m.whenSMSReady(deadline, func() error {
			_, err := m.command("+CNMI=" + c)
			return err
		}); err == nil {
			m.support.StatusReports = strings.Split(c, ",")[3] == "2"
			if i > 0 || !strings.HasPrefix(c, "2,1,0,2,0") {
				m.quirk(QuirkCNMI, c)
			}
			return nil
		}
		if fatal(err) {
			return err
		}
	}
	return fmt.Errorf("no +CNMI setting accepted (%s tried): %w", strings.Join(choices, "; "), err)
}

// readIdentity asks maker, model, firmware and IMEI. Nothing here is needed
// to work: what cannot be read stays empty.
func (m *Modem) readIdentity() Identity {
	var id Identity
	for _, q := range []struct {
		cmd   string
		dst   *string
		valid func(string) bool
	}{
		{"+CGMI", &id.Manufacturer, nil},
		{"+CGMM", &id.Model, nil},
		{"+CGMR", &id.Revision, nil},
		{"+CGSN", &id.IMEI, isIMEI},
	} {
		info, err := m.command(q.cmd)
		if err != nil {
			m.log.Debug("identity not read", "cmd", q.cmd, "err", err)
			continue
		}
		*q.dst = identValue(info, q.cmd+":", q.valid)
	}
	return id
}

// readSMSC returns the SIM's service centre address, empty if unknown.
func (m *Modem) readSMSC() string {
	f, err := m.query("+CSCA?", "+CSCA:", smscShape)
	if err != nil {
		m.log.Debug("SMSC not read", "err", err)
		return ""
	}
	return smscValue(f)
}

// acceptsCMMS asks whether the modem knows +CMMS, without changing it.
func (m *Modem) acceptsCMMS() bool {
	_, err := m.command("+CMMS=?")
	return err == nil
}

// readCSMS returns the +CSMS? answer, "<service>,<mt>,<mo>,<bm>".
func (m *Modem) readCSMS() string {
	f, err := m.query("+CSMS?", "+CSMS:", leadingInts(4))
	if err != nil {
		m.log.Debug("+CSMS not read", "err", err)
		return ""
	}
	return strings.Join(f, ",")
}

// retryBusy runs op until it succeeds, fails for another reason than a busy
// SIM, or deadline passes. With answerless, an ERROR or an answer without
// the expected line (a +CPIN? the SIM cannot answer yet) also counts as busy.
func (m *Modem) retryBusy(deadline time.Time, answerless bool, op func() error) error {
	return m.retryWhile(deadline, func(err error) bool { return simBusy(err, answerless) }, op)
}

// whenSMSReady runs op until it succeeds, fails for another reason than an
// SMS service still starting, or deadline passes. The first SMS command
// (+CMGF) also takes a bare ERROR for "not ready" (SIMCom, real-modems.md
// rows 18, 20); once it passed, a bare ERROR is a refusal, answered at
// once, and only the explicit busy codes are waited out, for at most
// smsSettle: a modem that refuses +CPMS=? must not cost minutes.
func (m *Modem) whenSMSReady(deadline time.Time, op func() error) error {
	if m.smsUp {
		deadline = minTime(deadline, time.Now().Add(smsSettle))
		return m.retryWhile(deadline, func(err error) bool { return smsNotReady(err, false) }, op)
	}
	err := m.retryWhile(deadline, func(err error) bool { return smsNotReady(err, true) }, op)
	m.smsUp = err == nil
	return err
}

// smsSettle bounds the wait for a busy answer once the SMS service is up.
const smsSettle = 15 * time.Second

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func (m *Modem) retryWhile(deadline time.Time, busy func(error) bool, op func() error) error {
	for {
		err := op()
		if err == nil || !busy(err) || !time.Now().Before(deadline) {
			return err
		}
		m.log.Debug("modem busy, waiting", "err", err)
		select {
		case <-time.After(min(simRetry, time.Until(deadline))):
		case <-m.at.Closed():
			return fmt.Errorf("waiting for the modem: %w", ErrClosed)
		}
	}
}

// errorCodeOf returns the +CME or +CMS code of err (verbose texts looked up),
// and which of the two it was; -1 when err is neither.
func errorCodeOf(err error) (code int, cme bool) {
	var cms at.CMSError
	var cmeErr at.CMEError
	switch {
	case errors.As(err, &cmeErr):
		return cmeCodes.lookup(string(cmeErr)), true
	case errors.As(err, &cms):
		return cmsCodes.lookup(string(cms)), false
	}
	return -1, false
}

// simBusy reports the errors of a SIM that is still starting: +CME ERROR
// 14 or 515, +CMS ERROR 314 or 515. With answerless (asking +CPIN?), also
// a bare ERROR, an answer without the expected line, and +CME ERROR: 3,
// which u-blox modems give while the SIM starts (real-modems.md row 49).
func simBusy(err error, answerless bool) bool {
	code, cme := errorCodeOf(err)
	switch {
	case cme:
		return code == 14 || code == 515 || (answerless && code == 3)
	case code >= 0:
		return code == 314 || code == 515
	}
	return answerless && (errors.Is(err, at.ErrError) || errors.Is(err, ErrBadResponse))
}

// smsNotReady reports the answers of an SMS service that is still
// starting (real-modems.md, "What a gateway must do" 2): +CMS ERROR 302,
// 310, 314, 500 or 515, +CME ERROR 3, 14 or 515, and with plain a bare
// ERROR.
func smsNotReady(err error, plain bool) bool {
	code, cme := errorCodeOf(err)
	switch {
	case cme:
		return code == 3 || code == 14 || code == 515
	case code >= 0:
		return code == 302 || code == 310 || code == 314 || code == 500 || code == 515
	}
	return plain && errors.Is(err, at.ErrError)
}

// unlockSIM waits for the SIM and enters the PIN once if it asks for one.
func (m *Modem) unlockSIM(deadline time.Time) error {
	pinSent := false
	for {
		var state string
		start := time.Now()
		if err := m.retryBusy(deadline, true, func() (err error) {
			state, err = m.SIMState()
			return err
		}); err != nil {
			return err
		}
		if waited := time.Since(start); waited >= simRetry {
			m.quirk(QuirkSIMWait, seconds(waited))
		}
		switch state {
		case "READY":
			return nil
		case "SIM PIN":
			if pinSent {
				return fmt.Errorf("SIM asks for its PIN again after it was entered (not retried): %w", ErrSIMLocked)
			}
			if m.cfg.PIN == "" {
				return fmt.Errorf("SIM asks for a PIN and none is configured: %w", ErrSIMLocked)
			}
			pinSent = true
			if _, err := m.at.Command(`+CPIN="` + m.cfg.PIN + `"`); err != nil {
				// Never retried: a second wrong try brings the SIM closer to
				// PUK. The command itself is not quoted: it holds the PIN.
				return fmt.Errorf("SIM rejected the configured PIN (not retried): %w: %w", ErrSIMLocked, wrapAT("AT+CPIN=****", err))
			}
			// Nothing else until the SIM has settled: Huawei firmware may
			// reboot on a command right after its PIN (real-modems.md row
			// 9), and most SIMs are busy for a moment anyway.
			settle := m.family.settle()
			m.quirk(QuirkPINSettle, seconds(settle))
			select {
			case <-time.After(settle):
			case <-m.at.Closed():
				return fmt.Errorf("waiting for the SIM after its PIN: %w", ErrClosed)
			}
		default:
			return fmt.Errorf("SIM state %q: %w", state, ErrSIMLocked)
		}
	}
}

// Identity is what the modem said about itself at start-up.
func (m *Modem) Identity() Identity { return m.identity }

// SupportsCMMS reports whether the modem accepts +CMMS, which keeps the
// radio link open between consecutive SMS.
func (m *Modem) SupportsCMMS() bool { return m.support.CMMS }

// Support is what optional SMS features the modem accepted at start-up.
func (m *Modem) Support() Support { return m.support }

// Reset restarts the modem (AT+CFUN=1,1) and closes the connection. The
// device node vanishes while the modem reboots and comes back, maybe under
// another ttyUSB name: the caller reopens the configured (udev) path. The
// modem may reboot before it answers, so only an explicit refusal is an
// error; the connection is closed in every case.
func (m *Modem) Reset() error {
	_, err := m.at.Command("+CFUN=1,1", at.WithTimeout(min(m.cfg.CommandTimeout, resetTimeout)))
	m.Close()
	if err != nil && !errors.Is(err, at.ErrDeadlineExceeded) && !errors.Is(err, at.ErrClosed) {
		return wrapAT("AT+CFUN=1,1", err)
	}
	return nil
}

// resetTimeout bounds the wait for the answer to AT+CFUN=1,1.
const resetTimeout = 3 * time.Second

// SIMState returns what +CPIN? says: READY, SIM PIN, SIM PUK…
//
// A +CPIN: unsolicited code (SIMCom, Quectel announce the SIM's state at
// start-up; real-modems.md row 19) can land in the reply with the same
// shape as the answer: when the reply holds two states that disagree, the
// answer is not known, and the error (ErrBadResponse) says so; asking
// again settles it.
func (m *Modem) SIMState() (string, error) {
	info, err := m.command("+CPIN?")
	if err != nil {
		return "", err
	}
	var states []string
	for _, l := range info {
		if f, ok := answer([]string{l}, "+CPIN:", oneWord); ok && !slices.Contains(states, unquote(f[0])) {
			states = append(states, unquote(f[0]))
		}
	}
	switch len(states) {
	case 0:
		return "", fmt.Errorf("AT+CPIN?: no +CPIN: answer in %q: %w", info, ErrBadResponse)
	case 1:
		return states[0], nil
	}
	return "", fmt.Errorf("AT+CPIN?: states %q in one reply (an unsolicited +CPIN: among them): %w", states, ErrBadResponse)
}

// command runs one AT command with the driver's errors mapped to this
// package's sentinels.
func (m *Modem) command(cmd string, opts ...at.CommandOption) ([]string, error) {
	info, err := m.at.Command(cmd, opts...)
	if err != nil {
		return nil, wrapAT("AT"+cmd, err)
	}
	return info, nil
}

// query runs cmd and returns the fields of its "prefix" answer line of the
// expected shape.
func (m *Modem) query(cmd, prefix string, ok shape) ([]string, error) {
	info, err := m.command(cmd)
	if err != nil {
		return nil, err
	}
	f, found := answer(info, prefix, ok)
	if !found {
		return nil, fmt.Errorf("AT%s: no %s answer in %q: %w", cmd, prefix, info, ErrBadResponse)
	}
	return f, nil
}

// wrapAT turns the AT driver's errors into this package's sentinels while
// keeping the original (a CMSError stays reachable with errors.As).
func wrapAT(op string, err error) error {
	switch {
	case errors.Is(err, at.ErrDeadlineExceeded):
		return fmt.Errorf("%s: %w", op, ErrTimeout)
	case errors.Is(err, at.ErrClosed):
		return fmt.Errorf("%s: %w", op, ErrClosed)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// Arrivals is signalled when the modem announces a stored SMS or report.
func (m *Modem) Arrivals() <-chan struct{} { return m.arrivals }

// Done is closed when the connection to the modem is lost.
func (m *Modem) Done() <-chan struct{} { return m.at.Closed() }

// Name is the configured name of the modem.
func (m *Modem) Name() string { return m.cfg.Name }

// Close closes the port; pending commands fail with a closed error.
func (m *Modem) Close() error {
	var err error
	m.closeOnce.Do(func() {
		if m.port != nil {
			err = m.port.Close()
		}
	})
	return err
}

func classifyOpenError(err error) error {
	var pe *serial.PortError
	if errors.As(err, &pe) && pe.Code() == serial.PortBusy {
		return fmt.Errorf("%w: %w", ErrPortBusy, err)
	}
	return err
}

// tracer logs the AT conversation at debug level, with the PIN masked.
type tracer struct {
	rw  io.ReadWriter
	log *slog.Logger
}

// pinEcho finds a PIN in an echoed AT+CPIN=… command.
var pinEcho = regexp.MustCompile(`\+CPIN="?[0-9]+"?`)

func (t *tracer) Read(p []byte) (int, error) {
	n, err := t.rw.Read(p)
	if n > 0 && t.log.Enabled(context.Background(), slog.LevelDebug) {
		// A modem that ignores ATE0 echoes the PIN back.
		t.log.Debug("at rx", "data", pinEcho.ReplaceAllString(string(p[:n]), "+CPIN=****"))
	}
	return n, err
}

func (t *tracer) Write(p []byte) (int, error) {
	if t.log.Enabled(context.Background(), slog.LevelDebug) {
		s := string(p)
		if strings.HasPrefix(s, "AT+CPIN=") {
			s = "AT+CPIN=****"
		}
		t.log.Debug("at tx", "data", s)
	}
	return t.rw.Write(p)
}
