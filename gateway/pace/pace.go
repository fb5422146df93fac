// Package pace measures how fast messages actually leave, from when the
// last ones were sent, and estimates from it how long a queue will take.
//
// The measure is the median gap between consecutive sends, not the number
// of sends over the time they span: after a modem outage (unplugged, no
// network) that span holds the outage, and the estimate it gave was several
// times the real time. The median ignores the few long gaps an outage or a
// pause between alerts leaves, and follows the modems' real pace (rate
// limits, network delays, several modems interleaving) whatever the
// configuration says.
package pace

import (
	"slices"
	"time"
)

// MinSends is the fewest sends that make a measure: below, the gaps say
// more about chance than about the pace.
const MinSends = 3

// Interval is the typical time between two sends, the median gap between
// consecutive times of sent (oldest first); false when sent holds fewer
// than MinSends times or its gaps are all zero.
func Interval(sent []time.Time) (time.Duration, bool) {
	if len(sent) < MinSends {
		return 0, false
	}
	gaps := make([]time.Duration, 0, len(sent)-1)
	for i := 1; i < len(sent); i++ {
		gaps = append(gaps, max(sent[i].Sub(sent[i-1]), 0))
	}
	slices.Sort(gaps)
	mid := len(gaps) / 2
	median := gaps[mid]
	if len(gaps)%2 == 0 {
		median = (gaps[mid-1] + gaps[mid]) / 2
	}
	if median <= 0 {
		return 0, false
	}
	return median, true
}

// ETA is how long n more messages take at the pace of sent; false when
// the pace is not known.
func ETA(sent []time.Time, n int) (time.Duration, bool) {
	iv, ok := Interval(sent)
	if !ok {
		return 0, false
	}
	return time.Duration(n) * iv, true
}

// PerMinute is the measured pace in messages per minute; false when not
// known.
func PerMinute(sent []time.Time) (float64, bool) {
	iv, ok := Interval(sent)
	if !ok {
		return 0, false
	}
	return float64(time.Minute) / float64(iv), true
}
