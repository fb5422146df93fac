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
	"vigie/gateway/suggest"
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
	// Typo is set when Kind was understood from a misspelt keyword
	// ("INSCRIPTON macon"): the keyword as it is spelt, for logs.
	Typo string
	// Near is, for Other, the kind of keyword the first word looks like
	// without being taken for it ("STOPP merci", a lone "Zone"): the
	// sender may be told the right spelling. Empty when none.
	Near Kind
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
	args := words(rest[end:])
	kind, ok := keywords[fold.Fold(rest[:end])]
	if !ok {
		kind, cmd.Typo, cmd.Near = misspelt(fold.Fold(rest[:end]), len(args) == 0)
		if kind == Other {
			cmd.Kind = Other
			return cmd
		}
	}
	cmd.Kind = kind
	cmd.Args = args
	return cmd
}

// minTypoLen is the shortest keyword a misspelling is taken for: shorter
// ones (OUI, AIDE, INFO, STOP…) are one letter from ordinary words, and a
// witness's text must not turn into a command.
const minTypoLen = 8

// misspelt reads a first word w (folded) that is no keyword: the kind it
// is a misspelling of, with the keyword, or Other and the kind it merely
// looks like. alone says w is the whole message.
//
// Taken for a keyword: a long keyword (INSCRIPTION, DESABONNEMENT…)
// within suggest.Limit, and nearer by two than any keyword of another kind,
// so that a typo between subscribing and stopping ("DSINSCRIPTION") is
// never a guess. STOP is the exception that matters most: a free text must
// never unsubscribe its sender by accident, so a misspelt STOP or ARRET is
// taken only when it is the whole message, within one edit and at least
// four letters long ("STOPP", "SOTP", "ARET"; never "Top", "STP merci",
// "Stopper").
//
// Looking like a keyword, and told the spelling: within suggest.Limit
// (one edit for STOP), when w is the whole message, the keyword is a long
// one, or w looks like STOP or ARRET with four letters or more (who wrote
// "STOPP merci" must learn that nothing was stopped).
func misspelt(w string, alone bool) (kind Kind, typo string, near Kind) {
	type hit struct {
		kw   string
		kind Kind
		d    int
	}
	var taken, close []hit
	for kw, k := range keywords {
		d := suggest.Distance(w, kw)
		n := utf8.RuneCountInString(kw)
		long := n >= minTypoLen
		switch {
		case d == 0:
			continue
		case long && d <= suggest.Limit(kw):
			taken = append(taken, hit{kw, k, d})
		case k == Stop && alone && d <= 1 && utf8.RuneCountInString(w) >= 4:
			taken = append(taken, hit{kw, k, d})
		}
		if d <= suggest.Limit(kw) && (alone || long || k == Stop && utf8.RuneCountInString(w) >= 4) {
			close = append(close, hit{kw, k, d})
		}
	}
	// The nearest, if no keyword of another kind is as near (or, to be
	// taken, nearer than two edits more).
	best := func(hits []hit, margin int) (hit, bool) {
		var b hit
		found := false
		for _, h := range hits {
			if !found || h.d < b.d || (h.d == b.d && h.kw < b.kw) {
				b, found = h, true
			}
		}
		if !found {
			return b, false
		}
		for kw, k := range keywords {
			if k != b.kind && suggest.Distance(w, kw) < b.d+margin {
				return b, false
			}
		}
		return b, true
	}
	if h, ok := best(taken, 2); ok {
		return h.kind, h.kw, Empty
	}
	if h, ok := best(close, 1); ok {
		return Other, "", h.kind
	}
	return Other, "", Empty
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
