package sim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Identity the simulated modem reports.
const (
	manufacturer = "Vigie-Sim"
	model        = "SIM-LTE"
	revision     = "VIGIESIM01R01"
	imei         = "356938035643809"
	imsi         = "208011234567890"
	operator     = "Orange F"
)

// reply is the answer to one command line.
type reply struct {
	lines  []string // information responses
	final  string   // final result code: OK, ERROR, +CME ERROR: n, +CMS ERROR: n; "" for none
	prompt int      // > 0: +CMGS accepted, prompt for a PDU of that many TPDU octets
	during []string // unsolicited lines landing inside the reply
	reboot bool     // AT+CFUN=1,1: reboot once the reply is written
	crash  bool     // the firmware reboots instead of answering (nothing is written)
	hang   bool     // HangAfter: hang once the reply is written
	split  bool     // the final result's LF comes in a separate write
	blank  bool     // a blank line follows the final result code
}

// String formats the reply in verbose mode (ATV1), with the unsolicited
// lines after the first information line, or before the final result code.
func (r reply) String() string {
	var b strings.Builder
	line := func(l string) { b.WriteString("\r\n" + l + "\r\n") }
	for i, l := range r.lines {
		line(l)
		if i == 0 {
			for _, u := range r.during {
				line(u)
			}
		}
	}
	if len(r.lines) == 0 {
		for _, u := range r.during {
			line(u)
		}
	}
	if r.final != "" {
		line(r.final)
		if r.blank {
			b.WriteString("\r\n")
		}
	}
	return b.String()
}

// errKind is the family of an error final result code.
type errKind int

const (
	errPlain errKind = iota
	errCME
	errCMS
	errRaw // a vendor's final line, as is (COMMAND NOT SUPPORT)
)

// atError is an error final result code.
type atError struct {
	kind errKind
	code int
	text string // errRaw
}

func plainErr() *atError       { return &atError{kind: errPlain} }
func cmeErr(code int) *atError { return &atError{kind: errCME, code: code} }
func cmsErr(code int) *atError { return &atError{kind: errCMS, code: code} }

// cmeText holds the verbose texts of +CMEE=2 (3GPP TS 27.007 §9.2).
func cmeText(code int) string {
	switch code {
	case 3:
		return "operation not allowed"
	case 4:
		return "operation not supported"
	case 10:
		return "SIM not inserted"
	case 11:
		return "SIM PIN required"
	case 12:
		return "SIM PUK required"
	case 13:
		return "SIM failure"
	case 14:
		return "SIM busy"
	case 16:
		return "incorrect password"
	case 30:
		return "no network service"
	case 50:
		return "Incorrect parameters"
	}
	return ""
}

// cmsText holds the verbose texts of +CMS ERROR codes: TS 27.005 §3.2.5 for
// 300–500, the RP/TP causes of TS 24.011 and TS 23.040 below.
func cmsText(code int) string {
	switch code {
	case 1:
		return "Unassigned (unallocated) number"
	case 21:
		return "Short message transfer rejected"
	case 38:
		return "Network out of order"
	case 41:
		return "Temporary failure"
	case 42:
		return "Congestion"
	case 300:
		return "ME failure"
	case 302:
		return "operation not allowed"
	case 303:
		return "operation not supported"
	case 304:
		return "invalid PDU mode parameter"
	case 310:
		return "SIM not inserted"
	case 311:
		return "SIM PIN required"
	case 314:
		return "SIM busy"
	case 316:
		return "SIM PUK required"
	case 321:
		return "invalid memory index"
	case 322:
		return "memory full"
	case 330:
		return "SMSC address unknown"
	case 331:
		return "no network service"
	case 500:
		return "unknown error"
	}
	return ""
}

// final formats the error as +CMEE mode cmee says: +CME ERROR becomes ERROR
// with +CMEE=0 and a text with +CMEE=2. +CMS ERROR stays numeric in every
// mode, unless verboseCMS (some families also turn it into text).
func (e *atError) final(cmee int, verboseCMS bool) string {
	switch e.kind {
	case errRaw:
		return e.text
	case errCMS:
		if t := cmsText(e.code); cmee == 2 && verboseCMS && t != "" {
			return "+CMS ERROR: " + t
		}
		return "+CMS ERROR: " + strconv.Itoa(e.code)
	case errCME:
		switch cmee {
		case 1:
			return "+CME ERROR: " + strconv.Itoa(e.code)
		case 2:
			if t := cmeText(e.code); t != "" {
				return "+CME ERROR: " + t
			}
			return "+CME ERROR: " + strconv.Itoa(e.code)
		}
	}
	return "ERROR"
}

// result is the outcome of one command of a command line.
type result struct {
	lines  []string
	err    *atError
	prompt int
	reboot bool
	// stop: the line ends with these lines and no final result code.
	stop bool
	// split: the error's final result's LF comes in a separate write.
	split bool
}

func ok(lines ...string) result     { return result{lines: lines} }
func fail(e *atError) result        { return result{err: e} }
func okf(f string, a ...any) result { return ok(fmt.Sprintf(f, a...)) }

// op is the form of an extended command.
type op int

const (
	opExec op = iota // +X
	opRead           // +X?
	opTest           // +X=?
	opSet            // +X=<args>
)

// call is one parsed command.
type call struct {
	name string // upper-case, e.g. "+CMGS", "E", "&F", "S"
	op   op
	arg  string   // basic commands: the digits after the letter; S: the rest
	args []string // extended set: the comma-separated arguments, unquoted
}

// normalize upper-cases and removes spaces outside double quotes.
func normalize(body string) (string, bool) {
	var b strings.Builder
	quoted := false
	for _, c := range []byte(body) {
		switch {
		case c == '"':
			quoted = !quoted
			b.WriteByte(c)
		case quoted:
			b.WriteByte(c)
		case c == ' ':
		case c >= 'a' && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), !quoted
}

// splitCommands splits what follows "AT" into commands: basic commands are
// concatenated (E0V1), extended ones are separated by ';'.
func splitCommands(body string) ([]call, bool) {
	body, valid := normalize(body)
	if !valid {
		return nil, false
	}
	var calls []call
	for body != "" {
		c := body[0]
		switch {
		case c == ';':
			body = body[1:]
		case c == '+' || c == '^' || c == '$' || c == '#' || c == '%':
			end := indexUnquoted(body, ';')
			calls = append(calls, parseExtended(body[:end]))
			body = body[end:]
		case c == '&' || (c >= 'A' && c <= 'Z'):
			n := 1
			if c == '&' {
				if len(body) < 2 || body[1] < 'A' || body[1] > 'Z' {
					return nil, false
				}
				n = 2
			}
			name := body[:n]
			switch name {
			case "D":
				n = len(body) // dial string runs to the end of the line
			case "S":
				for n < len(body) && (isDigit(body[n]) || body[n] == '=' || body[n] == '?') {
					n++
				}
			default:
				for n < len(body) && isDigit(body[n]) {
					n++
				}
			}
			calls = append(calls, call{name: name, arg: body[len(name):n]})
			body = body[n:]
		default:
			return nil, false
		}
	}
	return calls, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func indexUnquoted(s string, sep byte) int {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '"':
			quoted = !quoted
		case s[i] == sep && !quoted:
			return i
		}
	}
	return len(s)
}

func parseExtended(cmd string) call {
	switch i := strings.IndexAny(cmd, "=?"); {
	case i < 0:
		return call{name: cmd, op: opExec}
	case cmd[i:] == "?":
		return call{name: cmd[:i], op: opRead}
	case cmd[i:] == "=?":
		return call{name: cmd[:i], op: opTest}
	case cmd[i] == '=':
		return call{name: cmd[:i], op: opSet, args: splitArgs(cmd[i+1:])}
	default:
		return call{name: cmd, op: -1} // malformed, e.g. "+CSQ?X"
	}
}

// splitArgs splits on commas outside quotes and removes the quotes.
func splitArgs(s string) []string {
	var args []string
	for {
		end := indexUnquoted(s, ',')
		args = append(args, strings.Trim(s[:end], `"`))
		if end == len(s) {
			return args
		}
		s = s[end+1:]
	}
}

// intArg parses args[i] in [lo, hi]; an omitted argument is def.
func intArg(args []string, i, lo, hi, def int) (int, bool) {
	if i >= len(args) || args[i] == "" {
		return def, true
	}
	n, err := strconv.Atoi(args[i])
	if err != nil || n < lo || n > hi {
		return 0, false
	}
	return n, true
}

// execLine runs a command line (what follows "AT") and returns its reply,
// which carries the EmitDuringNextCommand lines and the HangAfter verdict.
func (m *Modem) execLine(body string) reply {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.countLocked(body)
	if time.Now().Before(m.pinRebootUntil) {
		// Row 9: too soon after the PIN, the firmware fails and reboots.
		m.log.Debug("command too soon after the PIN: the firmware reboots", "line", body)
		m.pinRebootUntil = time.Time{}
		m.during = nil
		return reply{crash: true}
	}
	r := m.runLineLocked(body)
	r.during, m.during = m.during, nil
	if m.hangLeft > 0 {
		m.hangLeft--
		r.hang = m.hangLeft == 0
	}
	if r.final == "OK" && m.d.nulOK > 0 && m.rng.Float64() < m.d.nulOK {
		r.final = "\x00OK" // row 12
	}
	r.blank = r.final != "" && m.d.blankAfter
	return r
}

// errFinalLocked formats an error final result code as the settings say.
func (m *Modem) errFinalLocked(e *atError) string {
	return e.final(m.set.cmee, m.d.verboseCMS)
}

func (m *Modem) runLineLocked(body string) reply {
	before := m.regStatLocked()
	defer func() { m.postLocked(m.regURCsLocked(before)...) }()

	calls, valid := splitCommands(body)
	if !valid {
		return reply{final: "ERROR"}
	}
	var lines []string
	reboot := false
	for _, c := range calls {
		r := m.execLocked(c)
		lines = append(lines, r.lines...)
		reboot = reboot || r.reboot
		switch {
		case r.err != nil:
			return reply{lines: lines, final: m.errFinalLocked(r.err), reboot: reboot, split: r.split}
		case r.stop:
			return reply{lines: lines, reboot: reboot}
		case r.prompt > 0:
			return reply{prompt: r.prompt}
		}
	}
	return reply{lines: lines, final: "OK", reboot: reboot}
}

// execLocked runs one command. m.mu is held.
func (m *Modem) execLocked(c call) result {
	if c.op < 0 {
		return fail(plainErr())
	}
	if c.name[0] != '+' && c.name[0] != '&' && len(c.name) == 1 && c.name != "S" && c.name != "D" {
		return m.basicLocked(c)
	}
	if !m.d.knows(c.name) {
		return fail(m.d.unknownErr())
	}
	if c.name == "+CPMS" && c.op == opRead {
		m.cpmsAsked = true // row 24: this is what stops the ZTE flood
	}
	if c.op != opTest && !m.smsReady && slices.Contains(m.d.smsGate, c.name) {
		return fail(m.d.smsNotReady)
	}
	switch c.name {
	case "&F":
		m.resetLocked()
		return ok()
	case "&W", "&C", "&D", "&V", "&K":
		return ok()
	case "S":
		return sRegister(c.arg)
	case "D", "A":
		return fail(plainErr())
	case "+CMEE":
		return intSetting(c, "+CMEE", &m.set.cmee, 2, plainErr())
	case "+CMGF":
		return intSetting(c, "+CMGF", &m.set.cmgf, 1, plainErr())
	case "+CPIN":
		return m.cpin(c)
	case "+CSQ":
		return m.csq(c)
	case "+CREG":
		return m.creg(c, "+CREG", &m.set.creg)
	case "+CEREG":
		return m.creg(c, "+CEREG", &m.set.cereg)
	case "+COPS":
		return m.cops(c)
	case "+CFUN":
		return m.cfunCmd(c)
	case "+CGMI", "+GMI":
		return ident(c, m.d.id.manufacturer)
	case "+CGMM", "+GMM":
		return ident(c, m.d.id.model)
	case "+CGMR", "+GMR":
		return ident(c, m.d.id.revision)
	case "+CGSN", "+GSN":
		return ident(c, imei)
	case "+CIMI":
		if e := m.simGateLocked(false); e != nil {
			return fail(e)
		}
		return ident(c, imsi)
	case "+CNUM":
		if e := m.simGateLocked(false); e != nil {
			return fail(e)
		}
		return ident(c, fmt.Sprintf(`+CNUM: "",%q,%d`, m.opts.Number, toa(m.opts.Number)))
	case "+CSCS":
		return m.cscs(c)
	case "+CCLK", "+CTZU":
		return m.clockCommandLocked(c)
	case "^CURC":
		return m.curc(c)
	case "^PORTSEL":
		return intSetting(c, "^PORTSEL", &m.portsel, 1, plainErr())
	}
	if slices.Contains(m.d.accepts, c.name) {
		return ok()
	}
	return m.smsCommandLocked(c)
}

// basicLocked runs a V.250 basic command (one letter and digits).
func (m *Modem) basicLocked(c call) result {
	switch c.name + c.arg {
	case "E", "E0":
		m.set.echo = false
	case "E1":
		m.set.echo = true
	case "V1", "Q", "Q0", "X", "X0", "X1", "X2", "X3", "X4", "H", "H0", "L", "M":
	case "Z", "Z0":
		m.resetLocked()
	case "I", "I0":
		id := m.d.id
		return ok(id.manufacturer, id.model, "Revision: "+id.revision)
	default:
		return fail(plainErr())
	}
	return ok()
}

// sRegister answers S-register reads and accepts writes.
func sRegister(arg string) result {
	n, rest, _ := strings.Cut(strings.TrimRight(arg, "?="), "=")
	reg, err := strconv.Atoi(n)
	if err != nil {
		return fail(plainErr())
	}
	switch {
	case strings.HasSuffix(arg, "?") && !strings.Contains(arg, "="):
		val := map[int]int{3: 13, 4: 10, 5: 8, 7: 50}[reg]
		return okf("%03d", val)
	case strings.Contains(arg, "="):
		if _, err := strconv.Atoi(rest); err != nil {
			return fail(plainErr())
		}
		return ok()
	}
	return fail(plainErr())
}

func ident(c call, value string) result {
	switch c.op {
	case opExec:
		return ok(value)
	case opTest:
		return ok()
	}
	return fail(plainErr())
}

// resetLocked restores the power-up settings (ATZ, AT&F).
func (m *Modem) resetLocked() {
	m.set = m.defaultSettings()
}

// intSetting serves a setting that is one integer in 0..hi: read, test and
// set, with bad as the answer to a value out of range.
func intSetting(c call, name string, n *int, hi int, bad *atError) result {
	switch c.op {
	case opRead:
		return okf("%s: %d", name, *n)
	case opTest:
		return okf("%s: (0-%d)", name, hi)
	case opSet:
		if v, good := intArg(c.args, 0, 0, hi, 0); good && len(c.args) == 1 {
			*n = v
			return ok()
		}
		return fail(bad)
	}
	return fail(plainErr())
}

func (m *Modem) cscs(c call) result {
	switch c.op {
	case opRead:
		return okf("+CSCS: %q", m.set.cscs)
	case opTest:
		return ok(`+CSCS: ("GSM","IRA","UCS2")`)
	case opSet:
		switch v := strings.ToUpper(c.args[0]); v {
		case "GSM", "IRA", "UCS2":
			m.set.cscs = v
			return ok()
		}
		return fail(cmeErr(4))
	}
	return fail(plainErr())
}

// simGateLocked returns the error a command needing the SIM gets now.
func (m *Modem) simGateLocked(smsCmd bool) *atError {
	var cme, cms int
	switch m.sim {
	case simReady:
		return nil
	case simPIN:
		cme, cms = 11, 311
	case simPUK:
		cme, cms = 12, 316
	default:
		cme, cms = 10, 310
	}
	if smsCmd {
		return cmsErr(cms)
	}
	return cmeErr(cme)
}

func (m *Modem) cpin(c call) result {
	if c.op != opTest {
		since := time.Since(m.poweredAt)
		for _, ph := range m.d.cpinPhases {
			if since < m.scale(ph.until) {
				return result{err: &atError{kind: errRaw, text: ph.final}, split: ph.split}
			}
		}
	}
	if c.op != opTest && m.simBusyLocked() {
		return fail(cmeErr(14))
	}
	switch c.op {
	case opTest:
		return ok()
	case opRead:
		var r result
		switch m.sim {
		case simReady:
			r = ok("+CPIN: READY")
		case simPIN:
			r = ok("+CPIN: SIM PIN")
		case simPUK:
			r = ok("+CPIN: SIM PUK")
		default:
			return fail(cmeErr(10))
		}
		r.stop = m.d.cpinNoOK // rows 36, 40
		return r
	case opSet:
		if len(c.args) == 0 || len(c.args) > 2 || c.args[0] == "" {
			return fail(plainErr())
		}
		m.pinTries++
		switch m.sim {
		case simAbsent:
			return fail(cmeErr(10))
		case simReady:
			return fail(cmeErr(3))
		case simPIN:
			if c.args[0] == m.pin {
				m.sim, m.pinLeft = simReady, 3
				m.simUpLocked()
				if d := m.scale(m.d.pinReboot); d > 0 {
					m.pinRebootUntil = time.Now().Add(d)
				}
				return ok()
			}
			m.pinLeft--
			if m.pinLeft <= 0 {
				m.sim = simPUK
			}
			return fail(cmeErr(16))
		case simPUK:
			if m.opts.PUK != "" && c.args[0] == m.opts.PUK && len(c.args) == 2 && c.args[1] != "" {
				m.sim, m.pin, m.pinLeft = simReady, c.args[1], 3
				m.simUpLocked()
				return ok()
			}
			return fail(cmeErr(16))
		}
	}
	return fail(plainErr())
}

func (m *Modem) csq(c call) result {
	switch c.op {
	case opExec:
		if m.cfun != 1 || m.sim == simAbsent {
			return ok("+CSQ: 99,99")
		}
		return okf("+CSQ: %d,99", m.signal)
	case opTest:
		return ok("+CSQ: (0-31,99),(0-7,99)")
	}
	return fail(plainErr())
}

// Registration status (<stat> of +CREG/+CEREG).
const (
	regNone      = 0
	regHome      = 1
	regSearching = 2
)

// regStatLocked is the registration status now.
func (m *Modem) regStatLocked() int {
	switch {
	case m.sim != simReady || m.cfun != 1:
		return regNone
	case !m.network:
		return regSearching
	}
	return regHome
}

// regStatFor is the registration status +CREG or +CEREG reports: an LTE-only
// Quectel has no circuit-switched registration.
func (m *Modem) regStatFor(name string) int {
	if name == "+CREG" && m.d.noCSReg {
		return regNone
	}
	return m.regStatLocked()
}

// regFields formats <stat>[,<lac>,<ci>,<AcT>] for URC mode n.
func regFields(n, stat int) string {
	if n == 2 && stat == regHome {
		return fmt.Sprintf(`%d,"1A2B","01C3D4E5",7`, stat)
	}
	return strconv.Itoa(stat)
}

// regURCsLocked returns the +CREG/+CEREG URCs announcing a change from before.
func (m *Modem) regURCsLocked(before int) []string {
	after := m.regStatLocked()
	if after == before {
		return nil
	}
	var urcs []string
	if m.set.creg > 0 && !m.d.noCSReg { // its +CREG never changes
		urcs = append(urcs, "+CREG: "+regFields(m.set.creg, after))
	}
	if m.set.cereg > 0 && m.d.knows("+CEREG") {
		urcs = append(urcs, "+CEREG: "+regFields(m.set.cereg, after))
	}
	return urcs
}

func (m *Modem) creg(c call, name string, n *int) result {
	switch c.op {
	case opRead:
		return okf("%s: %d,%s", name, *n, regFields(*n, m.regStatFor(name)))
	case opTest:
		return okf("%s: (0-2)", name)
	case opSet:
		if v, good := intArg(c.args, 0, 0, 2, 0); good && len(c.args) == 1 {
			*n = v
			return ok()
		}
	}
	return fail(plainErr())
}

func (m *Modem) cops(c call) result {
	switch c.op {
	case opRead:
		if m.regStatLocked() != regHome {
			return ok("+COPS: 0")
		}
		return okf("+COPS: 0,0,%q,7", operator)
	case opTest:
		if e := m.simGateLocked(false); e != nil {
			return fail(e)
		}
		return okf(`+COPS: (2,%q,"Orange","20801",7),,(0-4),(0-2)`, operator)
	case opSet:
		if v, good := intArg(c.args, 0, 0, 4, 0); good && (v == 0 || v == 3) {
			return ok()
		}
		return fail(cmeErr(3))
	}
	return fail(plainErr())
}

func (m *Modem) cfunCmd(c call) result {
	switch c.op {
	case opRead:
		return okf("+CFUN: %d", m.cfun)
	case opTest:
		return ok("+CFUN: (0,1,4),(0,1)")
	case opSet:
		fun, good1 := intArg(c.args, 0, 0, 4, 1)
		rst, good2 := intArg(c.args, 1, 0, 1, 0)
		if !good1 || !good2 || fun == 2 || fun == 3 || len(c.args) > 2 {
			return fail(cmeErr(50))
		}
		m.cfun = fun
		if rst == 1 {
			return result{reboot: true} // the modem restarts once OK is out
		}
		return ok()
	}
	return fail(plainErr())
}

// toa is the type of address of a number: 145 international, 129 otherwise.
func toa(number string) int {
	if strings.HasPrefix(number, "+") {
		return 145
	}
	return 129
}
