package apitype

import "time"

// Subscriber statuses, as in Subscriber.Status and SubscriberFilter.Status.
const (
	SubscriberActive  = "active"
	SubscriberPending = "pending"
	SubscriberStopped = "stopped"
)

// Subscriber is a shopkeeper's number and what it is subscribed to.
type Subscriber struct {
	Phone     string    `json:"phone"`
	Zones     []string  `json:"zones"`
	Trade     string    `json:"trade,omitempty"`
	Name      string    `json:"name,omitempty"` // the shop's name (outside data); optional
	Status    string    `json:"status"`         // active, pending, stopped
	Source    string    `json:"source"`         // sms, operator, import
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Pending is a subscription request waiting for OUI <code> or an
	// operator's approval.
	Pending *PendingRequest `json:"pending,omitempty"`
}

// PendingRequest is a subscription request not yet active. The
// confirmation code is not shown: only the shop's phone should know it.
type PendingRequest struct {
	Zone   string    `json:"zone"`
	Trade  string    `json:"trade,omitempty"`
	Policy string    `json:"policy"` // confirm or approval
	At     time.Time `json:"at"`
	// WrongCodes received for it (policy confirm); VoidedAt is when the
	// last one allowed voided it: no code activates it any more.
	WrongCodes int       `json:"wrong_codes,omitempty"`
	VoidedAt   time.Time `json:"voided_at,omitzero"`
}

// SubscriberFilter narrows a listing; empty fields do not filter. Zone
// (an id, name or alias) includes its sub-zones, as an alert to it would.
type SubscriberFilter struct {
	Zone   string `json:"zone,omitempty"`
	Trade  string `json:"trade,omitempty"`
	Status string `json:"status,omitempty"`
}

// SubscriberDetail is `vigie subscribers show`: the subscriber, if there
// is a record (Status empty otherwise), whether the number is on the
// suppression list, and how many alerts it was sent.
type SubscriberDetail struct {
	Subscriber
	Suppressed     bool `json:"suppressed"`
	AlertsReceived int  `json:"alerts_received"`
}

// AddSubscriberRequest is an operator subscribing a number.
type AddSubscriberRequest struct {
	Phone string   `json:"phone"` // any usual form; stored in E.164
	Zones []string `json:"zones"` // ids, names or aliases
	Trade string   `json:"trade,omitempty"`
	// Name is the shop's name; empty leaves it unchanged.
	Name string `json:"name,omitempty"`
	// Force subscribes a number that sent STOP (or was erased): the
	// shopkeeper asked again in person.
	Force bool `json:"force,omitempty"`
}

// Outcomes of an add or of an import row.
const (
	OutcomeAdded    = "added"
	OutcomeUpdated  = "updated"
	OutcomeSkipped  = "skipped"
	OutcomeRejected = "rejected"
)

// AddSubscriberResult is the subscriber after an add and what changed:
// added, updated, or skipped (already subscribed so).
type AddSubscriberResult struct {
	Subscriber Subscriber `json:"subscriber"`
	Outcome    string     `json:"outcome"`
}

// RemoveSubscriberRequest unsubscribes a number; Erase also deletes its
// personal data.
type RemoveSubscriberRequest struct {
	Erase bool `json:"erase,omitempty"`
}

// RemoveSubscriberResult says what a remove did.
type RemoveSubscriberResult struct {
	Phone string `json:"phone"`
	// Erased: personal data deleted, only a keyed hash left on the
	// suppression list.
	Erased bool `json:"erased"`
	// Cancelled queued messages to the number.
	Cancelled int `json:"cancelled"`
	// Inbound SMS and Messages (outbox) whose number was erased.
	Inbound  int `json:"inbound,omitempty"`
	Messages int `json:"messages,omitempty"`
}

// ImportRequest carries a spreadsheet (CSV) to import.
type ImportRequest struct {
	Data        []byte `json:"data"` // the file as is (base64 in JSON)
	DefaultZone string `json:"default_zone,omitempty"`
	DryRun      bool   `json:"dry_run,omitempty"`
	// ReplaceZones: a number's zones become those of its rows in the file;
	// by default the file's zones are added to those it has.
	ReplaceZones bool `json:"replace_zones,omitempty"`
}

// Import skip reasons in ImportRow.Reason (rejections use the csvimport
// reasons: invalid_phone, unknown_zone…).
const (
	SkipSuppressed = "suppressed" // sent STOP or was erased: never re-added by a file
	SkipUnchanged  = "unchanged"  // already subscribed so
)

// ImportReport is the per-row report of an import, the same in a dry run.
type ImportReport struct {
	DryRun bool `json:"dry_run"`
	// ReplaceZones: zones were replaced (ImportRequest.ReplaceZones), not added.
	ReplaceZones bool           `json:"replace_zones"`
	Encoding     string         `json:"encoding"`  // utf-8, utf-8-bom, utf-16, windows-1252
	Separator    string         `json:"separator"` // ";", "," or "\t"
	Columns      []ImportColumn `json:"columns"`
	Added        int            `json:"added"`
	Updated      int            `json:"updated"`
	Skipped      int            `json:"skipped"`
	Rejected     int            `json:"rejected"`
	Rows         []ImportRow    `json:"rows"` // in file order
}

// ImportColumn is a header cell and what was read in it: phone, zone,
// trade, name (recognised, not kept) or "" (ignored).
type ImportColumn struct {
	Name  string `json:"name"`
	Field string `json:"field"`
}

// ImportRow is the fate of one row of the file.
type ImportRow struct {
	Line    int      `json:"line"`
	Phone   string   `json:"phone,omitempty"` // E.164, when it could be read
	Zones   []string `json:"zones,omitempty"`
	Trade   string   `json:"trade,omitempty"`
	Outcome string   `json:"outcome"`          // added, updated, skipped, rejected
	Reason  string   `json:"reason,omitempty"` // why skipped or rejected (stable code)
	Column  string   `json:"column,omitempty"` // rejected: the faulty column
	Value   string   `json:"value,omitempty"`  // rejected: the faulty cell
	Message string   `json:"message,omitempty"`
}
