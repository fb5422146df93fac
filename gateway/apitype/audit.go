package apitype

import "time"

// AuditRecord is one change made through the API, as `vigie audit --json`
// prints it: who (the Unix user behind the socket), when, what.
type AuditRecord struct {
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	User string    `json:"user"`
	UID  int       `json:"uid"`
	// Action is the API route ("POST /v1/alerts/{id}/cancel"), Label the
	// same in French, Target the identifier taken from the path.
	Action string `json:"action"`
	Label  string `json:"label"`
	Target string `json:"target,omitempty"`
	// Request summarises the request (its JSON body, phone numbers masked,
	// truncated); Result the answer (identifiers and counts).
	Request string `json:"request,omitempty"`
	Result  string `json:"result,omitempty"`
	// Prev is the previous record's hash, Hash this one's (hex SHA-256).
	Prev string `json:"prev"`
	Hash string `json:"hash"`
}

// AuditCheck is the outcome of `vigie audit verify`.
type AuditCheck struct {
	Records int  `json:"records"`
	OK      bool `json:"ok"`
	// From is the number of the first record checked: 1, or the one after
	// the last that retention purged.
	From uint64 `json:"from"`
	// PurgedThrough is the date of the last record retention purged,
	// absent if none was: the chain is checked from there.
	PurgedThrough time.Time `json:"purged_through,omitzero"`
	// Broken is the number of the first edited or removed record, Reason
	// why: "edited", "missing" or "unreadable".
	Broken uint64 `json:"broken,omitempty"`
	Reason string `json:"reason,omitempty"`
}
