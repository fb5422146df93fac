package modem

import (
	"strings"
	"testing"
	"time"

	"github.com/warthog618/sms"
	"github.com/warthog618/sms/encoding/pdumode"
)

// Benchmarks of the PDU work done for every SMS sent and received; run by
// `make bench`. Each checks its input is what its name says before timing.

// benchGSM7 is a typical alert, transliterated to the GSM 7-bit alphabet as
// the gateway sends it (é and à are in it, ê is not), long enough to
// take two concatenated parts.
const benchGSM7 = "Vigilance commerce 71 : vol à main armée ce matin au tabac-presse de la place " +
	"de la Barre. Deux individus, casques noirs, scooter blanc sans plaque, partis vers " +
	"le pont Saint-Laurent. Ne pas intervenir, appeler le 17. STOP pour arreter."

// benchUCS2 is an alert that needs UCS-2 (œ, curly quotes, an emoji): one part.
const benchUCS2 = "🚨 Vol à l’étalage « en bande » rue Carnot : sœurs, cœur de ville."

func benchmarkEncode(b *testing.B, text string, parts int) {
	e := newEncoder(4 * time.Hour)
	got, err := e.Encode("+33612345678", text)
	if err != nil || len(got) != parts {
		b.Fatalf("Encode: %d parts, %v; want %d parts", len(got), err, parts)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Encode("+33612345678", text); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*parts), "ns/part")
}

// BenchmarkEncodeGSM7TwoParts encodes a two-part GSM 7-bit alert into the
// PDU-mode hex strings given to +CMGS.
func BenchmarkEncodeGSM7TwoParts(b *testing.B) {
	benchmarkEncode(b, benchGSM7, 2)
}

// BenchmarkEncodeUCS2 encodes a one-part UCS-2 alert.
func BenchmarkEncodeUCS2(b *testing.B) {
	benchmarkEncode(b, benchUCS2, 1)
}

// BenchmarkDecodeDeliver decodes an SMS-DELIVER as +CMGL lists it: a
// shopkeeper's subscription, with the SMSC prefix.
func BenchmarkDecodeDeliver(b *testing.B) {
	const from, text = "+33612345678", "INSCRIPTION Mâcon centre, tabac-presse"
	tpdus, err := sms.Encode([]byte(text), sms.AsDeliver, sms.From(from))
	if err != nil || len(tpdus) != 1 {
		b.Fatalf("build DELIVER: %d PDUs, %v", len(tpdus), err)
	}
	raw, err := tpdus[0].MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	p := pdumode.PDU{TPDU: raw}
	p.SMSC.SetNumber("+33609001390") // as the modem lists it: with its SMSC
	hexPDU, err := p.MarshalHexString()
	if err != nil {
		b.Fatal(err)
	}
	hexPDU = strings.ToUpper(hexPDU)
	if r := Decode(hexPDU); r.Err != nil || r.From != from || r.Text != text || r.Report != nil {
		b.Fatalf("Decode = %+v, want a DELIVER from %s saying %q", r, from, text)
	}
	b.ReportAllocs()
	for b.Loop() {
		if r := Decode(hexPDU); r.Err != nil {
			b.Fatal(r.Err)
		}
	}
}
