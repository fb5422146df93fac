// Package config owns Vigie's configuration file (SPEC §10): a TOML file
// decoded strictly into a raw form, then validated into a typed Config with
// defaults applied. Every problem — syntax, unknown key, bad value — is an
// *Error naming the file, line and key, and all of them are reported at once,
// so that `vigie config check` shows everything to fix in one go.
package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"
)

// Default values of optional settings.
const (
	DefaultRegion         = "FR"
	DefaultStorePath      = "/var/lib/vigie/vigie.db"
	DefaultSocket         = "/run/vigie/vigie.sock"
	DefaultBaud           = 115200
	DefaultRatePerMinute  = 10
	DefaultBurst          = 1
	DefaultDailyCap       = 2000
	DefaultMaxParts       = 3
	DefaultAlertTTL       = 4 * time.Hour
	DefaultConcatWindow   = time.Hour
	DefaultCommandTimeout = 5 * time.Second
	DefaultSendTimeout    = 90 * time.Second
	DefaultRepliesPerDay  = 8
	DefaultReplyShare     = 0.2
	DefaultLogLevel       = "info"
	DefaultBackupKeep     = 7
	DefaultRetention      = 12 // months
	DefaultMaxClockSkew   = 5 * time.Minute
	DefaultWitnessWindow  = 24 * time.Hour
	DefaultForwardPerHour = 10
	// DefaultKeyFileName is the key file's name beside the database when
	// [store] key_file is not set (store.DefaultKeyFile, the store's own
	// default).
	DefaultKeyFileName = "suppression.key"
)

// Default times of day of the daily tasks, local time.
var (
	DefaultBackupAt = TimeOfDay{Hour: 3}
	DefaultCanaryAt = TimeOfDay{Hour: 9}
)

// Subscription policies for [keywords] subscription (SPEC §3).
const (
	// PolicyConfirm activates a subscription when the phone answers OUI
	// with the code it was sent.
	PolicyConfirm = "confirm"
	// PolicyApproval keeps a subscription pending until an operator
	// approves it.
	PolicyApproval = "approval"
	// PolicyOpen activates a subscription at once.
	PolicyOpen = "open"
)

// Config is a validated configuration.
type Config struct {
	Station   Station
	Store     Store
	API       API
	Modems    []Modem
	SMS       SMS
	Keywords  Keywords
	LED       LED
	Log       Log
	Backup    Backup
	Retention Retention
	Canary    Canary
	Inbox     Inbox
	Zones     []Zone
	Trades    []Trade
}

// Station describes the box itself.
type Station struct {
	// Name is shown to operators, e.g. "CORG 71 Charnay-lès-Mâcon".
	Name string
	// Region is the ISO 3166 region phone numbers are parsed with when
	// written without a country code ("FR", or "GP", "MQ", "GF", "RE", "YT"
	// for overseas stations).
	Region string
	// MaxClockSkew is how far the system clock may be from the network's
	// time (read from the modems) before the daemon says so, goes degraded
	// and dates what it records from the network's time instead.
	MaxClockSkew time.Duration
}

// Store locates the database and the suppression list's key.
type Store struct {
	// Path is the bbolt database file.
	Path string
	// KeyFile holds the key of the suppression list's hashes (erased
	// numbers): created 0600 at the first start, backed up apart from the
	// database. Default: suppression.key beside the database.
	KeyFile string
}

// API locates the local API socket.
type API struct {
	// Socket is the Unix socket the daemon listens on and the CLI dials.
	Socket string
}

// Modem is one GSM modem and the sending limits of its SIM (SPEC §6, §7).
type Modem struct {
	// Name identifies the modem in logs, status and reports.
	Name string
	// Device is the serial port, e.g. "/dev/vigie-modem0".
	Device string
	// Baud is the serial speed.
	Baud int
	// RatePerMinute is the sustained rate, in SMS parts per minute.
	RatePerMinute float64
	// Burst is how many parts may go out back to back.
	Burst int
	// DailyCap is the most parts sent per day.
	DailyCap int
	// PIN is the SIM PIN, if any; at most one of PIN and PINFile is set.
	PIN string
	// PINFile is a file holding the SIM PIN.
	PINFile string
	// CommandTimeout bounds every ordinary AT command: a modem silent for
	// that long is taken as hung and reopened.
	CommandTimeout time.Duration
	// SendTimeout bounds one +CMGS, which waits for the network; a send
	// that times out may still have gone out (uncertain).
	SendTimeout time.Duration
}

// SMS shapes outgoing messages (SPEC §5).
type SMS struct {
	// Prefix and Signature frame every alert.
	Prefix, Signature string
	// MaxParts is the most SMS parts an alert may take.
	MaxParts int
	// Transliterate replaces characters outside GSM 7-bit by their closest
	// GSM form.
	Transliterate bool
	// AlertTTL is how long an alert may wait to be sent; it also sets the
	// SMS validity period.
	AlertTTL time.Duration
	// MonthlyRecipientsWarn, if not 0, is the count of distinct recipients
	// in a month above which status and logs warn: "unlimited" plans cap
	// it (SPEC §6).
	MonthlyRecipientsWarn int
	// ConcatWindow is how far apart, by arrival and by the centre's time
	// stamp, the parts of one received concatenated SMS may be; after it,
	// the parts that came reach the inbox marked incomplete (SPEC §3).
	ConcatWindow time.Duration
}

// Keywords rules what shopkeepers can do by SMS (SPEC §3).
type Keywords struct {
	// Subscription is the policy: PolicyConfirm, PolicyApproval or PolicyOpen.
	Subscription string
	// RepliesPerDay is the most automatic replies a number gets per day,
	// the STOP confirmation apart. The default leaves room for the honest
	// conversation: a code, two typos, the confirmation, AIDE, a new
	// INSCRIPTION and its confirmation.
	RepliesPerDay int
	// ReplyShare is the share (0 < share <= 1) of each modem's daily_cap
	// and rate that replies may use: the rest is the alerts', whatever a
	// forger makes the box answer.
	ReplyShare float64
}

// LED is the status LED (SPEC §8).
type LED struct {
	// Path is the LED class device, e.g. "/sys/class/leds/ACT"; empty
	// means no LED.
	Path string
}

// Log rules logging.
type Log struct {
	// Level is "debug", "info", "warn" or "error".
	Level string
}

// SlogLevel returns Level as a slog.Level.
func (l Log) SlogLevel() slog.Level {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(l.Level)); err != nil {
		return slog.LevelInfo
	}
	return lv
}

// Backup rules the nightly copy of the database (SPEC §12, issue #6).
type Backup struct {
	// Dir receives the copies, vigie-YYYYMMDD.db; by default "backups"
	// next to the database (/var/lib/vigie/backups).
	Dir string
	// Keep is how many nightly copies are kept, the oldest removed
	// first; 0 means no nightly copy.
	Keep int
	// At is the local time of day of the copy.
	At TimeOfDay
}

// Retention rules how long personal data in the history is kept (SPEC §12).
type Retention struct {
	// Months: received SMS and sent messages older than this are purged;
	// subscribers, alerts and their counts stay. 0 keeps everything.
	Months int
}

// Canary is the optional daily test SMS to a technician, whose delivery
// report proves the whole chain works.
type Canary struct {
	// Number is the technician's phone in E.164; empty: no canary.
	Number string
	// At is the local time of day of the test SMS.
	At TimeOfDay
}

// Inbox says what becomes of the SMS the operators read: a shop's answer
// to an alert (a witness reply) is tied to it, and may be forwarded to the
// on-duty phones.
type Inbox struct {
	// WitnessWindow is how long after an alert's SMS reached a shop an SMS
	// from it is read as a reply to that alert; 0: never.
	WitnessWindow time.Duration
	// ForwardTo are the on-duty phones (E.164) each witness reply is
	// forwarded to; empty: none.
	ForwardTo []string
	// ForwardPerHour is the most witness replies forwarded per hour.
	ForwardPerHour int
}

// TimeOfDay is a wall-clock time of day, "HH:MM" in the file.
type TimeOfDay struct {
	Hour, Minute int
}

// String formats t as "HH:MM".
func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", t.Hour, t.Minute) }

// Next returns the first instant strictly after after that shows t on the
// clock of after's location. On a day when a DST change skips t, time.Date
// normalises it to the next valid instant.
func (t TimeOfDay) Next(after time.Time) time.Time {
	y, m, d := after.Date()
	next := time.Date(y, m, d, t.Hour, t.Minute, 0, 0, after.Location())
	if !next.After(after) {
		next = time.Date(y, m, d+1, t.Hour, t.Minute, 0, 0, after.Location())
	}
	return next
}

// Zone is a geographical zone subscribers belong to (SPEC §4).
type Zone struct {
	// ID is a slug ("macon-centre") used by operators and in the database.
	ID string
	// Name is the human name ("Mâcon centre").
	Name string
	// Parent is the ID of the enclosing zone, or empty.
	Parent string
	// Aliases are other words accepted in INSCRIPTION: names, postal codes.
	Aliases []string
}

// Trade is a kind of business subscribers may belong to (SPEC §4).
type Trade struct {
	// ID is a slug ("tabac-presse").
	ID string
	// Name is the human name ("Tabac-presse").
	Name string
	// Aliases are other words accepted in INSCRIPTION.
	Aliases []string
}

// ErrInvalid is wrapped by every *Error: the configuration cannot be used.
var ErrInvalid = errors.New("invalid configuration")

// Error is one problem in a configuration file.
type Error struct {
	// File is the name the configuration was parsed under.
	File string
	// Line is the 1-based line of the problem, or 0 if unknown.
	Line int
	// Key is the full key, with array indexes: "modem[0].rate_per_minute".
	Key string
	// Msg says what is wrong, in French for the operator.
	Msg string
}

// Error formats e as "vigie.toml:14: modem[0].rate_per_minute: doit être supérieur à 0".
func (e *Error) Error() string {
	s := e.File
	if e.Line > 0 {
		s += fmt.Sprintf(":%d", e.Line)
	}
	if e.Key != "" {
		s += ": " + e.Key
	}
	return s + ": " + e.Msg
}

// Unwrap returns ErrInvalid.
func (e *Error) Unwrap() error { return ErrInvalid }

// Load reads and validates the configuration file at path; errors name path.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads and validates a configuration; name is used in errors. The
// error, if any, joins one *Error per problem found.
func Parse(r io.Reader, name string) (*Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("config %s: read: %w", name, err)
	}
	cfg, _, err := parseWarn(string(data), name)
	return cfg, err
}
