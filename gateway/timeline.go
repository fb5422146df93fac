package gateway

import (
	"slices"
	"time"

	"vigie/gateway/apitype"
	"vigie/store"
)

// timelineView is an alert's timeline as the API carries it. Replies are
// filled by Alert from the witness replies still kept.
func timelineView(t store.Timeline) apitype.AlertTimeline {
	v := apitype.AlertTimeline{
		AcceptedAt:     t.AcceptedAt,
		FirstSentAt:    t.FirstSentAt,
		HalfSentAt:     t.HalfSentAt,
		NinetySentAt:   t.NinetySentAt,
		LastSentAt:     t.LastSentAt,
		FirstReportAt:  t.FirstReportAt,
		LastReportAt:   t.LastReportAt,
		FirstFailedAt:  t.FirstFailedAt,
		LastFailedAt:   t.LastFailedAt,
		FirstExpiredAt: t.FirstExpiredAt,
		LastExpiredAt:  t.LastExpiredAt,
		CancelledAt:    t.CancelledAt,
		Finished:       t.Finished,
		Sent:           t.Sent,
		Uncertain:      t.Uncertain,
		Reports:        t.Reports,
		Minutes:        make([]apitype.TimelineMinute, 0, len(t.Minutes)),
	}
	if d, ok := t.ToLast(); ok {
		v.ToLastSeconds = int64(d / time.Second)
	}
	for _, m := range t.Minutes {
		v.Minutes = append(v.Minutes, apitype.TimelineMinute{Minute: m.Minute, Sent: m.Sent, Delivered: m.Delivered, Failed: m.Failed})
	}
	return v
}

// zoneReach counts the recipients by zone reached: each recipient counts
// in the zones it subscribed to and every zone above them, once per zone.
// A recipient no longer subscribed (a follow-up's snapshot) counts nowhere.
func (g *Gateway) zoneReach(recipients []string) (map[string]int, error) {
	if len(recipients) == 0 {
		return nil, nil
	}
	want := make(map[string]bool, len(recipients))
	for _, r := range recipients {
		want[r] = true
	}
	subs, err := g.store.Subscribers()
	if err != nil {
		return nil, err
	}
	return g.reachOf(slices.DeleteFunc(subs, func(sub store.Subscriber) bool { return !want[sub.Phone] })), nil
}

// reachOf is zoneReach for the recipients' own records.
func (g *Gateway) reachOf(subs []store.Subscriber) map[string]int {
	if len(subs) == 0 {
		return nil
	}
	reach := map[string]int{}
	for _, sub := range subs {
		seen := map[string]bool{}
		for _, id := range sub.Zones {
			// Walk up the parents; the tree has no cycles (zone.New).
			for id != "" && !seen[id] {
				seen[id] = true
				reach[id]++
				z, ok := g.zones.Zone(id)
				if !ok {
					break
				}
				id = z.Parent
			}
		}
	}
	return reach
}
