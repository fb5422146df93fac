// Package french words values for the people who read Vigie — operators,
// technicians — in French: one place, so that the CLI and the daemon's
// messages say a duration the same way.
package french

import (
	"fmt"
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
		unit := "jours"
		if days == 1 {
			unit = "jour"
		}
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

// Count says n with its noun agreeing: « 1 essai », « 4 essais ». French
// takes the singular for 0 and 1.
func Count(n int, singular, plural string) string {
	if n == 0 || n == 1 || n == -1 {
		return fmt.Sprintf("%d %s", n, singular)
	}
	return fmt.Sprintf("%d %s", n, plural)
}
