// Package phone owns shopkeepers' phone numbers as Vigie stores them: E.164,
// mobile only, parsed from what an operator types or an SMS header carries
// with the station's region (SPEC §11), masked for logs (SPEC §9), and the
// test of which senders must never get an automatic reply (SPEC §3).
package phone

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// Errors returned by Normalize, wrapped with the input.
var (
	// ErrInvalid means the input is not a valid phone number.
	ErrInvalid = errors.New("not a valid phone number")
	// ErrNotMobile means the input is a valid number that cannot receive
	// SMS: a landline, VoIP, premium rate or special number.
	ErrNotMobile = errors.New("not a mobile number")
)

// DefaultRegion is the region used when none is given.
const DefaultRegion = "FR"

// frenchRegions share the French national format (a leading 0 and nine
// digits) but each has its own country code. An operator in mainland France
// types a Guadeloupe mobile as "0690 …", and one in Réunion types a mainland
// mobile as "06 …": in national format, the number is tried in each of them.
var frenchRegions = []string{"FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF"}

// Normalize parses a number typed by an operator or read from an SMS header
// ("06 12 34 56 78", "+33 6 12 34 56 78", "0033612345678", "+33612345678")
// with the station's region (an ISO 3166 code such as "FR" or "GP"; empty
// means DefaultRegion) and returns it in E.164 ("+33612345678").
//
// A number written in the French national format that is not valid in the
// station's region is tried in the other French regions, mainland and
// overseas (+590, +596, +594, +262, …), and accepted when it is a mobile
// there. The number must be a mobile: errors wrap ErrInvalid or ErrNotMobile.
func Normalize(raw, region string) (string, error) {
	region = strings.ToUpper(strings.TrimSpace(region))
	if region == "" {
		region = DefaultRegion
	}
	// Only digits and the usual separators: no vanity letters, extensions
	// or alphanumeric senders, which the parser would otherwise interpret.
	if strings.IndexFunc(raw, notNumberRune) >= 0 {
		return "", fmt.Errorf("phone %q: %w", raw, ErrInvalid)
	}
	n, err := phonenumbers.Parse(raw, region)
	if err != nil {
		return "", fmt.Errorf("phone %q: %w", raw, ErrInvalid)
	}
	if !phonenumbers.IsValidNumber(n) && slices.Contains(frenchRegions, region) && isNational(raw) {
		for _, other := range frenchRegions {
			if other == region {
				continue
			}
			if m, err := phonenumbers.Parse(raw, other); err == nil && phonenumbers.IsValidNumber(m) && isMobile(m) {
				n = m
				break
			}
		}
	}
	if !phonenumbers.IsValidNumber(n) {
		return "", fmt.Errorf("phone %q: %w", raw, ErrInvalid)
	}
	if !isMobile(n) {
		return "", fmt.Errorf("phone %q: %w", raw, ErrNotMobile)
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// isNational reports whether raw is written in national format: its first
// digit is a single 0 (not 00, the international prefix) and it has no +.
func isNational(raw string) bool {
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r == '+' {
			return r
		}
		return -1
	}, raw)
	return strings.HasPrefix(digits, "0") && !strings.HasPrefix(digits, "00")
}

func isMobile(n *phonenumbers.PhoneNumber) bool {
	switch phonenumbers.GetNumberType(n) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
		return true
	}
	return false
}

// Mask hides most digits of an E.164 number for logs at info level, keeping
// the country code, the first national digit and the last two digits:
// "+33612345678" → "+33 6 ** ** ** 78". Anything that is not an E.164 number
// is masked but for its last two characters.
func Mask(e164 string) string {
	n, err := phonenumbers.Parse(e164, "")
	if err != nil || !strings.HasPrefix(e164, "+") {
		return maskAll(e164)
	}
	cc := strconv.Itoa(int(n.GetCountryCode()))
	national := strings.TrimPrefix(e164, "+"+cc)
	if national == e164 || len(national) < 4 || strings.IndexFunc(national, notDigit) >= 0 {
		return maskAll(e164)
	}
	var b strings.Builder
	b.WriteString("+" + cc + " " + national[:1])
	middle := len(national) - 3
	for i := 0; i < middle; i += 2 {
		b.WriteString(" " + strings.Repeat("*", min(2, middle-i)))
	}
	b.WriteString(" " + national[len(national)-2:])
	return b.String()
}

func maskAll(s string) string {
	r := []rune(s)
	for i := range max(0, len(r)-2) {
		r[i] = '*'
	}
	return string(r)
}

func notDigit(r rune) bool { return r < '0' || r > '9' }

// notNumberRune reports whether r cannot appear in a written phone number.
func notNumberRune(r rune) bool {
	return notDigit(r) && !unicode.IsSpace(r) && !strings.ContainsRune("+.-()/", r)
}

// IsShortOrAlpha reports whether sender is one Vigie never auto-replies to:
// an alphanumeric sender ("ORANGE", "Banque") or a short code (fewer than 8
// digits, e.g. "36179"). A sender that is empty or holds anything but an
// optional leading + and digits (spaces aside) counts as such.
func IsShortOrAlpha(sender string) bool {
	s := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, sender)
	s = strings.TrimPrefix(s, "+")
	return len(s) < 8 || strings.IndexFunc(s, notDigit) >= 0
}

// Display writes an E.164 number the way the person who must call it
// dials it: a French number nationally, in pairs ("+33612345678" →
// "06 12 34 56 78"); any other number as it is. The whole number: this is
// for operators, never for logs (see Mask).
func Display(e164 string) string {
	national, ok := strings.CutPrefix(e164, "+33")
	if !ok || len(national) != 9 || strings.IndexFunc(national, notDigit) >= 0 {
		return e164
	}
	d := "0" + national
	return d[0:2] + " " + d[2:4] + " " + d[4:6] + " " + d[6:8] + " " + d[8:10]
}
