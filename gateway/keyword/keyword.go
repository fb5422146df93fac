// Package keyword owns the reading of inbound SMS: it tells a shopkeeper's
// command (subscribe, confirm, stop, help, list zones) from free text that
// belongs in the operators' inbox (SPEC §3). It decides nothing else: policies,
// replies and rate limits are the gateway's.
package keyword

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"vigie/gateway/fold"
)

// Kind is what an inbound SMS asks for.
type Kind int

// The kinds of inbound SMS. The zero value is Empty, which is what a zero
// Command holds.
const (
	// Empty is a message with no text, or only spaces and punctuation; it
	// is ignored.
	Empty Kind = iota
	// Other is free text, kept in the operators' inbox.
	Other
	// Subscribe asks to subscribe to the zone (and trade) in Args.
	Subscribe
	// Confirm confirms a pending subscription with the code in Args.
	Confirm
	// Stop unsubscribes the sender from everything, at once.
	Stop
	// Help asks how to subscribe and stop.
	Help
	// ListZones asks for the zone names.
	ListZones
)

var kindNames = [...]string{
	Empty:     "empty",
	Other:     "other",
	Subscribe: "subscribe",
	Confirm:   "confirm",
	Stop:      "stop",
	Help:      "help",
	ListZones: "zones",
}

// String returns a stable lower-case name, for logs and JSON.
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// keywords maps folded first words to their kind (SPEC §3).
var keywords = map[string]Kind{
	"INSCRIPTION":    Subscribe,
	"INSCRIRE":       Subscribe,
	"ABONNEMENT":     Subscribe,
	"START":          Subscribe,
	"OUI":            Confirm,
	"STOP":           Stop,
	"ARRET":          Stop,
	"DESINSCRIPTION": Stop,
	"DESABONNEMENT":  Stop,
	"AIDE":           Help,
	"INFO":           Help,
	"HELP":           Help,
	"ZONES":          ListZones,
}

// Command is a parsed inbound SMS.
type Command struct {
	// Kind is what the message asks for.
	Kind Kind
	// Args are the words after the keyword, in their original case, with
	// surrounding punctuation removed ("Inscription Mâcon-Centre." gives
	// ["Mâcon-Centre"]). Nil for Other and Empty.
	Args []string
	// Text is the whole message, NFC-normalized and trimmed of surrounding
	// white space.
	Text string
}

// Parse reads an inbound SMS. The keyword is the first word, compared case-
// and accent-insensitively, with surrounding spaces and punctuation ignored:
// "  Stop. " is Stop, "arrêt" is Stop, "?" is Help. The word ends at the
// first character that is not a letter, so "STOP,merci" is Stop too, while
// "Stopper" and "1 stop" are Other.
func Parse(text string) Command {
	text = norm.NFC.String(text)
	cmd := Command{Text: strings.TrimSpace(text)}

	// Skip the spaces and punctuation before the first word; a question
	// mark there is a request for help.
	start := strings.IndexFunc(text, isWordRune)
	lead, rest := text, ""
	if start >= 0 {
		lead, rest = text[:start], text[start:]
	}
	if strings.ContainsAny(lead, "?¿") {
		cmd.Kind = Help
		cmd.Args = words(rest)
		return cmd
	}
	if start < 0 {
		cmd.Kind = Empty
		return cmd
	}
	if r, _ := utf8.DecodeRuneInString(rest); !unicode.IsLetter(r) {
		cmd.Kind = Other // "1 stop", a code sent without OUI, a time…
		return cmd
	}
	end := strings.IndexFunc(rest, func(r rune) bool { return !unicode.IsLetter(r) })
	if end < 0 {
		end = len(rest)
	}
	kind, ok := keywords[fold.Fold(rest[:end])]
	if !ok {
		cmd.Kind = Other
		return cmd
	}
	cmd.Kind = kind
	cmd.Args = words(rest[end:])
	return cmd
}

// words splits s on white space and trims each word of surrounding
// punctuation and symbols, dropping words that were nothing else.
func words(s string) []string {
	var out []string
	for _, w := range strings.Fields(s) {
		w = strings.TrimFunc(w, func(r rune) bool { return !isWordRune(r) })
		if w != "" {
			out = append(out, w)
		}
	}
	return out
}

// isWordRune reports whether r can be part of a word: letters, digits and
// combining marks.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}
