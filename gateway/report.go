package gateway

import (
	"fmt"
	"time"

	"vigie/gateway/apitype"
)

// The period report (issue #14, `vigie rapport`). Each family of figures is
// filled by its own file from aggregates that outlive the retention purge:
// report_alerts.go (alerts, reach, time to the last SMS), report_usage.go
// (subscriptions, modems, SMS spent), report_replies.go (witness replies).

// promise is what the scheme promises: every shop warned within the hour.
const promise = time.Hour

// Report sums up q's period.
func (g *Gateway) Report(q apitype.ReportQuery) (apitype.Report, error) {
	if !q.From.Before(q.To) {
		return apitype.Report{}, apitype.Invalid("la période est vide : la date de début (%s) doit précéder la date de fin (%s)",
			q.From.Format(time.DateOnly), q.To.Format(time.DateOnly))
	}
	zones, ids, err := g.reportZones(q.Zones)
	if err != nil {
		return apitype.Report{}, err
	}
	q.Zones = ids
	r := apitype.Report{
		Station:        g.cfg.Station.Name,
		From:           q.From,
		To:             q.To,
		GeneratedAt:    g.now(),
		PromiseSeconds: int64(promise / time.Second),
		Zones:          zones,
	}
	for m := time.Date(q.From.Year(), q.From.Month(), 1, 0, 0, 0, 0, q.From.Location()); m.Before(q.To); m = m.AddDate(0, 1, 0) {
		r.Months = append(r.Months, apitype.ReportMonth{Month: m.Format("2006-01")})
	}
	for _, fill := range []struct {
		name string
		fill func(*apitype.Report, apitype.ReportQuery) error
	}{
		{"alerts", g.reportAlerts},
		{"replies", g.reportReplies},
		{"usage", g.reportUsage},
	} {
		if err := fill.fill(&r, q); err != nil {
			return apitype.Report{}, fmt.Errorf("report %s: %w", fill.name, err)
		}
	}
	return r, nil
}

// reportMonth is the entry of r.Months for t's month; nil outside the period.
func reportMonth(r *apitype.Report, t time.Time) *apitype.ReportMonth {
	key := t.In(r.From.Location()).Format("2006-01")
	for i := range r.Months {
		if r.Months[i].Month == key {
			return &r.Months[i]
		}
	}
	return nil
}
