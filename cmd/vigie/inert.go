package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Text from outside — an SMS and its sender, a CSV cell, a modem's strings —
// must never act on the terminal of the person who reads it: no escape
// sequence that clears the screen or sets the window title, no backspace or
// carriage return that rewrites what a line says, no bidirectional override
// or zero-width character that makes it read differently. Every human output
// of the CLI goes through an inertWriter (newRootCommand wraps stdout and
// stderr), so this holds by construction, whatever a command prints; inert
// is the same rule for one value, for the places where a line break must not
// start a new line either (a table cell, a one-line summary).

// unsafeRune says whether r may act on a terminal or hide what a text says.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20 || r == 0x7f:
		return true // C0 controls, ESC, BEL, BS, CR, DEL
	case r >= 0x80 && r <= 0x9f:
		return true // C1 controls, CSI (0x9b) among them
	case r == '\u2028' || r == '\u2029':
		return true // line and paragraph separators
	case r == '\u115f' || r == '\u1160' || r == '\u3164' || r == '\uffa0':
		return true // Hangul fillers: letters that print as nothing
	case unicode.Is(unicode.Cf, r):
		return true // bidi overrides and isolates, zero-width characters, BOM, tags
	}
	return false
}

// appendInert appends s to b with every unsafe rune written as a \uXXXX
// escape (a surrogate pair beyond the BMP) and invalid UTF-8 as \ufffd. These
// are JSON's own escapes: inside a JSON string they decode to the exact
// character, so --json output through an inertWriter keeps the exact text.
// keepLines keeps line feeds and tabs as they are (running text); otherwise a
// line feed is shown as ↵ so that a value stays on its line.
func appendInert(b []byte, s string, keepLines bool) []byte {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b = append(b, `\ufffd`...)
		case keepLines && (r == '\n' || r == '\t'):
			b = append(b, byte(r))
		case !keepLines && r == '\n':
			b = append(b, "↵"...)
		case unsafeRune(r):
			if r > 0xffff {
				hi, lo := utf16Pair(r)
				b = fmt.Appendf(b, `\u%04x\u%04x`, hi, lo)
			} else {
				b = fmt.Appendf(b, `\u%04x`, r)
			}
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}

func utf16Pair(r rune) (hi, lo rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

// inert is one outside value made safe to print on one line.
func inert(s string) string { return string(appendInert(nil, s, false)) }

// inertBlock is an outside running text made safe to print, its line breaks
// kept and every line after the first indented, so that a text cannot start
// a line that looks like the CLI's own ("Message 12 de …").
func inertBlock(s, indent string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(string(appendInert(nil, s, true)), "\n", "\n"+indent)
}

// inertWriter makes everything written through it inert but line feeds and
// tabs. A multi-byte rune split across two writes is held until it is whole.
// The daemon's log handler and its own messages share stderr: writes are
// serialised.
type inertWriter struct {
	w     io.Writer
	mu    sync.Mutex
	carry []byte
	buf   []byte
}

func newInertWriter(w io.Writer) io.Writer {
	if w == nil {
		return nil
	}
	if _, ok := w.(*inertWriter); ok {
		return w
	}
	return &inertWriter{w: w}
}

func (t *inertWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	data := p
	if len(t.carry) > 0 {
		data = append(t.carry, p...)
		t.carry = nil
	}
	// Hold back a trailing rune that may still be completed by the next write.
	if cut := incompleteTail(data); cut < len(data) {
		t.carry = append([]byte(nil), data[cut:]...)
		data = data[:cut]
	}
	t.buf = appendInert(t.buf[:0], string(data), true)
	if _, err := t.w.Write(t.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// incompleteTail is where a trailing, not yet complete, UTF-8 sequence
// starts in p (len(p) if there is none).
func incompleteTail(p []byte) int {
	for i := len(p) - 1; i >= 0 && i >= len(p)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(p[i]) {
			if !utf8.FullRune(p[i:]) {
				return i
			}
			break
		}
	}
	return len(p)
}

// raw is the writer under the inert layer, for data that is not for a
// person to read on a terminal (a CSV export, a completion script): written
// exactly as it is.
func raw(w io.Writer) io.Writer {
	if t, ok := w.(*inertWriter); ok {
		return t.w
	}
	return w
}

// writeControl writes a terminal control sequence of the CLI's own (a
// progress line redrawn in place, a screen cleared for `status --watch`)
// past the inert layer.
func writeControl(w io.Writer, seq string) {
	io.WriteString(raw(w), seq)
}
