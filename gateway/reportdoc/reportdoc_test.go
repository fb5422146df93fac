package reportdoc

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vigie/gateway/apitype"
	"vigie/gateway/reportdoc/printtest"
)

func TestFrenchFormats(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{Number(0), "0"},
		{Number(999), "999"},
		{Number(1000), "1\u202f000"},
		{Number(146000), "146\u202f000"},
		{Number(1234567), "1\u202f234\u202f567"},
		{Percent(0.98618), "98,6\u202f%"},
		{Percent(1), "100\u202f%"},
		{Percent(0), "0\u202f%"},
		{Percent(0.0004), "0\u202f%"},
		{Percent(12.3456), "1\u202f234,6\u202f%"},
		{Day(time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)), "1er décembre 2025"},
		{Day(time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)), "28 février 2026"},
		{Period(time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)), "du 1er décembre 2025 au 30 novembre 2026"},
		{MonthName("2026-08"), "août 2026"},
		{promiseText(3600), "1\u202fh"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func render(t *testing.T, r apitype.Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// wellFormed parses the whole page as XML: every element closed, every
// attribute quoted, every entity one XML knows — which the template keeps
// so that a broken tag shows here rather than in a browser.
func wellFormed(t *testing.T, page string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(page))
	d.Strict = true
	var depth, svgs int
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := strings.Split(page, "\n")
			n, _ := d.InputPos()
			t.Fatalf("page is not well-formed: %v (line %d: %q)", err, n, line[min(n-1, len(line)-1)])
		}
		switch e := tok.(type) {
		case xml.StartElement:
			depth++
			if e.Name.Local == "svg" {
				svgs++
			}
			for _, a := range e.Attr {
				if strings.HasPrefix(strings.ToLower(a.Name.Local), "on") {
					t.Errorf("event handler attribute %s on <%s>", a.Name.Local, e.Name.Local)
				}
			}
			switch strings.ToLower(e.Name.Local) {
			case "script", "link", "img", "iframe", "object", "embed", "image", "use":
				t.Errorf("element <%s> in a report that must not load or run anything", e.Name.Local)
			}
		case xml.EndElement:
			depth--
		}
	}
	if depth != 0 {
		t.Errorf("unbalanced elements: depth %d at the end", depth)
	}
	if svgs == 0 {
		t.Error("no SVG chart in the page")
	}
}

func TestHTMLReport(t *testing.T) {
	page := render(t, sampleReport())
	wellFormed(t, page)
	for _, bad := range []string{"http:", "https:", "<script", "@import", "url(", "@font-face", "(" + "s)"} {
		if strings.Contains(strings.ToLower(page), bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
	for _, want := range []string{
		"<title>Rapport d&#39;activité — CORG 71 — du 1er décembre 2025 au 30 novembre 2026</title>",
		"<h1>Rapport d&#39;activité — CORG 71</h1>",
		"du 1er décembre 2025 au 30 novembre 2026",
		"<h2>Synthèse</h2>", "<h2>Alertes</h2>", "<h2>Portée des alertes</h2>", "<h2>Délai jusqu'au dernier SMS</h2>",
		"<h2>Abonnements</h2>", "<h2>Réponses des témoins</h2>", "<h2>Modems</h2>",
		"5\u202f265",  // recipients of the 15 alerts
		"98,6\u202f%", // delivered 5 190 of 5 265
		"40 min 10 s", // median time to the last SMS
		"1 h 13 min",  // the worst, over the promise
		"13 sur 14 alertes terminées dans le délai de 1\u202fh",
		"289 → 346",    // active shops, start and end
		"146\u202f000", // a modem's cap over the year
		"12 juin 2026 : 372 sur 400",
		"Charnay-lès-Mâcon", "Tabac-presse", "sans métier",
		"<td class=\"month\">décembre 2025</td>", "<td class=\"month\">novembre 2026</td>", "146\u202f000 (3,6\u202f%)", "<h2>Mois par mois</h2>",
		"@page { size: A4;", "display: table-header-group", "break-inside: avoid",
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Cie", // a zone name from the config, escaped
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if got := strings.Count(page, "<rect class=\"s1\""); got < 12+15 {
		t.Errorf("%d blue bars, want one per month and one per alert", got)
	}
	for _, m := range []string{"déc.", "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov."} {
		if !strings.Contains(page, ">"+m+"</text>") {
			t.Errorf("no chart label for the month %q", m)
		}
	}
	if strings.Contains(page, "Aucune alerte") {
		t.Error("a year with alerts says there were none")
	}
}

func TestHTMLReportEmpty(t *testing.T) {
	r := sampleReport()
	r.Totals, r.Categories, r.ByZone, r.ByTrade, r.Alerts, r.Modems = apitype.ReportTotals{}, nil, nil, nil, nil, nil
	for i := range r.Months {
		r.Months[i] = apitype.ReportMonth{Month: r.Months[i].Month}
	}
	page := render(t, r)
	wellFormed(t, page)
	for _, want := range []string{"Aucune alerte sur la période.", "Aucune inscription ni aucun STOP sur la période.",
		"Aucune réponse de témoin sur la période.", "Aucun modem observé sur la période.", "<h2>Synthèse</h2>", "0\u202f%"} {
		if !strings.Contains(page, want) {
			t.Errorf("the empty report lacks %q", want)
		}
	}
	if strings.Contains(page, "NaN") || strings.Contains(page, "Inf") {
		t.Error("an empty report divides by zero")
	}
}

func TestCSVReport(t *testing.T) {
	r := sampleReport()
	r.ByZone[4].Name = "=HYPERLINK(\"x\")"
	var b bytes.Buffer
	if err := WriteCSV(&b, r); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b.Bytes(), []byte("\ufeff")) {
		t.Fatal("no byte order mark: Excel would read the accents wrong")
	}
	rd := csv.NewReader(bytes.NewReader(b.Bytes()[3:]))
	rd.Comma = ';'
	rd.FieldsPerRecord = -1
	recs, err := rd.ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse back: %v", err)
	}
	// Tables by title: the line after a title is its header, then rows
	// until a blank line (which encoding/csv skips, so: until the next
	// one-cell line).
	tables := map[string][][]string{}
	var cur string
	for i := 0; i < len(recs); i++ {
		if len(recs[i]) == 1 {
			cur = recs[i][0]
			tables[cur] = nil
			continue
		}
		tables[cur] = append(tables[cur], recs[i])
	}
	for _, title := range []string{"Rapport d'activité", "Synthèse", "Par mois", "Alertes par catégorie", "Par zone", "Par métier", "Alertes", "Modems"} {
		if _, ok := tables[title]; !ok {
			t.Errorf("no table %q", title)
		}
	}
	facts := map[string]string{}
	for _, row := range tables["Synthèse"][1:] {
		facts[row[0]] = row[1]
	}
	for k, want := range map[string]string{"alertes": "15", "commerces destinataires": "5265", "remis": "5190", "remis (%)": "98,6",
		"délai médian jusqu'au dernier SMS (secondes)": "2410", "pire délai jusqu'au dernier SMS (secondes)": "4380", "inscriptions": "69", "STOP": "12",
		"commerces actifs au début": "289", "commerces actifs à la fin": "346", "disponibilité des modems (%)": "96,9"} {
		if facts[k] != want {
			t.Errorf("Synthèse %q = %q, want %q", k, facts[k], want)
		}
	}
	if months := tables["Par mois"]; len(months) != 13 || months[1][0] != "2025-12" || months[12][0] != "2026-11" {
		t.Errorf("Par mois: %d lines, want a header and 12 months from 2025-12 to 2026-11: %q", len(months), months)
	}
	if got := len(tables["Alertes"]) - 1; got != 15 {
		t.Errorf("%d alerts in the CSV, want 15", got)
	}
	if z := tables["Par zone"][5]; z[1] != "'=HYPERLINK(\"x\")" {
		t.Errorf("a zone name that looks like a formula is %q: the spreadsheet would run it", z[1])
	}
	if m := tables["Modems"][1]; m[0] != "quectel-ec25 (ttyUSB2)" || m[1] != "98,6" || m[6] != "146000" {
		t.Errorf("first modem: %q", m)
	}
}

// TestHTMLReportPrintsInChromium prints the sample year with the real
// headless Chromium and reads the PDF back: the page a gendarme prints.
func TestHTMLReportPrintsInChromium(t *testing.T) {
	printtest.Need(t)
	dir := t.TempDir()
	html := filepath.Join(dir, "rapport.html")
	if err := os.WriteFile(html, []byte(render(t, sampleReport())), 0o644); err != nil {
		t.Fatal(err)
	}
	pdf := printtest.PDF(t, html, dir)
	printtest.CheckA4(t, pdf)
	text := printtest.Text(t, pdf)
	for _, want := range []string{"Rapport d'activité — CORG 71", "du 1er décembre 2025 au 30 novembre 2026", "Synthèse",
		"Alertes par mois", "Portée des alertes", "Délai jusqu'au dernier SMS", "Abonnements", "Réponses des témoins", "Modems",
		"5 265", "98,6 %", "40 min 10 s", "1 h 13 min", "289 → 346", "Charnay-lès-Mâcon", "promesse : 1 h", "146 000"} {
		if !strings.Contains(text, want) {
			t.Errorf("the printed PDF lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("pdftotext:\n%s", text)
	}
	// Page 1 as an image, for a person to look at (not a check): kept
	// where VIGIE_REPORT_PNG says, else in the test's own directory.
	png := os.Getenv("VIGIE_REPORT_PNG")
	if png == "" {
		png = filepath.Join(t.TempDir(), "rapport-page1.png")
	}
	printtest.PNG(t, pdf, png)
}
