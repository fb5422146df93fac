package config

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/nyaruka/phonenumbers"

	"vigie/gateway/fold"
	"vigie/gateway/phone"
)

// raw mirrors the file; pointers tell a missing key from a zero value.
type raw struct {
	Station   rawStation   `toml:"station"`
	Store     rawStore     `toml:"store"`
	API       rawAPI       `toml:"api"`
	Modems    []rawModem   `toml:"modem"`
	SMS       rawSMS       `toml:"sms"`
	Keywords  rawKeywords  `toml:"keywords"`
	LED       rawLED       `toml:"led"`
	Log       rawLog       `toml:"log"`
	Backup    rawBackup    `toml:"backup"`
	Retention rawRetention `toml:"retention"`
	Canary    rawCanary    `toml:"canary"`
	Inbox     rawInbox     `toml:"inbox"`
	Zones     []rawZone    `toml:"zone"`
	Trades    []rawTrade   `toml:"trade"`
}

type rawStation struct {
	Name         *string `toml:"name"`
	Region       *string `toml:"region"`
	MaxClockSkew *string `toml:"max_clock_skew"`
}

type rawStore struct {
	Path    *string `toml:"path"`
	KeyFile *string `toml:"key_file"`
}

type rawInbox struct {
	WitnessWindow  *string  `toml:"witness_window"`
	ForwardTo      []string `toml:"forward_to"`
	ForwardPerHour *int     `toml:"forward_per_hour"`
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
	ConcatWindow          *string `toml:"concat_window"`
}

type rawKeywords struct {
	Subscription  *string  `toml:"subscription"`
	RepliesPerDay *int     `toml:"replies_per_day"`
	ReplyShare    *float64 `toml:"reply_share"`
}

type rawLED struct {
	Path *string `toml:"path"`
}

type rawLog struct {
	Level *string `toml:"level"`
}

type rawBackup struct {
	Dir  *string `toml:"dir"`
	Keep *int    `toml:"keep"`
	At   *string `toml:"at"`
}

type rawRetention struct {
	Months *int `toml:"months"`
}

type rawCanary struct {
	Number *string `toml:"number"`
	At     *string `toml:"at"`
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
	// concat_window: the parts of one SMS come within seconds, a centre
	// retries a part within minutes; a day bounds how long a lost part
	// hides the others. Seconds are for tests.
	minConcatWindow = time.Second
	maxConcatWindow = 24 * time.Hour
	// maxBackupKeep is more than a year of nightly copies.
	maxBackupKeep = 400
	// maxRetention is ten years, in months.
	maxRetention = 120
)

var (
	slug    = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	pinRE   = regexp.MustCompile(`^[0-9]{4,8}$`)
	tomlErr = regexp.MustCompile(`^toml: (?:line (\d+) )?\(last key "(.*)"\): (.*)$`)
	timeRE  = regexp.MustCompile(`^([01]?[0-9]|2[0-3]):([0-5][0-9])$`)
	typeErr = regexp.MustCompile(`^incompatible types: TOML value has type (.+); destination has type (.+)$`)
	dupErr  = regexp.MustCompile(`^Key '.*' has already been defined\.$`)
)

// parseWarn parses and validates doc, with the warnings of what was read
// (none when the file could not be decoded at all).
func parseWarn(doc, name string) (*Config, []Warning, error) {
	pos := scanPositions(doc)
	v := &validator{file: name, pos: pos}
	md, r, typeErrs, err := v.decode(doc)
	if err != nil {
		return nil, nil, err
	}
	for _, path := range undecodedPaths(md) {
		v.add(path, "%s", unknownKey(path))
	}
	cfg := v.config(&r)
	warns := v.warnings(cfg)
	// A key of the wrong type was read as missing: what its absence
	// says ("est obligatoire") is not news to who reads the type error.
	wrong := map[string]bool{}
	for _, e := range typeErrs {
		wrong[e.Key] = true
	}
	errs := make([]error, 0, len(typeErrs)+len(v.errs))
	for _, e := range typeErrs {
		errs = append(errs, e)
	}
	for _, e := range v.errs {
		if ce, ok := e.(*Error); !ok || !wrong[ce.Key] {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		return nil, warns, errors.Join(errs...)
	}
	return cfg, warns, nil
}

// maxTypeErrors bounds how many values of the wrong type one check
// reports (each costs a decoding of the file).
const maxTypeErrors = 50

// decode decodes doc into a raw. The decoder stops at the first value of
// the wrong type; so that `vigie config check` reports every problem at
// once, that value's line is blanked and the file decoded again, and the
// type errors are returned apart. A syntax error is final: it is returned
// as err, unless it only follows from a blanked line, in which case the
// type errors found so far are what is reported.
func (v *validator) decode(doc string) (toml.MetaData, raw, []*Error, error) {
	lines := strings.Split(doc, "\n")
	var typeErrs []*Error
	for {
		var r raw
		md, err := toml.Decode(strings.Join(lines, "\n"), &r)
		if err == nil {
			// The decoder meets them in no set order: file order.
			slices.SortStableFunc(typeErrs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
			return md, r, typeErrs, nil
		}
		e := v.decodeError(err).(*Error)
		isType := strings.HasPrefix(e.Msg, "type incorrect")
		if !isType || e.Line < 1 || e.Line > len(lines) || len(typeErrs) >= maxTypeErrors {
			if len(typeErrs) > 0 {
				return md, r, nil, errors.Join(joinable(typeErrs)...)
			}
			return md, r, nil, e
		}
		typeErrs = append(typeErrs, e)
		lines[e.Line-1] = ""
	}
}

func joinable(es []*Error) []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
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
	e.Msg = frenchDecodeMsg(e.Msg)
	return e
}

// frenchDecodeMsg says in French what the TOML decoder found wrong: a value
// of the wrong type and a key set twice in words, any other syntax error
// with the decoder's own detail.
func frenchDecodeMsg(msg string) string {
	if m := typeErr.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("type incorrect (valeur : %s ; attendu : %s)", frenchType(m[1]), frenchType(m[2]))
	}
	if dupErr.MatchString(msg) {
		return "clé définie deux fois"
	}
	return "syntaxe TOML invalide : " + msg
}

// frenchType names a TOML or Go type of the decoder's messages.
func frenchType(t string) string {
	switch {
	case t == "string":
		return "texte"
	case t == "integer" || strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint"):
		return "nombre entier"
	case t == "float" || strings.HasPrefix(t, "float"):
		return "nombre"
	case t == "bool" || t == "boolean":
		return "booléen (true ou false)"
	case strings.HasPrefix(t, "[]") || t == "array" || t == "slice":
		return "liste"
	case strings.HasPrefix(t, "map") || t == "table" || t == "struct":
		return "table"
	case strings.HasPrefix(t, "time."):
		return "date"
	}
	return t
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
			// At least a minute: the network's time comes with a
			// one-second resolution and some modems lag it by seconds.
			MaxClockSkew: v.duration("station.max_clock_skew", r.Station.MaxClockSkew, DefaultMaxClockSkew, time.Minute, 24*time.Hour),
		},
		Store:    Store{Path: str(r.Store.Path, DefaultStorePath)},
		API:      API{Socket: str(r.API.Socket, DefaultSocket)},
		SMS:      v.sms(r.SMS),
		Keywords: v.keywords(r.Keywords),
		LED:      LED{Path: str(r.LED.Path, "")},
		Log:      Log{Level: strings.ToLower(str(r.Log.Level, DefaultLogLevel))},
	}
	regionOK := phonenumbers.GetSupportedRegions()[c.Station.Region]
	if !regionOK {
		v.add("station.region", "région inconnue %q (il faut un code ISO 3166 comme \"FR\", \"GP\", \"RE\")", c.Station.Region)
	}
	if c.Store.Path == "" {
		v.add("store.path", "ne doit pas être vide")
	}
	c.Store.KeyFile = str(r.Store.KeyFile, filepath.Join(filepath.Dir(c.Store.Path), DefaultKeyFileName))
	switch {
	case r.Store.KeyFile != nil && !filepath.IsAbs(c.Store.KeyFile):
		v.add("store.key_file", "doit être un chemin absolu comme /var/lib/vigie/suppression.key")
	case filepath.Clean(c.Store.KeyFile) == filepath.Clean(c.Store.Path):
		v.add("store.key_file", "doit être un autre fichier que la base (store.path)")
	}
	if c.API.Socket == "" {
		v.add("api.socket", "ne doit pas être vide")
	}
	if c.LED.Path != "" && !filepath.IsAbs(c.LED.Path) {
		v.add("led.path", "doit être un chemin absolu comme /sys/class/leds/ACT, ou vide s'il n'y a pas de LED")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		v.add("log.level", "niveau inconnu %q (il faut debug, info, warn ou error)", c.Log.Level)
	}
	c.Backup = v.backup(r.Backup, c.Store.Path)
	if filepath.Clean(filepath.Dir(c.Store.KeyFile)) == filepath.Clean(c.Backup.Dir) {
		v.add("store.key_file", "ne doit pas être dans le répertoire des sauvegardes (backup.dir) : la clé se sauvegarde à part de la base")
	}
	c.Retention = Retention{Months: integer(r.Retention.Months, DefaultRetention)}
	if c.Retention.Months < 0 || c.Retention.Months > maxRetention {
		v.add("retention.months", "doit être entre 0 (tout garder) et %d", maxRetention)
	}
	c.Canary = v.canary(r.Canary, c.Station.Region, regionOK)
	c.Inbox = v.inbox(r.Inbox, c.Station.Region, regionOK)
	c.Modems = v.modems(r.Modems)
	c.Zones = v.zones(r.Zones)
	c.Trades = v.trades(r.Trades)
	return c
}

func (v *validator) modems(raws []rawModem) []Modem {
	if len(raws) == 0 {
		v.add("modem", "au moins un [[modem]] est requis")
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
			v.add(key("name"), "est obligatoire")
		case dup:
			v.add(key("name"), "%q est déjà le nom de modem[%d]", m.Name, j)
		default:
			seen[m.Name] = i
		}
		if m.Device == "" {
			v.add(key("device"), "est obligatoire")
		}
		if m.Baud <= 0 {
			v.add(key("baud"), "doit être supérieur à 0")
		}
		if !(m.RatePerMinute > 0) || math.IsInf(m.RatePerMinute, 0) {
			v.add(key("rate_per_minute"), "doit être supérieur à 0")
		}
		if m.Burst < 1 {
			v.add(key("burst"), "doit valoir au moins 1")
		}
		if m.DailyCap < 1 {
			v.add(key("daily_cap"), "doit valoir au moins 1")
		}
		if r.PIN != nil && !pinRE.MatchString(m.PIN) {
			v.add(key("pin"), "doit compter 4 à 8 chiffres")
		}
		if r.PINFile != nil && m.PINFile == "" {
			v.add(key("pin_file"), "ne doit pas être vide")
		}
		if r.PIN != nil && r.PINFile != nil {
			v.add(key("pin_file"), "pin et pin_file sont tous deux renseignés : n'en garder qu'un")
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
		v.add(key, "durée invalide %q (par exemple \"5s\" ou \"2m\")", *raw)
	case d < lo || d > hi:
		v.add(key, "doit être entre %v et %v", lo, hi)
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
		ConcatWindow:          DefaultConcatWindow,
	}
	if s.MonthlyRecipientsWarn < 0 {
		v.add("sms.monthly_recipients_warn", "doit être positif ou nul (0 : pas d'avertissement)")
	}
	if r.Transliterate != nil {
		s.Transliterate = *r.Transliterate
	}
	if s.MaxParts < 1 || s.MaxParts > maxConcatParts {
		v.add("sms.max_parts", "doit être entre 1 et %d", maxConcatParts)
	}
	if r.AlertTTL != nil {
		d, err := time.ParseDuration(*r.AlertTTL)
		switch {
		case err != nil:
			v.add("sms.alert_ttl", "durée invalide %q (par exemple \"4h\" ou \"90m\")", *r.AlertTTL)
		case d < minAlertTTL || d > maxAlertTTL:
			v.add("sms.alert_ttl", "doit être entre 5m et 63 semaines (la durée de validité d'un SMS)")
		default:
			s.AlertTTL = d
		}
	}
	if r.ConcatWindow != nil {
		d, err := time.ParseDuration(*r.ConcatWindow)
		switch {
		case err != nil:
			v.add("sms.concat_window", "durée invalide %q (par exemple \"1h\" ou \"30m\")", *r.ConcatWindow)
		case d < minConcatWindow || d > maxConcatWindow:
			v.add("sms.concat_window", "doit être entre 1s et 24h")
		default:
			s.ConcatWindow = d
		}
	}
	return s
}

func (v *validator) keywords(r rawKeywords) Keywords {
	k := Keywords{
		Subscription:  str(r.Subscription, PolicyConfirm),
		RepliesPerDay: integer(r.RepliesPerDay, DefaultRepliesPerDay),
		ReplyShare:    DefaultReplyShare,
	}
	if r.ReplyShare != nil {
		k.ReplyShare = *r.ReplyShare
	}
	switch k.Subscription {
	case PolicyConfirm, PolicyApproval, PolicyOpen:
	default:
		v.add("keywords.subscription", "politique inconnue %q (il faut confirm, approval ou open)", k.Subscription)
	}
	if k.RepliesPerDay < 0 {
		v.add("keywords.replies_per_day", "doit être positif ou nul")
	}
	if !(k.ReplyShare > 0 && k.ReplyShare <= 1) {
		v.add("keywords.reply_share", "doit être une part entre 0 et 1 (par exemple 0.2 : un cinquième du débit et du plafond journalier de chaque modem pour les réponses, le reste pour les alertes)")
	}
	return k
}

// backup reads [backup]; the default directory is next to the database.
func (v *validator) backup(r rawBackup, storePath string) Backup {
	b := Backup{
		Dir:  str(r.Dir, filepath.Join(filepath.Dir(storePath), "backups")),
		Keep: integer(r.Keep, DefaultBackupKeep),
		At:   v.timeOfDay("backup.at", r.At, DefaultBackupAt),
	}
	if r.Dir != nil && !filepath.IsAbs(b.Dir) {
		v.add("backup.dir", "doit être un chemin absolu comme /var/lib/vigie/backups")
	}
	if b.Keep < 0 || b.Keep > maxBackupKeep {
		v.add("backup.keep", "doit être entre 0 (pas de copie nocturne) et %d", maxBackupKeep)
	}
	return b
}

// canary reads [canary]: the number is checked like a subscriber's when
// the region is known.
func (v *validator) canary(r rawCanary, region string, regionOK bool) Canary {
	c := Canary{At: v.timeOfDay("canary.at", r.At, DefaultCanaryAt)}
	if r.Number == nil {
		return c
	}
	if !regionOK {
		c.Number = *r.Number
		return c
	}
	n, err := phone.Normalize(*r.Number, region)
	if err != nil {
		v.add("canary.number", "%q n'est pas un numéro de mobile valide (par exemple \"06 12 34 56 78\")", *r.Number)
		return c
	}
	c.Number = n
	return c
}

// maxWitnessWindow: a reply a week after an alert answers something else.
const (
	maxWitnessWindow  = 7 * 24 * time.Hour
	maxForwardPerHour = 1000
)

// inbox reads [inbox]: forward_to numbers are checked like the canary's.
func (v *validator) inbox(r rawInbox, region string, regionOK bool) Inbox {
	in := Inbox{
		WitnessWindow:  DefaultWitnessWindow,
		ForwardPerHour: integer(r.ForwardPerHour, DefaultForwardPerHour),
	}
	if r.WitnessWindow != nil {
		d, err := time.ParseDuration(*r.WitnessWindow)
		switch {
		case err != nil:
			v.add("inbox.witness_window", "durée invalide %q (par exemple \"24h\", ou \"0\" : jamais)", *r.WitnessWindow)
		case d < 0 || d > maxWitnessWindow:
			v.add("inbox.witness_window", "doit être entre 0 (jamais) et 168h (une semaine)")
		default:
			in.WitnessWindow = d
		}
	}
	if in.ForwardPerHour < 1 || in.ForwardPerHour > maxForwardPerHour {
		v.add("inbox.forward_per_hour", "doit être entre 1 et %d", maxForwardPerHour)
	}
	for i, raw := range r.ForwardTo {
		if !regionOK {
			in.ForwardTo = append(in.ForwardTo, raw)
			continue
		}
		n, err := phone.Normalize(raw, region)
		if err != nil {
			v.add(fmt.Sprintf("inbox.forward_to[%d]", i), "%q n'est pas un numéro de mobile valide (par exemple \"06 12 34 56 78\")", raw)
			continue
		}
		if !slices.Contains(in.ForwardTo, n) {
			in.ForwardTo = append(in.ForwardTo, n)
		}
	}
	return in
}

// timeOfDay reads an optional "HH:MM" setting.
func (v *validator) timeOfDay(key string, raw *string, def TimeOfDay) TimeOfDay {
	if raw == nil {
		return def
	}
	m := timeRE.FindStringSubmatch(*raw)
	if m == nil {
		v.add(key, "heure invalide %q (il faut HH:MM, par exemple \"03:00\")", *raw)
		return def
	}
	h, _ := strconv.Atoi(m[1])
	mi, _ := strconv.Atoi(m[2])
	return TimeOfDay{Hour: h, Minute: mi}
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
			v.add(key("id"), "est obligatoire")
		case !slug.MatchString(id):
			v.add(key("id"), "%q n'est pas un identifiant valide (minuscules, chiffres et tirets simples, par exemple \"macon-centre\")", id)
		}
		if strings.TrimSpace(name) == "" {
			v.add(key("name"), "est obligatoire")
		}
		claim := func(word, path string) {
			k := fold.Key(word)
			if k == "" {
				v.add(path, "%q ne contient ni lettre ni chiffre", word)
				return
			}
			if j, ok := owner[k]; ok && j != i {
				v.add(path, "%q désigne déjà %s[%d] (%s)", word, section, j, out[j])
				return
			}
			owner[k] = i
		}
		if j, dup := first[id]; dup && id != "" {
			v.add(key("id"), "identifiant %q en double (déjà pris par %s[%d])", id, section, j)
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
			v.add(fmt.Sprintf("zone[%d].parent", i), "zone inconnue %q", z.Parent)
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
					v.add(fmt.Sprintf("zone[%d].parent", i), "cycle de zones parentes %s", strings.Join(chain, " → "))
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
