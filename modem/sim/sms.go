package sim

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/warthog618/sms"
	"github.com/warthog618/sms/encoding/pdumode"
	"github.com/warthog618/sms/encoding/tpdu"
)

// Message status in storage (<stat> of +CMGR/+CMGL, PDU mode).
const (
	statUnread = 0
	statRead   = 1
	statAll    = 4
)

// maxTPDU is the largest TPDU +CMGS accepts, in octets.
const maxTPDU = 164

// slot is one message in the SIM storage.
type slot struct {
	stat    int
	pdu     []byte // SMSC address + TPDU, as +CMGR shows it
	tpduLen int
}

// part is an accepted SMS-SUBMIT part.
type part struct {
	t  *tpdu.TPDU
	mr int
}

// partial is a concatenated message waiting for its other parts.
type partial struct {
	parts map[int]part // by sequence number
	total int
}

// memory is one message storage ("SM", "ME", "SR").
type memory struct {
	name  string
	slots []*slot // nil = free
}

// newMemories makes the storage of a family; "SM" holds smCapacity slots.
func newMemories(st storage, smCapacity int) map[string]*memory {
	mems := make(map[string]*memory)
	for _, list := range [][]string{st.mem1, st.mem2, st.mem3} {
		for _, name := range list {
			if mems[name] != nil {
				continue
			}
			n := smCapacity
			if name != "SM" {
				n = st.sizes[name]
			}
			mems[name] = &memory{name: name, slots: make([]*slot, n)}
		}
	}
	return mems
}

func (mem *memory) capacity() int { return len(mem.slots) }

func (mem *memory) used() int {
	n := 0
	for _, s := range mem.slots {
		if s != nil {
			n++
		}
	}
	return n
}

// store puts a message in the lowest free slot and returns its position,
// or -1 if the memory is full.
func (mem *memory) store(s *slot) int {
	for i, cur := range mem.slots {
		if cur == nil {
			mem.slots[i] = s
			return i
		}
	}
	return -1
}

// memLocked returns <mem1>, <mem2> or <mem3> (n = 0, 1, 2).
func (m *Modem) memLocked(n int) *memory { return m.mems[m.mem[n]] }

// usedLocked counts the messages in every memory.
func (m *Modem) usedLocked() int {
	n := 0
	for _, mem := range m.mems {
		n += mem.used()
	}
	return n
}

// StoredIn returns how many messages sit in memory mem ("SM", "ME", "SR").
func (m *Modem) StoredIn(mem string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if x := m.mems[mem]; x != nil {
		return x.used()
	}
	return 0
}

// slotLocked returns the position in <mem1> of the index a command gave.
func (m *Modem) slotLocked(args []string) (int, bool) {
	mem := m.memLocked(0)
	i, good := intArg(args, 0, m.d.store.base, m.d.store.base+mem.capacity()-1, -1)
	if !good || i < m.d.store.base {
		return 0, false
	}
	return i - m.d.store.base, true
}

// withSMSC prefixes a TPDU with the SMSC address, as in PDU mode.
func (m *Modem) withSMSC(t []byte) (*slot, error) {
	p := pdumode.PDU{TPDU: t}
	if m.smsc != "" {
		p.SMSC.Address = tpdu.NewAddress(tpdu.FromNumber(m.smsc))
	}
	b, err := p.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("SMSC prefix: %w", err)
	}
	return &slot{stat: statUnread, pdu: b, tpduLen: len(t)}, nil
}

// concatPart places one delivered part in a concatenated message; Total
// <= 1 is none: the text is split as it needs.
type concatPart struct{ ref, total, seq int }

// deliverPDUsLocked encodes text from oa as SMS-DELIVER slot(s), stamped
// scts. With a concatPart, text is one part, sent with that header alone.
func (m *Modem) deliverPDUsLocked(oa tpdu.Address, text string, scts time.Time, cp concatPart) ([]*slot, error) {
	var tpdus []tpdu.TPDU
	if cp.total > 1 {
		t, err := m.partPDU(oa, text, cp)
		if err != nil {
			return nil, err
		}
		tpdus = []tpdu.TPDU{*t}
	} else if text == "" {
		t, err := tpdu.NewDeliver(tpdu.WithOA(oa))
		if err != nil {
			return nil, fmt.Errorf("encode: %w", err)
		}
		tpdus = []tpdu.TPDU{*t}
	} else {
		var err error
		tpdus, err = m.enc.Encode([]byte(text), sms.WithTemplateOption(tpdu.WithOA(oa)))
		if err != nil {
			return nil, fmt.Errorf("encode: %w", err)
		}
	}
	slots := make([]*slot, 0, len(tpdus))
	for _, t := range tpdus {
		t.SCTS = tpdu.Timestamp{Time: scts}
		b, err := t.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("marshal SMS-DELIVER: %w", err)
		}
		s, err := m.withSMSC(b)
		if err != nil {
			return nil, err
		}
		slots = append(slots, s)
	}
	return slots, nil
}

// partPDU encodes text as one part of a concatenated message: the text
// as one segment, then the 8-bit concatenation element (TS 23.040
// §9.2.3.24.1) added to its header, which the encoder leaves out of a
// single segment.
func (m *Modem) partPDU(oa tpdu.Address, text string, cp concatPart) (*tpdu.TPDU, error) {
	ts, err := m.enc.Encode([]byte(text), sms.WithTemplateOption(tpdu.WithOA(oa)))
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	if len(ts) != 1 {
		return nil, fmt.Errorf("encode: part text %d parts long: %w", len(ts), ErrInvalidPart)
	}
	t := ts[0]
	t.SetUDH(append(t.UDH, tpdu.InformationElement{ID: 0, Data: []byte{byte(cp.ref), byte(cp.total), byte(cp.seq)}}))
	if _, err := t.MarshalBinary(); err != nil {
		return nil, fmt.Errorf("encode part %d of %d: %w", cp.seq, cp.total, err)
	}
	return &t, nil
}

// smsCommandLocked runs the 3GPP TS 27.005 commands; unknown ones fail.
func (m *Modem) smsCommandLocked(c call) result {
	switch c.name {
	case "+CMGS", "+CMGR", "+CMGL", "+CMGD", "+CPMS", "+CNMI", "+CSMS", "+CMMS", "+CNMA", "+CSCA":
	default:
		return fail(m.d.unknownErr())
	}
	if c.op == opTest {
		return m.smsTestLocked(c.name)
	}
	if m.simBusyLocked() {
		return fail(cmeErr(14))
	}
	if e := m.simGateLocked(true); e != nil {
		return fail(e)
	}
	switch c.name {
	case "+CMGS":
		return m.cmgsLocked(c)
	case "+CMGR":
		return m.cmgrLocked(c)
	case "+CMGL":
		return m.cmglLocked(c)
	case "+CMGD":
		return m.cmgdLocked(c)
	case "+CPMS":
		return m.cpmsLocked(c)
	case "+CNMI":
		return m.cnmiLocked(c)
	case "+CSMS":
		return m.csmsLocked(c)
	case "+CMMS":
		return intSetting(c, "+CMMS", &m.set.cmms, 2, cmsErr(303))
	case "+CNMA":
		return ok()
	default: // +CSCA
		return m.cscaLocked(c)
	}
}

// memList formats memory names as a +CPMS=? list: ("SM","ME").
func memList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return "(" + strings.Join(q, ",") + ")"
}

// cnmiTest is the +CNMI=? answer.
func (m *Modem) cnmiTest() string {
	if m.d.cnmiTest != "" {
		return m.d.cnmiTest
	}
	return "(0-3),(0-3),(0-3),(0-2),(0,1)"
}

func (m *Modem) smsTestLocked(name string) result {
	switch name {
	case "+CMGL":
		return ok("+CMGL: (0-4)")
	case "+CMGD":
		var used []string
		for i, s := range m.memLocked(0).slots {
			if s != nil {
				used = append(used, strconv.Itoa(i+m.d.store.base))
			}
		}
		return okf("+CMGD: (%s),(0-4)", strings.Join(used, ","))
	case "+CPMS":
		st := m.d.store
		return okf("+CPMS: %s,%s,%s", memList(st.mem1), memList(st.mem2), memList(st.mem3))
	case "+CNMI":
		return ok("+CNMI: " + m.cnmiTest())
	case "+CSMS":
		return ok("+CSMS: (0,1)")
	case "+CMMS":
		return ok("+CMMS: (0-2)")
	}
	return ok()
}

func (m *Modem) cmgsLocked(c call) result {
	if c.op != opSet || len(c.args) > 2 {
		return fail(plainErr())
	}
	if m.set.cmgf != 0 {
		return fail(cmsErr(302)) // text mode is not simulated
	}
	n, good := intArg(c.args, 0, 1, maxTPDU, 0)
	if !good || n == 0 {
		return fail(cmsErr(304))
	}
	return result{prompt: n}
}

func (m *Modem) cmgrLocked(c call) result {
	if c.op != opSet || len(c.args) != 1 {
		return fail(plainErr())
	}
	if m.set.cmgf != 0 {
		return fail(cmsErr(302))
	}
	i, good := m.slotLocked(c.args)
	mem := m.memLocked(0)
	if good && mem.slots[i] == nil && m.d.emptyReadOK {
		return ok() // row 16: a bare OK
	}
	if !good || mem.slots[i] == nil {
		return fail(cmsErr(321))
	}
	s := mem.slots[i]
	header := fmt.Sprintf("+CMGR: %d,,%d", s.stat, s.tpduLen)
	if m.d.cmgrNoStat {
		header = fmt.Sprintf("+CMGR: ,,%d", s.tpduLen) // row 44
	}
	lines := []string{header, m.pduLine(s)}
	if s.stat == statUnread {
		s.stat = statRead
	}
	return ok(lines...)
}

// pduLine is a stored message as +CMGR and +CMGL show it.
func (m *Modem) pduLine(s *slot) string {
	if m.opts.PDUTrailer {
		return hexUpper(s.pdu) + ",0" // row 34
	}
	return hexUpper(s.pdu)
}

func (m *Modem) cmglLocked(c call) result {
	if (c.op != opSet && c.op != opExec) || len(c.args) > 1 {
		return fail(plainErr())
	}
	if m.set.cmgf != 0 {
		return fail(cmsErr(302))
	}
	stat, good := intArg(c.args, 0, 0, statAll, statUnread)
	if !good {
		return fail(cmsErr(304))
	}
	var lines []string
	for i, slot := range m.memLocked(0).slots {
		if slot == nil || (stat != statAll && slot.stat != stat) {
			continue
		}
		lines = append(lines, fmt.Sprintf("+CMGL: %d,%d,,%d", i+m.d.store.base, slot.stat, slot.tpduLen), m.pduLine(slot))
		if slot.stat == statUnread {
			slot.stat = statRead
		}
	}
	return ok(lines...)
}

func (m *Modem) cmgdLocked(c call) result {
	if c.op != opSet || len(c.args) > 2 {
		return fail(plainErr())
	}
	flag, good := intArg(c.args, 1, 0, 4, 0)
	if !good {
		return fail(cmsErr(304))
	}
	mem := m.memLocked(0)
	if flag == 0 {
		i, good := m.slotLocked(c.args)
		if !good {
			return fail(cmsErr(321))
		}
		mem.slots[i] = nil
		return ok()
	}
	for i, s := range mem.slots {
		if s == nil {
			continue
		}
		// Only received messages are stored: read (1) for flags 1–3, all for 4.
		if flag == 4 || s.stat == statRead {
			mem.slots[i] = nil
		}
	}
	return ok()
}

// cpmsLocked serves +CPMS (TS 27.005 §3.2.2): <mem1> is read, listed and
// deleted from, <mem2> written and sent from, <mem3> receives.
func (m *Modem) cpmsLocked(c call) result {
	counts := func(n int) string {
		var parts []string
		for i := range n {
			mem := m.memLocked(i)
			parts = append(parts, fmt.Sprintf("%d,%d", mem.used(), mem.capacity()))
		}
		return strings.Join(parts, ",")
	}
	switch c.op {
	case opRead:
		if time.Now().Before(m.cpmsBusyUntil) {
			return fail(cmeErr(14)) // row 24
		}
		var parts []string
		for i := range 3 {
			mem := m.memLocked(i)
			parts = append(parts, fmt.Sprintf("%q,%d,%d", mem.name, mem.used(), mem.capacity()))
		}
		return ok("+CPMS: " + strings.Join(parts, ","))
	case opSet:
		if len(c.args) > 3 || (m.d.store.cpmsArgs != nil && !slices.Contains(m.d.store.cpmsArgs, len(c.args))) {
			return fail(plainErr()) // row 11
		}
		st := m.d.store
		allowed := [3][]string{st.mem1, st.mem2, st.mem3}
		sel := m.mem
		for i, name := range c.args {
			if !slices.Contains(allowed[i], strings.ToUpper(name)) {
				return fail(cmsErr(302))
			}
			sel[i] = strings.ToUpper(name)
		}
		m.mem = sel
		return ok("+CPMS: " + counts(3))
	}
	return fail(plainErr())
}

func (m *Modem) cnmiLocked(c call) result {
	switch c.op {
	case opRead:
		v := m.set.cnmi
		return okf("+CNMI: %d,%d,%d,%d,%d", v[0], v[1], v[2], v[3], v[4])
	case opSet:
		if len(c.args) > 5 {
			return fail(plainErr())
		}
		// Only what +CNMI=? lists (row 28); an omitted parameter takes
		// the lowest value listed.
		allowed := cnmiAllowed(m.cnmiTest())
		var v [5]int
		for i := range v {
			if len(allowed[i]) == 0 {
				return fail(cmsErr(303))
			}
			n, good := intArg(c.args, i, 0, 9, allowed[i][0])
			if !good || !slices.Contains(allowed[i], n) {
				return fail(cmsErr(303))
			}
			v[i] = n
		}
		m.set.cnmi = v
		return ok()
	}
	return fail(plainErr())
}

func (m *Modem) csmsLocked(c call) result {
	switch c.op {
	case opRead:
		return okf("+CSMS: %d,1,1,1", m.set.csms)
	case opSet:
		if n, good := intArg(c.args, 0, 0, 1, 0); good && len(c.args) == 1 {
			m.set.csms = n
			return ok("+CSMS: 1,1,1")
		}
		return fail(cmsErr(303))
	}
	return fail(plainErr())
}

func (m *Modem) cscaLocked(c call) result {
	switch c.op {
	case opRead:
		if m.d.cscaUCS2 {
			return okf("+CSCA: %s,%d", ucs2Hex(m.smsc), toa(m.smsc)) // row 30
		}
		return okf("+CSCA: %q,%d", m.smsc, toa(m.smsc))
	case opSet:
		if len(c.args) > 2 {
			return fail(plainErr())
		}
		num := c.args[0]
		digits := strings.TrimPrefix(num, "+")
		if !isDigits(digits) || len(digits) > 20 {
			return fail(cmsErr(304))
		}
		m.smsc = num
		return ok()
	}
	return fail(plainErr())
}

func hexUpper(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

// ucs2Hex writes s (ASCII) as UCS2 hex: "+33" is "002B00330033".
func ucs2Hex(s string) string {
	var b strings.Builder
	for _, r := range s {
		fmt.Fprintf(&b, "%04X", r)
	}
	return b.String()
}

// submit validates a PDU given after the +CMGS prompt. It returns how long
// the network takes and the function producing the final answer then; the
// part is accepted (and gets its message reference) only at that time.
func (m *Modem) submit(hexPDU string, length int) (time.Duration, func() reply) {
	m.mu.Lock()
	defer m.mu.Unlock()
	reject := func(code int, why string, err error) (time.Duration, func() reply) {
		m.log.Debug("submit rejected", "code", code, "why", why, "err", err)
		r := reply{final: m.errFinalLocked(cmsErr(code))}
		return m.latency, func() reply { return r }
	}
	b, err := hex.DecodeString(hexPDU)
	if err != nil {
		return reject(304, "hex", err)
	}
	p, err := pdumode.UnmarshalBinary(b)
	if err != nil {
		return reject(304, "SMSC address", err)
	}
	if len(p.TPDU) != length {
		return reject(304, "length", fmt.Errorf("TPDU is %d octets, +CMGS said %d", len(p.TPDU), length))
	}
	t, err := sms.Unmarshal(p.TPDU, sms.AsMO)
	if err != nil {
		return reject(304, "TPDU", err)
	}
	if t.SmsType() != tpdu.SmsSubmit {
		return reject(304, "not SMS-SUBMIT", nil)
	}
	da := t.DA.Number()
	if strings.TrimPrefix(da, "+") == "" {
		return reject(304, "empty DA", nil)
	}
	if m.regStatLocked() != regHome {
		return reject(331, "no network", nil)
	}
	return m.sendDelay + m.latency, func() reply { return m.accept(t, da) }
}

// accept ends a +CMGS: the network takes the part, or refuses it.
func (m *Modem) accept(t *tpdu.TPDU, da string) reply {
	m.mu.Lock()
	defer m.mu.Unlock()
	refuse := func(code int) reply { return reply{final: m.errFinalLocked(cmsErr(code))} }
	if m.regStatLocked() != regHome {
		return refuse(331)
	}
	if m.broken {
		return refuse(300)
	}
	if code, bad := m.fail[da]; bad {
		return refuse(code)
	}
	if len(m.failCodes) > 0 && m.rng.Float64() < m.failRate {
		code := m.failCodes[0]
		if len(m.failCodes) > 1 { // one code draws nothing more: seeds keep their runs
			code = m.failCodes[m.rng.IntN(len(m.failCodes))]
		}
		return refuse(code)
	}
	stray := m.strayErrors > 0
	if stray {
		m.strayErrors--
		if !m.straySent {
			m.log.Debug("submit answered a bare ERROR, not sent", "to", da)
			return reply{final: "ERROR"}
		}
	}
	mr := m.mr
	m.mr = (m.mr + 1) % 256
	now := time.Now()
	m.recordLocked(part{t: t, mr: mr}, da, now)
	if t.FirstOctet.SRR() {
		if d := m.opts.ReportDelay; d > 0 {
			m.goAfterLocked(d, func() {
				m.mu.Lock()
				defer m.mu.Unlock()
				m.statusReportLocked(t, da, mr, now, time.Now())
			})
		} else {
			m.statusReportLocked(t, da, mr, now, now)
		}
	}
	if stray {
		// Whatever the modem's +CMEE mode: the stray result is a bare ERROR.
		m.log.Debug("submitted, but answered a bare ERROR", "to", da, "mr", mr)
		return reply{final: "ERROR"}
	}
	m.log.Debug("submitted", "to", da, "mr", mr)
	return reply{lines: []string{fmt.Sprintf("+CMGS: %d", mr)}, final: "OK"}
}

// recordLocked files an accepted part and delivers the message once whole.
func (m *Modem) recordLocked(p part, da string, now time.Time) {
	total, seq, ref, isConcat := p.t.ConcatInfo()
	if !isConcat || total <= 1 || seq < 1 || seq > total {
		m.deliverLocked(da, []part{p}, now)
		return
	}
	key := fmt.Sprintf("%s/%d/%d", da, ref, total)
	pm := m.partial[key]
	if pm == nil {
		pm = &partial{parts: make(map[int]part), total: total}
		m.partial[key] = pm
	}
	pm.parts[seq] = p // a resent part replaces the earlier copy
	if len(pm.parts) < total {
		return
	}
	delete(m.partial, key)
	parts := make([]part, total)
	for i := range parts {
		parts[i] = pm.parts[i+1]
	}
	m.deliverLocked(da, parts, now)
}

// deliverLocked hands a whole message to the simulated phone da.
func (m *Modem) deliverLocked(da string, parts []part, now time.Time) {
	segs := make([]*tpdu.TPDU, len(parts))
	msg := SMS{From: m.opts.Number, To: da, Parts: len(parts), At: now}
	for i, p := range parts {
		segs[i] = p.t
		msg.Refs = append(msg.Refs, p.mr)
		msg.SRR = msg.SRR || p.t.FirstOctet.SRR()
	}
	text, err := sms.Decode(segs)
	if err != nil {
		m.log.Warn("undecodable message", "to", da, "err", err)
	}
	msg.Text = string(text)
	switch a, _ := segs[0].Alphabet(); a {
	case tpdu.AlphaUCS2:
		msg.Alphabet = "UCS2"
	case tpdu.Alpha8Bit:
		msg.Alphabet = "8BIT"
	default:
		msg.Alphabet = "GSM7"
	}
	m.received = append(m.received, msg)
	if !m.closed { // Close already closed changed to wake every waiter
		close(m.changed)
		m.changed = make(chan struct{})
	}
}

// statusReportLocked routes the SMS-STATUS-REPORT of a part as +CNMI <ds>
// says: 1 as +CDS, 2 stored and announced with +CDSI, 0 not at all.
// scts is when the SMSC took the part, dt when the report was made, both
// host times: the report carries them on the network's clock (the SMSC's),
// which the gateway matches against its own dating of the send.
func (m *Modem) statusReportLocked(t *tpdu.TPDU, da string, mr int, scts, dt time.Time) {
	ds := m.set.cnmi[3]
	if ds == 0 || m.closed {
		return
	}
	var sr tpdu.TPDU
	if err := sr.SetSmsType(tpdu.SmsStatusReport); err != nil {
		m.log.Warn("status report", "err", err)
		return
	}
	sr.MR, sr.RA, sr.ST = byte(mr), t.DA, m.reportST[da]
	sr.SCTS, sr.DT = tpdu.Timestamp{Time: m.networkTimeLocked(scts)}, tpdu.Timestamp{Time: m.networkTimeLocked(dt)}
	b, err := sr.MarshalBinary()
	if err != nil {
		m.log.Warn("status report", "err", err)
		return
	}
	s, err := m.withSMSC(b)
	if err != nil {
		m.log.Warn("status report", "err", err)
		return
	}
	if ds == 1 {
		m.postLocked(fmt.Sprintf("+CDS: %d\r\n%s", s.tpduLen, hexUpper(s.pdu)))
		return
	}
	mem := m.memLocked(2)
	if r := m.mems[m.d.store.reports]; r != nil {
		mem = r // rows 16, 21: a memory of their own
	}
	i := mem.store(s)
	if i < 0 {
		m.log.Warn("status report dropped: storage full", "mem", mem.name, "to", da, "mr", mr)
		return
	}
	announce := mem.name
	if m.d.store.announce != "" {
		announce = m.d.store.announce // row 16: "SM" for a report in "SR"
	}
	m.postLocked(fmt.Sprintf(`+CDSI: %q,%d`, announce, i+m.d.store.base))
}

// Helpers used by the session without holding m.mu.

func (m *Modem) isHung() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hung
}

func (m *Modem) echoOn() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.set.echo
}

func (m *Modem) getLatency() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.latency
}

func (m *Modem) errFinal(e *atError) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.errFinalLocked(e)
}
