package reportdoc

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"vigie/gateway/apitype"
	"vigie/gateway/csvimport"
)

// The CSV is for a French spreadsheet: « ; » between cells and a decimal
// comma (Excel in French reads « , » as the decimal sign and would cut a
// comma-separated file wrongly), UTF-8 with a byte order mark (without it
// Excel reads the accents as Windows-1252). The tables follow one another,
// each a title line, a header line and its rows, separated by a blank line;
// plain integers without thousands separators so that they stay numbers.

// bom is UTF-8's byte order mark.
const bom = "\ufeff"

// WriteCSV writes r's figures as CSV tables.
func WriteCSV(w io.Writer, r apitype.Report) error {
	if _, err := io.WriteString(w, bom); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	cw.UseCRLF = true // what Excel writes and expects
	n := strconv.Itoa
	s64 := func(v int64) string { return strconv.FormatInt(v, 10) }
	pct := func(x float64) string { return strings.ReplaceAll(strconv.FormatFloat(x*100, 'f', 1, 64), ".", ",") }
	t := r.Totals
	tables := []struct {
		title  string
		header []string
		rows   [][]string
	}{
		{"Rapport d'activité", []string{"rubrique", "valeur"}, [][]string{
			{"station", cell(r.Station)},
			{"du", r.From.Format("2006-01-02")},
			{"au (inclus)", lastDay(r.To).Format("2006-01-02")},
			{"zones", cell(zoneFilter(r))},
			{"établi le", r.GeneratedAt.Format("2006-01-02 15:04")},
		}},
		{"Synthèse", []string{"rubrique", "valeur"}, [][]string{
			{"alertes", n(t.Alerts)},
			{"commerces destinataires", n(t.Recipients)},
			{"SMS partis", n(t.Sent)},
			{"remis", n(t.Delivered)},
			{"échoués", n(t.Failed)},
			{"incertains", n(t.Uncertain)},
			{"expirés", n(t.Expired)},
			{"annulés", n(t.Cancelled)},
			{"remis (%)", pct(share(t.Delivered, t.Recipients))},
			{"alertes terminées", n(t.Finished)},
			{"délai médian jusqu'au dernier SMS (secondes)", s64(t.MedianToLastSeconds)},
			{"pire délai jusqu'au dernier SMS (secondes)", s64(t.WorstToLastSeconds)},
			{"promesse (secondes)", s64(r.PromiseSeconds)},
			{"alertes dans la promesse", n(t.WithinPromise)},
			{"réponses de témoins", n(t.Replies)},
			{"inscriptions", n(t.Joins)},
			{"STOP", n(t.Stops)},
			{"commerces actifs au début", n(t.ActiveStart)},
			{"commerces actifs à la fin", n(t.ActiveEnd)},
			{"parties SMS envoyées", n(t.PartsSent)},
			{"plafond de parties SMS", n(t.PartsCap)},
			{"disponibilité des modems (%)", pct(t.Availability)},
		}},
	}
	months := tables[0]
	months.title, months.header, months.rows = "Par mois", []string{"mois", "alertes", "destinataires", "partis", "remis", "échoués", "incertains", "expirés", "réponses", "inscriptions", "STOP", "actifs en fin de mois", "parties SMS", "plafond", "disponibilité (%)"}, nil
	for _, m := range r.Months {
		months.rows = append(months.rows, []string{m.Month, n(m.Alerts), n(m.Recipients), n(m.Sent), n(m.Delivered), n(m.Failed), n(m.Uncertain), n(m.Expired), n(m.Replies), n(m.Joins), n(m.Stops), n(m.ActiveEnd), n(m.PartsSent), n(m.PartsCap), pct(share64(m.UpSeconds, m.ObservedSeconds))})
	}
	tables = append(tables, months)
	cats := months
	cats.title, cats.header, cats.rows = "Alertes par catégorie", []string{"catégorie", "nom", "alertes"}, nil
	for _, c := range r.Categories {
		cats.rows = append(cats.rows, []string{cell(c.ID), cell(c.Name), n(c.Count)})
	}
	tables = append(tables, cats)
	zones := months
	zones.title, zones.header, zones.rows = "Par zone", []string{"zone", "nom", "alertes", "destinataires", "inscriptions", "STOP", "actifs à la fin"}, nil
	for _, z := range r.ByZone {
		zones.rows = append(zones.rows, []string{cell(z.Zone), cell(z.Name), n(z.Alerts), n(z.Recipients), n(z.Joins), n(z.Stops), n(z.ActiveEnd)})
	}
	tables = append(tables, zones)
	trades := months
	trades.title, trades.header, trades.rows = "Par métier", []string{"métier", "nom", "inscriptions", "STOP", "actifs à la fin"}, nil
	for _, tr := range r.ByTrade {
		trades.rows = append(trades.rows, []string{cell(tr.Trade), cell(tradeName(tr)), n(tr.Joins), n(tr.Stops), n(tr.ActiveEnd)})
	}
	tables = append(tables, trades)
	alerts := months
	alerts.title, alerts.header, alerts.rows = "Alertes", []string{"n°", "acceptée le", "catégorie", "zones", "destinataires", "partis", "remis", "échoués", "incertains", "expirés", "annulés", "terminée", "délai jusqu'au dernier SMS (secondes)", "réponses"}, nil
	for _, a := range r.Alerts {
		done := "non"
		if a.Finished {
			done = "oui"
		}
		alerts.rows = append(alerts.rows, []string{strconv.FormatUint(a.ID, 10), a.CreatedAt.Format("2006-01-02 15:04"), cell(a.Category), cell(strings.Join(a.ZoneNames, ", ")), n(a.Recipients), n(a.Sent), n(a.Delivered), n(a.Failed), n(a.Uncertain), n(a.Expired), n(a.Cancelled), done, s64(a.ToLastSeconds), n(a.Replies)})
	}
	tables = append(tables, alerts)
	modems := months
	modems.title, modems.header, modems.rows = "Modems", []string{"modem", "disponibilité (%)", "temps prêt (secondes)", "temps observé (secondes)", "parties SMS", "plafond par jour", "plafond de la période", "jour le plus chargé", "parties ce jour-là"}, nil
	for _, m := range r.Modems {
		modems.rows = append(modems.rows, []string{cell(m.Modem), pct(m.Availability), s64(m.UpSeconds), s64(m.ObservedSeconds), n(m.PartsSent), n(m.DailyCap), n(m.PartsCap), m.BusiestDay, n(m.BusiestParts)})
	}
	tables = append(tables, modems)

	for i, tb := range tables {
		if i > 0 {
			if err := cw.Write([]string{}); err != nil {
				return fmt.Errorf("write CSV: %w", err)
			}
		}
		if err := cw.Write([]string{tb.title}); err != nil {
			return fmt.Errorf("write CSV: %w", err)
		}
		if err := cw.Write(tb.header); err != nil {
			return fmt.Errorf("write CSV: %w", err)
		}
		if err := cw.WriteAll(tb.rows); err != nil {
			return fmt.Errorf("write CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	return nil
}

// cell keeps a name from the configuration a text in a spreadsheet, the
// way the subscribers' export does (csvimport.SafeCell).
func cell(name string) string { return csvimport.SafeCell(name) }

func share64(part, whole int64) float64 {
	if whole <= 0 {
		return 0
	}
	return float64(part) / float64(whole)
}

// zoneFilter names the report's zones, « toutes » without a filter.
func zoneFilter(r apitype.Report) string {
	if len(r.Zones) == 0 {
		return "toutes"
	}
	names := make([]string, len(r.Zones))
	for i, z := range r.Zones {
		names[i] = z.Name
		if names[i] == "" {
			names[i] = z.ID
		}
	}
	return strings.Join(names, ", ")
}

// tradeName is a trade's name, « sans métier » for the shops that gave none.
func tradeName(t apitype.ReportTrade) string {
	switch {
	case t.Name != "":
		return t.Name
	case t.Trade == "":
		return "sans métier"
	}
	return t.Trade
}
