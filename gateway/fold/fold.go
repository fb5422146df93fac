// Package fold owns the one way Vigie compares words typed by people: in an
// SMS keyword, a zone alias, a trade name. Shopkeepers write "arrêt", "ARRET"
// or "Arrêt."; operators write "Mâcon centre" where the config says
// "macon-centre". Folding makes those compare equal.
package fold

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// ligatures are letters that Unicode does not decompose but that French
// writers and keyboards use interchangeably with their spelled-out forms.
var ligatures = strings.NewReplacer(
	"Œ", "OE", "œ", "OE",
	"Æ", "AE", "æ", "AE",
	"ß", "SS", "ẞ", "SS",
)

// Fold returns s upper-cased, with accents and other combining marks removed,
// common ligatures spelled out and surrounding white space trimmed:
// " Arrêt " → "ARRET", "cœur" → "COEUR".
func Fold(s string) string {
	// A transformer keeps state, so each call builds its own chain.
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, strings.ToValidUTF8(s, "\uFFFD"))
	if err != nil {
		// Not expected on valid UTF-8; keep the text rather than lose it.
		out = s
	}
	return strings.TrimSpace(strings.ToUpper(ligatures.Replace(out)))
}

// Key returns Fold(s) keeping only letters and digits, so that spacing and
// punctuation do not matter either: "Mâcon centre", "MACON-CENTRE" and
// "macon_centre" all give "MACONCENTRE". It is the form to index names by.
func Key(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, Fold(s))
}
