// Package french words values for the people who read Vigie — operators,
// technicians, shopkeepers — in French: one place, so that the CLI, the
// daemon's messages and the SMS replies say a number, a duration or a
// quotation the same way.
//
// Typography: the house writes an ordinary space before « : ; ! ? » and
// inside « », not a narrow no-break space. SMS are GSM-7, which has no
// no-break space at all, and CLI output is grepped, pasted and pinned by
// scripts: one plain style everywhere beats a typographic one in half the
// places. Quote and the constants below are where that choice lives.
package french

import (
	"fmt"
	"strings"
	"time"
)

// Duration says a duration (its size: the sign is the caller's to word)
// for people, rounded to the last unit shown: « 42 s », « 7 min 30 s »,
// « 3 h 12 min », « 2 jours 4 h ».
func Duration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d >= 24*time.Hour-30*time.Minute:
		d = d.Round(time.Hour)
		days, h := int(d/(24*time.Hour)), int(d/time.Hour)%24
		unit := Plural(days, "jour", "jours")
		if h == 0 {
			return fmt.Sprintf("%d %s", days, unit)
		}
		return fmt.Sprintf("%d %s %d h", days, unit, h)
	case d >= time.Hour-30*time.Second:
		d = d.Round(time.Minute)
		return fmt.Sprintf("%d h %02d min", int(d/time.Hour), int(d/time.Minute)%60)
	case d >= time.Minute-500*time.Millisecond:
		d = d.Round(time.Second)
		return fmt.Sprintf("%d min %02d s", int(d/time.Minute), int(d/time.Second)%60)
	}
	return fmt.Sprintf("%d s", int(d.Round(time.Second)/time.Second))
}

// Plural picks the form agreeing with n: French takes the singular for 0
// and 1 (and their negatives), the plural from 2. It serves words that
// agree with a number said elsewhere in the sentence — a participle, a
// verb: « 1 commerçant a été prévenu », « 3 commerçants ont été prévenus ».
func Plural(n int, singular, plural string) string {
	if n > -2 && n < 2 {
		return singular
	}
	return plural
}

// Count says n with its noun agreeing: « 0 essai », « 1 essai »,
// « 4 essais ». The noun may be a whole group that agrees, participle
// included: Count(n, "SMS annulé", "SMS annulés"). Never "(s)".
func Count(n int, singular, plural string) string {
	return fmt.Sprintf("%d %s", n, Plural(n, singular, plural))
}

// Quote puts s between French quotation marks for a terminal: « s ».
// Not for SMS: « » are not GSM-7 (see SMSQuote).
func Quote(s string) string { return "« " + s + " »" }

// SMSQuote quotes s in an SMS, where « » would force UCS-2: "s".
func SMSQuote(s string) string { return `"` + s + `"` }

// List joins items the French way: « a », « a et b », « a, b et c ».
func List(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " et " + items[len(items)-1]
}
