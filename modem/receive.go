package modem

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/warthog618/modem/at"
	"github.com/warthog618/sms"
	"github.com/warthog618/sms/encoding/pdumode"
	"github.com/warthog618/sms/encoding/tpdu"
	"github.com/warthog618/sms/encoding/ucs2"

	"vigie/modem/internal/charsets"
)

// Received is one SMS part or status report read from the modem's storage.
type Received struct {
	// Index is the storage slot it was read from.
	Index int
	// Key identifies this exact SMS (sender, timestamp, PDU), so the same one
	// read twice — listed again after a restart before it was deleted — is
	// processed once.
	Key string
	// PDU is the PDU as the modem gave it, hex, kept for messages that
	// cannot be decoded so that nothing is lost.
	PDU string
	// Err is set when the PDU cannot be decoded; the other fields may be empty.
	Err error

	// Report is set for an SMS-STATUS-REPORT; the SMS fields are then empty.
	Report *StatusReport

	From string
	// FromKind is what the TP-OA's type of number says From is: a phone
	// number, or a name or code that only spells like one ("0612345679"
	// sent as an alphanumeric sender by any bulk-SMS account).
	FromKind SenderKind
	SCTS     time.Time
	// ConcatRef, Total and Seq place a part in a concatenated message;
	// a single SMS has Total 1, Seq 1.
	ConcatRef, Total, Seq int
	Text                  string
}

// SenderKind is what an SMS sender is, from the type of number of its
// address (TS 23.040 §9.1.2.5).
type SenderKind string

// Sender kinds. SenderNumber is the zero value: international, national,
// subscriber and unknown types of number are digits a phone may have sent
// from, to be checked as a phone number by whoever acts on them.
const (
	SenderNumber SenderKind = ""
	// SenderAlphanumeric is a name in the GSM 7-bit alphabet ("ORANGE",
	// "Banque", or digits written as a name): nobody can answer it.
	SenderAlphanumeric SenderKind = "alphanumeric"
	// SenderShortCode is an abbreviated or network-specific number: an
	// operator's or service's code, not a subscriber's phone.
	SenderShortCode SenderKind = "short-code"
)

// senderKind reads the type of number of a TP-OA.
func senderKind(ton tpdu.TypeOfNumber) SenderKind {
	switch ton {
	case tpdu.TonAlphanumeric:
		return SenderAlphanumeric
	case tpdu.TonAbbreviated, tpdu.TonNetworkSpecific:
		return SenderShortCode
	}
	return SenderNumber
}

// StatusReport is a decoded SMS-STATUS-REPORT (TS 23.040 §9.2.2.3).
type StatusReport struct {
	Ref       int       // TP-MR of the SMS it reports on
	Recipient string    // TP-RA
	Status    byte      // TP-ST: 0x00–0x1F delivered, 0x20–0x3F pending, 0x40+ failed
	SCTS      time.Time // when the SC accepted the SMS
	Discharge time.Time // TP-DT: when it was delivered or failed
}

// ReceiveStored lists everything stored in the modem (+CMGL=4), hands each
// entry to handle, and deletes from the modem only the entries handle
// accepted (returned nil for); one it kept (ErrDeleteLater) waits for
// DeleteKept, and is skipped by the listings until then. An entry handle
// refuses stays in the modem and comes back at the next listing: nothing
// is lost if the database is down.
// An entry whose PDU the listing garbled is read again alone (+CMGR); one
// still unreadable stays in the modem and is reported in the error, which
// then wraps ErrBadResponse. It returns how many entries were handled.
//
// Every memory something may wait in is read: the one chosen at start-up,
// "SR" where status reports are kept apart (Quectel, SIMCom: real-modems.md
// rows 16, 21; Quectel announces them as "SM"), and any memory a +CMTI or
// +CDSI named. Reading another memory selects it as mem1 for the time of
// the listing; mem1 is set back before returning.
func (m *Modem) ReceiveStored(handle func(Received) error) (int, error) {
	m.readMu.Lock()
	defer m.readMu.Unlock()
	return m.receiveStored(handle)
}

func (m *Modem) receiveStored(handle func(Received) error) (int, error) {
	// The listing reads whatever was announced before it.
	m.annMu.Lock()
	m.slots, m.overflow = nil, false
	m.annMu.Unlock()
	total := 0
	var errs []error
	selected := m.current
	defer func() { m.current = selected }()
	for _, mem := range m.memoriesToRead() {
		if mem != selected {
			if _, err := m.command(m.mem.command(mem)); err != nil {
				errs = append(errs, fmt.Errorf("select memory %s: %w", mem, err))
				if fatal(err) {
					return total, errors.Join(errs...)
				}
				continue
			}
			selected = mem
		}
		n, err := m.receiveFrom(selected, handle)
		total += n
		if err != nil {
			if mem != "" {
				err = fmt.Errorf("memory %s: %w", mem, err)
			}
			errs = append(errs, err)
			if fatal(err) {
				return total, errors.Join(errs...)
			}
		}
	}
	if selected != m.mem.read {
		if _, err := m.command(m.mem.command(m.mem.read)); err != nil {
			errs = append(errs, fmt.Errorf("select memory %s again: %w", m.mem.read, err))
		} else {
			selected = m.mem.read
		}
	}
	return total, errors.Join(errs...)
}

// maxSlots bounds the announcements kept for ReceiveAnnounced: past it a
// burst is read by one listing, cheaper than that many +CMGR.
const maxSlots = 32

// ReceiveAnnounced reads the entries +CMTI and +CDSI announced since the
// last reading, each alone (+CMGR of the announced index, in the announced
// memory), hands each to handle and deletes those handle accepted, as
// ReceiveStored does: one delivery report of a fan-out costs a read and a
// delete, not a listing of every memory. A status report announced in
// another memory than "SR" on a modem that keeps reports in "SR" is looked
// for in "SR" first (Quectel announces "SM": real-modems.md row 16).
//
// It falls back to ReceiveStored (listed true) when an announcement could
// not be followed: more came than are kept, one named no index, the slot
// held nothing (read already, or stored elsewhere than said) or not what
// was announced, or the modem would not let memories be selected. The
// owner still lists at start-up, after a modem loss and now and then, for
// an announcement that never came.
func (m *Modem) ReceiveAnnounced(handle func(Received) error) (n int, listed bool, err error) {
	m.readMu.Lock()
	defer m.readMu.Unlock()
	m.annMu.Lock()
	slots, overflow := m.slots, m.overflow
	m.slots, m.overflow = nil, false
	m.reading = len(slots)
	m.annMu.Unlock()
	defer func() {
		m.annMu.Lock()
		m.reading = 0
		m.annMu.Unlock()
	}()
	list := overflow || m.mem.read == ""
	var errs []error
	// mem1 stays where the last entry was read: a fan-out's reports all
	// wait in "SR" on the modems that keep them apart.
	selected := m.current
	defer func() { m.current = selected }()
	for _, sl := range slots {
		if list {
			break
		}
		got, found, err := m.readAnnounced(sl, &selected, handle)
		n += got
		m.annMu.Lock()
		m.reading = max(m.reading-1, 0)
		m.annMu.Unlock()
		if err != nil {
			errs = append(errs, err)
			if fatal(err) {
				return n, false, errors.Join(errs...)
			}
		}
		list = list || !found
	}
	if list {
		m.current = selected
		got, err := m.receiveStored(handle)
		selected = m.current
		n += got
		errs = append(errs, err)
		return n, true, errors.Join(errs...)
	}
	return n, false, errors.Join(errs...)
}

// readAnnounced reads, hands over and deletes the entry sl announced; found
// is false when no memory tried held what was announced. selected is the
// memory mem1 is set to, kept up to date.
func (m *Modem) readAnnounced(sl announcedSlot, selected *string, handle func(Received) error) (n int, found bool, err error) {
	mems := []string{sl.mem}
	if sl.mem == "" {
		mems[0] = *selected
	}
	if sl.report && m.readsSR && mems[0] != "SR" {
		mems = []string{"SR", mems[0]}
	}
	for _, mem := range mems {
		if m.isKept(mem, sl.index) {
			continue // handed over already, not deleted yet: not a new entry
		}
		if mem != *selected {
			if _, err := m.command(m.mem.command(mem)); err != nil {
				if fatal(err) {
					return n, false, fmt.Errorf("select memory %s: %w", mem, err)
				}
				continue // a memory this modem does not have
			}
			*selected = mem
		}
		r, err := m.readStored(sl.index)
		if err != nil {
			if fatal(err) {
				return n, false, err
			}
			continue // empty (CMS 321, or a bare OK: row 16) or unreadable here
		}
		// Whatever the slot holds is stored and is read and deleted, even
		// an SMS where a report was announced (row 16: slot 0 of "SM").
		err = handle(r)
		if errors.Is(err, ErrDeleteLater) {
			m.keep(mem, r.Index)
			n++
			if (r.Report != nil) == sl.report {
				return n, true, nil
			}
			continue
		}
		if err != nil {
			return n, true, fmt.Errorf("handle stored SMS %d: %w", r.Index, err)
		}
		if _, err := m.command("+CMGD=" + strconv.Itoa(r.Index)); err != nil {
			m.log.Warn("delete stored SMS", "index", r.Index, "err", err)
			if fatal(err) {
				return n + 1, true, err
			}
		}
		n++
		if (r.Report != nil) == sl.report {
			return n, true, nil
		}
	}
	return n, false, nil
}

// ErrDeleteLater, returned by the handler of ReceiveStored or
// ReceiveAnnounced, keeps the entry in the modem until DeleteKept (the
// caller commits what it says first, with others: one commit for the
// delivery reports of a pass) or ReleaseKept. It counts as handled; until
// then no listing of this session hands it over again. After a modem loss
// the new session reads it again: the caller must take an entry twice.
var ErrDeleteLater = errors.New("modem: entry kept until the caller deletes it")

// keptEntry is an entry kept for DeleteKept: its memory ("" for the
// modem's own selection) and index.
type keptEntry struct {
	mem   string
	index int
}

// keep notes an entry a handler kept (ErrDeleteLater); readMu is held.
func (m *Modem) keep(mem string, index int) {
	m.annMu.Lock()
	defer m.annMu.Unlock()
	m.kept = append(m.kept, keptEntry{mem: mem, index: index})
}

// isKept says whether the entry at index of mem waits for DeleteKept.
func (m *Modem) isKept(mem string, index int) bool {
	m.annMu.Lock()
	defer m.annMu.Unlock()
	return slices.Contains(m.kept, keptEntry{mem: mem, index: index})
}

// DeleteKept deletes from the modem the entries handlers kept
// (ErrDeleteLater), once the caller has committed what they say, and
// forgets them; it returns how many it deleted. Each memory is selected
// once, as needed, and mem1 set back to where it was. An entry whose
// delete failed stays in the storage and is read again by a listing (the
// caller takes it twice); after a timeout or a closed port the session is
// over and every entry is forgotten.
func (m *Modem) DeleteKept() (int, error) {
	m.readMu.Lock()
	defer m.readMu.Unlock()
	m.annMu.Lock()
	kept := slices.Clone(m.kept)
	m.annMu.Unlock()
	// Forgotten only once deleted: Unread counts them meanwhile.
	defer func() {
		m.annMu.Lock()
		m.kept = nil
		m.annMu.Unlock()
	}()
	start, selected := m.current, m.current
	defer func() { m.current = selected }()
	// Those in the memory selected now first: a fan-out's reports all
	// wait in one memory, deleted without a +CPMS.
	slices.SortStableFunc(kept, func(a, b keptEntry) int {
		if (a.mem == selected) != (b.mem == selected) {
			if a.mem == selected {
				return -1
			}
			return 1
		}
		return strings.Compare(a.mem, b.mem)
	})
	n := 0
	var errs []error
	for _, k := range kept {
		if k.mem != "" && k.mem != selected {
			if _, err := m.command(m.mem.command(k.mem)); err != nil {
				errs = append(errs, fmt.Errorf("select memory %s: %w", k.mem, err))
				if fatal(err) {
					return n, errors.Join(errs...)
				}
				continue // left in the modem: a listing reads it again
			}
			selected = k.mem
		}
		if _, err := m.command("+CMGD=" + strconv.Itoa(k.index)); err != nil {
			m.log.Warn("delete stored SMS", "mem", k.mem, "index", k.index, "err", err)
			if fatal(err) {
				return n, err
			}
			continue
		}
		n++
	}
	if selected != start && start != "" {
		if _, err := m.command(m.mem.command(start)); err != nil {
			errs = append(errs, fmt.Errorf("select memory %s again: %w", start, err))
		} else {
			selected = start
		}
	}
	return n, errors.Join(errs...)
}

// ReleaseKept forgets the entries kept for DeleteKept without deleting
// them: the caller could not commit them (disk full), and the next listing
// hands them over again.
func (m *Modem) ReleaseKept() {
	m.readMu.Lock()
	defer m.readMu.Unlock()
	m.annMu.Lock()
	defer m.annMu.Unlock()
	m.kept = nil
}

// fatal reports the errors after which no other command should be tried
// in this session: a late answer would be taken for the next command's.
func fatal(err error) bool { return errors.Is(err, ErrTimeout) || errors.Is(err, ErrClosed) }

// memoriesToRead is mem1, then "SR" where the modem keeps reports there,
// then the other memories announcements named. An empty name is the
// modem's own selection, when +CPMS could not be set.
func (m *Modem) memoriesToRead() []string {
	out := []string{m.mem.read}
	if m.mem.read != "" && m.readsSR && m.mem.read != "SR" {
		out = append(out, "SR")
	}
	if m.mem.read == "" {
		return out
	}
	m.annMu.Lock()
	defer m.annMu.Unlock()
	for _, mem := range m.announced {
		if !slices.Contains(out, mem) {
			out = append(out, mem)
		}
	}
	return out
}

// receiveFrom lists mem, the memory selected as mem1, and hands over what
// it holds but the entries kept for DeleteKept.
func (m *Modem) receiveFrom(mem string, handle func(Received) error) (int, error) {
	info, err := m.command("+CMGL=4", at.WithTimeout(listTimeout))
	if err != nil {
		return 0, err
	}
	entries, missing, errs := parseList(info)
	entries = slices.DeleteFunc(entries, func(r Received) bool { return m.isKept(mem, r.Index) })
	for _, idx := range missing {
		if m.isKept(mem, idx) {
			continue
		}
		r, err := m.readStored(idx)
		if err != nil {
			errs = append(errs, fmt.Errorf("stored SMS %d left in the modem: %w", idx, err))
			continue
		}
		entries = append(entries, r)
	}
	for _, e := range errs {
		m.log.Warn("unreadable storage entry", "err", e)
	}
	n := 0
	var firstErr error
	for _, r := range entries {
		err := handle(r)
		if errors.Is(err, ErrDeleteLater) {
			m.keep(mem, r.Index)
			n++
			continue
		}
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("handle stored SMS %d: %w", r.Index, err)
			}
			continue
		}
		if _, err := m.command("+CMGD=" + strconv.Itoa(r.Index)); err != nil {
			// Stored but not deleted: it will be listed again and recognised by its key.
			m.log.Warn("delete stored SMS", "index", r.Index, "err", err)
		}
		n++
	}
	if firstErr == nil && len(errs) > 0 {
		firstErr = fmt.Errorf("read stored SMS: %w", errors.Join(errs...))
	}
	return n, firstErr
}

// readStored reads one stored entry (+CMGR) that the listing garbled.
func (m *Modem) readStored(idx int) (Received, error) {
	info, err := m.command("+CMGR=" + strconv.Itoa(idx))
	if err != nil {
		return Received{}, err
	}
	for i, l := range info {
		// "+CMGR: <stat>,[<alpha>],<length>"; ZTE leaves <stat> out
		// (real-modems.md row 44): only the length matters.
		f, ok := answer([]string{l}, "+CMGR:", nil)
		if !ok {
			continue
		}
		if pdu, _, found := findPDU(info[i+1:], "+CMGR:", tpduLength(f)); found {
			r := Decode(pdu)
			r.Index = idx
			return r, nil
		}
	}
	return Received{}, fmt.Errorf("AT+CMGR=%d: no PDU in %q: %w", idx, info, ErrBadResponse)
}

// listTimeout gives a full SIM (tens of PDUs) time to be listed.
const listTimeout = 20 * time.Second

// parseList reads a +CMGL answer: "+CMGL: <index>,<stat>,[<alpha>],<length>"
// lines, each followed by its PDU. The PDU is the next hex line of the
// announced length before another header: unsolicited lines and garbage
// the AT driver mixed in are skipped. It returns the entries read, the
// indexes listed without a readable PDU, and an error for each header or
// PDU it could not place.
func parseList(info []string) (entries []Received, missing []int, errs []error) {
	used := make([]bool, len(info))
	for i, l := range info {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, "+CMGL:") {
			continue
		}
		used[i] = true
		f := splitFields(l[len("+CMGL:"):])
		idx, err := strconv.Atoi(f[0])
		if err != nil || idx < 0 {
			errs = append(errs, fmt.Errorf("bad +CMGL header %q: %w", abbreviate(l), ErrBadResponse))
			continue
		}
		pdu, pos, found := findPDU(info[i+1:], "+CMGL:", tpduLength(f))
		if !found {
			missing = append(missing, idx)
			continue
		}
		used[i+1+pos] = true
		r := Decode(pdu)
		r.Index = idx
		entries = append(entries, r)
	}
	for i, l := range info {
		if _, hex := pduLine(l); !used[i] && hex {
			errs = append(errs, fmt.Errorf("PDU %q without a +CMGL header: %w", abbreviate(strings.TrimSpace(l)), ErrBadResponse))
		}
	}
	return entries, missing, errs
}

// tpduLength reads the <length> (TPDU octets) that ends a PDU-mode +CMGL or
// +CMGR header; -1 when absent.
func tpduLength(f []string) int {
	if len(f) < 3 {
		return -1
	}
	n, err := strconv.Atoi(f[len(f)-1])
	if err != nil || n <= 0 {
		return -1
	}
	return n
}

// findPDU returns the first hex line of lines, before any line starting
// with header, whose size matches length TPDU octets (any size if length
// is -1), and its position.
func findPDU(lines []string, header string, length int) (string, int, bool) {
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, header) {
			break
		}
		if pdu, ok := pduLine(l); ok && (length < 0 || pduFits(pdu, length)) {
			return pdu, i, true
		}
	}
	return "", 0, false
}

// pduFits checks a PDU-mode hex string (SMSC length octet, SMSC, TPDU)
// against the TPDU length its header announced.
func pduFits(pdu string, length int) bool {
	b, err := hex.DecodeString(pdu[:2])
	if err != nil {
		return false
	}
	return len(pdu)/2 == 1+int(b[0])+length
}

func isHex(s string) bool {
	s = strings.TrimSpace(s)
	if len(s) < 2 || len(s)%2 != 0 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// Decode reads one PDU-mode hex string (SMSC field + TPDU) as the modem
// stores it. It never fails: an undecodable PDU comes back with Err set and
// its raw hex, so the caller can keep it.
func Decode(pduHex string) Received {
	charsets.Ready()
	pduHex = strings.ToUpper(strings.TrimSpace(pduHex))
	r := Received{PDU: pduHex, Total: 1, Seq: 1}
	p, err := pdumode.UnmarshalHexString(pduHex)
	if err != nil {
		r.Err = fmt.Errorf("PDU %q: %w", abbreviate(pduHex), err)
		r.Key = key("", "", pduHex)
		return r
	}
	t, err := sms.Unmarshal(p.TPDU)
	if err != nil {
		r.Err = fmt.Errorf("TPDU %q: %w", abbreviate(pduHex), err)
		r.Key = key("", "", pduHex)
		return r
	}
	switch t.SmsType() {
	case tpdu.SmsStatusReport:
		r.Report = &StatusReport{
			Ref:       int(t.MR),
			Recipient: t.RA.Number(),
			Status:    t.ST,
			SCTS:      t.SCTS.Time,
			Discharge: t.DT.Time,
		}
		r.Key = key(r.Report.Recipient, r.Report.SCTS.String(), pduHex)
		return r
	case tpdu.SmsDeliver:
	default:
		r.Err = fmt.Errorf("PDU %q: unexpected %v: %w", abbreviate(pduHex), t.SmsType(), ErrBadResponse)
		r.Key = key("", "", pduHex)
		return r
	}
	r.From = t.OA.Number() // "+" and digits when international, else digits or the alphanumeric name
	r.FromKind = senderKind(t.OA.TypeOfNumber())
	r.SCTS = t.SCTS.Time
	// The PDU holds the type of number: an alphanumeric "0612345679" and
	// the number 0612345679 already have different keys.
	r.Key = key(r.From, r.SCTS.String(), pduHex)
	if total, seq, ref, ok := t.ConcatInfo(); ok && total > 1 {
		r.Total, r.Seq, r.ConcatRef = total, seq, ref
	}
	alpha, _ := t.Alphabet()
	text, err := tpdu.DecodeUserData(t.UD, t.UDH, alpha, tpdu.WithAllCharsets)
	var dangling ucs2.ErrDanglingSurrogate
	if errors.As(err, &dangling) {
		// An emoji cut between two parts: keep the rest of the text.
		text, err = append(text, "\uFFFD"...), nil
	}
	if err != nil {
		r.Err = fmt.Errorf("text of PDU %q: %w", abbreviate(pduHex), err)
		return r
	}
	r.Text = string(text)
	return r
}

func key(from, scts, pdu string) string {
	h := sha256.Sum256([]byte(from + "|" + scts + "|" + pdu))
	return hex.EncodeToString(h[:16])
}

func abbreviate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
