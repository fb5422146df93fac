// Package sim is a simulated 4G USB modem: a real AT peer (3GPP TS 27.007 and
// TS 27.005, PDU mode) served over a pseudo-terminal or any io.ReadWriter,
// with simulated phones on the network side and fault injection.
//
// It owns the whole modem state — settings (echo, +CMEE, +CMGF, +CNMI…), the
// SIM message storage, the message reference counter, the SIM and network
// state — and the messages the simulated phones received. Tests and the demo
// drive it through the same code path as real hardware: go.bug.st/serial on
// the pty slave, github.com/warthog618/modem/at, and SMS PDUs from
// github.com/warthog618/sms.
//
// A Personality gives it the quirks of a modem family — Quectel, SIMCom,
// Huawei, ZTE, Cinterion, Sierra, u-blox — as one row of a table of dialect
// fields (personality.go), each citing the sourced deviation it reproduces:
// boot lines and SMS-not-ready windows at real timing (Options.BootScale),
// vendor floods, non-standard final results, storage layouts. The fault
// methods (FailNumber, FailRate, ErrorAfterPDU, SetBroken, SetHang, HangAfter, Unplug,
// AT+CFUN=1,1 reboots, SIMBusy, Emit…) reproduce what real modems do wrong.
//
// Concurrency: Modem.mu guards the modem state. Each connection (session) has
// one goroutine reading bytes and one event loop that owns the command/PDU
// state machine and every write, so no write is torn: unsolicited result
// codes wait for an idle moment, except Emit's raw lines and the Huawei
// flood, which land where real modems put them (inside replies). Every other
// goroutine (Huawei flood, delayed status reports and SIM readiness, reboots)
// is started by the Modem, counted in Modem.wg and ended by Close. Lock
// order: a session's urcMu may be taken while holding Modem.mu, never the
// reverse.
package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/warthog618/sms"
	"github.com/warthog618/sms/encoding/tpdu"

	"vigie/modem/internal/charsets"
)

// Sentinel errors returned by the simulated modem.
var (
	// ErrClosed is returned by operations on a closed Modem.
	ErrClosed = errors.New("sim: modem closed")
	// ErrStorageFull is returned by Inject when the SIM storage cannot hold
	// every part of the message (nothing is stored then).
	ErrStorageFull = errors.New("sim: SIM storage full")
	// ErrNotRegistered is returned by Inject when the modem is not registered
	// on the network (no network, SIM locked or missing, radio off).
	ErrNotRegistered = errors.New("sim: not registered on the network")
	// ErrInvalidSender is returned by Inject for a sender that is neither a
	// number nor a GSM 7-bit alphanumeric name of at most 11 characters.
	ErrInvalidSender = errors.New("sim: invalid sender")
	// ErrInvalidPart is returned by Deliver for a concatenation header
	// that cannot be encoded (Seq outside 1..Total, Total or Ref over 255).
	ErrInvalidPart = errors.New("sim: invalid concatenated part")
	// ErrAlreadyOpen is returned by OpenPTY while a pseudo-terminal is open.
	ErrAlreadyOpen = errors.New("sim: pseudo-terminal already open")
)

// Defaults applied by New to zero Options fields.
const (
	DefaultNumber   = "+33700000001"
	DefaultSMSC     = "+33609001390"
	DefaultCapacity = 30

	DefaultURCEvery    = 300 * time.Millisecond
	DefaultRebootDelay = time.Second
)

// Options configure a simulated modem.
type Options struct {
	Number    string        // the SIM's own number, E.164; DefaultNumber if empty
	SMSC      string        // the service centre address; DefaultSMSC if empty
	SendDelay time.Duration // time the network takes per SMS part after the PDU is submitted (before +CMGS: <mr>)
	Latency   time.Duration // time every command takes before its final result code
	Capacity  int           // SIM ("SM") storage slots; DefaultCapacity if <= 0
	PIN       string        // if set, the SIM starts locked and needs AT+CPIN=<PIN>
	PUK       string        // if set, AT+CPIN=<PUK>,<new PIN> unblocks a SIM blocked by 3 wrong PINs
	Logger    *slog.Logger  // nil: discard. Debug-logs every line in/out.

	// Personality selects the dialect quirks of a modem family (Generic if zero).
	Personality Personality
	// Seed seeds the random draws of FailRate, so that tests are deterministic.
	Seed uint64
	// URCEvery is the period of the Huawei unsolicited flood; DefaultURCEvery if <= 0.
	URCEvery time.Duration
	// SIMBusy is how long, after New (power-on) and after every reboot, +CPIN?
	// and the SMS commands answer "+CME ERROR: 14" (SIM busy).
	SIMBusy time.Duration
	// RebootDelay is how long the pseudo-terminal stays gone after
	// AT+CFUN=1,1 before it comes back at the same link; DefaultRebootDelay if <= 0.
	RebootDelay time.Duration
	// ReportDelay is how long after an SMS is accepted its status report is
	// stored or announced (0: at once).
	ReportDelay time.Duration
	// NetworkClockOffset is how far the network's clock is from the host's
	// (network minus host): what +CCLK? says once NITZ set it (clock.go).
	NetworkClockOffset time.Duration
	// BootScale scales the personality's start-up timing: its boot lines,
	// its SMS-not-ready window, its SIM start, Huawei 3G's 3 s after the
	// PIN, ZTE's busy +CPMS?. 1 is the real modem's timing (ready within a
	// few seconds), 0.1 ten times faster; 0, the default, is instant: every
	// boot line is out at power-on and nothing has to be waited out.
	BootScale float64
	// PDUTrailer makes the PDU lines of +CMGR and +CMGL end with ",0", as
	// "some phones" do (real-modems.md row 34), whatever the personality.
	PDUTrailer bool
}

// SMS is a message a simulated phone received from the modem, reassembled
// from the SMS-SUBMIT PDU(s) the modem was asked to send.
type SMS struct {
	From, To string    // To = destination; From = the modem's Number
	Text     string    // decoded UTF-8 text
	Parts    int       // number of SMS-SUBMIT parts
	Refs     []int     // the +CMGS message references given for the parts, in part order
	At       time.Time // when the last part was accepted
	Alphabet string    // "GSM7", "UCS2" or "8BIT"
	SRR      bool      // status report requested (TP-SRR) on any part
}

// simState is the state of the SIM card as +CPIN reports it.
type simState int

const (
	simReady simState = iota
	simPIN
	simPUK
	simAbsent
)

// settings are the volatile modem settings reset by ATZ, AT&F and power loss.
type settings struct {
	echo  bool
	cmee  int
	cmgf  int
	cnmi  [5]int // mode, mt, bm, ds, bfr
	cmms  int
	creg  int // +CREG URC mode
	cereg int // +CEREG URC mode
	csms  int
	cscs  string
}

// defaultSettings are the family's power-up settings.
func (m *Modem) defaultSettings() settings {
	return settings{echo: !m.d.echoOff, cmee: m.d.cmee, cscs: "GSM"}
}

// Modem is a simulated modem. Its methods are safe for concurrent use.
type Modem struct {
	opts Options
	d    *dialect // the personality's quirks, never written
	log  *slog.Logger

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // goroutines started by the Modem

	mu        sync.Mutex
	closed    bool
	sessions  map[*session]struct{}
	pty       *ptyPort // the open pseudo-terminal, if any
	set       settings
	smsc      string
	mems      map[string]*memory // the message storage, by name; survives power loss
	mem       [3]string          // +CPMS <mem1>, <mem2>, <mem3>
	mr        int                // next TP-MR handed out by +CMGS
	enc       *sms.Encoder
	partial   map[string]*partial // concatenated submits being reassembled
	received  []SMS
	changed   chan struct{} // closed and replaced whenever received grows
	fail      map[string]int
	reportST  map[string]byte
	network   bool // the network is reachable
	cfun      int
	signal    int
	sim       simState
	pin       string
	pinLeft   int
	pinTries  int
	hung      bool
	latency   time.Duration
	sendDelay time.Duration

	idleMu    sync.Mutex     // guards the idle fields (Idle)
	idleSpans [][2]time.Time // waits for a command since idleFrom
	idleOpen  time.Time      // the wait in progress began (zero: none)
	idleFrom  time.Time      // zero until ResetIdle: nothing counted

	rng          *rand.Rand // FailRate draws, seeded by Options.Seed
	failCodes    []int      // FailRate: +CMS ERROR codes drawn from, empty = off
	failRate     float64
	strayErrors  int  // ErrorAfterPDU: submits still answered a bare ERROR
	straySent    bool // ErrorAfterPDU: the network took those parts all the same
	hangLeft     int  // HangAfter: commands still answered; <= 0: off
	broken       bool
	wedged       bool // SetWedged: broken again after every AT+CFUN=1,1
	resets       int
	commands     map[string]int // received command lines (after "AT", upper-case)
	during       []string       // EmitDuringNextCommand lines
	boot         []string       // power-up URCs waiting for a session
	curcOn       int            // Huawei ^CURC
	portsel      int            // Huawei ^PORTSEL (which port gets the URCs; nothing changes here)
	cpmsAsked    bool           // ZTE: +CPMS? was asked since power-up
	simBusyUntil time.Time
	// Start-up state (the personality's timeline).
	epoch          int       // power cycles: a timeline of an earlier one stops
	poweredAt      time.Time // last power-up
	smsReady       bool      // the SMS subsystem answers (smsGate)
	cpmsBusyUntil  time.Time // ZTE: +CPMS? answers SIM busy until then
	pinRebootUntil time.Time // Huawei 3G: a command before then crashes the firmware
	glued          []string  // lines to put before the next echo
	crashes        int       // firmware reboots that no command asked for
	rebooting      bool      // AT+CFUN=1,1 closed the pty; it comes back after rebootDelay
	unplugged      bool      // Unplug was called; the next OpenPTY powers the modem up
	rebootDelay    time.Duration
	clock          simClock // +CCLK, +CTZU (clock.go)
}

// New returns a powered-on simulated modem, registered on the network, with
// empty storage. It serves nothing until OpenPTY or Serve.
func New(opts Options) *Modem {
	charsets.Ready() // phones inject while the dialect decodes submits
	if opts.Number == "" {
		opts.Number = DefaultNumber
	}
	if opts.SMSC == "" {
		opts.SMSC = DefaultSMSC
	}
	if opts.Capacity <= 0 {
		opts.Capacity = DefaultCapacity
	}
	if opts.URCEvery <= 0 {
		opts.URCEvery = DefaultURCEvery
	}
	if opts.RebootDelay <= 0 {
		opts.RebootDelay = DefaultRebootDelay
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Modem{
		opts:      opts,
		d:         opts.Personality.dialect(),
		log:       log.With("component", "modem-sim", "personality", opts.Personality.String()),
		ctx:       ctx,
		cancel:    cancel,
		sessions:  make(map[*session]struct{}),
		smsc:      opts.SMSC,
		enc:       sms.NewEncoder(sms.AsDeliver),
		partial:   make(map[string]*partial),
		changed:   make(chan struct{}),
		fail:      make(map[string]int),
		reportST:  make(map[string]byte),
		network:   true,
		cfun:      1,
		signal:    20,
		pin:       opts.PIN,
		pinLeft:   3,
		latency:   opts.Latency,
		sendDelay: opts.SendDelay,

		rng:         rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		commands:    make(map[string]int),
		rebootDelay: opts.RebootDelay,
	}
	m.mems = newMemories(m.d.store, opts.Capacity)
	m.mu.Lock()
	m.powerUpLocked()
	m.mu.Unlock()
	if m.d.flood != nil {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.flood(opts.URCEvery)
		}()
	}
	return m
}

// Close stops every goroutine the modem started, closes the pseudo-terminal,
// removes its link and closes the io.ReadWriter of every Serve call that is
// also an io.Closer. The stored and received messages stay readable.
func (m *Modem) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	p := m.pty
	m.pty = nil
	sessions := slices.Collect(maps.Keys(m.sessions))
	close(m.changed)
	m.mu.Unlock()

	m.cancel()
	var errs []error
	for _, s := range sessions {
		if c, isCloser := s.rw.(io.Closer); isCloser {
			_ = c.Close() // Unblocks the pending Read; a second close is harmless.
		}
	}
	if p != nil {
		errs = append(errs, p.close())
	}
	m.wg.Wait()
	return errors.Join(errs...)
}

// Serve speaks the AT dialect over rw until reading fails or the modem is
// closed. It returns nil at io.EOF and ErrClosed after Close. Close unblocks a
// pending Read only if rw is an io.Closer (io.Pipe and net.Pipe ends are).
func (m *Modem) Serve(rw io.ReadWriter) error {
	s, err := m.attach(rw)
	if err != nil {
		return err
	}
	defer m.detach(s)

	buf := make([]byte, 512)
	for {
		n, rerr := rw.Read(buf)
		if n > 0 {
			select {
			case s.in <- slices.Clone(buf[:n]):
			case <-s.ctx.Done():
				return m.serveErr(s.err())
			}
		}
		if rerr != nil {
			if m.ctx.Err() != nil {
				return ErrClosed
			}
			if errors.Is(rerr, io.EOF) {
				return nil
			}
			return fmt.Errorf("sim: read: %w", rerr)
		}
	}
}

func (m *Modem) serveErr(werr error) error {
	if m.ctx.Err() != nil {
		return ErrClosed
	}
	if werr != nil {
		return fmt.Errorf("sim: write: %w", werr)
	}
	return nil
}

// attach registers a new session on rw and starts its event loop.
func (m *Modem) attach(rw io.ReadWriter) (*session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	s := newSession(m, rw)
	m.sessions[s] = struct{}{}
	if len(m.boot) > 0 {
		s.post(m.boot)
		m.boot = nil
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		s.loop()
	}()
	return s, nil
}

// detach stops the session's event loop and forgets the session.
func (m *Modem) detach(s *session) {
	s.cancel()
	<-s.loopDone
	m.mu.Lock()
	delete(m.sessions, s)
	m.smsReadyAtLocked(s.takeReady())
	m.mu.Unlock()
}

// postLocked queues unsolicited result codes on every session. m.mu is held.
func (m *Modem) postLocked(urcs ...string) {
	if len(urcs) == 0 {
		return
	}
	for s := range m.sessions {
		s.post(urcs)
	}
}

// Received returns the messages delivered to number (as the SMS-SUBMIT DA
// reads, "+" and digits for international numbers), in the order their last
// part was submitted.
func (m *Modem) Received(number string) []SMS {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.receivedLocked(number)
}

func (m *Modem) receivedLocked(number string) []SMS {
	var out []SMS
	for _, r := range m.received {
		if r.To == number {
			out = append(out, cloneSMS(r))
		}
	}
	return out
}

// AllReceived returns every message delivered to any number, in order.
func (m *Modem) AllReceived() []SMS {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]SMS, len(m.received))
	for i, r := range m.received {
		out[i] = cloneSMS(r)
	}
	return out
}

func cloneSMS(s SMS) SMS {
	s.Refs = slices.Clone(s.Refs)
	return s
}

// WaitReceived blocks until number has received at least n messages, ctx ends
// or the modem is closed; it returns the messages received so far.
func (m *Modem) WaitReceived(ctx context.Context, number string, n int) ([]SMS, error) {
	for {
		m.mu.Lock()
		got := m.receivedLocked(number)
		changed, closed := m.changed, m.closed
		m.mu.Unlock()
		if len(got) >= n {
			return got, nil
		}
		if closed {
			return got, fmt.Errorf("wait for %d messages to %s: %w", n, number, ErrClosed)
		}
		select {
		case <-ctx.Done():
			return got, fmt.Errorf("wait for %d messages to %s: %w", n, number, ctx.Err())
		case <-changed:
		}
	}
}

// Stored returns how many messages (SMS-DELIVER parts and status reports) sit
// in the modem's storage now, every memory ("SM", "ME", "SR") counted.
func (m *Modem) Stored() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.usedLocked()
}

// FailNumber makes every +CMGS to number answer `+CMS ERROR: <cmsCode>`
// after the send delay; 0 clears it.
func (m *Modem) FailNumber(number string, cmsCode int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cmsCode == 0 {
		delete(m.fail, number)
		return
	}
	m.fail[number] = cmsCode
}

// SetReportStatus sets the TP-ST of the status reports generated for messages
// to number (default 0x00, delivered; 0x40–0x7F are permanent failures).
func (m *Modem) SetReportStatus(number string, st byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reportST[number] = st
}

// SetNetwork makes the network reachable or not. Without network the modem
// is not registered (+CREG: x,2), +CMGS answers +CMS ERROR: 331 and Inject
// fails; registration changes are announced when +CREG/+CEREG URCs are on.
func (m *Modem) SetNetwork(up bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	before := m.regStatLocked()
	m.network = up
	m.postLocked(m.regURCsLocked(before)...)
}

// SetSignal sets the RSSI reported by +CSQ (0–31, 99 unknown).
func (m *Modem) SetSignal(rssi int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.signal = rssi
}

// SetSIMPresent removes (false) or inserts (true) the SIM card. An inserted
// card is locked again if Options.PIN is set.
func (m *Modem) SetSIMPresent(present bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	before := m.regStatLocked()
	switch {
	case !present:
		m.sim = simAbsent
	case m.sim == simAbsent && m.pin != "":
		m.sim, m.pinLeft = simPIN, 3
	case m.sim == simAbsent:
		m.sim = simReady
	}
	m.postLocked(m.regURCsLocked(before)...)
}

// PINTries returns how many AT+CPIN=<pin> attempts the modem received.
func (m *Modem) PINTries() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pinTries
}

// SetHang makes the modem stop answering (true): input is read and dropped,
// nothing is echoed, answered or announced, until SetHang(false), which also
// cancels a HangAfter countdown.
func (m *Modem) SetHang(hang bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hung, m.hangLeft = hang, 0
}

// SetLatency sets the time every command takes before its final result code.
func (m *Modem) SetLatency(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.latency = d
}

// SetSendDelay sets the time the network takes per SMS part.
func (m *Modem) SetSendDelay(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sendDelay = d
}

// Inject delivers an SMS from a simulated phone (E.164 "+336…", a short code
// or an alphanumeric name) to the SIM: it encodes real SMS-DELIVER TPDU(s)
// (concatenated if long; GSM 7-bit or UCS-2 as the text needs), stores each
// part in the receive memory (+CPMS <mem3>, "SM" at power-up) with a
// PDU-mode SMSC prefix and announces it with `+CMTI: "<mem3>",<index>`
// when +CNMI <mt> is 1 or 2.
func (m *Modem) Inject(from, text string) error {
	return m.Deliver(Delivery{From: from, Text: text})
}

// Delivery is an SMS the simulated network hands to the SIM, with the
// header details a hostile or unlucky sender controls.
type Delivery struct {
	// From is the sender, as for Inject.
	From string
	// Alphanumeric sends From with the alphanumeric type of number even
	// when it spells digits: what a bulk-SMS account can set.
	Alphanumeric bool
	Text         string
	// Total > 1 delivers one part only, Seq of Total, of a concatenated
	// message with the 8-bit reference Ref; Text is that part's text (at
	// most one part long). The other parts are whatever the test delivers.
	Ref, Total, Seq int
	// SCTS is the service centre's time stamp; zero is now on the
	// network's clock.
	SCTS time.Time
}

// Deliver stores an SMS described by d in the receive memory and announces
// it, as Inject does.
func (m *Modem) Deliver(d Delivery) error {
	from := d.From
	oa, err := senderAddress(from)
	if d.Alphanumeric {
		oa, err = alphanumericAddress(from)
	}
	if err != nil {
		return err
	}
	if d.Total > 1 && (d.Total > 255 || d.Seq < 1 || d.Seq > d.Total || d.Ref < 0 || d.Ref > 255) {
		return fmt.Errorf("inject from %s: part %d of %d, ref %d: %w", from, d.Seq, d.Total, d.Ref, ErrInvalidPart)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	scts := d.SCTS
	if scts.IsZero() {
		scts = m.networkTimeLocked(time.Now())
	}
	if m.closed {
		return ErrClosed
	}
	if m.regStatLocked() != regHome {
		return fmt.Errorf("inject from %s: %w", from, ErrNotRegistered)
	}
	pdus, err := m.deliverPDUsLocked(oa, d.Text, scts, concatPart{ref: d.Ref, total: d.Total, seq: d.Seq})
	if err != nil {
		return fmt.Errorf("inject from %s: %w", from, err)
	}
	mem := m.memLocked(2)
	if mem.capacity()-mem.used() < len(pdus) {
		return fmt.Errorf("inject from %s (%d parts): %w", from, len(pdus), ErrStorageFull)
	}
	for _, p := range pdus {
		i := mem.store(p) + m.d.store.base
		m.log.Debug("stored", "mem", mem.name, "index", i, "from", from, "parts", len(pdus))
		if mt := m.set.cnmi[1]; mt == 1 || mt == 2 {
			m.postLocked(fmt.Sprintf(`+CMTI: %q,%d`, mem.name, i))
		}
	}
	return nil
}

// alphanumericAddress is a TP-OA of the alphanumeric type, whatever the
// name spells.
func alphanumericAddress(name string) (tpdu.Address, error) {
	if name == "" || len(name) > 11 {
		return tpdu.Address{}, fmt.Errorf("sender %q: %w", name, ErrInvalidSender)
	}
	a := tpdu.NewAddress()
	a.SetTypeOfNumber(tpdu.TonAlphanumeric)
	a.SetNumberingPlan(tpdu.NpUnknown)
	a.Addr = name
	if _, err := a.MarshalBinary(); err != nil {
		return tpdu.Address{}, fmt.Errorf("sender %q: %w", name, ErrInvalidSender)
	}
	return a, nil
}

// senderAddress turns an Inject sender into a TP-OA.
func senderAddress(from string) (tpdu.Address, error) {
	switch {
	case len(from) > 1 && from[0] == '+' && isDigits(from[1:]) && len(from) <= 21:
		return tpdu.NewAddress(tpdu.FromNumber(from)), nil
	case isDigits(from) && len(from) <= 20:
		a := tpdu.NewAddress()
		a.SetTypeOfNumber(tpdu.TonUnknown)
		a.SetNumberingPlan(tpdu.NpISDN)
		a.Addr = from
		return a, nil
	case from != "" && from[0] != '+' && len(from) <= 11:
		return alphanumericAddress(from)
	}
	return tpdu.Address{}, fmt.Errorf("sender %q: %w", from, ErrInvalidSender)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
