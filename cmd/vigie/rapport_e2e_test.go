//go:build e2e

package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"vigie/gateway/apitype"
	"vigie/gateway/reportdoc/printtest"
)

// TestRapportOnRealDaemon runs `vigie rapport` against the real daemon in
// its three formats and prints the HTML with headless Chromium. On this
// branch the figures are zero; the structure is what is checked: the
// period, the twelve months, the French headings, the zone filter.
func TestRapportOnRealDaemon(t *testing.T) {
	e := start(t, envOptions{})
	period := []string{"--from", "2025-12-01", "--to", "30/11/2026"}

	var rep apitype.Report
	if err := json.Unmarshal(e.mustVigie(append([]string{"rapport", "--format", "json"}, period...)...), &rep); err != nil {
		t.Fatal(err)
	}
	wantFrom, wantTo := time.Date(2025, 12, 1, 0, 0, 0, 0, time.Local), time.Date(2026, 12, 1, 0, 0, 0, 0, time.Local)
	if !rep.From.Equal(wantFrom) || !rep.To.Equal(wantTo) || rep.Station != "CORG 71 test" || rep.PromiseSeconds != 3600 {
		t.Errorf("report of %v – %v for %q, promise %d s; want %v – %v (the day after --to)", rep.From, rep.To, rep.Station, rep.PromiseSeconds, wantFrom, wantTo)
	}
	if len(rep.Months) != 12 || rep.Months[0].Month != "2025-12" || rep.Months[11].Month != "2026-11" {
		t.Errorf("months %+v, want 2025-12 … 2026-11", rep.Months)
	}

	// The default period: 12 months, the current one last; a zone by its
	// alias is named by its id and name.
	rep = apitype.Report{}
	if err := json.Unmarshal(e.mustVigie("report", "--zone", "MACON", "--format", "json"), &rep); err != nil {
		t.Fatal(err)
	}
	if now := time.Now(); len(rep.Months) != 12 || rep.Months[11].Month != now.Format("2006-01") {
		t.Errorf("default period: months %+v, want 12 ending %s", rep.Months, now.Format("2006-01"))
	}
	if len(rep.Zones) != 1 || rep.Zones[0] != (apitype.NamedCount{ID: "macon", Name: "Mâcon"}) {
		t.Errorf("zone filter %+v, want macon (Mâcon)", rep.Zones)
	}

	// A mistyped zone is refused, not answered with an empty report.
	out, errb, code := e.vigie("rapport", "--zone", "macn", "--format", "json")
	if code != exitError || len(out) != 0 || !strings.Contains(string(errb), "zone inconnue « macn » ; vouliez-vous dire « macon » (Mâcon) ?") {
		t.Errorf("--zone macn: exit %d, stdout %q, stderr %q", code, out, errb)
	}
	if _, errb, code := e.vigie("rapport", "--from", "2026-05-01", "--to", "2026-04-30"); code != exitUsage {
		t.Errorf("reversed period: exit %d, %s", code, errb)
	}

	// CSV on stdout (a pipe): the BOM, then tables that parse back.
	csvOut := e.mustVigie(append([]string{"rapport", "--format", "csv"}, period...)...)
	if !bytes.HasPrefix(csvOut, []byte("\ufeff")) {
		t.Fatalf("CSV without its BOM: %q", csvOut[:min(len(csvOut), 40)])
	}
	rd := csv.NewReader(bytes.NewReader(csvOut[3:]))
	rd.Comma, rd.FieldsPerRecord = ';', -1
	recs, err := rd.ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse back: %v", err)
	}
	var months []string
	for _, r := range recs {
		if regexp.MustCompile(`^\d{4}-\d{2}$`).MatchString(r[0]) {
			months = append(months, r[0])
		}
	}
	if len(months) != 12 || months[0] != "2025-12" || months[11] != "2026-11" {
		t.Errorf("CSV months %q", months)
	}

	// CSV on a terminal: the same tables for the eye, without the BOM and
	// the carriage returns meant for a spreadsheet, through the inert layer.
	var tty bytes.Buffer
	g := &globalOptions{stdout: &tty, stderr: &bytes.Buffer{}, stdin: strings.NewReader(""), stdoutTTY: true}
	root := newRootCommand(g)
	root.SetArgs(append([]string{"rapport", "--socket", e.socket, "--format", "csv"}, period...))
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if want := strings.ReplaceAll(strings.TrimPrefix(string(csvOut), "\ufeff"), "\r\n", "\n"); tty.String() != want {
		t.Errorf("CSV on a terminal:\n%q\nwant\n%q", tty.String(), want)
	}

	// HTML to a file: 0644, a French line saying where and how big, and a
	// page Chromium prints on A4 with its French headings.
	dir := t.TempDir()
	path := filepath.Join(dir, "rapport.html")
	line := string(e.mustVigie(append([]string{"rapport", "-o", path}, period...)...))
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("report file mode %v, want 0644", fi.Mode().Perm())
	}
	if want := "Rapport HTML du 1er décembre 2025 au 30 novembre 2026 écrit dans " + path + " (" + count(int(fi.Size()), "octet", "octets") + ").\n"; line != want {
		t.Errorf("got %q, want %q", line, want)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".rapport.html.tmp*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
	page, _ := os.ReadFile(path)
	if html := e.mustVigie(append([]string{"rapport"}, period...)...); !bytes.Equal(stripGenerated(html), stripGenerated(page)) {
		t.Error("the HTML on stdout differs from the file's")
	}
	printtest.Need(t)
	pdf := printtest.PDF(t, path, dir)
	printtest.CheckA4(t, pdf)
	text := printtest.Text(t, pdf)
	for _, want := range []string{"Rapport d'activité — CORG 71 test", "Période du 1er décembre 2025 au 30 novembre 2026", "Synthèse",
		"Alertes par mois", "Portée des alertes", "Délai jusqu'au dernier SMS", "Abonnements", "Réponses des témoins", "Modems",
		"Aucune alerte sur la période.", "non observé", "déc.", "janv.", "nov."} {
		if !strings.Contains(text, want) {
			t.Errorf("the printed report lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("pdftotext:\n%s", text)
	}
}

// stripGenerated blanks the minute the report was made, which two runs
// may not share.
func stripGenerated(page []byte) []byte {
	return regexp.MustCompile(`établi le [^<]*`).ReplaceAll(page, nil)
}
