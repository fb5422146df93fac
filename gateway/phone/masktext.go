package phone

import (
	"regexp"
	"strings"
)

// digitRun finds runs of digit groups in free text, a single space or dot
// between groups ("06 12 34 56 78"), an optional + first. MaskNumbers
// looks for numbers among the groups of each run.
var digitRun = regexp.MustCompile(`\+?[0-9]+(?:[ .][0-9]+)*`)

// MaskNumbers masks, in a free text such as an error message, everything
// that reads as a phone number, as Mask does: an E.164 number, a number
// in international format without + (0033…, 336…), a French national
// number (0612345678, 06 12 34 56 78). It is the log's last guard, for
// numbers that a wrapped error carries; call sites mask their own fields
// with Mask. Digits that touch letters (a PDU or hash in hex) and dates
// or times are left alone.
func MaskNumbers(s string) string {
	var b strings.Builder
	last := 0
	for _, l := range digitRun.FindAllStringIndex(s, -1) {
		for _, n := range numbersIn(s, l[0], l[1]) {
			b.WriteString(s[last:n[0]])
			b.WriteString(maskText(s[n[0]:n[1]]))
			last = n[1]
		}
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// numbersIn returns, in order, the spans of s[i:j] (a digit run) that are
// phone numbers: the longest span of whole groups that stands alone and
// spells a number, then the same on each side of it.
func numbersIn(s string, i, j int) [][2]int {
	// Group boundaries: starts and ends of the digit groups.
	var groups [][2]int
	for k := i; k < j; {
		if !digit(s[k]) {
			k++
			continue
		}
		e := k
		for e < j && digit(s[e]) {
			e++
		}
		groups = append(groups, [2]int{k, e})
		k = e
	}
	var find func(a, b int) [][2]int
	find = func(a, b int) [][2]int { // groups[a:b]
		// A number has at most 17 digits, so at most 17 groups.
		for n := min(b-a, 17); n >= 1; n-- {
			for x := a; x+n <= b; x++ {
				lo, hi := groups[x][0], groups[x+n-1][1]
				if lo > 0 && s[lo-1] == '+' && (x > 0 || lo-1 >= i) {
					lo-- // the + belongs to the number it precedes
				}
				if !standsAlone(s, lo, hi) || !spellsNumber(s[lo:hi]) {
					continue
				}
				return append(append(find(a, x), [2]int{lo, hi}), find(x+n, b)...)
			}
		}
		return nil
	}
	return find(0, len(groups))
}

// standsAlone reports whether s[i:j] is not part of a longer word: hex,
// an identifier, a date or time (2026-12-03, 12:30), a longer number. A
// colon, dash or dot that ends a sentence or a field ("+336…: refused")
// does not glue.
func standsAlone(s string, i, j int) bool {
	if i > 0 {
		c := s[i-1]
		if word(c) || c == '+' || (c == ':' || c == '-' || c == '.') && i > 1 && digit(s[i-2]) {
			return false
		}
	}
	if j < len(s) {
		c := s[j]
		if word(c) || (c == ':' || c == '-' || c == '.') && j+1 < len(s) && digit(s[j+1]) {
			return false
		}
	}
	return true
}

func digit(c byte) bool { return c >= '0' && c <= '9' }

func word(c byte) bool {
	return digit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

// spellsNumber reports whether a run of digits is shaped like a phone
// number: + and 8 to 15 digits, 00 and 10 to 17, a national 0 and 9
// more, or 11 to 15 digits of an international number without its +.
func spellsNumber(m string) bool {
	d := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, m)
	switch {
	case strings.HasPrefix(m, "+"):
		return len(d) >= 8 && len(d) <= 15
	case strings.HasPrefix(d, "00"):
		return len(d) >= 10
	case strings.HasPrefix(d, "0"):
		return len(d) == 10
	}
	return len(d) >= 11 && len(d) <= 15
}

// maskText masks a number found in text: an E.164 one as Mask does, any
// other keeping its separators and last two digits.
func maskText(m string) string {
	if !strings.ContainsAny(m, " .") && strings.HasPrefix(m, "+") {
		return Mask(m)
	}
	return MaskDigits(m, 0)
}

// MaskDigits replaces with '*' the digits of m but its first keep and its
// last two, leaving every other character (separators, a '+') in place.
func MaskDigits(m string, keep int) string {
	b := []byte(m)
	digits := 0
	for _, c := range b {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	seen := 0
	for i, c := range b {
		if c < '0' || c > '9' {
			continue
		}
		seen++
		if seen > keep && seen <= digits-2 {
			b[i] = '*'
		}
	}
	return string(b)
}
