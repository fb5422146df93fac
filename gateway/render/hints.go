package render

import (
	"slices"
	"unicode/utf16"
)

// NonGSM returns the distinct characters of s outside the GSM 7-bit
// alphabet, in the order they first appear: the ones that force the whole
// text into UCS-2 (70 characters a SMS instead of 160), so the operator can
// replace just those.
func NonGSM(s string) []rune {
	var out []rune
	for _, r := range s {
		if r != escape && !isGSM(r) && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// CutToFit returns how many characters must be removed from s (from
// anywhere: each character counts the same, an extension-table character
// such as € counts once here and two septets on the air, so the figure is a
// bound the operator can trust) for s to take at most parts SMS in the
// encoding it has now; 0 if it already does. A cut that would also drop
// every non-GSM character and change the encoding is not assumed: the
// operator is told about those characters separately (NonGSM).
func CutToFit(s string, parts int) int {
	if parts < 1 {
		parts = 1
	}
	t := Measure(s)
	if t.Parts <= parts {
		return 0
	}
	runes := []rune(s)
	measure := func(rs []rune) int {
		if t.Encoding == GSM7 {
			esc, _ := gsm7Septets(string(rs))
			return gsm7Parts(esc)
		}
		return ucs2Parts(utf16.Encode(rs))
	}
	// Parts only fall as characters go: the least cut is found by
	// bisection on the length kept.
	lo, hi := 0, len(runes) // measure(runes[:lo]) <= parts < measure(runes[:hi])
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if measure(runes[:mid]) <= parts {
			lo = mid
		} else {
			hi = mid
		}
	}
	return len(runes) - lo
}
