package gateway

import (
	"fmt"
	"slices"
	"time"

	"vigie/gateway/apitype"
	"vigie/gateway/pace"
	"vigie/store"
)

// Status reports the daemon's and each modem's health.
func (g *Gateway) Status() (apitype.Status, error) {
	st := apitype.Status{
		Version:   g.version,
		Station:   g.cfg.Station.Name,
		StartedAt: g.startedAt(),
		Queue:     map[string]int{},
	}
	for _, w := range g.workers {
		st.Modems = append(st.Modems, w.status())
	}
	counts, err := g.store.QueueCounts()
	if err != nil {
		return st, fmt.Errorf("queue counts: %w", err)
	}
	for s, n := range counts {
		st.Queue[string(s)] = n
	}
	now := g.now()
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	if st.SentTodayMessages, st.SentToday, err = g.store.SentTally(midnight); err != nil {
		return st, fmt.Errorf("sent today: %w", err)
	}
	inbox, err := g.store.InboxEntries()
	if err != nil {
		return st, fmt.Errorf("inbox: %w", err)
	}
	for _, e := range inbox {
		if !e.Read() {
			st.InboxUnread++
			if e.AlertID != 0 {
				st.WitnessUnread++
			}
		}
	}
	if st.RecipientsThisMonth, err = g.store.DistinctRecipients(now); err != nil {
		return st, fmt.Errorf("recipients this month: %w", err)
	}
	st.RecipientsWarn = g.cfg.SMS.MonthlyRecipientsWarn
	if err := g.paceStatus(&st, counts); err != nil {
		return st, err
	}
	g.careStatus(&st)
	st.WriteError = g.writeFaultStatus()
	g.clockStatus(&st)
	st.State = overall(st, counts)
	return st, nil
}

// overall sums up the daemon in one word, the one the LED shows (SPEC §8):
// fault when no modem can send because a person must act, degraded when
// sending is impossible or reduced for now, starting while modems open.
func overall(st apitype.Status, counts map[store.State]int) string {
	ready, faults, outages, weak := 0, 0, 0, 0
	for _, m := range st.Modems {
		switch m.State {
		case apitype.ModemReady:
			ready++
			if m.SignalDBm != 0 && m.SignalBars <= 1 {
				weak++ // it sends, but an SMS may take minutes or fail
			}
		case apitype.ModemFault, apitype.ModemSIMLocked, apitype.ModemNoAnswer:
			faults++
		case apitype.ModemNoNetwork, apitype.ModemSendBlocked, apitype.ModemDailyCap:
			outages++
		}
	}
	switch {
	case st.DatabaseError != "" || st.WriteError != "" || ready == 0 && faults > 0:
		return "fault"
	case ready == 0 && outages > 0:
		return "degraded"
	case ready == 0:
		return "starting"
	case ready < len(st.Modems) || weak > 0 || st.Canary != nil && st.Canary.State == apitype.CanaryFailed ||
		st.Clock != nil && st.Clock.Skewed:
		return "degraded"
	case counts[store.StateQueued]+counts[store.StateSending] > 0:
		return "sending"
	}
	return "ready"
}

// recentSends is how many of the last sends the pace is measured on.
const recentSends = 21

// paceStatus measures the send pace on the last messages sent and, if a
// modem can send, how long the queue will take at it: measured, because
// the configured rate says nothing of the network's delays, and robust to
// an outage (see package pace).
func (g *Gateway) paceStatus(st *apitype.Status, counts map[store.State]int) error {
	sent, err := g.store.RecentSends(recentSends)
	if err != nil {
		return fmt.Errorf("recent sends: %w", err)
	}
	if r, ok := pace.PerMinute(sent); ok {
		st.SendPerMinute = r
	}
	left := counts[store.StateQueued] + counts[store.StateSending]
	ready := slices.ContainsFunc(st.Modems, func(m apitype.ModemStatus) bool { return m.State == apitype.ModemReady })
	if eta, ok := pace.ETA(sent, left); ok && left > 0 && ready {
		st.QueueETASeconds = eta.Seconds()
	}
	return nil
}
