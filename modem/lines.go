package modem

import (
	"strconv"
	"strings"
)

// The AT driver hands over, with a command's reply, every line it does not
// know: unsolicited codes (RING, ^RSSI, +CREG: 1, a +CMTI the driver also
// dispatched), blank lines and line noise. Answers are therefore picked by
// prefix and by shape, never by position.

// shape says whether the fields of a line are those of the expected answer.
type shape func(fields []string) bool

// answer returns the fields of the first info line that starts with prefix
// and has the expected shape.
func answer(info []string, prefix string, ok shape) ([]string, bool) {
	for _, l := range info {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, prefix) {
			continue
		}
		f := splitFields(l[len(prefix):])
		if ok == nil || ok(f) {
			return f, true
		}
	}
	return nil, false
}

// splitFields splits an answer's value at the commas that are neither inside
// double quotes nor inside parentheses, and trims each field.
func splitFields(v string) []string {
	var out []string
	quoted, depth, start := false, 0, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case c == ',' && depth == 0:
			out = append(out, strings.TrimSpace(v[start:i]))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(v[start:]))
}

// unquote removes one pair of surrounding double quotes.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

func isInt(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

func isQuoted(s string) bool { return len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' }

// leadingInts is the shape of an answer of at least n fields, the first n
// of them integers: "+CSQ: 17,99", the "+CREG: 0,1" that a one-field
// "+CREG: 1" unsolicited code must not be taken for.
func leadingInts(n int) shape {
	return func(f []string) bool {
		if len(f) < n {
			return false
		}
		for _, s := range f[:n] {
			if !isInt(s) {
				return false
			}
		}
		return true
	}
}

// oneWord is the shape of "+CPIN: READY".
func oneWord(f []string) bool { return len(f) == 1 && f[0] != "" }

// quotedFirst is the shape of "+CSCA: "+33609001390",145".
func quotedFirst(f []string) bool { return len(f) >= 1 && isQuoted(f[0]) }

// noise reports lines that are never part of an identity answer: blank
// lines, call progress, vendor (^) and standard (+) unsolicited codes, and
// anything with control characters.
func noise(l string) bool {
	switch l {
	case "", "RING", "NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE", "OK", ">":
		return true
	}
	if l[0] == '^' || l[0] == '+' {
		return true
	}
	for _, r := range l {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return true
		}
	}
	return false
}

// identValue returns the value of an identity answer (+CGMI, +CGMM, +CGMR,
// +CGSN): the "+CGMI: x" form if present, else the first line that is not
// noise and that valid accepts (nil: any).
func identValue(info []string, prefix string, valid func(string) bool) string {
	for _, l := range info {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, prefix) {
			if v := unquote(strings.TrimSpace(l[len(prefix):])); valid == nil || valid(v) {
				return v
			}
		}
	}
	for _, l := range info {
		l = strings.TrimSpace(l)
		if noise(l) {
			continue
		}
		if v := unquote(l); valid == nil || valid(v) {
			return v
		}
	}
	return ""
}

// isIMEI accepts 14 to 17 digits (IMEI, IMEISV).
func isIMEI(s string) bool {
	if len(s) < 14 || len(s) > 17 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
