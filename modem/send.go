package modem

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/warthog618/modem/at"
	"github.com/warthog618/sms"
	"github.com/warthog618/sms/encoding/pdumode"
	"github.com/warthog618/sms/encoding/tpdu"
)

// encoder builds SMS-SUBMIT PDUs. It is shared by all sends of one modem so
// that consecutive long messages get distinct concatenation references: a
// phone that sees two messages with the same reference mixes their parts.
type encoder struct {
	enc *sms.Encoder
}

// counter is a tpdu.Counter starting at a random point, so references do not
// restart at 1 after every daemon restart.
type counter struct{ n atomic.Int64 }

func (c *counter) Count() int { return int(c.n.Add(1) % 256) }

func newEncoder(validity time.Duration) *encoder {
	cr := &counter{}
	cr.n.Store(rand.Int64N(256))
	e := sms.NewEncoder(sms.AsSubmit, sms.WithTemplateOption(submitOptions{validity: validity}))
	e.ConcatRef = cr
	return &encoder{enc: e}
}

// submitOptions asks for a status report (TP-SRR) and sets the validity
// period (TP-VP) so the network drops what it could not deliver in time.
type submitOptions struct{ validity time.Duration }

func (o submitOptions) ApplyTPDUOption(t *tpdu.TPDU) error {
	t.FirstOctet |= tpdu.FoSRR
	if o.validity > 0 {
		var vp tpdu.ValidityPeriod
		vp.SetRelative(o.validity)
		t.SetVP(vp)
	}
	return nil
}

// Encode returns the PDU-mode hex strings (with an empty SMSC field, so the
// SIM's SMSC is used) and TPDU lengths of the parts of text to number.
func (e *encoder) Encode(number, text string) ([]Part, error) {
	tpdus, err := e.enc.Encode([]byte(text), sms.To(number))
	if err != nil {
		// No number: the error reaches WARN lines.
		return nil, fmt.Errorf("encode SMS (%d characters): %w", len([]rune(text)), err)
	}
	parts := make([]Part, 0, len(tpdus))
	for i := range tpdus {
		b, err := tpdus[i].MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("marshal SMS part %d: %w", i+1, err)
		}
		p := pdumode.PDU{TPDU: b}
		s, err := p.MarshalHexString()
		if err != nil {
			return nil, fmt.Errorf("marshal SMS part %d: %w", i+1, err)
		}
		parts = append(parts, Part{Hex: strings.ToUpper(s), Length: len(b)})
	}
	return parts, nil
}

// Part is one SMS-SUBMIT ready for +CMGS.
type Part struct {
	Hex    string // SMSC field + TPDU, hex
	Length int    // TPDU octets, the <length> of +CMGS
}

// Send sends text to number (E.164) as one or more concatenated parts and
// returns the message reference of each part sent. beforePart, if not nil,
// is called before each part and may block (the rate limiter) or refuse.
// On error the references of the parts already sent are returned too, so the
// caller knows the message went out in part.
func (m *Modem) Send(number, text string, beforePart func() error) ([]int, error) {
	parts, err := m.encoder.Encode(number, text)
	if err != nil {
		return nil, err
	}
	// +CMMS=1 keeps the radio link open between the parts of a long
	// message, or between messages sent back to back. In that mode the
	// modem keeps the link while each send follows the previous one
	// within its timer (1–5 s, so 1 s is safe): it is asked once per burst,
	// not before every message.
	m.sendMu.Lock()
	now := time.Now()
	recent := now.Sub(m.lastSend) < linkHold
	held := now.Before(m.linkHeldUntil)
	m.sendMu.Unlock()
	holdLink := m.support.CMMS && (len(parts) > 1 || recent)
	askLink := holdLink && !held
	defer func() {
		m.sendMu.Lock()
		m.lastSend = time.Now()
		if holdLink {
			m.linkHeldUntil = m.lastSend.Add(linkTimer)
		}
		m.sendMu.Unlock()
	}()
	refs := make([]int, 0, len(parts))
	for i, p := range parts {
		if beforePart != nil {
			if err := beforePart(); err != nil {
				return refs, err
			}
		}
		if i == 0 && askLink {
			if _, err := m.command("+CMMS=1"); err != nil {
				m.log.Debug("radio link not held", "err", err)
			}
		}
		ref, err := m.sendPart(p)
		if err != nil {
			return refs, fmt.Errorf("send part %d/%d: %w", i+1, len(parts), err)
		}
		refs = append(refs, ref)
	}
	return refs, nil
}

// sendPart runs one +CMGS. Only the sender calls it, so the PDU count
// read around the command is this part's.
func (m *Modem) sendPart(p Part) (int, error) {
	cmd := "+CMGS=" + strconv.Itoa(p.Length)
	before := m.filter.pdusWritten()
	info, err := m.at.SMSCommand(cmd, p.Hex, at.WithTimeout(m.cfg.SendTimeout))
	submitted := m.filter.pdusWritten() != before
	if err != nil {
		err = wrapAT("AT"+cmd, err)
		if submitted && !definite(err) {
			return 0, fmt.Errorf("%w: %w", ErrUnconfirmed, err)
		}
		return 0, err
	}
	// "+CMGS: <mr>[,<scts>]": +CSMS=1 modems append the SC timestamp.
	// A final OK came after the PDU: whatever garbles the reference, the
	// part may well be out.
	f, ok := answer(info, "+CMGS:", leadingInts(1))
	if !ok {
		return 0, fmt.Errorf("AT%s: no +CMGS answer in %q: %w: %w", cmd, info, ErrUnconfirmed, ErrBadResponse)
	}
	ref, _ := strconv.Atoi(f[0])
	if ref < 0 || ref > 255 {
		return 0, fmt.Errorf("AT%s: bad message reference %q: %w: %w", cmd, f[0], ErrUnconfirmed, ErrBadResponse)
	}
	return ref, nil
}
