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
	"strings"
	"sync"
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
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Name == "" {
		c.Name = c.Device
	}
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

	closeOnce sync.Once
}

// Open opens the serial port and initialises the modem: escape a
// half-finished command, reset, echo off, numeric errors, PDU mode, SIM
// ready, store-then-notify for inbound SMS.
func Open(cfg Config) (*Modem, error) {
	cfg.setDefaults()
	port, err := serial.Open(cfg.Device, &serial.Mode{BaudRate: cfg.Baud})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", cfg.Device, classifyOpenError(err))
	}
	m, err := New(port, cfg)
	if err != nil {
		port.Close()
		return nil, err
	}
	return m, nil
}

// New initialises a modem reached through rw (a serial port, or a pipe in
// tests). Closing the modem closes rw if it is an io.Closer.
func New(rw io.ReadWriter, cfg Config) (*Modem, error) {
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
	m.at = at.New(&tracer{rw: rw, log: m.log}, at.WithTimeout(cfg.CommandTimeout),
		at.WithIndication("+CMTI:", m.announce),
		at.WithIndication("+CDSI:", m.announce))
	if err := m.init(); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

func (m *Modem) announce([]string) {
	select {
	case m.arrivals <- struct{}{}:
	default:
	}
}

func (m *Modem) init() error {
	// Escape whatever a previous run left half-typed (a +CMGS waiting for its
	// PDU swallows every command until Ctrl-Z or ESC), then reset and
	// turn echo off.
	if err := m.at.Init(); err != nil {
		return wrapAT("initialise "+m.cfg.Device, err)
	}
	for _, cmd := range []string{"+CMEE=1", "+CMGF=0"} {
		if _, err := m.command(cmd); err != nil {
			return err
		}
	}
	if err := m.unlockSIM(); err != nil {
		return err
	}
	// Store-then-notify: SMS and status reports are stored and announced,
	// never routed straight to us, so one that arrives while we are busy or
	// down waits in the modem. Older modems refuse ds=2; fall back.
	var err error
	for _, cnmi := range []string{"+CNMI=2,1,0,2,0", "+CNMI=2,1,0,0,0", "+CNMI=1,1,0,0,0"} {
		if _, err = m.command(cnmi); err == nil {
			break
		}
	}
	return err
}

// unlockSIM checks the SIM and enters the PIN once if it asks for one.
func (m *Modem) unlockSIM() error {
	state, err := m.SIMState()
	if err != nil {
		return err
	}
	switch state {
	case "READY":
		return nil
	case "SIM PIN":
		if m.cfg.PIN == "" {
			return fmt.Errorf("SIM asks for a PIN and none is configured: %w", ErrSIMLocked)
		}
		if _, err := m.at.Command(`+CPIN="` + m.cfg.PIN + `"`); err != nil {
			// Never retried: a second wrong try brings the SIM closer to
			// PUK. The command itself is not quoted: it holds the PIN.
			return fmt.Errorf("SIM rejected the configured PIN (not retried): %w: %w", ErrSIMLocked, wrapAT("AT+CPIN=****", err))
		}
		return nil
	default:
		return fmt.Errorf("SIM state %q: %w", state, ErrSIMLocked)
	}
}

// SIMState returns what +CPIN? says: READY, SIM PIN, SIM PUK…
func (m *Modem) SIMState() (string, error) {
	v, err := m.query("+CPIN?", "+CPIN:")
	if err != nil {
		return "", err
	}
	return strings.Trim(v, `"`), nil
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

// query runs cmd and returns the value of its "prefix" answer line.
func (m *Modem) query(cmd, prefix string) (string, error) {
	info, err := m.command(cmd)
	if err != nil {
		return "", err
	}
	v, ok := field(info, prefix)
	if !ok {
		return "", fmt.Errorf("AT%s: no %s line in %q: %w", cmd, prefix, info, ErrBadResponse)
	}
	return v, nil
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

// field returns the value after prefix in the first info line that has it.
// The AT driver hands over unsolicited lines with the reply, so lines are
// picked by prefix, never by position.
func field(info []string, prefix string) (string, bool) {
	for _, l := range info {
		if strings.HasPrefix(l, prefix) {
			return strings.TrimSpace(l[len(prefix):]), true
		}
	}
	return "", false
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

func (t *tracer) Read(p []byte) (int, error) {
	n, err := t.rw.Read(p)
	if n > 0 && t.log.Enabled(context.Background(), slog.LevelDebug) {
		t.log.Debug("at rx", "data", string(p[:n]))
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
