package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestReportPeriod(t *testing.T) {
	now := time.Date(2026, 12, 4, 19, 30, 0, 0, time.Local)
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.Local) }
	for _, c := range []struct {
		opts      rapportOptions
		from, to  time.Time
		wantError string
	}{
		// The default: 12 calendar months, the current one up to today.
		{rapportOptions{}, day(2026, 1, 1), day(2026, 12, 4), ""},
		{rapportOptions{to: "2026-11-30"}, day(2025, 12, 1), day(2026, 11, 30), ""},
		{rapportOptions{from: "01/12/2025", to: "30/11/2026"}, day(2025, 12, 1), day(2026, 11, 30), ""},
		{rapportOptions{from: "2026-03-14"}, day(2026, 3, 14), day(2026, 12, 4), ""},
		{rapportOptions{from: "2026-12-05"}, time.Time{}, time.Time{}, "la date de début (5 décembre 2026) est après la date de fin (4 décembre 2026)"},
		{rapportOptions{to: "31/02/2026"}, time.Time{}, time.Time{}, `date invalide pour --to : "31/02/2026"`},
		{rapportOptions{from: "hier"}, time.Time{}, time.Time{}, `date invalide pour --from : "hier"`},
	} {
		from, to, err := reportPeriod(c.opts, now)
		if c.wantError != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantError) {
				t.Errorf("%+v: error %v, want %q", c.opts, err, c.wantError)
			}
			continue
		}
		if err != nil || !from.Equal(c.from) || !to.Equal(c.to) {
			t.Errorf("%+v: %v – %v (%v), want %v – %v", c.opts, from, to, err, c.from, c.to)
		}
	}
}

// TestRapportHTMLRefusesATerminal: a page of HTML on a terminal is of no
// use to anyone; the refusal says how to get the file. Before any daemon
// is asked, so no daemon here.
func TestRapportHTMLRefusesATerminal(t *testing.T) {
	var out, errOut bytes.Buffer
	g := &globalOptions{stdout: &out, stderr: &errOut, stdin: strings.NewReader(""), stdoutTTY: true}
	root := newRootCommand(g)
	root.SetArgs([]string{"rapport", "--socket", "/nonexistent/vigie.sock"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	code := report(g.stderr, root.ExecuteContext(ctx))
	if code != exitUsage || !strings.Contains(errOut.String(), "vigie rapport -o rapport.html") || out.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
	_, errText, code := runCLI(t, "rapport", "--format", "pdf")
	if code != exitUsage || !strings.Contains(errText, "format inconnu « pdf » : html, csv ou json") {
		t.Errorf("--format pdf: exit %d, %q", code, errText)
	}
}
