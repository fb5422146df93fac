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
func unquote(field string) string {
	if isQuoted(field) {
		return field[1 : len(field)-1]
	}
	return field
}

func isInt(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

func isQuoted(field string) bool {
	return len(field) >= 2 && field[0] == '"' && field[len(field)-1] == '"'
}

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

// smscShape is the shape of "+CSCA: <sca>,<tosca>", whatever form <sca>
// takes (see smscValue).
func smscShape(f []string) bool { return len(f) >= 2 && isInt(f[len(f)-1]) }

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

// smscValue reads the address of a +CSCA: answer in every form modems use
// (real-modems.md row 30): `"+33609001390",145`, the same unquoted, and
// the UCS-2 hex of it, quoted or not (`002B00330033…,145`), which modems
// set to +CSCS="UCS2" print. Empty when the SIM holds none (`"",129`).
func smscValue(f []string) string {
	if len(f) == 0 {
		return ""
	}
	v := strings.TrimSpace(unquote(strings.TrimSpace(f[0])))
	if d, ok := ucs2Digits(v); ok {
		return d
	}
	return v
}

// ucs2Digits decodes UCS-2 hex made only of '+' and digits ("002B0033" →
// "+3"): a dial string, never anything else.
func ucs2Digits(v string) (string, bool) {
	if len(v) < 4 || len(v)%4 != 0 {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(v); i += 4 {
		n, err := strconv.ParseUint(v[i:i+4], 16, 16)
		if err != nil {
			return "", false
		}
		c := rune(n)
		if c != '+' && (c < '0' || c > '9') {
			return "", false
		}
		b.WriteRune(c)
	}
	return b.String(), true
}

// pduLine is the hex of a +CMGL/+CMGR PDU line, without the ",0" some
// phones append to it (real-modems.md row 34); ok is false for a line that
// is not a PDU.
func pduLine(l string) (string, bool) {
	l = strings.TrimSpace(l)
	if i := strings.LastIndexByte(l, ','); i > 0 && isInt(l[i+1:]) {
		l = l[:i]
	}
	return l, isHex(l)
}
