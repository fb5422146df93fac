package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// The figure: 1200×700, two panels over the simulated months, the database
// file's size before and after the day's retention and compaction above,
// the daemon's resident memory (anonymous and file-backed) below, one
// colour per variant.
const (
	width, height = 1200, 700
	left, right   = 90, 945 // plot area; the legends sit right of it
	legendX       = 965
)

// panel is one of the two plots.
type panel struct {
	title, unit string
	top, bottom float64 // pixels
	series      []series
}

// series is one line: a variant's figure.
type series struct {
	label  string
	colour string
	dashed bool
	values []float64 // by month, from month 1
}

// colours: the ordinary year blue, the bad year red, any other variant
// from the rest, in the tables' order.
var palette = []string{"#2a6fb0", "#c0392b", "#27864a", "#8e44ad", "#d68910"}

func colourOf(i int, name string) string {
	switch name {
	case "year":
		return palette[0]
	case "bad":
		return palette[1]
	}
	return palette[2+i%(len(palette)-2)]
}

func label(name string) string {
	switch name {
	case "year":
		return "ordinary year"
	case "bad":
		return "bad year"
	}
	return name
}

// render writes the SVG of the tables.
func render(w io.Writer, tables []soakTable) error {
	if len(tables) == 0 {
		return fmt.Errorf("render: no table")
	}
	db := panel{title: "Database file size (before and after the daily retention and compaction)", unit: "MiB", top: 70, bottom: 330}
	rss := panel{title: "Daemon resident memory (RSS: anonymous and file-backed)", unit: "MiB", top: 420, bottom: 640}
	months := 0
	for i, t := range tables {
		months = max(months, len(t.rows))
		c := colourOf(i, t.name)
		col := func(f func(soakRow) float64) []float64 {
			v := make([]float64, len(t.rows))
			for k, r := range t.rows {
				v[k] = f(r)
			}
			return v
		}
		db.series = append(db.series,
			series{label(t.name) + ", before", c, true, col(func(r soakRow) float64 { return r.dbBefore })},
			series{label(t.name) + ", after", c, false, col(func(r soakRow) float64 { return r.dbAfter })})
		rss.series = append(rss.series,
			series{label(t.name) + ", anonymous", c, false, col(func(r soakRow) float64 { return r.rssAnon })},
			series{label(t.name) + ", file-backed", c, true, col(func(r soakRow) float64 { return r.rssFile })})
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="DejaVu Sans, Arial, sans-serif">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = label(t.name)
	}
	text(&b, width/2, 32, "middle", 20, "bold", "Vigie soak: database size and RSS over the simulated year ("+strings.Join(names, " vs ")+")")
	for _, p := range []panel{db, rss} {
		p.draw(&b, months)
	}
	text(&b, (left+right)/2, 688, "middle", 14, "normal", "simulated month (30 days each)")
	b.WriteString("</svg>\n")
	_, err := w.Write(b.Bytes())
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	return nil
}

func (p panel) draw(b *bytes.Buffer, months int) {
	top := 0.0
	for _, s := range p.series {
		for _, v := range s.values {
			top = max(top, v)
		}
	}
	step, ymax := niceScale(top)
	y := func(v float64) float64 { return p.bottom - v/ymax*(p.bottom-p.top) }
	// Months sit in the middle of equal slots, so one month is drawn too.
	slot := float64(right-left) / float64(months)
	x := func(month int) float64 { return left + slot*(float64(month)-0.5) }

	text(b, left, p.top-14, "start", 15, "bold", p.title)
	for v := 0.0; v <= ymax+step/2; v += step {
		yy := y(v)
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#dddddd"/>`+"\n", left, yy, right, yy)
		text(b, left-8, yy+4, "end", 12, "normal", strconv.FormatFloat(v, 'f', -1, 64))
	}
	fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="black"/>`+"\n", left, p.bottom, right, p.bottom)
	fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="black"/>`+"\n", left, p.top, left, p.bottom)
	every := max(1, months/24) // at most two dozen month labels
	for m := 1; m <= months; m++ {
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", x(m), p.bottom, x(m), p.bottom+5)
		if (m-1)%every == 0 {
			text(b, x(m), p.bottom+19, "middle", 12, "normal", strconv.Itoa(m))
		}
	}
	mid := (p.top + p.bottom) / 2
	fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="middle" font-size="13" transform="rotate(-90 %d %.1f)">%s</text>`+"\n", 34, mid, 34, mid, escape(p.unit))

	for i, s := range p.series {
		dash := ""
		if s.dashed {
			dash = ` stroke-dasharray="7 4"`
		}
		var pts []string
		for k, v := range s.values {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(k+1), y(v)))
		}
		fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="2.2"%s points="%s"/>`+"\n", s.colour, dash, strings.Join(pts, " "))
		for k, v := range s.values {
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`+"\n", x(k+1), y(v), s.colour)
		}
		ly := p.top + 10 + float64(i)*24
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s" stroke-width="2.2"%s/>`+"\n", legendX, ly, legendX+30, ly, s.colour, dash)
		text(b, legendX+38, ly+4, "start", 13, "normal", s.label)
	}
}

// niceScale is a tick step of 1, 2 or 5 times a power of ten and the axis
// top, a multiple of it at or above top, for about five ticks.
func niceScale(top float64) (step, ymax float64) {
	if !(top > 0) || math.IsInf(top, 0) {
		return 1, 1
	}
	raw := top / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step = 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	return step, math.Ceil(top/step) * step
}

func text(b *bytes.Buffer, x, y float64, anchor string, size int, weight, words string) {
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="%s" font-size="%d" font-weight="%s">%s</text>`+"\n", x, y, anchor, size, weight, escape(words))
}

// escape makes words XML character data (xml.EscapeText also replaces
// what XML cannot hold, a control byte from a damaged file).
func escape(words string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(words))
	return b.String()
}
