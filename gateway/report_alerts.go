package gateway

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"vigie/gateway/apitype"
	"vigie/store"
)

// categoryNames are the categories of alerts (categories) for people.
var categoryNames = map[string]string{
	"vol":            "Vol",
	"escroquerie":    "Escroquerie",
	"fausse-monnaie": "Fausse monnaie",
	"autre":          "Autre",
}

// allZonesName names the target of an alert to every subscriber.
const allZonesName = "toutes les zones"

// reportAlerts fills r with the alerts, reach and time to the last SMS
// figures of q's period, from what the retention purge keeps: the alerts,
// their counters by state and their timelines. An alert is of the period
// when accepted in [q.From, q.To); with q.Zones, when it reached shops of
// one of them (alertReaches). Its counts stay the whole alert's: the
// outcome of each message is not kept by zone.
func (g *Gateway) reportAlerts(r *apitype.Report, q apitype.ReportQuery) error {
	var filter map[string]bool
	if len(q.Zones) > 0 { // checked and named by Report (reportZones)
		ids, err := g.zones.Expand(q.Zones)
		if err != nil {
			return fmt.Errorf("expand zones %v: %w", q.Zones, err)
		}
		filter = make(map[string]bool, len(ids))
		for _, id := range ids {
			filter[id] = true
		}
	}
	all, err := g.store.Alerts()
	if err != nil {
		return fmt.Errorf("list alerts: %w", err)
	}
	var alerts []store.Alert
	for _, a := range all {
		if a.CreatedAt.Before(q.From) || !a.CreatedAt.Before(q.To) {
			continue
		}
		if filter != nil && !g.alertReaches(a, q.Zones, filter) {
			continue
		}
		alerts = append(alerts, a)
	}
	slices.SortFunc(alerts, func(x, y store.Alert) int {
		if c := x.CreatedAt.Compare(y.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(x.ID, y.ID)
	})

	g.reportZoneEntries(r, q)
	cats := make([]apitype.NamedCount, 0, len(categories))
	for _, id := range categories {
		cats = append(cats, apitype.NamedCount{ID: id, Name: categoryNames[id]})
	}
	var toLast []int64
	for _, a := range alerts {
		ra, err := g.reportAlert(a)
		if err != nil {
			return err
		}
		r.Alerts = append(r.Alerts, ra)
		t := &r.Totals
		t.Alerts++
		t.Recipients += ra.Recipients
		t.Sent += ra.Sent
		t.Delivered += ra.Delivered
		t.Failed += ra.Failed
		t.Uncertain += ra.Uncertain
		t.Expired += ra.Expired
		t.Cancelled += ra.Cancelled
		if ra.Finished {
			t.Finished++
			toLast = append(toLast, ra.ToLastSeconds)
			if ra.ToLastSeconds <= r.PromiseSeconds {
				t.WithinPromise++
			}
		}
		if m := reportMonth(r, a.CreatedAt); m != nil {
			m.Alerts++
			m.Recipients += ra.Recipients
			m.Sent += ra.Sent
			m.Delivered += ra.Delivered
			m.Failed += ra.Failed
			m.Uncertain += ra.Uncertain
			m.Expired += ra.Expired
		}
		i := slices.IndexFunc(cats, func(c apitype.NamedCount) bool { return c.ID == a.Category })
		if i < 0 {
			cats = append(cats, apitype.NamedCount{ID: a.Category, Name: a.Category})
			i = len(cats) - 1
		}
		cats[i].Count++
		for i := range r.ByZone {
			z := &r.ByZone[i]
			if n, reached := g.zoneRecipientsOf(a, z.Zone); reached {
				z.Alerts++
				z.Recipients += n
			}
		}
		for i := range r.Zones {
			if _, reached := g.zoneRecipientsOf(a, r.Zones[i].ID); reached {
				r.Zones[i].Count++
			}
		}
	}
	r.Categories = cats
	if len(toLast) > 0 {
		slices.Sort(toLast)
		r.Totals.WorstToLastSeconds = toLast[len(toLast)-1]
		r.Totals.MedianToLastSeconds = median(toLast)
	}
	return nil
}

// reportZoneEntries makes sure r.ByZone has an entry for each zone of the
// filter, or every configured zone, in config order; entries another part
// of the report made first are kept.
func (g *Gateway) reportZoneEntries(r *apitype.Report, q apitype.ReportQuery) {
	for _, z := range g.zones.Zones() {
		if len(q.Zones) > 0 && !slices.Contains(q.Zones, z.ID) {
			continue
		}
		if slices.ContainsFunc(r.ByZone, func(e apitype.ReportZone) bool { return e.Zone == z.ID }) {
			continue
		}
		name := z.Name
		if name == "" {
			name = z.ID
		}
		r.ByZone = append(r.ByZone, apitype.ReportZone{Zone: z.ID, Name: name})
	}
}

// alertReaches says whether alert a reached shops of the zones asked for:
// it went to every subscriber, to one of them or a zone below (within,
// their expansion), or to a zone above one of them.
func (g *Gateway) alertReaches(a store.Alert, zones []string, within map[string]bool) bool {
	if a.All || slices.ContainsFunc(a.Zones, func(id string) bool { return within[id] }) {
		return true
	}
	return slices.ContainsFunc(zones, func(id string) bool {
		_, reached := g.zoneRecipientsOf(a, id)
		return reached
	})
}

// zoneRecipientsOf says whether alert a reached zone id (it targeted it, a
// zone above it, or every subscriber) and how many of its recipients were
// in it or below, as counted at acceptance. An alert accepted before these
// counts were kept has them only for the zone it alone targeted.
func (g *Gateway) zoneRecipientsOf(a store.Alert, id string) (int, bool) {
	reached := a.All
	for cur := id; cur != "" && !reached; {
		reached = slices.Contains(a.Zones, cur)
		z, ok := g.zones.Zone(cur)
		if !ok {
			break
		}
		cur = z.Parent
	}
	if !reached {
		return 0, false
	}
	if a.ZoneRecipients != nil {
		return a.ZoneRecipients[id], true
	}
	if !a.All && len(a.Zones) == 1 && a.Zones[0] == id {
		return a.Recipients, true
	}
	return 0, true
}

// reportAlert is one alert's line of the report.
func (g *Gateway) reportAlert(a store.Alert) (apitype.ReportAlert, error) {
	counts, err := g.store.AlertCounts(a.ID)
	if err != nil {
		return apitype.ReportAlert{}, fmt.Errorf("count messages of alert %d: %w", a.ID, err)
	}
	tl, err := g.store.AlertTimeline(a.ID)
	if err != nil {
		return apitype.ReportAlert{}, fmt.Errorf("read timeline of alert %d: %w", a.ID, err)
	}
	names := g.zoneNames(a.Zones)
	if a.All {
		names = []string{allZonesName}
	}
	ra := apitype.ReportAlert{
		ID:         a.ID,
		CreatedAt:  a.CreatedAt,
		Category:   a.Category,
		ZoneNames:  names,
		Recipients: a.Recipients,
		// An alert whose messages were purged before its timeline was
		// kept (schema 5) has its sends only in its counters.
		Sent:      max(tl.Sent, counts[store.StateSent]+counts[store.StateDelivered]),
		Delivered: counts[store.StateDelivered],
		Failed:    counts[store.StateFailed],
		Uncertain: tl.Uncertain,
		Expired:   counts[store.StateExpired],
		Cancelled: counts[store.StateCancelled],
	}
	if d, ok := tl.ToLast(); ok {
		ra.Finished, ra.ToLastSeconds = true, int64(d/time.Second)
	}
	return ra, nil
}

// median of sorted, not empty: the middle one, or the mean of the two.
func median(sorted []int64) int64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
