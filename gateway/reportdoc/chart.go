package reportdoc

import (
	"fmt"
	"math"
	"strings"
)

// Charts are inline SVG computed here, drawn by the template: no script,
// so that the file shows the same in any browser, on paper and offline.

// series is one set of values of a chart, one per label.
type series struct {
	Name   string
	Class  string // CSS class giving its colour
	Values []float64
}

// refLine is a horizontal line at a value: the one-hour promise.
type refLine struct {
	Value float64
	Label string
}

// chart is what the template draws.
type chart struct {
	Title  string
	W, H   int
	Bars   []svgBar
	Labels []svgLabel
	Ticks  []svgTick
	Line   *svgLine
	Ref    *svgRef
	Legend []legendItem
	PlotX0 float64
	PlotX1 float64
	PlotY1 float64 // the baseline
}

type svgBar struct {
	X, Y, W, H float64
	Class      string
	Title      string // shown on hover, read by screen readers
	Value      string // written above the bar when there is room, else ""
}

type svgLabel struct {
	X, Y  float64
	Text  string
	Text2 string // second line (the year)
}

type svgTick struct {
	Y    float64
	Text string
}

type svgLine struct {
	Points string
	Class  string
	Dots   []svgBar
}

type svgRef struct {
	Y     float64
	Label string
}

type legendItem struct{ Name, Class string }

// Geometry of every chart, in SVG units (the SVG scales to the page).
const (
	chartW      = 700
	chartH      = 210
	plotLeft    = 54.0
	plotRight   = 690.0
	plotTop     = 14.0
	plotBottom  = 170.0
	labelLine1  = 186.0
	labelLine2  = 200.0
	maxBarWidth = 34.0
)

// niceStep is the smallest of 1, 2, 5 × 10^k at or above x, and at least
// 1: the axis has four such steps, so that it reads whole, round numbers
// (counts are whole).
func niceStep(x float64) float64 {
	if x <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x-1e-9 {
			return m * p
		}
	}
	return 10 * p
}

// barChart lays out bars (grouped when several series), an optional line
// series over them, and an optional reference line. labels holds one
// label per position, each with an optional second line. format writes an
// axis value.
func barChart(title string, labels [][2]string, bars []series, line *series, ref *refLine, format func(float64) string) chart {
	c := chart{Title: title, W: chartW, H: chartH, PlotX0: plotLeft, PlotX1: plotRight, PlotY1: plotBottom}
	n := len(labels)
	top := 0.0
	for _, s := range bars {
		for _, v := range s.Values {
			top = math.Max(top, v)
		}
	}
	if line != nil {
		for _, v := range line.Values {
			top = math.Max(top, v)
		}
	}
	if ref != nil {
		top = math.Max(top, ref.Value*1.1)
	}
	top = 4 * niceStep(top/4)
	y := func(v float64) float64 { return plotBottom - v/top*(plotBottom-plotTop) }
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		c.Ticks = append(c.Ticks, svgTick{Y: y(v), Text: format(v)})
	}
	if n == 0 {
		return c
	}
	slot := (plotRight - plotLeft) / float64(n)
	group := math.Min(slot*0.7, maxBarWidth*float64(max(len(bars), 1)))
	bw := group / float64(max(len(bars), 1))
	// A printed chart has no hover: the value goes above each bar of a
	// one-series chart while bars are wide enough to carry it.
	valued := len(bars) == 1 && n <= 24
	for i, l := range labels {
		cx := plotLeft + slot*(float64(i)+0.5)
		// Labels thin out when there are many (an alert chart): every
		// k-th, so they never overlap.
		if k := int(math.Ceil(float64(n) / 16)); i%k == 0 {
			c.Labels = append(c.Labels, svgLabel{X: cx, Y: labelLine1, Text: l[0], Text2: l[1]})
		}
		for j, s := range bars {
			if i >= len(s.Values) {
				continue
			}
			v := s.Values[i]
			x := cx - group/2 + bw*float64(j)
			b := svgBar{X: x, Y: y(v), W: math.Max(bw-1, 1), H: plotBottom - y(v), Class: s.Class,
				Title: strings.TrimSpace(l[0] + " " + l[1] + " — " + s.Name + " : " + format(v))}
			if valued && v > 0 {
				b.Value = format(v)
			}
			c.Bars = append(c.Bars, b)
		}
	}
	for _, s := range bars {
		if s.Name != "" {
			c.Legend = append(c.Legend, legendItem{s.Name, s.Class})
		}
	}
	if line != nil {
		var pts []string
		l := &svgLine{Class: line.Class}
		for i, v := range line.Values {
			cx := plotLeft + slot*(float64(i)+0.5)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", cx, y(v)))
			l.Dots = append(l.Dots, svgBar{X: cx, Y: y(v), Title: strings.TrimSpace(labels[i][0] + " " + labels[i][1] + " — " + line.Name + " : " + format(v))})
		}
		l.Points = strings.Join(pts, " ")
		c.Line = l
		c.Legend = append(c.Legend, legendItem{line.Name, line.Class})
	}
	if ref != nil {
		c.Ref = &svgRef{Y: y(ref.Value), Label: ref.Label}
	}
	return c
}
