package modem

import (
	"errors"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/warthog618/modem/at"
)

// Problem is a stable code for something that keeps a modem from sending or
// receiving SMS. The CLI words each code for people; the codes themselves
// never change meaning.
type Problem string

// The problems Probe can find.
const (
	ProblemNoAnswer    Problem = "no-answer"           // the device answers no AT command
	ProblemPortBusy    Problem = "port-busy"           // another program holds the port
	ProblemNoDevice    Problem = "no-device"           // the device path does not exist
	ProblemSIMPIN      Problem = "sim-pin"             // the SIM waits for its PIN
	ProblemSIMPUK      Problem = "sim-puk"             // the SIM is blocked behind its PUK
	ProblemSIMAbsent   Problem = "sim-absent"          // no SIM in the modem
	ProblemSIMBusy     Problem = "sim-busy"            // the SIM is still starting
	ProblemNoNetwork   Problem = "no-network"          // not registered, not searching
	ProblemDenied      Problem = "registration-denied" // the network refuses the SIM
	ProblemSearching   Problem = "searching"           // looking for a network
	ProblemRoaming     Problem = "roaming"             // registered on a foreign network
	ProblemWeakSignal  Problem = "weak-signal"         // one bar or less
	ProblemStorageFull Problem = "storage-full"        // no room for incoming SMS
	ProblemNoSMSC      Problem = "no-smsc"             // the SIM holds no service centre
)

// Report is everything Probe could read from a modem, JSON-ready. Fields
// it could not read stay empty (nil for Signal and Storage) and the reason
// is in Errors.
type Report struct {
	Device       string    `json:"device"`
	Identity     Identity  `json:"identity"`
	SIM          string    `json:"sim,omitempty"`          // +CPIN?: READY, SIM PIN, SIM PUK…
	Registration string    `json:"registration,omitempty"` // home, roaming, searching…
	Signal       *Signal   `json:"signal,omitempty"`
	Operator     string    `json:"operator,omitempty"`
	Storage      *Storage  `json:"storage,omitempty"`
	Support      Support   `json:"support"`
	Problems     []Problem `json:"problems"`
	Errors       []string  `json:"errors,omitempty"`
}

func (r *Report) problem(p Problem) { r.Problems = append(r.Problems, p) }

func (r *Report) failed(what string, err error) {
	r.Errors = append(r.Errors, what+": "+err.Error())
}

// Probe opens the modem at cfg.Device itself (the daemon must not hold it),
// reads everything it can and closes it. It never enters the PIN nor changes
// a setting that outlives the connection. The error is returned only when
// nothing could be read (no device, port busy, no answer); Problems then
// still says which.
func Probe(cfg Config) (Report, error) {
	cfg.setDefaults()
	r := Report{Device: cfg.Device, Problems: []Problem{}}
	port, err := openPort(cfg)
	if err != nil {
		switch {
		case errors.Is(err, ErrPortBusy):
			r.problem(ProblemPortBusy)
		case errors.Is(err, os.ErrNotExist):
			r.problem(ProblemNoDevice)
		}
		return r, err
	}
	m := newModem(port, cfg)
	defer m.Close()
	// A light start-up: escape, echo off, numeric errors. No ATZ, no PIN.
	if err := m.at.Init(at.WithCmds("E0")); err != nil {
		r.problem(ProblemNoAnswer)
		return r, wrapAT("initialise "+cfg.Device, err)
	}
	if _, err := m.command("+CMEE=1"); err != nil {
		r.failed("+CMEE=1", err)
	}
	r.Identity = m.readIdentity()
	simReady := m.probeSIM(&r)
	if simReady {
		r.Identity.SMSC = m.readSMSC()
		if r.Identity.SMSC == "" {
			r.problem(ProblemNoSMSC)
		}
	}
	if reg, err := m.Registration(); err != nil {
		r.failed("registration", err)
	} else {
		r.Registration = reg.String()
		// Without a ready SIM there is no network to expect: the SIM is
		// the problem to report.
		if simReady || r.SIM == "" {
			switch reg {
			case Home:
			case Roaming:
				r.problem(ProblemRoaming)
			case Searching:
				r.problem(ProblemSearching)
			case Denied:
				r.problem(ProblemDenied)
			default:
				r.problem(ProblemNoNetwork)
			}
		}
	}
	if sig, err := m.Signal(); err != nil {
		r.failed("signal", err)
	} else {
		r.Signal = &sig
		if sig.RSSI != 99 && sig.Bars <= 1 {
			r.problem(ProblemWeakSignal)
		}
	}
	if op, err := m.Operator(); err != nil {
		r.failed("operator", err)
	} else {
		r.Operator = op
	}
	if st, err := m.Storage(); err != nil {
		r.failed("storage", err)
	} else {
		r.Storage = &st
		if st.Full() {
			r.problem(ProblemStorageFull)
		}
	}
	r.Support = Support{CMMS: m.acceptsCMMS(), CSMS: m.readCSMS(), StatusReports: m.storesReports()}
	return r, nil
}

// probeSIM reads the SIM state into r and reports whether it is ready.
func (m *Modem) probeSIM(r *Report) bool {
	state, err := m.SIMState()
	if err != nil {
		r.failed("SIM", err)
		var cms at.CMSError
		var cme at.CMEError
		code := -1
		switch {
		case errors.As(err, &cme):
			code = cmeCodes.lookup(string(cme))
		case errors.As(err, &cms):
			code = cmsCodes.lookup(string(cms))
		}
		switch {
		case simBusy(err, false):
			r.problem(ProblemSIMBusy)
		case code == 10 || code == 310:
			r.problem(ProblemSIMAbsent)
		case code == 11 || code == 311:
			r.problem(ProblemSIMPIN)
		case code == 12 || code == 316:
			r.problem(ProblemSIMPUK)
		}
		return false
	}
	r.SIM = state
	switch {
	case state == "READY":
		return true
	case strings.Contains(state, "PUK"):
		r.problem(ProblemSIMPUK)
	case strings.Contains(state, "PIN"):
		r.problem(ProblemSIMPIN)
	}
	return false
}

// storesReports asks +CNMI=? whether status reports can be stored and
// announced (<ds> 2).
func (m *Modem) storesReports() bool {
	f, err := m.query("+CNMI=?", "+CNMI:", func(f []string) bool { return len(f) >= 4 })
	if err != nil {
		m.log.Debug("+CNMI=? not read", "err", err)
		return false
	}
	return inRange(f[3], 2)
}

var rangeItem = regexp.MustCompile(`^(\d+)(?:-(\d+))?$`)

// inRange reports whether n is in a test-command list such as "(0-2)" or
// "(0,1,2)".
func inRange(list string, n int) bool {
	list = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(list), "("), ")")
	for _, item := range strings.Split(list, ",") {
		mm := rangeItem.FindStringSubmatch(strings.TrimSpace(item))
		if mm == nil {
			continue
		}
		lo, _ := strconv.Atoi(mm[1])
		hi := lo
		if mm[2] != "" {
			hi, _ = strconv.Atoi(mm[2])
		}
		if lo <= n && n <= hi {
			return true
		}
	}
	return false
}
