package sim

import (
	"encoding/hex"
	"fmt"
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

func (m *Modem) capacity() int { return len(m.store) }

func (m *Modem) usedLocked() int {
	n := 0
	for _, s := range m.store {
		if s != nil {
			n++
		}
	}
	return n
}

// storeLocked puts a message in the lowest free slot and returns its index,
// or -1 if the storage is full.
func (m *Modem) storeLocked(s *slot) int {
	for i, cur := range m.store {
		if cur == nil {
			m.store[i] = s
			return i
		}
	}
	return -1
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

// deliverPDUsLocked encodes text from oa as SMS-DELIVER slot(s).
func (m *Modem) deliverPDUsLocked(oa tpdu.Address, text string, now time.Time) ([]*slot, error) {
	var tpdus []tpdu.TPDU
	if text == "" {
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
		t.SCTS = tpdu.Timestamp{Time: now}
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

// smsCommandLocked runs the 3GPP TS 27.005 commands; unknown ones fail.
func (m *Modem) smsCommandLocked(c call) result {
	switch c.name {
	case "+CMGS", "+CMGR", "+CMGL", "+CMGD", "+CPMS", "+CNMI", "+CSMS", "+CMMS", "+CNMA", "+CSCA":
	default:
		return fail(plainErr())
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

func (m *Modem) smsTestLocked(name string) result {
	switch name {
	case "+CMGL":
		return ok("+CMGL: (0-4)")
	case "+CMGD":
		var used []string
		for i, s := range m.store {
			if s != nil {
				used = append(used, strconv.Itoa(i))
			}
		}
		return okf("+CMGD: (%s),(0-4)", strings.Join(used, ","))
	case "+CPMS":
		return ok(`+CPMS: ("SM"),("SM"),("SM")`)
	case "+CNMI":
		return ok("+CNMI: (0-3),(0-3),(0-3),(0-2),(0,1)")
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
	i, good := intArg(c.args, 0, 0, m.capacity()-1, -1)
	if !good || i < 0 || m.store[i] == nil {
		return fail(cmsErr(321))
	}
	s := m.store[i]
	lines := []string{fmt.Sprintf("+CMGR: %d,,%d", s.stat, s.tpduLen), hexUpper(s.pdu)}
	if s.stat == statUnread {
		s.stat = statRead
	}
	return ok(lines...)
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
	for i, s := range m.store {
		if s == nil || (stat != statAll && s.stat != stat) {
			continue
		}
		lines = append(lines, fmt.Sprintf("+CMGL: %d,%d,,%d", i, s.stat, s.tpduLen), hexUpper(s.pdu))
		if s.stat == statUnread {
			s.stat = statRead
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
	if flag == 0 {
		i, good := intArg(c.args, 0, 0, m.capacity()-1, -1)
		if !good || i < 0 {
			return fail(cmsErr(321))
		}
		m.store[i] = nil
		return ok()
	}
	for i, s := range m.store {
		if s == nil {
			continue
		}
		// Only received messages are stored: read (1) for flags 1–3, all for 4.
		if flag == 4 || s.stat == statRead {
			m.store[i] = nil
		}
	}
	return ok()
}

func (m *Modem) cpmsLocked(c call) result {
	used, total := m.usedLocked(), m.capacity()
	switch c.op {
	case opRead:
		return okf(`+CPMS: "SM",%d,%d,"SM",%d,%d,"SM",%d,%d`, used, total, used, total, used, total)
	case opSet:
		if len(c.args) > 3 {
			return fail(plainErr())
		}
		for _, mem := range c.args {
			if mem != "SM" {
				return fail(cmsErr(302))
			}
		}
		parts := make([]string, 0, len(c.args))
		for range c.args {
			parts = append(parts, fmt.Sprintf("%d,%d", used, total))
		}
		return ok("+CPMS: " + strings.Join(parts, ","))
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
		limits := [5]int{3, 3, 3, 2, 1}
		var v [5]int
		for i := range v {
			n, good := intArg(c.args, i, 0, limits[i], 0)
			if !good {
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

// submit validates a PDU given after the +CMGS prompt. It returns how long
// the network takes and the function producing the final answer then; the
// part is accepted (and gets its message reference) only at that time.
func (m *Modem) submit(hexPDU string, length int) (time.Duration, func() reply) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cmee := m.set.cmee
	reject := func(code int, why string, err error) (time.Duration, func() reply) {
		m.log.Debug("submit rejected", "code", code, "why", why, "err", err)
		r := reply{final: cmsErr(code).final(cmee)}
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
	refuse := func(code int) reply { return reply{final: cmsErr(code).final(m.set.cmee)} }
	if m.regStatLocked() != regHome {
		return refuse(331)
	}
	if m.broken {
		return refuse(300)
	}
	if code, bad := m.fail[da]; bad {
		return refuse(code)
	}
	if m.failCode != 0 && m.rng.Float64() < m.failRate {
		return refuse(m.failCode)
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
// scts is when the SMSC took the part, dt when the report was made.
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
	sr.SCTS, sr.DT = tpdu.Timestamp{Time: scts}, tpdu.Timestamp{Time: dt}
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
	i := m.storeLocked(s)
	if i < 0 {
		m.log.Warn("status report dropped: storage full", "to", da, "mr", mr)
		return
	}
	m.postLocked(fmt.Sprintf(`+CDSI: "SM",%d`, i))
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

func (m *Modem) getCMEE() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.set.cmee
}
