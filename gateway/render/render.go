// Package render owns the text of an SMS as it will leave the modem: the
// alert framed by the configured prefix and signature, transliterated to the
// GSM 7-bit alphabet when asked (SPEC §5), and measured in encoding, length
// and parts exactly as github.com/warthog618/sms will split it, so that the
// preview shown to the operator is what is sent and billed.
package render

import (
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Encoding is the SMS user-data alphabet.
type Encoding string

// The encodings a text can be sent in.
const (
	// GSM7 is the GSM 03.38 default alphabet with its extension table:
	// 160 characters in a single SMS, 153 per part of a long one.
	GSM7 Encoding = "GSM7"
	// UCS2 is UTF-16: 70 units in a single SMS, 67 per part.
	UCS2 Encoding = "UCS2"
)

// Sizes of the user data, in septets (GSM7) or UTF-16 units (UCS2), of a
// single SMS and of each part of a concatenated one (whose header, with an
// 8-bit reference as the sms library writes it, takes 6 octets).
const (
	gsm7Single = 160
	gsm7Part   = 153
	ucs2Single = 70
	ucs2Part   = 67
)

// Text is a message body with its measure.
type Text struct {
	// Body is the exact text to send.
	Body string
	// Encoding is the alphabet the sms library will choose for Body.
	Encoding Encoding
	// Parts is the number of SMS (PDUs) Body is sent as; 0 for an empty body.
	Parts int
	// Chars is the length of Body in septets (GSM7, where an
	// extension-table character counts 2) or UTF-16 units (UCS2).
	Chars int
}

// Render builds the final text of an alert: prefix + text + signature, the
// text trimmed of surrounding white space and closed by a full stop before
// a signature that starts a sentence (see Join). With transliterate,
// characters outside the GSM alphabet are replaced by their closest GSM
// form (see Transliterate) so that a French text is not sent as UCS-2.
func Render(prefix, text, signature string, transliterate bool) Text {
	body := Join(prefix, text, signature)
	if transliterate {
		body = Transliterate(body)
	} else {
		body = norm.NFC.String(body)
	}
	return Measure(body)
}

// Join frames text (trimmed) between prefix and signature. A signature
// that starts with a word (" Gendarmerie. STOP…") is a new sentence: the
// text gets a full stop unless it already ends one (". ! ? …", before any
// closing quote or bracket), and a trailing ", ; :" gives way to it, so
// that "rue Carnot" never runs into "Gendarmerie" and "Au voleur !" never
// reads "Au voleur !.". A signature that starts with punctuation or a
// line break chose its own separation and is left as is.
func Join(prefix, text, signature string) string {
	text = strings.TrimSpace(text)
	if text == "" || !startsWord(signature) {
		return prefix + text + signature
	}
	return prefix + closeSentence(text) + signature
}

// startsWord reports whether s, after spaces (not line breaks), starts
// with a letter or a digit.
func startsWord(s string) bool {
	for _, r := range s {
		switch {
		case r == ' ' || r == '\u00a0' || r == '\u202f':
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			return true
		}
		return false
	}
	return false
}

// closeSentence ends text with a full stop unless it ends a sentence.
func closeSentence(text string) string {
	core := strings.TrimRightFunc(text, func(r rune) bool {
		return strings.ContainsRune("\"'»”’)]", r) || unicode.IsSpace(r)
	})
	if core == "" {
		return text
	}
	last, _ := utf8.DecodeLastRuneInString(core)
	if strings.ContainsRune(".!?…", last) {
		return text
	}
	if core == text && strings.ContainsRune(",;:", last) {
		if t := strings.TrimRight(text, ",;: \u00a0\u202f"); t != "" {
			return closeSentence(t) // "Vu !," ends at the "!"
		}
		return "."
	}
	return text + "."
}

// Measure reports the encoding, length and number of parts of s as it is,
// mirroring github.com/warthog618/sms: GSM7 when every character is in the
// default alphabet or its extension table, else UCS-2; an escape sequence is
// never split across parts, nor a UTF-16 surrogate pair.
func Measure(s string) Text {
	if septets, ok := gsm7Septets(s); ok {
		return Text{Body: s, Encoding: GSM7, Chars: len(septets), Parts: gsm7Parts(septets)}
	}
	units := utf16.Encode([]rune(s))
	return Text{Body: s, Encoding: UCS2, Chars: len(units), Parts: ucs2Parts(units)}
}

// gsm7Septets returns, for each septet s encodes to, whether it is the escape
// code; ok is false when s holds a character outside the GSM alphabet.
func gsm7Septets(s string) (esc []bool, ok bool) {
	esc = make([]bool, 0, len(s))
	for _, r := range s {
		switch {
		case r == escape:
			// The library encodes a literal ESC as the escape code itself.
			esc = append(esc, true)
		case isBasic(r):
			esc = append(esc, false)
		case isExtension(r):
			esc = append(esc, true, false)
		default:
			return nil, false
		}
	}
	return esc, true
}

// gsm7Parts counts parts the way the sms library chunks septets: blocks of
// gsm7Part, one shorter when the block would end on an escape code that is
// not itself escaped.
func gsm7Parts(esc []bool) int {
	n := len(esc)
	switch {
	case n == 0:
		return 0
	case n <= gsm7Single:
		return 1
	}
	parts := 0
	for end := gsm7Part; end < n; end += gsm7Part {
		if esc[end-1] && !esc[end-2] {
			end--
		}
		parts++
	}
	return parts + 1
}

// ucs2Parts counts parts the way the sms library chunks UTF-16: blocks of
// ucs2Part units, one shorter when the block would end on a high surrogate.
func ucs2Parts(units []uint16) int {
	n := len(units)
	switch {
	case n == 0:
		return 0
	case n <= ucs2Single:
		return 1
	}
	parts := 0
	for end := ucs2Part; end < n; end += ucs2Part {
		if u := units[end-1]; 0xd800 <= u && u < 0xdc00 {
			end--
		}
		parts++
	}
	return parts + 1
}
