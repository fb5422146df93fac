package apitype

import "time"

// AlertTimeline is an alert's history in time (issue #14): its milestones,
// kept by the store through the retention purge, and its SMS per minute.
// A zero (absent) time is a milestone not crossed.
type AlertTimeline struct {
	AcceptedAt time.Time `json:"accepted_at"`
	// FirstSentAt, HalfSentAt, NinetySentAt: when the first SMS, half and
	// nine tenths of the recipients' SMS had left the modem (counted over
	// Recipients: an alert whose shops sent STOP, or that was cancelled,
	// may finish short of them).
	FirstSentAt  time.Time `json:"first_sent_at,omitzero"`
	HalfSentAt   time.Time `json:"half_sent_at,omitzero"`
	NinetySentAt time.Time `json:"ninety_sent_at,omitzero"`
	// LastSentAt is the time of the last send once nothing of the alert
	// is queued or sending (Finished).
	LastSentAt    time.Time `json:"last_sent_at,omitzero"`
	FirstReportAt time.Time `json:"first_report_at,omitzero"` // delivery reports
	LastReportAt  time.Time `json:"last_report_at,omitzero"`
	FirstFailedAt time.Time `json:"first_failed_at,omitzero"`
	LastFailedAt  time.Time `json:"last_failed_at,omitzero"`
	// Expiries: messages too old to be sent (alert_ttl).
	FirstExpiredAt time.Time `json:"first_expired_at,omitzero"`
	LastExpiredAt  time.Time `json:"last_expired_at,omitzero"`
	CancelledAt    time.Time `json:"cancelled_at,omitzero"`
	// Replies are when witness replies tied to the alert came in, oldest
	// first; filled from the store's reply index (issue #14, point 1).
	Replies []time.Time `json:"replies,omitempty"`

	// Finished: no message queued or sending. ToLastSeconds is from
	// acceptance to LastSentAt (0 while not finished).
	Finished      bool  `json:"finished"`
	ToLastSeconds int64 `json:"to_last_seconds"`
	// Sent counts the SMS that left the modem (see ReportTotals.Sent);
	// Uncertain those whose sending was not confirmed or may have gone
	// twice; Reports the final delivery reports received, one per part.
	Sent      int `json:"sent"`
	Uncertain int `json:"uncertain"`
	Reports   int `json:"reports"`
	// Minutes has an entry for each minute after acceptance (0: the minute
	// of acceptance) in which something happened, in order; minutes absent
	// had nothing.
	Minutes []TimelineMinute `json:"minutes"`
}

// TimelineMinute is what happened in minute Minute after an alert's
// acceptance: SMS sent, and delivery reports (delivered) or failures.
type TimelineMinute struct {
	Minute    int `json:"minute"`
	Sent      int `json:"sent"`
	Delivered int `json:"delivered"`
	Failed    int `json:"failed"`
}
