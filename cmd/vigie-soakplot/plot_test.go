package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A table the soak wrote (the short run's, VIGIE_SOAK_OUT), with the
// modem time columns.
func seed(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "short.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// An older table, without the modem time, named "bad".
const oldTable = `soak bad: 365 days, 6000 shops by CSV, 1000 alerts, retention 3 months, 9 compactions after a purge
month  db_before   db_after rss_anon rss_file gorou  fds     sms   KiB/sms  w/o_bak   alerts accept_ms   last_s  -9 modem
          (MiB)      (MiB)    (MiB)    (MiB)                    (written per SMS sent)  (slowest of the month)
    1       8.00       6.50     18.5     19.0    22   15     672     172.7      81.3        1      33.9       1.8   0     3
    2      12.25       9.75     21.3     22.5    22   15    1123     171.2     116.5        2      35.1       1.9   1     3
keys per bucket at the end: alerts=4
`

func TestParseTable(t *testing.T) {
	got, err := parseTable(bytes.NewReader(seed(t)))
	if err != nil {
		t.Fatal(err)
	}
	want := soakTable{name: "short", rows: []soakRow{
		{1, 4, 4, 18.5, 19.0, 28.58, 29.21},
		{2, 4, 4, 21.3, 19.5, 29.38, 30.00},
		{3, 4, 4, 17.8, 19.8, 14.58, 14.79},
	}}
	if got.name != want.name || len(got.rows) != len(want.rows) {
		t.Fatalf("parseTable = %+v, want %+v", got, want)
	}
	for i := range want.rows {
		if got.rows[i] != want.rows[i] {
			t.Errorf("month %d = %+v, want %+v", i+1, got.rows[i], want.rows[i])
		}
	}

	old, err := parseTable(strings.NewReader(oldTable))
	if err != nil {
		t.Fatal(err)
	}
	if old.name != "bad" || len(old.rows) != 2 || old.rows[1] != (soakRow{2, 12.25, 9.75, 21.3, 22.5, -1, -1}) {
		t.Errorf("older table = %+v: want bad, two months, no modem time", old)
	}
}

func TestParseTableRefuses(t *testing.T) {
	head := "soak year: x\nmonth db_before db_after rss_anon rss_file\n (MiB)\n"
	for _, c := range []struct{ name, text string }{
		{"empty", ""},
		{"no title", "month db_before db_after rss_anon rss_file\n1 1 1 1 1\n"},
		{"no header", "soak year: x\n1 1 1 1 1\n"},
		{"column missing", "soak year: x\nmonth db_before db_after rss_anon\n1 1 1 1\n"},
		{"column twice", "soak year: x\nmonth db_before db_after rss_anon rss_file rss_file\n1 1 1 1 1 1\n"},
		{"no month", head},
		{"short row", head + "1 1 1 1\n"},
		{"long row", head + "1 1 1 1 1 1\n"},
		{"not a number", head + "1 1 un 1 1\n"},
		{"negative", head + "1 1 -1 1 1\n"},
		{"not a figure", head + "1 1 NaN 1 1\n"},
		{"infinite", head + "1 1 +Inf 1 1\n"},
		{"month skipped", head + "1 1 1 1 1\n3 1 1 1 1\n"},
		{"month zero", head + "0 1 1 1 1\n"},
		{"title without variant", "soak : x\n"},
	} {
		if tb, err := parseTable(strings.NewReader(c.text)); err == nil {
			t.Errorf("%s: parsed %+v", c.name, tb)
		}
	}
	if _, err := parseTable(strings.NewReader("rien\n")); !errors.Is(err, errNoTable) {
		t.Errorf("a file without a table: %v, want errNoTable", err)
	}
}

// The plot of two variants: well-formed XML at 1200×700, a line per
// figure and variant with a point per month, the labels in English.
func TestRender(t *testing.T) {
	short, err := parseTable(bytes.NewReader(seed(t)))
	if err != nil {
		t.Fatal(err)
	}
	bad, err := parseTable(strings.NewReader(oldTable))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := render(&b, []soakTable{short, bad}); err != nil {
		t.Fatal(err)
	}
	svg := b.String()
	lines, points := svgShapes(t, svg)
	if len(lines) != 8 {
		t.Fatalf("%d polylines, want 8 (2 figures × 2 panels × 2 variants)", len(lines))
	}
	for i, n := range lines {
		if want := []int{3, 3, 2, 2, 3, 3, 2, 2}[i]; n != want {
			t.Errorf("polyline %d has %d points, want %d", i, n, want)
		}
	}
	if points != 3*4+2*4 {
		t.Errorf("%d markers, want %d", points, 3*4+2*4)
	}
	for _, s := range []string{`width="1200" height="700"`, "Database file size", "resident memory", "MiB",
		"simulated month", "short, before", "bad year, after", "bad year, anonymous", "short, file-backed"} {
		if !strings.Contains(svg, s) {
			t.Errorf("the plot lacks %q", s)
		}
	}
	// The bad year's size after the purge in month 2 (9.75 MiB) is drawn
	// below its size before (12.25 MiB): y grows downwards.
	if before, after := lastY(t, svg, 2), lastY(t, svg, 3); after <= before {
		t.Errorf("month 2 of the bad year: y %v after the purge, %v before; want after below before", after, before)
	}
	if err := render(io.Discard, nil); err == nil {
		t.Error("a plot of no table was drawn")
	}
}

// lastY is the y of the last point of the i-th polyline.
func lastY(t testing.TB, svg string, i int) float64 {
	t.Helper()
	parts := strings.Split(svg, `points="`)
	if len(parts) <= i+1 {
		t.Fatalf("no polyline %d", i)
	}
	pts := strings.Fields(parts[i+1][:strings.IndexByte(parts[i+1], '"')])
	_, y, _ := strings.Cut(pts[len(pts)-1], ",")
	v, err := strconv.ParseFloat(y, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// svgShapes checks svg is well-formed XML and returns the point count of
// each polyline and the number of circles.
func svgShapes(t testing.TB, svg string) (lines []int, circles int) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(svg))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return lines, circles
		}
		if err != nil {
			t.Fatalf("plot is not well-formed XML: %v\n%s", err, svg)
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch el.Name.Local {
		case "polyline":
			for _, a := range el.Attr {
				if a.Name.Local == "points" {
					lines = append(lines, len(strings.Fields(a.Value)))
				}
			}
		case "circle":
			circles++
		}
	}
}

// The parser reads files: whatever it is given, it refuses or returns a
// table the plot draws as well-formed XML, a point per month.
func FuzzParseTable(f *testing.F) {
	f.Add(seed(f))
	f.Add([]byte(oldTable))
	f.Add([]byte("soak <x&y>: \nmonth db_before db_after rss_anon rss_file\n1 0 0 0 0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tb, err := parseTable(bytes.NewReader(data))
		if err != nil {
			return
		}
		if len(tb.rows) == 0 || tb.name == "" {
			t.Fatalf("parsed %+v: no month or no name", tb)
		}
		var b bytes.Buffer
		if err := render(&b, []soakTable{tb}); err != nil {
			t.Fatal(err)
		}
		lines, _ := svgShapes(t, b.String())
		if len(lines) != 4 || lines[0] != len(tb.rows) {
			t.Fatalf("polylines %v for %d months", lines, len(tb.rows))
		}
	})
}
