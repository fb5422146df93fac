package modem

import (
	"errors"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
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
	ProblemSMSSetup    Problem = "sms-setup"           // the modem refused the SMS setup the daemon needs
	ProblemUnread      Problem = "unread"              // the SIM state or the registration could not be read
	ProblemNoReports   Problem = "no-reports"          // the modem keeps no status reports: sends, but never says "delivered"
)

// Report is everything Probe could read from a modem, JSON-ready. Fields
// it could not read stay empty (nil for Signal and Storage) and the reason
// is in Errors.
type Report struct {
	Device       string   `json:"device"`
	Identity     Identity `json:"identity"`
	SIM          string   `json:"sim,omitempty"`          // +CPIN?: READY, SIM PIN, SIM PUK…
	Registration string   `json:"registration,omitempty"` // home, roaming, searching…
	Signal       *Signal  `json:"signal,omitempty"`
	Operator     string   `json:"operator,omitempty"`
	Storage      *Storage `json:"storage,omitempty"`
	Support      Support  `json:"support"`
	// Family is the modem family recognised from its identity ("generic"
	// when none), Quirks what was done beyond the standard for it.
	Family string  `json:"family"`
	Quirks []Quirk `json:"quirks"`
	// NetworkTime is the network's time as the modem read it, and
	// ClockOffset the system clock minus it (nanoseconds in JSON); nil
	// and 0 when the network has not set the modem's clock.
	NetworkTime *time.Time    `json:"network_time,omitempty"`
	ClockOffset time.Duration `json:"clock_offset,omitempty"`
	Problems    []Problem     `json:"problems"`
	Errors      []string      `json:"errors,omitempty"`
}

func (r *Report) problem(p Problem) { r.Problems = append(r.Problems, p) }

func (r *Report) failed(what string, err error) {
	r.Errors = append(r.Errors, what+": "+err.Error())
}

// Probe opens the modem at cfg.Device itself (the daemon must not hold it),
// runs the daemon's own start-up on it — the configured PIN entered once,
// the SMS mode, the storage and the indications set — then reads
// everything it can and closes it. So it finds no problem exactly when the
// daemon could send. The error is returned only when nothing could be read
// (no device, port busy, no answer); Problems then still says which.
func Probe(cfg Config) (Report, error) {
	cfg.setDefaults()
	r := Report{Device: cfg.Device, Problems: []Problem{}, Quirks: []Quirk{}}
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
	initErr := m.init()
	r.Identity, r.Family, r.Support = m.identity, m.family.Name, m.support
	if initErr != nil && m.stage == stageReset {
		r.problem(ProblemNoAnswer)
		r.Quirks = append(r.Quirks, m.appliedQuirks()...)
		return r, initErr
	}
	for what, v := range map[string]string{"maker (AT+CGMI)": r.Identity.Manufacturer, "model (AT+CGMM)": r.Identity.Model,
		"firmware (AT+CGMR)": r.Identity.Revision, "IMEI (AT+CGSN)": r.Identity.IMEI} {
		if v == "" {
			r.Errors = append(r.Errors, what+": no readable answer")
		}
	}
	slices.Sort(r.Errors)
	simReady := m.probeSIM(&r)
	if initErr != nil && simReady {
		// The SIM is fine: the SMS setup itself failed.
		r.failed("SMS setup", initErr)
		r.problem(ProblemSMSSetup)
	}
	if simReady {
		if r.Identity.SMSC == "" {
			r.Identity.SMSC = m.readSMSC()
		}
		if r.Identity.SMSC == "" {
			r.problem(ProblemNoSMSC)
		}
	}
	if initErr == nil && !r.Support.StatusReports {
		r.problem(ProblemNoReports)
	}
	if reg, err := m.Registration(); err != nil {
		r.failed("registration", err)
		if simReady {
			r.problem(ProblemUnread)
		}
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
	if nt, err := m.NetworkTime(); err != nil {
		r.failed("network time", err)
	} else {
		r.NetworkTime, r.ClockOffset = &nt, time.Since(nt).Round(time.Second)
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
	// ZTE answers SIM busy to +CPMS? for a while after its PIN (row 24).
	var st Storage
	if err := m.retryBusy(time.Now().Add(smsSettle), false, func() (err error) {
		st, err = m.Storage()
		return err
	}); err != nil {
		r.failed("storage", err)
	} else {
		r.Storage = &st
		if st.Full() {
			r.problem(ProblemStorageFull)
		}
	}
	if initErr != nil {
		// Init stopped before these: ask them now, for the report.
		r.Support = Support{CMMS: m.acceptsCMMS(), CSMS: m.readCSMS(), StatusReports: m.storesReports()}
	}
	r.Quirks = append(r.Quirks, m.appliedQuirks()...)
	return r, nil
}

// appliedQuirks is what init did beyond the standard, and what the line
// filter had to mend, with counts.
func (m *Modem) appliedQuirks() []Quirk {
	out := slices.Clone(m.quirks)
	fixes := m.filter.applied()
	for _, k := range slices.Sorted(maps.Keys(fixes)) {
		out = append(out, Quirk{Code: k, Detail: strconv.Itoa(fixes[k])})
	}
	return out
}

// probeSIM reads the SIM state into r and reports whether it is ready.
func (m *Modem) probeSIM(r *Report) bool {
	state, err := m.SIMState()
	if err != nil {
		r.failed("SIM", err)
		defer func() {
			if len(r.Problems) == 0 {
				r.problem(ProblemUnread)
			}
		}()
		code, _ := errorCodeOf(err)
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
