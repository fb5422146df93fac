package config

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const minimal = `
[[modem]]
name = "m1"
device = "/dev/ttyUSB0"
`

func TestReferenceConfig(t *testing.T) {
	c, err := Load("../../configs/vigie.toml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := &Config{
		Station: Station{Name: "CORG 71 Charnay-lès-Mâcon", Region: "FR"},
		Store:   Store{Path: "/var/lib/vigie/vigie.db"},
		API:     API{Socket: "/run/vigie/vigie.sock"},
		Modems: []Modem{{Name: "m1", Device: "/dev/vigie-modem0", Baud: 115200,
			RatePerMinute: 10, Burst: 1, DailyCap: 2000,
			CommandTimeout: 5 * time.Second, SendTimeout: 90 * time.Second}},
		SMS: SMS{Prefix: "Vigilance commerce 71 : ", Signature: " Gendarmerie. STOP pour ne plus recevoir.",
			MaxParts: 3, Transliterate: true, AlertTTL: 4 * time.Hour},
		Keywords: Keywords{Subscription: "confirm", RepliesPerDay: 5},
		LED:      LED{Path: ""},
		Log:      Log{Level: "info"},
		Zones: []Zone{
			{ID: "macon", Name: "Mâcon", Aliases: []string{"MACON", "71000"}},
			{ID: "macon-centre", Name: "Mâcon centre", Parent: "macon", Aliases: []string{"CENTRE", "CENTRE-VILLE"}},
			{ID: "macon-nord", Name: "Mâcon nord", Parent: "macon", Aliases: []string{"NORD"}},
			{ID: "charnay", Name: "Charnay-lès-Mâcon", Aliases: []string{"CHARNAY", "71850"}},
		},
		Trades: []Trade{
			{ID: "bijouterie", Name: "Bijouterie", Aliases: []string{"BIJOUTIER", "HORLOGERIE"}},
			{ID: "tabac-presse", Name: "Tabac-presse", Aliases: []string{"TABAC", "PRESSE", "BURALISTE"}},
			{ID: "pharmacie", Name: "Pharmacie", Aliases: []string{"PHARMACIEN"}},
		},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Load:\n got %+v\nwant %+v", c, want)
	}
}

// TestReferenceConfigDocumentsEveryKey makes sure configs/vigie.toml shows
// every key the decoder knows, commented out or not.
func TestReferenceConfigDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile("../../configs/vigie.toml")
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []any{raw{}, rawStation{}, rawStore{}, rawAPI{}, rawModem{}, rawSMS{},
		rawKeywords{}, rawLED{}, rawLog{}, rawZone{}, rawTrade{}} {
		typ := reflect.TypeOf(table)
		for i := range typ.NumField() {
			key := typ.Field(i).Tag.Get("toml")
			if !strings.Contains(string(data), key+" =") && !strings.Contains(string(data), "["+key+"]") {
				t.Errorf("configs/vigie.toml does not show %s.%s", typ.Name(), key)
			}
		}
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse(strings.NewReader(minimal), "min.toml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := &Config{
		Station: Station{Region: "FR"},
		Store:   Store{Path: DefaultStorePath},
		API:     API{Socket: DefaultSocket},
		Modems: []Modem{{Name: "m1", Device: "/dev/ttyUSB0", Baud: 115200, RatePerMinute: 10, Burst: 1, DailyCap: 2000,
			CommandTimeout: 5 * time.Second, SendTimeout: 90 * time.Second}},
		SMS:      SMS{MaxParts: 3, Transliterate: true, AlertTTL: 4 * time.Hour},
		Keywords: Keywords{Subscription: PolicyConfirm, RepliesPerDay: 5},
		Log:      Log{Level: "info"},
		Zones:    []Zone{},
		Trades:   []Trade{},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Parse:\n got %+v\nwant %+v", c, want)
	}
}

func TestValues(t *testing.T) {
	c, err := Parse(strings.NewReader(`
[station]
region = "re"
[[modem]]
name = "a"
device = "/dev/a"
rate_per_minute = 7.5
pin = "0000"
[[modem]]
name = "b"
device = "/dev/b"
pin_file = "/etc/vigie/pin"
[sms]
transliterate = false
alert_ttl = "90m"
max_parts = 1
[keywords]
subscription = "open"
replies_per_day = 0
[led]
path = "/sys/class/leds/ACT"
[log]
level = "DEBUG"
`), "v.toml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if c.Station.Region != "RE" || c.Modems[0].RatePerMinute != 7.5 || c.Modems[0].PIN != "0000" ||
		c.Modems[1].PINFile != "/etc/vigie/pin" || c.SMS.Transliterate || c.SMS.AlertTTL != 90*time.Minute ||
		c.SMS.MaxParts != 1 || c.Keywords.Subscription != PolicyOpen || c.Keywords.RepliesPerDay != 0 ||
		c.LED.Path != "/sys/class/leds/ACT" || c.Log.Level != "debug" || c.Log.SlogLevel() != slog.LevelDebug {
		t.Errorf("Parse = %+v", c)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string // each a whole line of the joined error
	}{
		{"no modem", `[station]
name = "x"`, []string{"t.toml: modem: at least one [[modem]] is required"}},
		{"unknown key", minimal + "colour = \"red\"\n", []string{`t.toml:5: modem[0].colour: unknown key`}},
		{"unknown key in second modem", minimal + `[[modem]]
name = "m2"
device = "/dev/b"
speed = 9600
`, []string{`t.toml:8: modem[1].speed: unknown key`}},
		{"unknown table reported once", minimal + "[bogus]\na = 1\nb = 2\n", []string{"t.toml:5: bogus: unknown key"}},
		{"unknown top-level", "verbose = true\n" + minimal, []string{"t.toml:1: verbose: unknown key"}},
		{"unknown dotted", "[sms]\nfoo.bar = 1\n" + minimal, []string{"t.toml:2: sms.foo.bar: unknown key"}},
		{"bad numbers", minimal + "baud = 0\nrate_per_minute = 0\nburst = 0\ndaily_cap = -1\n", []string{
			"t.toml:5: modem[0].baud: must be > 0",
			"t.toml:6: modem[0].rate_per_minute: must be > 0",
			"t.toml:7: modem[0].burst: must be >= 1",
			"t.toml:8: modem[0].daily_cap: must be >= 1",
		}},
		{"nan rate", minimal + "rate_per_minute = nan\n", []string{"t.toml:5: modem[0].rate_per_minute: must be > 0"}},
		{"inf rate", minimal + "rate_per_minute = inf\n", []string{"t.toml:5: modem[0].rate_per_minute: must be > 0"}},
		{"modem names", `[[modem]]
device = "/dev/a"
[[modem]]
name = "x"
[[modem]]
name = "x"
device = "/dev/c"
`, []string{
			"t.toml:1: modem[0].name: is required",
			"t.toml:3: modem[1].device: is required",
			`t.toml:6: modem[2].name: "x" is already the name of modem[1]`,
		}},
		{"pin", minimal + "pin = \"12\"\npin_file = \"/etc/pin\"\n", []string{
			"t.toml:5: modem[0].pin: must be 4 to 8 digits",
			"t.toml:6: modem[0].pin_file: pin and pin_file are both set; keep one",
		}},
		{"sms", minimal + "[sms]\nmax_parts = 0\nalert_ttl = \"4 hours\"\n", []string{
			"t.toml:6: sms.max_parts: must be between 1 and 255",
			`t.toml:7: sms.alert_ttl: bad duration "4 hours" (want e.g. "4h" or "90m")`,
		}},
		{"timeouts", minimal + "command_timeout = \"5 s\"\nsend_timeout = \"1h\"\n", []string{
			`t.toml:5: modem[0].command_timeout: bad duration "5 s" (want e.g. "5s" or "2m")`,
			"t.toml:6: modem[0].send_timeout: must be between 1s and 10m0s",
		}},
		{"ttl range", minimal + "[sms]\nalert_ttl = \"1m\"\n", []string{
			"t.toml:6: sms.alert_ttl: must be between 5m and 63 weeks (the SMS validity period)",
		}},
		{"policy and replies", minimal + "[keywords]\nsubscription = \"auto\"\nreplies_per_day = -1\n", []string{
			`t.toml:6: keywords.subscription: unknown policy "auto" (want confirm, approval or open)`,
			"t.toml:7: keywords.replies_per_day: must be >= 0",
		}},
		{"region", "[station]\nregion = \"France\"\n" + minimal, []string{
			`t.toml:2: station.region: unknown region "FRANCE" (want an ISO 3166 code such as "FR", "GP", "RE")`,
		}},
		{"log led store api", minimal + "[log]\nlevel = \"loud\"\n[led]\npath = \"ACT\"\n[store]\npath = \"\"\n[api]\nsocket = \"\"\n", []string{
			"t.toml:10: store.path: must not be empty",
			"t.toml:12: api.socket: must not be empty",
			"t.toml:8: led.path: must be an absolute path such as /sys/class/leds/ACT, or empty for no LED",
			`t.toml:6: log.level: unknown level "loud" (want debug, info, warn or error)`,
		}},
		{"zones", minimal + `
[[zone]]
id = "macon"
name = "Mâcon"
aliases = ["MACON", "71000"]

[[zone]]
id = "Macon Centre"
name = "Mâcon centre"
parent = "nowhere"

[[zone]]
id = "macon"
name = "Mâcon bis"

[[zone]]
id = "charnay"
aliases = [
  "CHARNAY",
  "71000",
]
`, []string{
			`t.toml:12: zone[1].id: "Macon Centre" is not a slug (lower-case letters, digits and single hyphens, e.g. "macon-centre")`,
			`t.toml:17: zone[2].id: duplicate id "macon" (also zone[0])`,
			`t.toml:20: zone[3].name: is required`,
			`t.toml:22: zone[3].aliases[1]: "71000" already designates zone[0] (macon)`,
			`t.toml:14: zone[1].parent: unknown zone "nowhere"`,
		}},
		{"accent-insensitive collision", minimal + `
[[zone]]
id = "macon"
name = "Mâcon"
[[zone]]
id = "macon2"
name = "Macon"
`, []string{`t.toml:11: zone[1].name: "Macon" already designates zone[0] (macon)`}},
		{"cycle", minimal + `
[[zone]]
id = "a"
name = "A"
parent = "c"
[[zone]]
id = "b"
name = "B"
parent = "a"
[[zone]]
id = "c"
name = "C"
parent = "b"
[[zone]]
id = "d"
name = "D"
parent = "d"
[[zone]]
id = "e"
name = "E"
parent = "a"
`, []string{
			"t.toml:9: zone[0].parent: parent cycle a → c → b → a",
			"t.toml:21: zone[3].parent: parent cycle d → d",
		}},
		{"trades", minimal + `
[[trade]]
id = "tabac"
name = "Tabac"
[[trade]]
id = "presse"
name = "Presse"
aliases = ["tabac", ""]
`, []string{
			`t.toml:12: trade[1].aliases[0]: "tabac" already designates trade[0] (tabac)`,
			`t.toml:12: trade[1].aliases[1]: "" has no letter or digit`,
		}},
		{"syntax", minimal + "baud = \n", []string{"t.toml:5: modem[0].baud: expected value but found '\\n' instead"}},
		{"type", minimal + "[[modem]]\nname = \"b\"\nbaud = \"fast\"\n", []string{
			"t.toml:7: modem[1].baud: incompatible types: TOML value has type string; destination has type integer",
		}},
		{"duplicate key", minimal + "name = \"again\"\n", []string{
			`t.toml:5: modem[0].name: Key 'modem.name' has already been defined.`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(strings.NewReader(tt.doc), "t.toml")
			if err == nil {
				t.Fatalf("Parse = %+v, want errors", c)
			}
			if c != nil {
				t.Errorf("Parse returned a config with an error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			got := strings.Split(err.Error(), "\n")
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			var e *Error
			if !errors.As(err, &e) || e.File != "t.toml" {
				t.Errorf("errors.As(*Error) = %+v", e)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigie.toml")
	if err := os.WriteFile(path, []byte(minimal+"baud = -1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || err.Error() != path+":5: modem[0].baud: must be > 0" {
		t.Errorf("Load = %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.toml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want ErrNotExist", err)
	}
}

func TestPositions(t *testing.T) {
	doc := `# comment
[station]
name = "a # not a comment" # comment
"quoted key" = 1
multi = """
[not.a.table]
x = 1
"""
arr = [
  [1, 2],
  { a = 1 },
]
after = 2
[[modem]]
name = 'm'
[[modem]]
name = "n"
[modem.sub]
k.l = 3
`
	p := scanPositions(doc)
	for path, line := range map[string]int{
		"station": 2, "station.name": 3, `station."quoted key"`: 4, "station.multi": 5,
		"station.arr": 9, "station.after": 13, "modem[0]": 14, "modem[0].name": 15,
		"modem[1].name": 17, "modem[1].sub": 18, "modem[1].sub.k.l": 19,
		"modem[1].sub.k.l.m": 19, "modem[0].aliases[3]": 14, "nothing": 0,
	} {
		if got := p.lineOf(path); got != line {
			t.Errorf("lineOf(%s) = %d, want %d", path, got, line)
		}
	}
	if _, ok := p.line["not.a.table"]; ok {
		t.Errorf("a multi-line string was read as a table header")
	}
	if _, ok := p.line["station.x"]; ok {
		t.Errorf("a multi-line string was read as a key")
	}
}

func FuzzParse(f *testing.F) {
	ref, err := os.ReadFile("../../configs/vigie.toml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(ref))
	f.Add(minimal)
	f.Add(minimal + "[[zone]]\nid = \"a\"\nname = \"A\"\nparent = \"a\"\n")
	f.Add("[[modem]]\nname = \"\"\"\nx\n\"\"\"\n")
	f.Add("x = [\n1,\n]\n[[modem]]\nbaud = \"9600\"\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, doc string) {
		c, err := Parse(strings.NewReader(doc), "f.toml")
		if err != nil {
			if c != nil {
				t.Fatal("config returned with an error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if len(c.Modems) == 0 {
			t.Fatal("valid config without a modem")
		}
		for _, m := range c.Modems {
			if m.Baud <= 0 || !(m.RatePerMinute > 0) || m.Burst < 1 || m.DailyCap < 1 || (m.PIN != "" && m.PINFile != "") {
				t.Fatalf("invalid modem accepted: %+v", m)
			}
		}
		if c.SMS.MaxParts < 1 || c.SMS.AlertTTL <= 0 {
			t.Fatalf("invalid sms accepted: %+v", c.SMS)
		}
		ids := map[string]bool{}
		for _, z := range c.Zones {
			ids[z.ID] = true
		}
		for _, z := range c.Zones {
			if z.Parent != "" && !ids[z.Parent] {
				t.Fatalf("unknown parent accepted: %+v", z)
			}
		}
	})
}
