package phone

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		raw, region string
		want        string
		err         error
	}{
		{"06 12 34 56 78", "FR", "+33612345678", nil},
		{"+33 6 12 34 56 78", "FR", "+33612345678", nil},
		{"0033612345678", "FR", "+33612345678", nil},
		{"+33612345678", "FR", "+33612345678", nil},
		{"06.12.34.56.78", "FR", "+33612345678", nil},
		{"06-12-34-56-78", "fr", "+33612345678", nil},
		{" 07 81 23 45 67 ", "", "+33781234567", nil},
		{"+33 (0)6 12 34 56 78", "FR", "+33612345678", nil},
		// Overseas départements, with their own country codes.
		{"0690 00 12 34", "GP", "+590690001234", nil},
		{"0696 20 12 34", "MQ", "+596696201234", nil},
		{"0694 20 12 34", "GF", "+594694201234", nil},
		{"0692 12 34 56", "RE", "+262692123456", nil},
		{"0639 01 23 45", "YT", "+262639012345", nil},
		{"+590 690 00 12 34", "FR", "+590690001234", nil},
		{"00590690001234", "FR", "+590690001234", nil},
		{"+262 692 12 34 56", "FR", "+262692123456", nil},
		// National format across French regions.
		{"0690 00 12 34", "FR", "+590690001234", nil},
		{"0692 12 34 56", "FR", "+262692123456", nil},
		{"06 12 34 56 78", "GP", "+33612345678", nil},
		{"+33 6 12 34 56 78", "RE", "+33612345678", nil},
		// Other countries' mobiles, written internationally.
		{"+44 7911 123456", "FR", "+447911123456", nil},
		// Not mobiles.
		{"01 23 45 67 89", "FR", "", ErrNotMobile},
		{"03 85 12 34 56", "FR", "", ErrNotMobile},
		{"05 12 34 56 78", "FR", "", ErrNotMobile},
		{"09 12 34 56 78", "FR", "", ErrNotMobile},
		{"0590 12 34 56", "GP", "", ErrNotMobile},
		{"08 00 12 34 56", "FR", "", ErrNotMobile},
		// Not numbers.
		{"", "FR", "", ErrInvalid},
		{"abc", "FR", "", ErrInvalid},
		{"ORANGE", "FR", "", ErrInvalid},
		{"06 CALL ME", "FR", "", ErrInvalid},
		{"06 12", "FR", "", ErrInvalid},
		{"06 12 34 56 78 90", "FR", "", ErrInvalid},
		{"06 12 34 56 78 ext 5", "FR", "", ErrInvalid},
		{"+999 123456789", "FR", "", ErrInvalid},
		{"06 12 34 56 78", "XX", "", ErrInvalid},
		{"36179", "FR", "", ErrInvalid},
	}
	for _, tt := range tests {
		got, err := Normalize(tt.raw, tt.region)
		if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("Normalize(%q, %q) = %q, %v; want %q, %v", tt.raw, tt.region, got, err, tt.want, tt.err)
		}
		if err != nil && !strings.Contains(err.Error(), tt.raw) {
			t.Errorf("Normalize(%q) error %q does not name the input", tt.raw, err)
		}
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+33612345678", "+33 6 ** ** ** 78"},
		{"+590690001234", "+590 6 ** ** ** 34"},
		{"+262692123456", "+262 6 ** ** ** 56"},
		{"+447911123456", "+44 7 ** ** ** * 56"},
		{"+508205678", "+508 2 ** * 78"}, // Saint-Pierre-et-Miquelon: six national digits
		{"0612345678", "********78"},
		{"36179", "***79"},
		{"ORANGE", "****GE"},
		{"", ""},
		{"+", "+"},
	}
	for _, tt := range tests {
		if got := Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIsShortOrAlpha(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"+33612345678", false},
		{"0612345678", false},
		{"+33 6 12 34 56 78", false},
		{"12345678", false},
		{"1234567", true},
		{"36179", true},
		{"+3617", true},
		{"ORANGE", true},
		{"Banque", true},
		{"SFR 123456789", true},
		{"", true},
		{"+", true},
		{"+33#612345678", true},
	}
	for _, tt := range tests {
		if got := IsShortOrAlpha(tt.in); got != tt.want {
			t.Errorf("IsShortOrAlpha(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"06 12 34 56 78", "+33 6 12 34 56 78", "0033612345678", "0690 00 12 34",
		"01 23 45 67 89", "abc", "", "+", "00", "+262 692 12 34 56", "\xff"} {
		f.Add(s, "FR")
	}
	f.Add("0692 12 34 56", "RE")
	f.Fuzz(func(t *testing.T, raw, region string) {
		got, err := Normalize(raw, region)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrNotMobile) {
				t.Fatalf("Normalize(%q, %q): unclassified error %v", raw, region, err)
			}
			return
		}
		if !strings.HasPrefix(got, "+") || strings.IndexFunc(got[1:], notDigit) >= 0 {
			t.Fatalf("Normalize(%q, %q) = %q: not E.164", raw, region, got)
		}
		// E.164 is a fixed point, whatever the region.
		if again, err := Normalize(got, "FR"); err != nil || again != got {
			t.Fatalf("Normalize(%q) = %q, %v; want itself", got, again, err)
		}
		if IsShortOrAlpha(got) {
			t.Fatalf("IsShortOrAlpha(%q) = true for a normalized number", got)
		}
		if m := Mask(got); strings.Count(m, "*") < 3 || !strings.HasSuffix(m, got[len(got)-2:]) {
			t.Fatalf("Mask(%q) = %q", got, m)
		}
	})
}
