package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// The soak's table (cmd/vigie/soak_e2e_test.go, soakTable): a title line
// "soak <variant>: …", a header line of column names starting with
// "month", a line of units, then one line of numbers per simulated month,
// then the bucket census. Columns are found by name, so that a column the
// soak adds later does not move the ones plotted.

// maxRows bounds what a file may claim: a soak is a year or two of months,
// and the parser reads files given on the command line.
const maxRows = 1000

// soakTable is one variant's run.
type soakTable struct {
	name string
	rows []soakRow
}

// soakRow is one simulated month, sizes in MiB, modem time in days (-1
// when the table has no such column: older soaks).
type soakRow struct {
	month             int
	dbBefore, dbAfter float64
	rssAnon, rssFile  float64
	upDays, seenDays  float64
}

// The columns plotted, by their header names.
var required = []string{"month", "db_before", "db_after", "rss_anon", "rss_file"}

var errNoTable = errors.New("no soak table")

// parseTable reads one soak table.
func parseTable(r io.Reader) (soakTable, error) {
	var t soakTable
	var cols map[string]int
	var ncols int
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		fields := strings.Fields(text)
		switch {
		case len(fields) == 0:
			continue
		case t.name == "" && cols == nil && fields[0] == "soak":
			name, _, ok := strings.Cut(strings.TrimPrefix(text, "soak "), ":")
			name = strings.TrimSpace(name)
			if !ok || name == "" || strings.ContainsAny(name, " \t") {
				return soakTable{}, fmt.Errorf("line %d: title %q: want \"soak <variant>: …\"", line, text)
			}
			t.name = name
		case t.name != "" && cols == nil && fields[0] == "month":
			cols = make(map[string]int, len(fields))
			for i, f := range fields {
				if _, dup := cols[f]; dup {
					return soakTable{}, fmt.Errorf("line %d: column %q twice", line, f)
				}
				cols[f] = i
			}
			for _, c := range required {
				if _, ok := cols[c]; !ok {
					return soakTable{}, fmt.Errorf("line %d: no column %q in the header", line, c)
				}
			}
			ncols = len(fields)
		case cols != nil && !isDigits(fields[0]):
			// The units line under the header, or the census after the
			// rows: the table's rows are the numeric lines between.
			if len(t.rows) > 0 {
				return t, t.check()
			}
		case cols != nil:
			if len(fields) != ncols {
				return soakTable{}, fmt.Errorf("line %d: %d fields, the header has %d", line, len(fields), ncols)
			}
			if len(t.rows) == maxRows {
				return soakTable{}, fmt.Errorf("line %d: more than %d months", line, maxRows)
			}
			row, err := parseRow(fields, cols)
			if err != nil {
				return soakTable{}, fmt.Errorf("line %d: %w", line, err)
			}
			t.rows = append(t.rows, row)
		}
	}
	if err := sc.Err(); err != nil {
		return soakTable{}, fmt.Errorf("read: %w", err)
	}
	switch {
	case t.name == "":
		return soakTable{}, errNoTable
	case cols == nil:
		return soakTable{}, fmt.Errorf("soak %s: no header line", t.name)
	}
	return t, t.check()
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func parseRow(fields []string, cols map[string]int) (soakRow, error) {
	month, err := strconv.Atoi(fields[cols["month"]])
	if err != nil {
		return soakRow{}, fmt.Errorf("month: %w", err)
	}
	r := soakRow{month: month, upDays: -1, seenDays: -1}
	for _, c := range []struct {
		name     string
		to       *float64
		optional bool
	}{
		{"db_before", &r.dbBefore, false},
		{"db_after", &r.dbAfter, false},
		{"rss_anon", &r.rssAnon, false},
		{"rss_file", &r.rssFile, false},
		{"up_d", &r.upDays, true},
		{"seen_d", &r.seenDays, true},
	} {
		i, ok := cols[c.name]
		if !ok && c.optional {
			continue
		}
		v, err := strconv.ParseFloat(fields[i], 64)
		if err != nil {
			return soakRow{}, fmt.Errorf("%s: %w", c.name, err)
		}
		// A size or a time is a finite figure of a year's run; beyond a
		// tebibyte or a millennium of days, the file is not a soak's.
		if math.IsNaN(v) || v < 0 || v > 1<<20 {
			return soakRow{}, fmt.Errorf("%s: %v out of range", c.name, v)
		}
		*c.to = v
	}
	return r, nil
}

// check says what no soak writes: no months, or months out of order.
func (t soakTable) check() error {
	if len(t.rows) == 0 {
		return fmt.Errorf("soak %s: no month", t.name)
	}
	for i, r := range t.rows {
		if r.month != i+1 {
			return fmt.Errorf("soak %s: month %d where %d was due", t.name, r.month, i+1)
		}
	}
	return nil
}
