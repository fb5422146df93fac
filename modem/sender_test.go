package modem

import (
	"encoding/hex"
	"testing"

	"github.com/warthog618/sms/encoding/pdumode"
	"github.com/warthog618/sms/encoding/tpdu"
)

// deliverPDU builds a PDU-mode SMS-DELIVER from an address of the given
// type of number, as a modem stores it.
func deliverPDU(t *testing.T, addr string, ton tpdu.TypeOfNumber, text string) string {
	t.Helper()
	a := tpdu.NewAddress()
	a.SetTypeOfNumber(ton)
	a.SetNumberingPlan(tpdu.NpISDN)
	if ton == tpdu.TonAlphanumeric {
		a.SetNumberingPlan(tpdu.NpUnknown)
	}
	a.Addr = addr
	d, err := tpdu.NewDeliver(tpdu.WithOA(a))
	if err != nil {
		t.Fatal(err)
	}
	d.UD = []byte(text)
	b, err := d.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	p := pdumode.PDU{TPDU: b}
	pb, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(pb)
}

func TestDecodeSenderKind(t *testing.T) {
	cases := []struct {
		addr string
		ton  tpdu.TypeOfNumber
		from string
		kind SenderKind
	}{
		{"33612345679", tpdu.TonInternational, "+33612345679", SenderNumber},
		{"0612345679", tpdu.TonUnknown, "0612345679", SenderNumber},
		{"0612345679", tpdu.TonNational, "0612345679", SenderNumber},
		// Any bulk-SMS account can spell a victim's number as its name.
		{"0612345679", tpdu.TonAlphanumeric, "0612345679", SenderAlphanumeric},
		{"ORANGE", tpdu.TonAlphanumeric, "ORANGE", SenderAlphanumeric},
		{"36179", tpdu.TonAbbreviated, "36179", SenderShortCode},
		{"22200", tpdu.TonNetworkSpecific, "22200", SenderShortCode},
	}
	keys := map[string]bool{}
	for _, c := range cases {
		r := Decode(deliverPDU(t, c.addr, c.ton, "STOP"))
		if r.Err != nil || r.From != c.from || r.FromKind != c.kind || r.Text != "STOP" {
			t.Errorf("%s (TON %d): from %q kind %q text %q err %v; want %q kind %q", c.addr, c.ton, r.From, r.FromKind, r.Text, r.Err, c.from, c.kind)
		}
		if keys[r.Key] {
			t.Errorf("%s (TON %d): same key as another sender", c.addr, c.ton)
		}
		keys[r.Key] = true
	}
}
