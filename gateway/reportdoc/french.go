// Package reportdoc writes the period report of `vigie rapport` for people:
// one self-contained HTML file (inline CSS and SVG, no script, no network,
// printable on A4) and a CSV file for a spreadsheet, both in French, from
// the figures of apitype.Report. It only formats: every figure is the
// daemon's.
package reportdoc

import (
	"strconv"
	"strings"
	"time"

	"vigie/gateway/french"
)

// nnbsp is the narrow no-break space French puts between thousands and
// before « % ».
const nnbsp = "\u202f"

// Number writes n the French way: « 12 345 » with narrow no-break spaces.
func Number(n int) string {
	digits := strconv.Itoa(n)
	neg := strings.HasPrefix(digits, "-")
	digits = strings.TrimPrefix(digits, "-")
	var b strings.Builder
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteString(nnbsp)
		}
		b.WriteRune(c)
	}
	if neg {
		return "−" + b.String()
	}
	return b.String()
}

// decimal writes x with one decimal and a decimal comma, without a
// trailing « ,0 » (« 100 », « 98,7 »).
func decimal(x float64) string {
	s := strconv.FormatFloat(x, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	whole, frac, hasFrac := strings.Cut(s, ".")
	n, _ := strconv.Atoi(whole)
	out := Number(n)
	if whole == "-0" {
		out = "0"
	}
	if hasFrac {
		out += "," + frac
	}
	return out
}

// Percent writes a share (0–1) as « 98,7 % ».
func Percent(share float64) string { return decimal(share*100) + nnbsp + "%" }

// share is part of whole, 0 for an empty whole.
func share(part, whole int) float64 {
	if whole <= 0 {
		return 0
	}
	return float64(part) / float64(whole)
}

var monthNames = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}

var monthShort = [...]string{"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."}

// Day writes a date as « 1er décembre 2025 », « 30 novembre 2026 ».
func Day(t time.Time) string {
	d := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		d = "1er"
	}
	return d + " " + monthNames[t.Month()-1] + " " + strconv.Itoa(t.Year())
}

// monthOf reads a report month key ("2026-03").
func monthOf(key string) (time.Time, bool) {
	t, err := time.Parse("2006-01", key)
	return t, err == nil
}

// MonthName writes "2026-03" as « mars 2026 ».
func MonthName(key string) string {
	t, ok := monthOf(key)
	if !ok {
		return key
	}
	return monthNames[t.Month()-1] + " " + strconv.Itoa(t.Year())
}

// monthLabel is a chart's short label: « mars », and the year under
// January and the first month.
func monthLabel(key string, first bool) (string, string) {
	t, ok := monthOf(key)
	if !ok {
		return key, ""
	}
	year := ""
	if first || t.Month() == time.January {
		year = strconv.Itoa(t.Year())
	}
	return monthShort[t.Month()-1], year
}

// Seconds writes a duration in seconds for people: « 42 min 30 s ».
func Seconds(secs int64) string { return french.Duration(time.Duration(secs) * time.Second) }

// lastDay is the last day a [from, to) period covers.
func lastDay(to time.Time) time.Time { return to.AddDate(0, 0, -1) }

// Period writes « du 1er décembre 2025 au 30 novembre 2026 » for [from, to).
func Period(from, to time.Time) string {
	return "du " + Day(from) + " au " + Day(lastDay(to))
}
