package apitype

import "time"

// InboxMessage is a shopkeeper's SMS kept for the operators: a text that was
// not a keyword (a witness answering an alert) or a subscription request
// waiting for an operator's approval.
type InboxMessage struct {
	ID         uint64    `json:"id"`
	From       string    `json:"from"`
	Text       string    `json:"text"`
	ReceivedAt time.Time `json:"received_at"`
	// Outcome is what the daemon did with it: "inbox" (kept for the
	// operators), "subscribe-pending" (waiting for approval), …
	Outcome string `json:"outcome"`
	Read    bool   `json:"read"`
	// ReadAt is when an operator first marked it read.
	ReadAt time.Time `json:"read_at,omitzero"`
}

// Inbox outcomes the CLI names for the operator.
const (
	OutcomeInbox            = "inbox"
	OutcomeSubscribePending = "subscribe-pending"
)
