package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestInertShowsWhatWouldActOnTheTerminal(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Vol rue Carnot", "Vol rue Carnot"},
		{"é à ç € 😀", "é à ç € 😀"},
		{"\x1b[2Jcleared", `\u001b[2Jcleared`},
		{"\x1b]0;title\x07", `\u001b]0;title\u0007`},
		{"abc\b\b\bxyz", `abc\u0008\u0008\u0008xyz`},
		{"ok\rFAKE", `ok\u000dFAKE`},
		{"\u009b31m", `\u009b31m`}, // C1 CSI
		{"\u202eevil", `\u202eevil`},
		{"a\u200bb\u200dc\ufeff", `a\u200bb\u200dc\ufeff`},
		{"\u2066x\u2069", `\u2066x\u2069`},
		{"tag\U000E0041", `tag\udb40\udc41`},
		{"\u3164", `\u3164`},
		{"bad\xffbyte", `bad\ufffdbyte`},
		{"line1\nline2", "line1↵line2"},
	} {
		if got := inert(tc.in); got != tc.want {
			t.Errorf("inert(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestInertBlockKeepsLinesIndented(t *testing.T) {
	got := inertBlock("Vu partir\r\nvers la gare\nMessage 99 de +33600000000\x1b[2J", "  ")
	want := "Vu partir\n  vers la gare\n  Message 99 de +33600000000\\u001b[2J"
	if got != want {
		t.Errorf("inertBlock = %q, want %q", got, want)
	}
}

// The writer holds a rune split between two writes rather than show it as
// invalid, and lets the CLI's own control sequences through writeControl.
func TestInertWriter(t *testing.T) {
	var buf bytes.Buffer
	w := newInertWriter(&buf)
	e := []byte("é")
	w.Write([]byte("a\x1b[31m"))
	w.Write(e[:1])
	w.Write(e[1:])
	writeControl(w, "\r\033[K")
	w.Write([]byte("\tz\n"))
	if got, want := buf.String(), "a\\u001b[31mé\r\033[K\tz\n"; got != want {
		t.Errorf("written %q, want %q", got, want)
	}
	if newInertWriter(w) != w {
		t.Error("an inert writer wrapped twice")
	}
}

// checkInert fails if out could act on a terminal.
func checkInert(t *testing.T, out string, keepLines bool) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("invalid UTF-8 in %q", out)
	}
	for _, r := range out {
		if keepLines && (r == '\n' || r == '\t') {
			continue
		}
		if unsafeRune(r) || unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) {
			t.Fatalf("%U left in %q", r, out)
		}
	}
}

func FuzzInert(f *testing.F) {
	for _, s := range []string{
		"", "Vol rue Carnot", "\x1b[2J\x1b]0;x\x07", "\u202e\u200b\ufeff", "\xe2\x82", "é\n\tà\r\n",
		"\U000E0001\U000E0041", "\u0085\u009b", `\u001b`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkInert(t, inert(s), false)
		checkInert(t, inertBlock(s, "  "), true)
		// Nothing of a text is dropped: every rune that is not unsafe is
		// still there, in order.
		var kept strings.Builder
		for _, r := range s {
			if r != utf8.RuneError && !unsafeRune(r) && r != '\n' {
				kept.WriteRune(r)
			}
		}
		var shown strings.Builder
		for _, r := range inert(s) {
			shown.WriteRune(r)
		}
		if !containsInOrder(shown.String(), kept.String()) {
			t.Fatalf("inert(%q) = %q lost text", s, inert(s))
		}
		// --json through the writer decodes to the exact text, written in
		// one piece or byte by byte.
		doc, _ := json.Marshal(s)
		for _, step := range []int{len(doc) + 1, 1} {
			var buf bytes.Buffer
			w := newInertWriter(&buf)
			for i := 0; i < len(doc); i += step {
				w.Write(doc[i:min(i+step, len(doc))])
			}
			checkInert(t, buf.String(), true)
			var back string
			if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
				t.Fatalf("JSON %q through the writer: %v", buf.String(), err)
			}
			var exact string
			json.Unmarshal(doc, &exact)
			if back != exact {
				t.Fatalf("JSON through the writer gives %q, want %q", back, exact)
			}
		}
	})
}

// containsInOrder says whether every rune of sub appears in s in order.
func containsInOrder(s, sub string) bool {
	rs := []rune(s)
	i := 0
	for _, r := range sub {
		for i < len(rs) && rs[i] != r {
			i++
		}
		if i == len(rs) {
			return false
		}
		i++
	}
	return true
}
