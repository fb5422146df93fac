// Package apitype holds the request and response types of the daemon's local
// API, shared by the server (gateway/api) and the client (gateway/client) so
// the two cannot drift apart. The JSON field names are the stable contract
// that `--json` output and scripts rely on.
package apitype

import (
	"fmt"
	"time"
)

// SocketEnv names the environment variable that overrides the socket path.
const SocketEnv = "VIGIE_SOCKET"

// AlertRequest asks for an alert to be previewed or sent.
type AlertRequest struct {
	Zones    []string `json:"zones,omitempty"`
	Trades   []string `json:"trades,omitempty"` // with zones or all: only these trades
	All      bool     `json:"all,omitempty"`
	Category string   `json:"category,omitempty"`
	Text     string   `json:"text"`
	// Fingerprint, when set, is the Preview.Fingerprint the operator
	// confirmed: a send whose recipients are no longer those is refused
	// (412, ErrTargetChanged), the way an ETag precondition is, and says
	// what changed. Expected is that preview's Recipients, for the wording.
	Fingerprint string `json:"fingerprint,omitempty"`
	Expected    int    `json:"expected_recipients,omitempty"`
}

// Preview says what an alert would do before it is queued.
type Preview struct {
	Text       string      `json:"text"`     // the final rendered text
	Encoding   string      `json:"encoding"` // GSM7 or UCS2
	Parts      int         `json:"parts"`    // SMS parts per recipient
	Chars      int         `json:"chars"`
	Recipients int         `json:"recipients"`
	ByZone     []ZoneCount `json:"by_zone"`
	// ByTrade, when the alert targets trades, is how many of the
	// recipients each trade contributes.
	ByTrade []TradeCount `json:"by_trade,omitempty"`
	// ETASeconds is the time to send every part at the healthy modems' rate.
	ETASeconds float64 `json:"eta_seconds"`
	// Missed, for a follow-up, is how many recipients of the alert did
	// not receive it (cancelled, STOP, failed, expired, not yet sent): the
	// follow-up does not go to them.
	Missed int `json:"missed,omitempty"`
	// Pending, for a follow-up, is how many of its recipients still wait
	// for the alert: they get it first, then the follow-up.
	Pending int `json:"pending,omitempty"`
	// Fingerprint identifies the recipient list (a hash of the sorted
	// numbers): the send carries it back (AlertRequest.Fingerprint).
	Fingerprint string `json:"fingerprint,omitempty"`
}

// ZoneCount is the number of recipients a zone contributes to an alert.
type ZoneCount struct {
	Zone       string `json:"zone"`
	Name       string `json:"name"`
	Recipients int    `json:"recipients"`
}

// TradeCount is the number of recipients a trade contributes to an alert.
type TradeCount struct {
	Trade      string `json:"trade"`
	Name       string `json:"name"`
	Recipients int    `json:"recipients"`
}

// Alert is an alert and the counts of its messages by state.
type Alert struct {
	ID        uint64    `json:"id"`
	Author    string    `json:"author"`
	CreatedAt time.Time `json:"created_at"`
	Category  string    `json:"category"`
	Zones     []string  `json:"zones"`
	// ZoneNames are the names of Zones, in the same order: the operator
	// reads "Mâcon", not "macon".
	ZoneNames []string `json:"zone_names,omitempty"`
	Trades    []string `json:"trades,omitempty"`
	// TradeNames are the names of Trades, in the same order.
	TradeNames []string       `json:"trade_names,omitempty"`
	All        bool           `json:"all"`
	FollowUpOf uint64         `json:"follow_up_of,omitempty"`
	Text       string         `json:"text"`
	Rendered   string         `json:"rendered"`
	Encoding   string         `json:"encoding"`
	Parts      int            `json:"parts"`
	Recipients int            `json:"recipients"`
	Counts     map[string]int `json:"counts"`
	// Done is true when every message is in a final state.
	Done bool `json:"done"`
	// ReplyCount counts the witness replies tied to the alert (purged
	// ones included).
	ReplyCount int `json:"reply_count,omitempty"`
}

// AlertReport is an alert with the fate of each of its messages.
type AlertReport struct {
	Alert
	Messages []Message `json:"messages"`
	// Timeline: when things happened (kept after the messages are purged).
	Timeline *AlertTimeline `json:"timeline,omitempty"`
	// Replies are the witness replies still kept, oldest first.
	Replies []Reply `json:"replies"`
}

// Reply is a witness reply: an SMS a shop sent back after an alert
// reached it.
type Reply struct {
	InboundID  uint64    `json:"inbound_id"`
	ReceivedAt time.Time `json:"received_at"`
	From       string    `json:"from"`
	// Name is the shop's name; Trade and Zones (by name) tell it apart
	// when it has none. All empty when the number is not subscribed.
	Name  string   `json:"name,omitempty"`
	Trade string   `json:"trade,omitempty"`
	Zones []string `json:"zones,omitempty"`
	Text  string   `json:"text"`
	Read  bool     `json:"read"`
}

// Message is one outbox message as the operator sees it.
type Message struct {
	ID        uint64    `json:"id"`
	To        string    `json:"to"`
	State     string    `json:"state"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error,omitempty"`
	Modem     string    `json:"modem,omitempty"`
	Refs      []int     `json:"refs,omitempty"`
	Uncertain bool      `json:"uncertain,omitempty"`
	SentAt    time.Time `json:"sent_at,omitzero"`
	// DeliveredAt is when the delivery report of the last part arrived.
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
	// Trade and Zones name the shop (its trade and zones, by name) of a
	// message that failed or expired, for the operator who must call it:
	// names of shops are not kept, so this is what tells them apart.
	// Empty when the number is no longer subscribed.
	Trade string   `json:"trade,omitempty"`
	Zones []string `json:"zones,omitempty"`
	// Name is that shop's name, when it has one.
	Name string `json:"name,omitempty"`
}

// FollowUpRequest is a follow-up ("fin d'alerte") to an alert's recipients.
type FollowUpRequest struct {
	Text string `json:"text"`
}

// CancelResult says how many messages a cancel stopped.
type CancelResult struct {
	Cancelled int `json:"cancelled"`
}

// Status is the daemon's health as `vigie status` shows it.
type Status struct {
	Version   string         `json:"version"`
	Station   string         `json:"station"`
	StartedAt time.Time      `json:"started_at"`
	State     string         `json:"state"` // starting, ready, sending, degraded, fault
	Modems    []ModemStatus  `json:"modems"`
	Queue     map[string]int `json:"queue"`
	SentToday int            `json:"sent_today"` // SMS parts
	// SentTodayMessages is how many messages SentToday's parts make.
	SentTodayMessages int `json:"sent_today_messages"`
	// SendPerMinute is the measured pace of the last messages sent
	// (messages per minute; 0: not enough sends to tell). QueueETASeconds
	// is how long the queued messages take at that pace, 0 when nothing
	// waits, no modem is ready or the pace is not known.
	SendPerMinute   float64 `json:"send_per_minute,omitempty"`
	QueueETASeconds float64 `json:"queue_eta_seconds,omitempty"`
	// InboxUnread is how many shopkeepers' messages no operator has read.
	InboxUnread int `json:"inbox_unread"`
	// WitnessUnread is how many of those are witness replies to an alert.
	WitnessUnread int `json:"witness_unread"`
	// RecipientsThisMonth counts distinct numbers sent to this month;
	// RecipientsWarn is the configured warning level (0: none).
	RecipientsThisMonth int `json:"recipients_this_month"`
	RecipientsWarn      int `json:"recipients_warn,omitempty"`
	// DatabaseError is what the start-up integrity check found wrong
	// (the state is then fault); empty when the database is sound.
	DatabaseError string `json:"database_error,omitempty"`
	// WriteError says, in French, since when the disk refuses the
	// database's writes, why, and what to do (the state is then fault);
	// empty once a write succeeds again.
	WriteError string `json:"write_error,omitempty"`
	// Canary is the latest daily test SMS; nil without [canary] number
	// or before the first one.
	Canary *Canary `json:"canary,omitempty"`
	// BackupError says, in French, why the last nightly backup failed.
	BackupError string `json:"backup_error,omitempty"`
	// Clock compares the system clock with the network's time; nil until
	// a modem told the network's time.
	Clock *Clock `json:"clock,omitempty"`
}

// Clock is the system clock against the network's time (a Raspberry Pi has
// no battery-backed clock: after a power cut it may start hours or days
// behind).
type Clock struct {
	// Source is the modem that last told the network's time.
	Source string `json:"source"`
	// OffsetSeconds is the system clock minus the network's time, in
	// seconds: negative when the system clock is behind.
	OffsetSeconds float64 `json:"offset_seconds"`
	// Network is the network's time when the status was taken.
	Network time.Time `json:"network"`
	// MaxSkewSeconds is the configured tolerance ([station] max_clock_skew).
	MaxSkewSeconds float64 `json:"max_skew_seconds"`
	// Skewed: the offset exceeds the tolerance. The daemon is degraded and
	// dates what it records from the network's time.
	Skewed bool `json:"skewed"`
	// Message says so in French when Skewed.
	Message string `json:"message,omitempty"`
}

// Modem states in ModemStatus.State: what the modem's worker is doing, the
// words `vigie status` and the LED are built from.
const (
	ModemStarting    = "starting"     // opening the port, initialising
	ModemReady       = "ready"        // registered, sending and receiving
	ModemNoNetwork   = "no-network"   // not registered: sending paused until it is
	ModemSendBlocked = "send-blocked" // our SIM or line refuses SMS (barred, no service)
	ModemDailyCap    = "daily-cap"    // daily_cap reached: sending again tomorrow
	ModemResetting   = "resetting"    // AT+CFUN=1,1 sent or USB reset, waiting for the device to return
	ModemSIMLocked   = "sim-locked"   // PIN/PUK needed or refused: a person must act
	ModemNoAnswer    = "no-answer"    // the port opens but the modem stays silent
	ModemFault       = "fault"        // no device, port busy, SIM missing, other errors
	ModemStopped     = "stopped"      // the daemon is stopping
)

// Kinds of a modem's last error in ModemStatus.LastErrorKind.
const (
	ErrKindNoDevice    = "no-device"    // the device node is absent: unplugged, wrong path
	ErrKindPermission  = "permission"   // the daemon may not open the port
	ErrKindPortBusy    = "port-busy"    // another program holds the port
	ErrKindSIMLocked   = "sim-locked"   // PIN or PUK needed or refused
	ErrKindTimeout     = "timeout"      // the modem did not answer in time
	ErrKindClosed      = "closed"       // the connection went away under us
	ErrKindBadResponse = "bad-response" // an answer we cannot read
	ErrKindNetwork     = "network"      // a +CMS or +CME code from the modem or network
	ErrKindOther       = "other"
)

// ModemStatus is one modem's health snapshot, kept current by its worker.
type ModemStatus struct {
	Name         string    `json:"name"`
	Device       string    `json:"device"`
	State        string    `json:"state"` // one of the Modem* states
	Since        time.Time `json:"since,omitzero"`
	SIM          string    `json:"sim,omitempty"` // +CPIN? answer: READY, SIM PIN…
	SignalDBm    int       `json:"signal_dbm,omitempty"`
	SignalBars   int       `json:"signal_bars"`
	Registration string    `json:"registration,omitempty"`
	Operator     string    `json:"operator,omitempty"`
	Manufacturer string    `json:"manufacturer,omitempty"`
	Model        string    `json:"model,omitempty"`
	Firmware     string    `json:"firmware,omitempty"`
	IMEI         string    `json:"imei,omitempty"`
	SMSC         string    `json:"smsc,omitempty"`
	StorageUsed  int       `json:"storage_used"`
	StorageTotal int       `json:"storage_total,omitempty"`
	// ProbedAt is when SIM, signal, registration, operator and storage
	// were last read. They are only kept while the modem is open: once it
	// is lost they are cleared, and ProbedAt says when it was last seen.
	ProbedAt    time.Time `json:"probed_at,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// LastErrorKind classifies LastError (one of the ErrKind* values) so
	// that the CLI can say it in French with what to do.
	LastErrorKind string `json:"last_error_kind,omitempty"`
	// Counters since the daemon started.
	Sent     int `json:"sent"`
	Failed   int `json:"failed"` // send attempts that returned an error
	Received int `json:"received"`
	Reports  int `json:"reports"` // status reports read
	Timeouts int `json:"timeouts"`
	Reopens  int `json:"reopens"`
	Resets   int `json:"resets"` // AT+CFUN=1,1
	// USBResets: resets at USB level of a modem that AT+CFUN=1,1 did not
	// bring back.
	USBResets int `json:"usb_resets"`
	// ClockOffsetSeconds is the system clock minus the network's time as
	// this modem last told it, in seconds; absent until it did.
	// ClockReadAt is when (by the daemon's clock).
	ClockOffsetSeconds *float64  `json:"clock_offset_seconds,omitempty"`
	ClockReadAt        time.Time `json:"clock_read_at,omitzero"`
}

// Error is the body of every non-2xx answer.
type Error struct {
	Error string `json:"error"`
}

// Refusal is the kind of a UserError: what the engine says went wrong.
// gateway/api maps it to an HTTP status, in one place (httpStatus); the
// client maps the status back (RefusalOf).
type Refusal string

// Refusals.
const (
	RefuseInvalid  Refusal = "invalid"   // the request itself is wrong (unknown zone, text too long)
	RefuseNotFound Refusal = "not-found" // what it names does not exist
	RefuseConflict Refusal = "conflict"  // the present state forbids it (a number that sent STOP)
	RefuseFailed   Refusal = "failed"    // the daemon could not do it; the message says what to do
	// RefuseTargetChanged: a send carrying a preview's fingerprint whose
	// recipients changed since (an ETag precondition that failed).
	RefuseTargetChanged Refusal = "target-changed"
)

// StatusTargetChanged is the HTTP status of RefuseTargetChanged.
const StatusTargetChanged = 412

// RefusalOf is the kind an HTTP status carries back to the client.
func RefusalOf(status int) Refusal {
	switch status {
	case 400:
		return RefuseInvalid
	case 404:
		return RefuseNotFound
	case 409:
		return RefuseConflict
	case StatusTargetChanged:
		return RefuseTargetChanged
	}
	return RefuseFailed
}

// UserError is a refusal the operator must read (unknown zone, text too
// long…), in French. The engine sets Kind; Status is the HTTP status that
// carried it, set by the client from the answer (0 inside the daemon).
type UserError struct {
	Kind    Refusal
	Status  int
	Message string
}

func (e *UserError) Error() string { return e.Message }

// Invalid builds a RefuseInvalid UserError.
func Invalid(format string, args ...any) *UserError {
	return &UserError{Kind: RefuseInvalid, Message: fmt.Sprintf(format, args...)}
}

// TargetChanged builds a RefuseTargetChanged UserError.
func TargetChanged(format string, args ...any) *UserError {
	return &UserError{Kind: RefuseTargetChanged, Message: fmt.Sprintf(format, args...)}
}

// NotFound builds a RefuseNotFound UserError.
func NotFound(format string, args ...any) *UserError {
	return &UserError{Kind: RefuseNotFound, Message: fmt.Sprintf(format, args...)}
}
