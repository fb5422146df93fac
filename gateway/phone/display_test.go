package phone

import "testing"

func TestDisplay(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"+33612345678", "06 12 34 56 78"},
		{"+33385123456", "03 85 12 34 56"},
		{"+3361234567", "+3361234567"},   // too short: not a French number, shown whole
		{"+32470123456", "+32470123456"}, // another country: as stored
		{"+3361234567a", "+3361234567a"}, // not digits
		{"0612345678", "0612345678"},     // not E.164
		{"", ""},
	} {
		if got := Display(c.in); got != c.want {
			t.Errorf("Display(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
