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
	// FromKind is set when the sender is not a phone that can be answered:
	// SenderAlphanumeric, SenderShortCode or SenderInvalid. Such an SMS
	// changed nothing and got no reply.
	FromKind string `json:"from_kind,omitempty"`
	// Missing lists the parts of a long SMS that never came (of Parts):
	// Text is what came, in order.
	Missing []int `json:"missing,omitempty"`
	Parts   int   `json:"parts,omitempty"`
	// AlertID is the alert this message answers (a witness reply), and
	// AlertCreatedAt when that alert was sent; zero for other messages.
	AlertID        uint64    `json:"alert_id,omitempty"`
	AlertCreatedAt time.Time `json:"alert_created_at,omitzero"`
}

// Sender kinds (InboxMessage.FromKind).
const (
	// SenderAlphanumeric: a name ("ORANGE"), even one that spells digits.
	SenderAlphanumeric = "alphanumeric"
	// SenderShortCode: a short or network-specific code ("36179").
	SenderShortCode = "short-code"
	// SenderInvalid: digits that are no mobile number of the numbering plan.
	SenderInvalid = "invalid"
)

// Inbox outcomes the CLI names for the operator.
const (
	OutcomeInbox            = "inbox"
	OutcomeSubscribePending = "subscribe-pending"
)
