package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// printJSON writes v indented, the stable output of every --json flag.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// stateNames are the outbox states in French, in report order.
var stateNames = []struct{ key, fr string }{
	{"queued", "en attente"},
	{"sending", "en cours"},
	{"sent", "envoyés"},
	{"delivered", "remis"},
	{"failed", "échoués"},
	{"expired", "expirés"},
	{"cancelled", "annulés"},
	{"suppressed", "supprimés (STOP)"},
}

// inert makes text from outside (a modem's strings, an SMS) safe to print
// on a terminal: control and format characters — escape sequences, BEL,
// backspaces, bidirectional overrides, zero-width characters — are shown
// as \x or \u escapes instead of acting on the screen. Invalid UTF-8 is
// shown as the replacement character's escape.
func inert(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			b.WriteString(`\ufffd`)
		case r < 0x80 && (r < 0x20 || r == 0x7f):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029':
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// count writes n with its noun, singular for 0 and 1 as French has it.
func count(n int, singular, plural string) string {
	if n <= 1 {
		return fmt.Sprintf("%d %s", n, singular)
	}
	return fmt.Sprintf("%d %s", n, plural)
}
