package gateway

import (
	"fmt"
	"slices"

	"vigie/gateway/apitype"
)

// reportReplies fills r with the witness-reply figures of q's period, from
// the per-day counters that outlive the purge of the SMS themselves:
// Totals.Replies and each month's count the replies received in the
// period (to an alert of the zone filter, if any); each of r.Alerts gets
// every reply ever tied to it, the purged ones included.
func (g *Gateway) reportReplies(r *apitype.Report, q apitype.ReportQuery) error {
	days, err := g.store.ReplyDays(q.From, q.To)
	if err != nil {
		return fmt.Errorf("witness replies by day: %w", err)
	}
	inZones, err := g.alertInZones(q.Zones)
	if err != nil {
		return err
	}
	for _, d := range days {
		ok, err := inZones(d.AlertID)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		r.Totals.Replies += d.Replies
		if m := reportMonth(r, d.Day); m != nil {
			m.Replies += d.Replies
		}
	}
	for i := range r.Alerts {
		n, err := g.store.AlertReplyCount(r.Alerts[i].ID)
		if err != nil {
			return fmt.Errorf("replies to alert %d: %w", r.Alerts[i].ID, err)
		}
		r.Alerts[i].Replies = n
	}
	return nil
}

// alertInZones returns whether an alert targeted one of zones or a zone
// below them (an alert to every zone does); every alert when zones is
// empty. Unknown zone ids match nothing. Answers are cached per alert.
func (g *Gateway) alertInZones(zones []string) (func(id uint64) (bool, error), error) {
	if len(zones) == 0 {
		return func(uint64) (bool, error) { return true, nil }, nil
	}
	var known []string
	for _, z := range zones {
		if _, ok := g.zones.Zone(z); ok {
			known = append(known, z)
		}
	}
	wanted, err := g.zones.Expand(known)
	if err != nil {
		return nil, fmt.Errorf("expand report zones: %w", err)
	}
	cache := make(map[uint64]bool)
	return func(id uint64) (bool, error) {
		if ok, seen := cache[id]; seen {
			return ok, nil
		}
		a, err := g.store.Alert(id)
		if err != nil {
			return false, fmt.Errorf("read alert %d: %w", id, err)
		}
		ok := a.All || slices.ContainsFunc(a.Zones, func(z string) bool { return slices.Contains(wanted, z) })
		cache[id] = ok
		return ok, nil
	}, nil
}
