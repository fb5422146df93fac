package reportdoc

import (
	"time"

	"vigie/gateway/apitype"
)

// sampleReport is a year as a small scheme lives it: 12 months, 15 alerts,
// 5 zones, 4 trades, 2 modems. Names carry what must be escaped.
func sampleReport() apitype.Report {
	loc := time.FixedZone("CET", 3600)
	from := time.Date(2025, 12, 1, 0, 0, 0, 0, loc)
	to := time.Date(2026, 12, 1, 0, 0, 0, 0, loc)
	r := apitype.Report{
		Station: "CORG 71", From: from, To: to, GeneratedAt: time.Date(2026, 12, 1, 9, 5, 0, 0, loc),
		PromiseSeconds: 3600,
		Categories: []apitype.NamedCount{
			{ID: "vol", Name: "Vol", Count: 8}, {ID: "escroquerie", Name: "Escroquerie", Count: 4},
			{ID: "fausse-monnaie", Name: "Fausse monnaie", Count: 2}, {ID: "autre", Name: "Autre", Count: 1},
		},
		ByZone: []apitype.ReportZone{
			{Zone: "macon", Name: "Mâcon", Alerts: 9, Recipients: 2412, Joins: 40, Stops: 6, ActiveEnd: 214},
			{Zone: "macon-centre", Name: "Mâcon centre", Alerts: 5, Recipients: 610, Joins: 12, Stops: 2, ActiveEnd: 118},
			{Zone: "charnay", Name: "Charnay-lès-Mâcon", Alerts: 3, Recipients: 198, Joins: 9, Stops: 1, ActiveEnd: 61},
			{Zone: "sance", Name: "Sancé", Alerts: 2, Recipients: 88, Joins: 5, Stops: 0, ActiveEnd: 34},
			{Zone: "hostile", Name: `<script>alert("x")</script> & Cie`, Alerts: 1, Recipients: 12, Joins: 1, Stops: 0, ActiveEnd: 5},
		},
		ByTrade: []apitype.ReportTrade{
			{Trade: "bijouterie", Name: "Bijouterie", Joins: 6, Stops: 1, ActiveEnd: 28},
			{Trade: "pharmacie", Name: "Pharmacie", Joins: 8, Stops: 0, ActiveEnd: 41},
			{Trade: "tabac", Name: "Tabac-presse", Joins: 11, Stops: 2, ActiveEnd: 52},
			{Trade: "", Name: "", Joins: 42, Stops: 6, ActiveEnd: 211},
		},
		Modems: []apitype.ReportModem{
			{Modem: "quectel-ec25 (ttyUSB2)", UpSeconds: 31_100_000, ObservedSeconds: 31_536_000, Availability: 0.98618, PartsSent: 5310, DailyCap: 400, PartsCap: 146_000, BusiestDay: "2026-06-12", BusiestParts: 372},
			{Modem: "huawei-e3372 (secours)", UpSeconds: 30_000_000, ObservedSeconds: 31_536_000, Availability: 0.9513, PartsSent: 212, DailyCap: 200, PartsCap: 73_000, BusiestDay: "2026-03-02", BusiestParts: 120},
		},
	}
	active := 289
	r.Totals.ActiveStart = active
	delays := []int64{1260, 1830, 2410, 2950, 1500, 3320, 4380, 1990, 2700, 2200, 3050, 1700, 2880, 3400, 2100}
	cats := []string{"vol", "vol", "escroquerie", "vol", "fausse-monnaie", "vol", "escroquerie", "vol", "autre", "vol", "escroquerie", "vol", "fausse-monnaie", "vol", "escroquerie"}
	for i := range 12 {
		m := from.AddDate(0, i, 0)
		rm := apitype.ReportMonth{Month: m.Format("2006-01"), Joins: 4 + i%5, Stops: i % 3, ObservedSeconds: 2_592_000, UpSeconds: 2_550_000, PartsCap: 18_000, PartsSent: 300 + 20*i}
		active += rm.Joins - rm.Stops
		rm.ActiveEnd = active
		r.Months = append(r.Months, rm)
	}
	for i, d := range delays {
		at := from.AddDate(0, i*12/len(delays), 3+i).Add(9*time.Hour + time.Duration(i)*17*time.Minute)
		rec := 260 + 13*i
		a := apitype.ReportAlert{ID: uint64(31 + i), CreatedAt: at, Category: cats[i], ZoneNames: []string{"Mâcon"}, Recipients: rec,
			Sent: rec - 2, Delivered: rec - 5, Failed: 2, Uncertain: 3, ToLastSeconds: d, Finished: true, Replies: i % 4}
		if i == 14 {
			a.Finished, a.ToLastSeconds = false, 0 // still going out
		}
		r.Alerts = append(r.Alerts, a)
		m := &r.Months[i*12/len(delays)]
		m.Alerts++
		m.Recipients += a.Recipients
		m.Sent += a.Sent
		m.Delivered += a.Delivered
		m.Failed += a.Failed
		m.Uncertain += a.Uncertain
		m.Replies += a.Replies
		r.Totals.Alerts++
		r.Totals.Recipients += a.Recipients
		r.Totals.Sent += a.Sent
		r.Totals.Delivered += a.Delivered
		r.Totals.Failed += a.Failed
		r.Totals.Uncertain += a.Uncertain
		r.Totals.Replies += a.Replies
		if a.Finished {
			r.Totals.Finished++
			if a.ToLastSeconds <= 3600 {
				r.Totals.WithinPromise++
			}
			r.Totals.WorstToLastSeconds = max(r.Totals.WorstToLastSeconds, a.ToLastSeconds)
		}
	}
	r.Totals.MedianToLastSeconds = 2410
	r.Totals.ActiveEnd = active
	for _, m := range r.Months {
		r.Totals.Joins += m.Joins
		r.Totals.Stops += m.Stops
		r.Totals.PartsSent += m.PartsSent
		r.Totals.PartsCap += m.PartsCap
	}
	r.Totals.Availability = 0.9687
	return r
}
