package apitype

import "time"

// ReportQuery selects what `vigie rapport` sums up: the alerts accepted and
// the events that happened in [From, To), local days, optionally narrowed
// to some zones (an alert counts if it targeted one of them or a zone
// below; subscriptions count by their own zone).
type ReportQuery struct {
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	Zones []string  `json:"zones,omitempty"`
}

// Report is the yearly (or any period's) account of the scheme: only counts,
// zone and trade names, never a phone number. Its figures come from
// aggregates that retention does not purge (issue #14, point 4).
type Report struct {
	Station     string    `json:"station"`
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	GeneratedAt time.Time `json:"generated_at"`
	// Zones is the filter, by id and name; empty: every zone.
	Zones []NamedCount `json:"zones,omitempty"`
	// PromiseSeconds is the promise the time to the last SMS is measured
	// against (one hour).
	PromiseSeconds int64 `json:"promise_seconds"`

	Totals ReportTotals `json:"totals"`
	// Months has one entry per calendar month of the period, in order,
	// including months with nothing in them.
	Months []ReportMonth `json:"months"`
	// Categories counts the period's alerts by category.
	Categories []NamedCount `json:"categories"`
	// ByZone and ByTrade: alerts and subscriptions by zone and trade.
	ByZone  []ReportZone  `json:"by_zone"`
	ByTrade []ReportTrade `json:"by_trade"`
	// Alerts lists the period's alerts, oldest first.
	Alerts []ReportAlert `json:"alerts"`
	// Modems: availability and SMS spent against the caps.
	Modems []ReportModem `json:"modems"`
}

// NamedCount is an id, its name for people, and a count.
type NamedCount struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// ReportTotals sums the period. Counts are of messages (one per
// recipient), not parts. Sent counts the alert messages that left the
// modem: sent (confirmed or not: Uncertain counts the unconfirmed and the
// maybe doubled among them), then delivered, or failed by a delivery
// report; not a message failed before leaving (a permanent modem error),
// expired, cancelled or suppressed. ReportMonth and ReportAlert count alike.
type ReportTotals struct {
	Alerts     int `json:"alerts"`
	Recipients int `json:"recipients"`
	Sent       int `json:"sent"` // sent, delivered or uncertain: left the modem
	Delivered  int `json:"delivered"`
	Failed     int `json:"failed"`
	Uncertain  int `json:"uncertain"`
	Expired    int `json:"expired"`
	Cancelled  int `json:"cancelled"`
	// Finished counts the alerts whose last SMS went out;
	// MedianToLastSeconds and WorstToLastSeconds are over them, and
	// WithinPromise counts those within PromiseSeconds.
	Finished            int   `json:"finished"`
	MedianToLastSeconds int64 `json:"median_to_last_seconds"`
	WorstToLastSeconds  int64 `json:"worst_to_last_seconds"`
	WithinPromise       int   `json:"within_promise"`
	Replies             int   `json:"replies"` // witness replies
	Joins               int   `json:"joins"`   // subscriptions that became active
	Stops               int   `json:"stops"`
	ActiveStart         int   `json:"active_start"` // active shops when the period began
	ActiveEnd           int   `json:"active_end"`   // and when it ended
	PartsSent           int   `json:"parts_sent"`   // SMS parts sent, every kind
	PartsCap            int   `json:"parts_cap"`    // what the daily caps allowed over the period
	// Availability is the share of observed time the modems were ready (0–1).
	Availability float64 `json:"availability"`
}

// ReportMonth is one calendar month ("2026-03") of the period.
type ReportMonth struct {
	Month      string `json:"month"`
	Alerts     int    `json:"alerts"`
	Recipients int    `json:"recipients"`
	Sent       int    `json:"sent"`
	Delivered  int    `json:"delivered"`
	Failed     int    `json:"failed"`
	Uncertain  int    `json:"uncertain"`
	Expired    int    `json:"expired"`
	Replies    int    `json:"replies"`
	Joins      int    `json:"joins"`
	Stops      int    `json:"stops"`
	ActiveEnd  int    `json:"active_end"` // active shops at the month's end (or the period's)
	PartsSent  int    `json:"parts_sent"`
	PartsCap   int    `json:"parts_cap"`
	// UpSeconds of ObservedSeconds the modems were ready.
	UpSeconds       int64 `json:"up_seconds"`
	ObservedSeconds int64 `json:"observed_seconds"`
}

// ReportZone is one zone's figures.
type ReportZone struct {
	Zone       string `json:"zone"`
	Name       string `json:"name"`
	Alerts     int    `json:"alerts"`
	Recipients int    `json:"recipients"`
	Joins      int    `json:"joins"`
	Stops      int    `json:"stops"`
	ActiveEnd  int    `json:"active_end"`
}

// ReportTrade is one trade's subscriptions ("" id: no trade given).
type ReportTrade struct {
	Trade     string `json:"trade"`
	Name      string `json:"name"`
	Joins     int    `json:"joins"`
	Stops     int    `json:"stops"`
	ActiveEnd int    `json:"active_end"`
}

// ReportAlert is one alert of the period.
type ReportAlert struct {
	ID         uint64    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	Category   string    `json:"category"`
	ZoneNames  []string  `json:"zone_names"`
	Recipients int       `json:"recipients"`
	Sent       int       `json:"sent"`
	Delivered  int       `json:"delivered"`
	Failed     int       `json:"failed"`
	Uncertain  int       `json:"uncertain"`
	Expired    int       `json:"expired"`
	Cancelled  int       `json:"cancelled"`
	// ToLastSeconds is the time from acceptance to the last SMS out; 0
	// (with Finished false) while messages are still queued or sending,
	// or when none went out (all cancelled, expired or suppressed).
	ToLastSeconds int64 `json:"to_last_seconds"`
	Finished      bool  `json:"finished"`
	Replies       int   `json:"replies"`
}

// ReportModem is one modem's availability and usage over the period.
type ReportModem struct {
	Modem           string  `json:"modem"`
	UpSeconds       int64   `json:"up_seconds"`
	ObservedSeconds int64   `json:"observed_seconds"`
	Availability    float64 `json:"availability"`
	PartsSent       int     `json:"parts_sent"`
	DailyCap        int     `json:"daily_cap"`
	PartsCap        int     `json:"parts_cap"` // DailyCap × days of the period
	// BusiestDay is the local day with most parts sent, and its parts.
	BusiestDay   string `json:"busiest_day,omitempty"`
	BusiestParts int    `json:"busiest_parts,omitempty"`
}
