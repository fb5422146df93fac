package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"vigie/gateway/apitype"
	"vigie/gateway/french"
)

// An alert's timeline in `alert show`: its milestones in French, and a small
// chart of its SMS over time made of block characters, so that it reads on
// any terminal without colour or cursor control.

// chartWidth is the most columns the chart takes: it fits an 80-column
// terminal with its indent.
const chartWidth = 60

// chartRows is the chart's height in lines; each line has 8 levels.
const chartRows = 3

// blocks are the eighths of a cell, lowest first.
var blocks = []rune("▁▂▃▄▅▆▇█")

// clockFrench says a time of day the French way, « 14 h 02 », with the
// day when it is not ref's.
func clockFrench(t, ref time.Time) string {
	t, ref = t.Local(), ref.Local()
	s := t.Format("15 h 04")
	if t.YearDay() != ref.YearDay() || t.Year() != ref.Year() {
		s += " le " + t.Format("02/01")
	}
	return s
}

// printTimeline writes the alert's timeline and its chart; nothing from a
// daemon that does not keep it.
func printTimeline(w io.Writer, rep apitype.AlertReport) {
	tl, counts := rep.Timeline, rep.Counts
	if tl == nil {
		return
	}
	acc := tl.AcceptedAt
	since := func(t time.Time) string { return french.Duration(t.Sub(acc)) }
	fmt.Fprintln(w, "Chronologie :")
	fmt.Fprintf(w, "  Acceptée à %s\n", clockFrench(acc, acc))
	if !tl.FirstSentAt.IsZero() {
		fmt.Fprintf(w, "  Premier SMS parti à %s (après %s)\n", clockFrench(tl.FirstSentAt, acc), since(tl.FirstSentAt))
	}
	if !tl.HalfSentAt.IsZero() {
		fmt.Fprintf(w, "  50 %% des SMS partis à %s (après %s)\n", clockFrench(tl.HalfSentAt, acc), since(tl.HalfSentAt))
	}
	if !tl.NinetySentAt.IsZero() {
		fmt.Fprintf(w, "  90 %% des SMS partis à %s (après %s)\n", clockFrench(tl.NinetySentAt, acc), since(tl.NinetySentAt))
	}
	if !tl.LastSentAt.IsZero() {
		fmt.Fprintf(w, "  Dernier SMS parti à %s (en %s)\n", clockFrench(tl.LastSentAt, acc), since(tl.LastSentAt))
	}
	span := func(what string, first, last time.Time) {
		if first.IsZero() {
			return
		}
		// Within one minute, "de 19 h 53 à 19 h 53" would read as a typo.
		if last.IsZero() || clockFrench(last, acc) == clockFrench(first, acc) {
			fmt.Fprintf(w, "  %s à %s\n", what, clockFrench(first, acc))
			return
		}
		fmt.Fprintf(w, "  %s de %s à %s\n", what, clockFrench(first, acc), clockFrench(last, acc))
	}
	span(french.Count(tl.Reports, "rapport de remise", "rapports de remise"), tl.FirstReportAt, tl.LastReportAt)
	span(french.Count(counts["failed"], "échec", "échecs"), tl.FirstFailedAt, tl.LastFailedAt)
	span(french.Count(counts["expired"], "SMS expiré", "SMS expirés"), tl.FirstExpiredAt, tl.LastExpiredAt)
	if !tl.CancelledAt.IsZero() {
		fmt.Fprintf(w, "  Annulée à %s\n", clockFrench(tl.CancelledAt, acc))
	}
	if n := len(tl.Replies); n > 0 {
		span(french.Count(n, "réponse de témoin", "réponses de témoins"), tl.Replies[0], tl.Replies[n-1])
	}
	if !tl.Finished {
		fmt.Fprintf(w, "  Envoi en cours : %s sur %d\n", french.Count(tl.Sent, "SMS parti", "SMS partis"), rep.Recipients)
	}
	for _, line := range sentChart(tl) {
		fmt.Fprintln(w, line)
	}
}

// sentChart draws the SMS sent over time: one column per minute, or per
// group of minutes when the sending took longer than chartWidth minutes,
// chartRows lines high, and a time axis under it. Nothing when none left.
func sentChart(tl *apitype.AlertTimeline) []string {
	last := -1
	for _, m := range tl.Minutes {
		if m.Sent > 0 {
			last = m.Minute
		}
	}
	if last < 0 {
		return nil
	}
	per := (last + chartWidth) / chartWidth // minutes per column
	cols := make([]int, last/per+1)
	for _, m := range tl.Minutes {
		if m.Minute <= last {
			cols[m.Minute/per] += m.Sent
		}
	}
	peak := 0
	for _, v := range cols {
		peak = max(peak, v)
	}
	unit := "par minute"
	if per > 1 {
		unit = fmt.Sprintf("par tranche de %d min", per)
	}
	lines := []string{fmt.Sprintf("SMS partis %s (au plus %d) :", unit, peak)}
	levels := chartRows * len(blocks)
	for row := chartRows - 1; row >= 0; row-- {
		var b strings.Builder
		b.WriteString("  ")
		for _, v := range cols {
			h := (v*levels + peak - 1) / peak // a column with any SMS shows
			switch lo := row * len(blocks); {
			case h <= lo:
				b.WriteRune(' ')
			case h >= lo+len(blocks):
				b.WriteRune(blocks[len(blocks)-1])
			default:
				b.WriteRune(blocks[h-lo-1])
			}
		}
		lines = append(lines, strings.TrimRight(b.String(), " "))
	}
	return append(lines, "  "+chartAxis(tl.AcceptedAt, len(cols), per))
}

// chartAxis labels the chart's columns with times of day: the first, then
// one every ten columns or so where there is room.
func chartAxis(acc time.Time, cols, per int) string {
	axis := []rune(strings.Repeat(" ", cols+8))
	next := 0
	for c := 0; c < cols; c++ {
		if c < next || (c%10 != 0 && c != cols-1) {
			continue
		}
		label := []rune("|" + acc.Add(time.Duration(c*per)*time.Minute).Local().Format("15 h 04"))
		if c == cols-1 && c != 0 && c+len(label) > len(axis) {
			continue
		}
		copy(axis[c:], label)
		next = c + len(label) + 1
	}
	return strings.TrimRight(string(axis), " ")
}
