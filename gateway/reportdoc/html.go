package reportdoc

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"vigie/gateway/apitype"
	"vigie/gateway/french"
)

// view is what the template shows: every text already in French, every
// chart laid out. Names from the configuration are plain strings here and
// html/template escapes them where they land.
type view struct {
	Title, Period, Zones, Generated string
	Summary                         []fact
	HasAlerts                       bool
	AlertsChart                     chart
	Categories, ZoneAlerts          []barRow
	Reach                           []reachRow
	ReachBar                        []reachRow
	DelayChart                      chart
	Alerts                          []alertRow
	SubsChart                       chart
	ActiveChart                     chart
	HasSubs                         bool
	Zones2                          []zoneRow
	Trades                          []zoneRow
	RepliesChart                    chart
	HasReplies                      bool
	Modems                          []modemRow
	Months                          []monthRow
	PromiseText                     string
}

type fact struct{ Label, Value, Note string }

// barRow is a table line with a bar drawn in CSS (its width in %).
type barRow struct {
	Name, Value string
	Width       float64
}

type reachRow struct {
	Name, Count, Share, Class string
	Width                     float64
}

type alertRow struct {
	ID, Date, Category, Zones, Recipients, Delivered, Delay, Replies string
	Late                                                             bool
}

type zoneRow struct{ Name, Alerts, Recipients, Joins, Stops, Active string }

type monthRow struct{ Name, Alerts, Recipients, Delivered, Replies, Joins, Stops, Active string }

type modemRow struct {
	Name, Availability, Parts, Cap, CapShare, Busiest string
	AvailWidth, CapWidth                              float64
}

// WriteHTML writes r as one self-contained HTML page.
func WriteHTML(w io.Writer, r apitype.Report) error {
	if err := page.Execute(w, newView(r)); err != nil {
		return fmt.Errorf("write HTML report: %w", err)
	}
	return nil
}

func intf(v float64) string { return Number(int(math.Round(v))) }

func newView(r apitype.Report) view {
	t := r.Totals
	promise := promiseText(r.PromiseSeconds)
	v := view{
		Title:       "Rapport d'activité — " + r.Station,
		Period:      Period(r.From, r.To),
		Zones:       zoneFilter(r),
		Generated:   Day(r.GeneratedAt) + " à " + r.GeneratedAt.Format("15 h 04"),
		HasAlerts:   t.Alerts > 0,
		PromiseText: promise,
	}
	if r.Station == "" {
		v.Title = "Rapport d'activité"
	}
	delay := func(secs int64) string {
		if t.Finished == 0 {
			return "—"
		}
		return Seconds(secs)
	}
	within := "—"
	if t.Finished > 0 {
		within = fmt.Sprintf("%s sur %s dans le délai de %s", Number(t.WithinPromise), french.Count(t.Finished, "alerte terminée", "alertes terminées"), promise)
	}
	v.Summary = []fact{
		{"Alertes", Number(t.Alerts), ""},
		{"Commerces prévenus", Number(t.Recipients), french.Plural(t.Recipients, "destinataire", "destinataires") + ", toutes alertes confondues"},
		{"SMS remis", Percent(share(t.Delivered, t.Recipients)), Number(t.Delivered) + " sur " + Number(t.Recipients)},
		{"Délai médian jusqu'au dernier SMS", delay(t.MedianToLastSeconds), "promesse : " + promise},
		{"Pire délai jusqu'au dernier SMS", delay(t.WorstToLastSeconds), within},
		{"Réponses de témoins", Number(t.Replies), ""},
		{"Commerces inscrits", Number(t.ActiveStart) + " → " + Number(t.ActiveEnd), "+" + Number(t.Joins) + " " + french.Plural(t.Joins, "inscription", "inscriptions") + ", " + french.Count(t.Stops, "STOP", "STOP")},
	}

	labels := make([][2]string, len(r.Months))
	alerts, joins, stops, active, replies := make([]float64, len(r.Months)), make([]float64, len(r.Months)), make([]float64, len(r.Months)), make([]float64, len(r.Months)), make([]float64, len(r.Months))
	for i, m := range r.Months {
		a, b := monthLabel(m.Month, i == 0)
		labels[i] = [2]string{a, b}
		alerts[i], joins[i], stops[i], active[i], replies[i] = float64(m.Alerts), float64(m.Joins), float64(m.Stops), float64(m.ActiveEnd), float64(m.Replies)
		v.HasSubs = v.HasSubs || m.Joins > 0 || m.Stops > 0 || m.ActiveEnd > 0
		v.HasReplies = v.HasReplies || m.Replies > 0
		v.Months = append(v.Months, monthRow{MonthName(m.Month), Number(m.Alerts), Number(m.Recipients), Number(m.Delivered), Number(m.Replies), Number(m.Joins), Number(m.Stops), Number(m.ActiveEnd)})
	}
	v.AlertsChart = barChart("Alertes par mois", labels, []series{{Name: "alertes", Class: "s1", Values: alerts}}, nil, nil, intf)
	v.SubsChart = barChart("Inscriptions et STOP par mois", labels, []series{{Name: "inscriptions", Class: "s2", Values: joins}, {Name: "STOP", Class: "s3", Values: stops}}, nil, nil, intf)
	v.ActiveChart = barChart("Commerces inscrits en fin de mois", labels, nil, &series{Name: "commerces inscrits", Class: "l1", Values: active}, nil, intf)
	v.RepliesChart = barChart("Réponses de témoins par mois", labels, []series{{Name: "réponses", Class: "s4", Values: replies}}, nil, nil, intf)

	most := 0
	for _, c := range r.Categories {
		most = max(most, c.Count)
	}
	for _, c := range r.Categories {
		name := c.Name
		if name == "" {
			name = c.ID
		}
		v.Categories = append(v.Categories, barRow{name, Number(c.Count), 100 * share(c.Count, most)})
	}
	most = 0
	for _, z := range r.ByZone {
		most = max(most, z.Alerts)
	}
	for _, z := range r.ByZone {
		v.ZoneAlerts = append(v.ZoneAlerts, barRow{orID(z.Name, z.Zone), Number(z.Alerts), 100 * share(z.Alerts, most)})
		v.Zones2 = append(v.Zones2, zoneRow{orID(z.Name, z.Zone), Number(z.Alerts), Number(z.Recipients), Number(z.Joins), Number(z.Stops), Number(z.ActiveEnd)})
	}
	for _, tr := range r.ByTrade {
		v.Trades = append(v.Trades, zoneRow{Name: tradeName(tr), Joins: Number(tr.Joins), Stops: Number(tr.Stops), Active: Number(tr.ActiveEnd)})
	}

	for _, x := range []struct {
		name, class string
		n           int
	}{
		{"remis", "s2", t.Delivered},
		{"partis sans accusé de réception", "s1", t.Sent - t.Delivered - t.Uncertain},
		{"incertains", "s5", t.Uncertain},
		{"échoués", "s3", t.Failed},
		{"expirés", "s6", t.Expired},
		{"annulés", "s7", t.Cancelled},
	} {
		if x.n < 0 {
			x.n = 0
		}
		row := reachRow{x.name, Number(x.n), Percent(share(x.n, t.Recipients)), x.class, 100 * share(x.n, t.Recipients)}
		v.Reach = append(v.Reach, row)
		if x.n > 0 {
			v.ReachBar = append(v.ReachBar, row)
		}
	}

	var dl [][2]string
	var dv []float64
	for _, a := range r.Alerts {
		row := alertRow{
			ID: strconv.FormatUint(a.ID, 10), Date: a.CreatedAt.Format("02/01/2006 15:04"), Category: a.Category,
			Zones: strings.Join(a.ZoneNames, ", "), Recipients: Number(a.Recipients), Delivered: Number(a.Delivered),
			Delay: "en cours", Replies: Number(a.Replies),
		}
		if a.Finished {
			row.Delay = Seconds(a.ToLastSeconds)
			row.Late = a.ToLastSeconds > r.PromiseSeconds
		}
		v.Alerts = append(v.Alerts, row)
		dl = append(dl, [2]string{"n°" + nnbsp + row.ID, a.CreatedAt.Format("02/01")})
		dv = append(dv, float64(a.ToLastSeconds)/60)
	}
	minutes := func(x float64) string { return intf(x) + nnbsp + "min" }
	v.DelayChart = barChart("Délai jusqu'au dernier SMS, par alerte (minutes)", dl, []series{{Name: "délai", Class: "s1", Values: dv}}, nil,
		&refLine{Value: float64(r.PromiseSeconds) / 60, Label: "promesse : " + promise}, minutes)

	for _, m := range r.Modems {
		row := modemRow{Name: m.Modem, Availability: Percent(m.Availability), Parts: Number(m.PartsSent), Cap: Number(m.PartsCap),
			CapShare: Percent(share(m.PartsSent, m.PartsCap)), AvailWidth: 100 * m.Availability, CapWidth: math.Min(100, 100*share(m.PartsSent, m.PartsCap))}
		if m.ObservedSeconds == 0 {
			// A modem configured but never watched in the period (the
			// daemon was not running): 0 % would say it was down.
			row.Availability, row.AvailWidth = "non observé", 0
		}
		if m.BusiestDay != "" {
			day := m.BusiestDay
			if d, err := time.Parse(time.DateOnly, day); err == nil {
				day = Day(d)
			}
			row.Busiest = day + " : " + Number(m.BusiestParts) + " sur " + Number(m.DailyCap)
		}
		v.Modems = append(v.Modems, row)
	}
	return v
}

// promiseText says the promise as it is promised: « 1 h », not « 1 h 00 min ».
func promiseText(secs int64) string {
	if secs > 0 && secs%3600 == 0 {
		return strconv.FormatInt(secs/3600, 10) + nnbsp + "h"
	}
	return Seconds(secs)
}

func orID(name, id string) string {
	if name == "" {
		return id
	}
	return name
}

var page = template.Must(template.New("rapport").Funcs(template.FuncMap{
	"add":  func(a, b float64) float64 { return a + b },
	"sub":  func(a, b float64) float64 { return a - b },
	"half": func(a float64) float64 { return a / 2 },
}).Parse(pageTemplate))
