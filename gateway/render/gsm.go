package render

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// escape is the GSM 03.38 code that announces an extension-table character.
const escape = '\x1b'

// basic is the GSM 03.38 default alphabet, in code order (0x1b is the escape).
const basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// extension holds the characters of the GSM 03.38 extension table; each costs
// two septets (escape + code).
const extension = "\f^{}\\[~]|€"

func isBasic(r rune) bool     { return r != escape && strings.ContainsRune(basic, r) }
func isExtension(r rune) bool { return strings.ContainsRune(extension, r) }

// isGSM reports whether r is sent as is in GSM 7-bit.
func isGSM(r rune) bool { return isBasic(r) || isExtension(r) }

// replacements are the closest GSM forms of characters that French texts
// (typed on phones, word processors or with AZERTY keyboards) commonly hold
// and that compatibility decomposition does not handle.
var replacements = map[rune]string{
	// Apostrophes and single quotes.
	'‘': "'", '’': "'", '‚': "'", '‛': "'", '′': "'", '‵': "'", '`': "'", '´': "'", 'ʼ': "'",
	'‹': "'", '›': "'",
	// Double quotes and guillemets.
	'“': "\"", '”': "\"", '„': "\"", '‟': "\"", '″': "\"", '«': "\"", '»': "\"",
	// Ligatures Unicode does not decompose.
	'œ': "oe", 'Œ': "OE",
	// Letters without a decomposition.
	'ł': "l", 'Ł': "L", 'đ': "d", 'Đ': "D", 'ı': "i", 'ħ': "h", 'Ħ': "H", 'ŧ': "t", 'Ŧ': "T",
	'ð': "d", 'Ð': "D", 'þ': "th", 'Þ': "TH", 'ẞ': "SS",
	// Punctuation and symbols.
	'…': "...", '•': "-", '·': ".", '‧': ".", '°': "o", '×': "x", '÷': "/", '⁄': "/",
	'©': "(c)", '®': "(R)", '\t': " ", '\v': "\n",
	// The GSM Ç is upper case; ç is written without its cedilla (SPEC §5).
	'ç': "c",
}

// Transliterate replaces the characters of s that are outside the GSM 7-bit
// alphabet (default table and extension) by their closest GSM form: curly
// quotes and guillemets by straight ones (’→', « »→"), œ by oe, … by ...,
// non-breaking and other spaces by a space, dashes by -, accented letters by
// their base letter (ê→e, ç→c, Â→A). Accented letters that are in the GSM
// alphabet (é è à ù ì ò É Ç Ä Ö Ñ Ü ä ö ñ ü ß) are kept, control and
// invisible formatting characters are dropped, and characters with no GSM
// form at all (emoji, other scripts) are kept as they are, so the text falls
// back to UCS-2 rather than losing meaning.
func Transliterate(s string) string {
	s = norm.NFC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r':
			b.WriteRune(r)
		case r != '\t' && r != '\v' && (unicode.IsControl(r) || r == escape):
			// dropped: other controls, including ESC and form feed
		case isGSM(r):
			b.WriteRune(r)
		default:
			b.WriteString(closest(r))
		}
	}
	return b.String()
}

// closest returns the GSM form of r, which is not in the GSM alphabet.
func closest(r rune) string {
	if s, ok := replacements[r]; ok {
		return s
	}
	// Compatibility decomposition without marks: â→a, Ê→E, ﬁ→fi, ½→1/2,
	// narrow no-break space→space, ™→TM.
	if s, ok := decompose(r); ok {
		return s
	}
	switch {
	case unicode.IsSpace(r):
		return " "
	case unicode.Is(unicode.Pd, r):
		return "-"
	case unicode.Is(unicode.Mn, r), unicode.Is(unicode.Cf, r):
		return "" // stray combining marks, zero-width spaces, soft hyphens
	}
	return string(r)
}

// decompose returns the NFKD form of r stripped of combining marks, with
// each remaining rune in GSM or replaced; ok is false if that fails.
func decompose(r rune) (string, bool) {
	d := norm.NFKD.String(string(r))
	if d == string(r) {
		return "", false
	}
	var b strings.Builder
	for _, c := range d {
		switch {
		case unicode.Is(unicode.Mn, c):
		case isGSM(c) && !unicode.IsControl(c):
			b.WriteRune(c)
		default:
			s, ok := replacements[c]
			if !ok {
				switch {
				case unicode.IsSpace(c):
					s = " "
				case unicode.Is(unicode.Pd, c):
					s = "-"
				default:
					return "", false
				}
			}
			b.WriteString(s)
		}
	}
	if b.Len() == 0 {
		return "", false
	}
	return b.String(), true
}
