package gateway

import (
	"fmt"
	"slices"
	"time"

	"vigie/gateway/apitype"
	"vigie/store"
)

// noTradeName names the shops that gave no trade, in the report's ByTrade.
const noTradeName = "métier non précisé"

// reportUsage fills r with the subscriptions, modems and SMS spent figures
// of q's period, from the store's never-purged daily history (history.go):
// only counts, zone, trade and modem names.
//
// Without a zone filter, the totals and months count shops (the shop-level
// series: a shop in two zones is one). With q.Zones, they sum the
// subscriptions of those zones and the zones below them: a shop in two of
// them counts in each, as it does in ByZone. ByZone counts each zone's own
// subscribers (not its sub-zones'). Stops include the active subscriptions
// ended by an erasure (the store counts them apart), so that ActiveStart +
// Joins − Stops = ActiveEnd.
func (g *Gateway) reportUsage(r *apitype.Report, q apitype.ReportQuery) error {
	loc := r.From.Location()
	from, to := dayStart(q.From.In(loc)), dayStart(q.To.In(loc))
	if !q.To.In(loc).Equal(to) {
		to = to.AddDate(0, 0, 1) // a To within a day takes that day in
	}
	fromDay, toDay := from.Format(time.DateOnly), to.Format(time.DateOnly)

	var selected map[string]bool // nil: every zone
	if len(q.Zones) > 0 {
		ids, err := g.zones.Expand(q.Zones)
		if err != nil {
			return err
		}
		selected = map[string]bool{}
		for _, id := range ids {
			selected[id] = true
		}
	}

	hist, err := g.store.SubscriptionHistory()
	if err != nil {
		return fmt.Errorf("subscription history: %w", err)
	}
	series := groupSeries(hist)
	// monthEnd is the day after each month of the period (the period's end
	// for the last): the active count at its end is the last entry before.
	monthEnd := make([]string, len(r.Months))
	for i, m := range r.Months {
		start, err := time.ParseInLocation("2006-01", m.Month, loc)
		if err != nil {
			return fmt.Errorf("month %q: %w", m.Month, err)
		}
		monthEnd[i] = min(start.AddDate(0, 1, 0).Format(time.DateOnly), toDay)
	}
	tradeTotals := map[string]*apitype.ReportTrade{}
	zoneTotals := map[string]*apitype.ReportZone{}
	for _, s := range series {
		counted := s.zone == "" && selected == nil || s.zone != "" && selected[s.zone]
		joins, stops := 0, 0
		for _, d := range s.days {
			if d.Day < fromDay || d.Day >= toDay {
				continue
			}
			// An active subscription erased ended as surely as a STOP:
			// counted with them, so that the active counts add up.
			joins += d.Joins
			stops += d.Stops + d.Erasures
			if m := monthOfDay(r, d.Day); m != nil && counted {
				m.Joins += d.Joins
				m.Stops += d.Stops + d.Erasures
			}
		}
		end := s.activeBefore(toDay)
		if counted {
			r.Totals.Joins += joins
			r.Totals.Stops += stops
			r.Totals.ActiveStart += s.activeBefore(fromDay)
			r.Totals.ActiveEnd += end
			for i := range r.Months {
				r.Months[i].ActiveEnd += s.activeBefore(monthEnd[i])
			}
			t := tradeTotals[s.trade]
			if t == nil {
				t = &apitype.ReportTrade{}
				tradeTotals[s.trade] = t
			}
			t.Joins += joins
			t.Stops += stops
			t.ActiveEnd += end
		}
		if s.zone != "" {
			z := zoneTotals[s.zone]
			if z == nil {
				z = &apitype.ReportZone{}
				zoneTotals[s.zone] = z
			}
			z.Joins += joins
			z.Stops += stops
			z.ActiveEnd += end
		}
	}
	for _, z := range g.zones.Zones() {
		if selected != nil && !selected[z.ID] {
			continue
		}
		i := slices.IndexFunc(r.ByZone, func(e apitype.ReportZone) bool { return e.Zone == z.ID })
		if i < 0 {
			r.ByZone = append(r.ByZone, apitype.ReportZone{Zone: z.ID, Name: z.Name})
			i = len(r.ByZone) - 1
		}
		if t := zoneTotals[z.ID]; t != nil {
			r.ByZone[i].Joins, r.ByZone[i].Stops, r.ByZone[i].ActiveEnd = t.Joins, t.Stops, t.ActiveEnd
		}
	}
	trades := []apitype.ReportTrade{}
	for _, t := range g.trades.All() {
		trades = append(trades, apitype.ReportTrade{Trade: t.ID, Name: t.Name})
	}
	trades = append(trades, apitype.ReportTrade{Trade: "", Name: noTradeName})
	for i := range trades {
		if t := tradeTotals[trades[i].Trade]; t != nil {
			trades[i].Joins, trades[i].Stops, trades[i].ActiveEnd = t.Joins, t.Stops, t.ActiveEnd
		}
	}
	r.ByTrade = trades

	return g.reportModems(r, from, to)
}

// reportModems fills the modems' availability and SMS spent over [from,
// to), local days.
func (g *Gateway) reportModems(r *apitype.Report, from, to time.Time) error {
	fromDay, toDay := from.Format(time.DateOnly), to.Format(time.DateOnly)
	days, err := g.store.ModemHistory(fromDay, toDay)
	if err != nil {
		return fmt.Errorf("modem history: %w", err)
	}
	// Days of the period in each month, for the caps.
	monthDays := map[string]int{}
	total := 0
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		monthDays[d.Format("2006-01")]++
		total++
	}
	var up, observed time.Duration
	r.Modems = []apitype.ReportModem{}
	for _, mc := range g.cfg.Modems {
		r.Modems = append(r.Modems, apitype.ReportModem{Modem: mc.Name, DailyCap: mc.DailyCap, PartsCap: mc.DailyCap * total})
		r.Totals.PartsCap += mc.DailyCap * total
		for i := range r.Months {
			r.Months[i].PartsCap += mc.DailyCap * monthDays[r.Months[i].Month]
		}
	}
	modemUp := make([]time.Duration, len(r.Modems))
	modemSeen := make([]time.Duration, len(r.Modems))
	for _, d := range days {
		// Every modem's parts count, one no longer configured too: they
		// were spent.
		r.Totals.PartsSent += d.Parts
		up += d.Up
		observed += d.Observed
		if m := monthOfDay(r, d.Day); m != nil {
			m.PartsSent += d.Parts
			m.UpSeconds += int64(d.Up / time.Second)
			m.ObservedSeconds += int64(d.Observed / time.Second)
		}
		i := slices.IndexFunc(r.Modems, func(m apitype.ReportModem) bool { return m.Modem == d.Modem })
		if i < 0 {
			continue
		}
		m := &r.Modems[i]
		m.PartsSent += d.Parts
		modemUp[i] += d.Up
		modemSeen[i] += d.Observed
		if d.Parts > m.BusiestParts { // days come in order: the first busiest wins
			m.BusiestDay, m.BusiestParts = d.Day, d.Parts
		}
	}
	for i := range r.Modems {
		r.Modems[i].UpSeconds = int64(modemUp[i] / time.Second)
		r.Modems[i].ObservedSeconds = int64(modemSeen[i] / time.Second)
		r.Modems[i].Availability = share(modemUp[i], modemSeen[i])
	}
	r.Totals.Availability = share(up, observed)
	return nil
}

// share is part/whole, 0 for nothing observed.
func share(part, whole time.Duration) float64 {
	if whole <= 0 {
		return 0
	}
	return float64(part) / float64(whole)
}

// dayStart is the local midnight that begins t's day.
func dayStart(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

// monthOfDay is the entry of r.Months for a YYYY-MM-DD day; nil outside.
func monthOfDay(r *apitype.Report, day string) *apitype.ReportMonth {
	for i := range r.Months {
		if r.Months[i].Month == day[:7] {
			return &r.Months[i]
		}
	}
	return nil
}

// subSeries is one zone and trade's days, in day order.
type subSeries struct {
	zone, trade string
	days        []store.SubscriptionDay
}

// activeBefore is the series' active count at the start of day: that of
// its last entry before it.
func (s subSeries) activeBefore(day string) int {
	i, _ := slices.BinarySearchFunc(s.days, day, func(d store.SubscriptionDay, day string) int {
		switch {
		case d.Day < day:
			return -1
		case d.Day > day:
			return 1
		}
		return 0
	})
	if i == 0 {
		return 0
	}
	return s.days[i-1].Active
}

// groupSeries splits the history, sorted by zone, trade and day, into its
// series.
func groupSeries(hist []store.SubscriptionDay) []subSeries {
	var out []subSeries
	for _, d := range hist {
		if n := len(out); n == 0 || out[n-1].zone != d.Zone || out[n-1].trade != d.Trade {
			out = append(out, subSeries{zone: d.Zone, trade: d.Trade})
		}
		out[len(out)-1].days = append(out[len(out)-1].days, d)
	}
	return out
}
