package config

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/nyaruka/phonenumbers"

	"vigie/gateway/fold"
)

// raw mirrors the file; pointers tell a missing key from a zero value.
type raw struct {
	Station  rawStation  `toml:"station"`
	Store    rawStore    `toml:"store"`
	API      rawAPI      `toml:"api"`
	Modems   []rawModem  `toml:"modem"`
	SMS      rawSMS      `toml:"sms"`
	Keywords rawKeywords `toml:"keywords"`
	LED      rawLED      `toml:"led"`
	Log      rawLog      `toml:"log"`
	Zones    []rawZone   `toml:"zone"`
	Trades   []rawTrade  `toml:"trade"`
}

type rawStation struct {
	Name   *string `toml:"name"`
	Region *string `toml:"region"`
}

type rawStore struct {
	Path *string `toml:"path"`
}

type rawAPI struct {
	Socket *string `toml:"socket"`
}

type rawModem struct {
	Name           *string  `toml:"name"`
	Device         *string  `toml:"device"`
	Baud           *int     `toml:"baud"`
	RatePerMinute  *float64 `toml:"rate_per_minute"`
	Burst          *int     `toml:"burst"`
	DailyCap       *int     `toml:"daily_cap"`
	PIN            *string  `toml:"pin"`
	PINFile        *string  `toml:"pin_file"`
	CommandTimeout *string  `toml:"command_timeout"`
	SendTimeout    *string  `toml:"send_timeout"`
}

type rawSMS struct {
	Prefix                *string `toml:"prefix"`
	Signature             *string `toml:"signature"`
	MaxParts              *int    `toml:"max_parts"`
	Transliterate         *bool   `toml:"transliterate"`
	AlertTTL              *string `toml:"alert_ttl"`
	MonthlyRecipientsWarn *int    `toml:"monthly_recipients_warn"`
}

type rawKeywords struct {
	Subscription  *string `toml:"subscription"`
	RepliesPerDay *int    `toml:"replies_per_day"`
}

type rawLED struct {
	Path *string `toml:"path"`
}

type rawLog struct {
	Level *string `toml:"level"`
}

type rawZone struct {
	ID      *string  `toml:"id"`
	Name    *string  `toml:"name"`
	Parent  *string  `toml:"parent"`
	Aliases []string `toml:"aliases"`
}

type rawTrade struct {
	ID      *string  `toml:"id"`
	Name    *string  `toml:"name"`
	Aliases []string `toml:"aliases"`
}

// Limits on values.
const (
	// maxConcatParts is the most parts a concatenated SMS can have (8-bit count).
	maxConcatParts = 255
	// The SMS validity period (TP-VP, relative format) runs from 5 minutes
	// to 63 weeks; alert_ttl sets it.
	minAlertTTL = 5 * time.Minute
	maxAlertTTL = 63 * 7 * 24 * time.Hour
)

var (
	slug    = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	pinRE   = regexp.MustCompile(`^[0-9]{4,8}$`)
	tomlErr = regexp.MustCompile(`^toml: (?:line (\d+) )?\(last key "(.*)"\): (.*)$`)
)

func parse(doc, name string) (*Config, error) {
	pos := scanPositions(doc)
	v := &validator{file: name, pos: pos}
	var r raw
	md, err := toml.Decode(doc, &r)
	if err != nil {
		return nil, v.decodeError(err)
	}
	for _, path := range undecodedPaths(md) {
		v.add(path, "unknown key")
	}
	cfg := v.config(&r)
	if len(v.errs) > 0 {
		return nil, errors.Join(v.errs...)
	}
	return cfg, nil
}

// validator collects problems.
type validator struct {
	file string
	pos  positions
	errs []error
}

func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, &Error{File: v.file, Line: v.pos.lineOf(path), Key: path, Msg: fmt.Sprintf(format, args...)})
}

// decodeError turns an error of the TOML decoder into an *Error.
func (v *validator) decodeError(err error) error {
	e := &Error{File: v.file, Msg: err.Error()}
	var pe toml.ParseError
	if errors.As(err, &pe) {
		e.Line, e.Key, e.Msg = pe.Position.Line, pe.LastKey, pe.Message
	} else if m := tomlErr.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Key, e.Msg = m[2], m[3]
	}
	if p, ok := v.pos.atLine[e.Line]; ok && e.Key != "" && unindexed(p) == e.Key {
		e.Key = p // name the array element
	}
	return e
}

func str(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

func integer(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

// config validates r and applies defaults.
func (v *validator) config(r *raw) *Config {
	c := &Config{
		Station: Station{
			Name:   str(r.Station.Name, ""),
			Region: strings.ToUpper(str(r.Station.Region, DefaultRegion)),
		},
		Store:    Store{Path: str(r.Store.Path, DefaultStorePath)},
		API:      API{Socket: str(r.API.Socket, DefaultSocket)},
		SMS:      v.sms(r.SMS),
		Keywords: v.keywords(r.Keywords),
		LED:      LED{Path: str(r.LED.Path, "")},
		Log:      Log{Level: strings.ToLower(str(r.Log.Level, DefaultLogLevel))},
	}
	if !phonenumbers.GetSupportedRegions()[c.Station.Region] {
		v.add("station.region", "unknown region %q (want an ISO 3166 code such as \"FR\", \"GP\", \"RE\")", c.Station.Region)
	}
	if c.Store.Path == "" {
		v.add("store.path", "must not be empty")
	}
	if c.API.Socket == "" {
		v.add("api.socket", "must not be empty")
	}
	if c.LED.Path != "" && !filepath.IsAbs(c.LED.Path) {
		v.add("led.path", "must be an absolute path such as /sys/class/leds/ACT, or empty for no LED")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		v.add("log.level", "unknown level %q (want debug, info, warn or error)", c.Log.Level)
	}
	c.Modems = v.modems(r.Modems)
	c.Zones = v.zones(r.Zones)
	c.Trades = v.trades(r.Trades)
	return c
}

func (v *validator) modems(raws []rawModem) []Modem {
	if len(raws) == 0 {
		v.add("modem", "at least one [[modem]] is required")
		return nil
	}
	out := make([]Modem, 0, len(raws))
	seen := map[string]int{}
	for i, r := range raws {
		key := func(k string) string { return fmt.Sprintf("modem[%d].%s", i, k) }
		m := Modem{
			Name:          str(r.Name, ""),
			Device:        str(r.Device, ""),
			Baud:          integer(r.Baud, DefaultBaud),
			RatePerMinute: DefaultRatePerMinute,
			Burst:         integer(r.Burst, DefaultBurst),
			DailyCap:      integer(r.DailyCap, DefaultDailyCap),
			PIN:           str(r.PIN, ""),
			PINFile:       str(r.PINFile, ""),
		}
		if r.RatePerMinute != nil {
			m.RatePerMinute = *r.RatePerMinute
		}
		m.CommandTimeout = v.duration(key("command_timeout"), r.CommandTimeout, DefaultCommandTimeout, time.Second, time.Minute)
		m.SendTimeout = v.duration(key("send_timeout"), r.SendTimeout, DefaultSendTimeout, time.Second, 10*time.Minute)
		switch j, dup := seen[m.Name]; {
		case m.Name == "":
			v.add(key("name"), "is required")
		case dup:
			v.add(key("name"), "%q is already the name of modem[%d]", m.Name, j)
		default:
			seen[m.Name] = i
		}
		if m.Device == "" {
			v.add(key("device"), "is required")
		}
		if m.Baud <= 0 {
			v.add(key("baud"), "must be > 0")
		}
		if !(m.RatePerMinute > 0) || math.IsInf(m.RatePerMinute, 0) {
			v.add(key("rate_per_minute"), "must be > 0")
		}
		if m.Burst < 1 {
			v.add(key("burst"), "must be >= 1")
		}
		if m.DailyCap < 1 {
			v.add(key("daily_cap"), "must be >= 1")
		}
		if r.PIN != nil && !pinRE.MatchString(m.PIN) {
			v.add(key("pin"), "must be 4 to 8 digits")
		}
		if r.PINFile != nil && m.PINFile == "" {
			v.add(key("pin_file"), "must not be empty")
		}
		if r.PIN != nil && r.PINFile != nil {
			v.add(key("pin_file"), "pin and pin_file are both set; keep one")
		}
		out = append(out, m)
	}
	return out
}

// duration reads an optional duration setting bounded by lo and hi.
func (v *validator) duration(key string, raw *string, def, lo, hi time.Duration) time.Duration {
	if raw == nil {
		return def
	}
	d, err := time.ParseDuration(*raw)
	switch {
	case err != nil:
		v.add(key, "bad duration %q (want e.g. \"5s\" or \"2m\")", *raw)
	case d < lo || d > hi:
		v.add(key, "must be between %v and %v", lo, hi)
	default:
		return d
	}
	return def
}

func (v *validator) sms(r rawSMS) SMS {
	s := SMS{
		Prefix:                str(r.Prefix, ""),
		Signature:             str(r.Signature, ""),
		MaxParts:              integer(r.MaxParts, DefaultMaxParts),
		Transliterate:         true,
		AlertTTL:              DefaultAlertTTL,
		MonthlyRecipientsWarn: integer(r.MonthlyRecipientsWarn, 0),
	}
	if s.MonthlyRecipientsWarn < 0 {
		v.add("sms.monthly_recipients_warn", "must be >= 0 (0: no warning)")
	}
	if r.Transliterate != nil {
		s.Transliterate = *r.Transliterate
	}
	if s.MaxParts < 1 || s.MaxParts > maxConcatParts {
		v.add("sms.max_parts", "must be between 1 and %d", maxConcatParts)
	}
	if r.AlertTTL != nil {
		d, err := time.ParseDuration(*r.AlertTTL)
		switch {
		case err != nil:
			v.add("sms.alert_ttl", "bad duration %q (want e.g. \"4h\" or \"90m\")", *r.AlertTTL)
		case d < minAlertTTL || d > maxAlertTTL:
			v.add("sms.alert_ttl", "must be between 5m and 63 weeks (the SMS validity period)")
		default:
			s.AlertTTL = d
		}
	}
	return s
}

func (v *validator) keywords(r rawKeywords) Keywords {
	k := Keywords{
		Subscription:  str(r.Subscription, PolicyConfirm),
		RepliesPerDay: integer(r.RepliesPerDay, DefaultRepliesPerDay),
	}
	switch k.Subscription {
	case PolicyConfirm, PolicyApproval, PolicyOpen:
	default:
		v.add("keywords.subscription", "unknown policy %q (want confirm, approval or open)", k.Subscription)
	}
	if k.RepliesPerDay < 0 {
		v.add("keywords.replies_per_day", "must be >= 0")
	}
	return k
}

// words checks the id, name and aliases of zones or trades: ids are unique
// slugs, names are set, and no word (id, name or alias, folded as SMS
// keywords are) designates two of them. It returns the ids in order.
func (v *validator) words(section string, ids, names []*string, aliases [][]string) []string {
	out := make([]string, len(ids))
	owner := map[string]int{} // folded word → index
	first := map[string]int{} // id → index
	for i := range ids {
		key := func(k string) string { return fmt.Sprintf("%s[%d].%s", section, i, k) }
		id, name := str(ids[i], ""), str(names[i], "")
		out[i] = id
		switch {
		case id == "":
			v.add(key("id"), "is required")
		case !slug.MatchString(id):
			v.add(key("id"), "%q is not a slug (lower-case letters, digits and single hyphens, e.g. \"macon-centre\")", id)
		}
		if strings.TrimSpace(name) == "" {
			v.add(key("name"), "is required")
		}
		claim := func(word, path string) {
			k := fold.Key(word)
			if k == "" {
				v.add(path, "%q has no letter or digit", word)
				return
			}
			if j, ok := owner[k]; ok && j != i {
				v.add(path, "%q already designates %s[%d] (%s)", word, section, j, out[j])
				return
			}
			owner[k] = i
		}
		if j, dup := first[id]; dup && id != "" {
			v.add(key("id"), "duplicate id %q (also %s[%d])", id, section, j)
		} else if id != "" {
			first[id] = i
			claim(id, key("id"))
		}
		if name != "" {
			claim(name, key("name"))
		}
		for j, a := range aliases[i] {
			claim(a, fmt.Sprintf("%s[%d].aliases[%d]", section, i, j))
		}
	}
	return out
}

func (v *validator) zones(raws []rawZone) []Zone {
	ids, names, aliases := make([]*string, len(raws)), make([]*string, len(raws)), make([][]string, len(raws))
	for i, r := range raws {
		ids[i], names[i], aliases[i] = r.ID, r.Name, r.Aliases
	}
	v.words("zone", ids, names, aliases)

	out := make([]Zone, len(raws))
	index := map[string]int{}
	for i, r := range raws {
		out[i] = Zone{ID: str(r.ID, ""), Name: str(r.Name, ""), Parent: str(r.Parent, ""), Aliases: r.Aliases}
		if _, dup := index[out[i].ID]; !dup {
			index[out[i].ID] = i
		}
	}
	for i, z := range out {
		if z.Parent == "" {
			continue
		}
		if _, ok := index[z.Parent]; !ok {
			v.add(fmt.Sprintf("zone[%d].parent", i), "unknown zone %q", z.Parent)
		}
	}
	// A zone is in a cycle when following parents leads back to it; the
	// cycle is reported once, at its first zone.
	for i := range out {
		chain := []string{out[i].ID}
		j, lowest := i, i
		for range out {
			p, ok := index[out[j].Parent]
			if !ok || out[j].Parent == "" {
				break
			}
			j = p
			chain = append(chain, out[j].ID)
			if j == i {
				if i == lowest {
					v.add(fmt.Sprintf("zone[%d].parent", i), "parent cycle %s", strings.Join(chain, " → "))
				}
				break
			}
			lowest = min(lowest, j)
		}
	}
	return out
}

func (v *validator) trades(raws []rawTrade) []Trade {
	ids, names, aliases := make([]*string, len(raws)), make([]*string, len(raws)), make([][]string, len(raws))
	for i, r := range raws {
		ids[i], names[i], aliases[i] = r.ID, r.Name, r.Aliases
	}
	v.words("trade", ids, names, aliases)
	out := make([]Trade, len(raws))
	for i, r := range raws {
		out[i] = Trade{ID: str(r.ID, ""), Name: str(r.Name, ""), Aliases: r.Aliases}
	}
	return out
}
