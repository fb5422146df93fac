package phone

import (
	"regexp"
	"strings"
	"testing"
)

func TestMaskNumbers(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"save inbound SMS from +33612345678: disk full", "save inbound SMS from +33 6 ** ** ** 78: disk full"},
		{`phone "0612345679": not a mobile`, `phone "********79": not a mobile`},
		{"to 06 12 34 56 78.", "to ** ** ** ** 78."},
		{"0033612345678 and 33612345678", "***********78 and *********78"},
		{"+33 6 12 34 56 78", "+** * ** ** ** 78"},
		// Not numbers: hex, dates, times, counters, short codes.
		{"PDU 0791336090010393F0 key 9de86c894063e5c0", "PDU 0791336090010393F0 key 9de86c894063e5c0"},
		{"since 2026-12-03 12:21:40.123456789", "since 2026-12-03 12:21:40.123456789"},
		{"id 12345 bytes 1048576 code 36179", "id 12345 bytes 1048576 code 36179"},
		{"ns=1733220000", "ns=1733220000"},
	} {
		if got := MaskNumbers(c.in); got != c.want {
			t.Errorf("MaskNumbers(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// fullNumber is what must never come out of MaskNumbers: the digits of a
// phone number, E.164 or national, standing alone.
var fullNumber = regexp.MustCompile(`(^|[^0-9A-Za-z_\-:+])(\+[0-9]{8,15}|0[67][0-9]{8})($|[^0-9A-Za-z_\-:+])`)

func FuzzMaskNumbers(f *testing.F) {
	f.Add("from +33612345678: x")
	f.Add("0612345678")
	f.Add("06 12 34 56 78 et +44 7911 123456")
	f.Add("0791336090010393F0")
	f.Add("+336123456789012345678")
	f.Fuzz(func(t *testing.T, s string) {
		out := MaskNumbers(s)
		if m := fullNumber.FindString(out); m != "" {
			t.Fatalf("MaskNumbers(%q) = %q: %q left whole", s, out, m)
		}
		if !strings.ContainsAny(s, "0123456789") && out != s {
			t.Fatalf("MaskNumbers(%q) changed a text without digits: %q", s, out)
		}
	})
}
