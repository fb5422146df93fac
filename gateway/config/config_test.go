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
		Station: Station{Name: "CORG 71 Charnay-lès-Mâcon", Region: "FR", MaxClockSkew: 5 * time.Minute},
		Store:   Store{Path: "/var/lib/vigie/vigie.db", KeyFile: "/var/lib/vigie/suppression.key"},
		API:     API{Socket: "/run/vigie/vigie.sock"},
		Modems: []Modem{{Name: "m1", Device: "/dev/vigie-modem0", Baud: 115200,
			RatePerMinute: 10, Burst: 1, DailyCap: 2000,
			CommandTimeout: 5 * time.Second, SendTimeout: 90 * time.Second}},
		SMS: SMS{Prefix: "Vigilance commerce 71 : ", Signature: " Gendarmerie. STOP pour ne plus recevoir.",
			MaxParts: 3, Transliterate: true, AlertTTL: 4 * time.Hour, ConcatWindow: time.Hour},
		Keywords:  Keywords{Subscription: "confirm", RepliesPerDay: 8, ReplyShare: 0.2},
		LED:       LED{Path: ""},
		Log:       Log{Level: "info"},
		Backup:    Backup{Dir: "/var/lib/vigie/backups", Keep: 7, At: TimeOfDay{Hour: 3}},
		Retention: Retention{Months: 12},
		Canary:    Canary{At: TimeOfDay{Hour: 9}},
		Inbox:     Inbox{WitnessWindow: 24 * time.Hour, ForwardPerHour: 10},
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
		rawKeywords{}, rawLED{}, rawLog{}, rawBackup{}, rawRetention{}, rawCanary{}, rawZone{}, rawTrade{}} {
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
		Station: Station{Region: "FR", MaxClockSkew: DefaultMaxClockSkew},
		Store:   Store{Path: DefaultStorePath, KeyFile: "/var/lib/vigie/suppression.key"},
		API:     API{Socket: DefaultSocket},
		Modems: []Modem{{Name: "m1", Device: "/dev/ttyUSB0", Baud: 115200, RatePerMinute: 10, Burst: 1, DailyCap: 2000,
			CommandTimeout: 5 * time.Second, SendTimeout: 90 * time.Second}},
		SMS:       SMS{MaxParts: 3, Transliterate: true, AlertTTL: 4 * time.Hour, ConcatWindow: DefaultConcatWindow},
		Keywords:  Keywords{Subscription: PolicyConfirm, RepliesPerDay: DefaultRepliesPerDay, ReplyShare: DefaultReplyShare},
		Log:       Log{Level: "info"},
		Backup:    Backup{Dir: "/var/lib/vigie/backups", Keep: DefaultBackupKeep, At: DefaultBackupAt},
		Retention: Retention{Months: DefaultRetention},
		Canary:    Canary{At: DefaultCanaryAt},
		Inbox:     Inbox{WitnessWindow: DefaultWitnessWindow, ForwardPerHour: DefaultForwardPerHour},
		Zones:     []Zone{},
		Trades:    []Trade{},
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
reply_share = 0.5
[led]
path = "/sys/class/leds/ACT"
[log]
level = "DEBUG"
[backup]
dir = "/srv/copies"
keep = 0
at = "23:45"
[retention]
months = 0
[canary]
number = "06 12 34 56 78"
at = "7:05"
`), "v.toml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if c.Station.Region != "RE" || c.Modems[0].RatePerMinute != 7.5 || c.Modems[0].PIN != "0000" ||
		c.Modems[1].PINFile != "/etc/vigie/pin" || c.SMS.Transliterate || c.SMS.AlertTTL != 90*time.Minute ||
		c.SMS.MaxParts != 1 || c.Keywords.Subscription != PolicyOpen || c.Keywords.RepliesPerDay != 0 || c.Keywords.ReplyShare != 0.5 ||
		c.LED.Path != "/sys/class/leds/ACT" || c.Log.Level != "debug" || c.Log.SlogLevel() != slog.LevelDebug ||
		c.Backup != (Backup{Dir: "/srv/copies", Keep: 0, At: TimeOfDay{23, 45}}) || c.Retention.Months != 0 ||
		c.Canary != (Canary{Number: "+33612345678", At: TimeOfDay{7, 5}}) {
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
name = "x"`, []string{"t.toml: modem: au moins un [[modem]] est requis"}},
		{"unknown key", minimal + "colour = \"red\"\n", []string{`t.toml:5: modem[0].colour: clé inconnue`}},
		{"unknown key in second modem", minimal + `[[modem]]
name = "m2"
device = "/dev/b"
speed = 9600
`, []string{`t.toml:8: modem[1].speed: clé inconnue`}},
		{"unknown table reported once", minimal + "[bogus]\na = 1\nb = 2\n", []string{"t.toml:5: bogus: clé inconnue"}},
		{"unknown top-level", "verbose = true\n" + minimal, []string{"t.toml:1: verbose: clé inconnue"}},
		{"unknown dotted", "[sms]\nfoo.bar = 1\n" + minimal, []string{"t.toml:2: sms.foo.bar: clé inconnue"}},
		{"misspelt key", minimal + "rate_per_minut = 10\n", []string{"t.toml:5: modem[0].rate_per_minut: clé inconnue ; vouliez-vous dire « rate_per_minute » ?"}},
		{"misspelt key in second modem", minimal + "[[modem]]\nname = \"m2\"\ndevice = \"/dev/b\"\nbuad = 9600\n", []string{"t.toml:8: modem[1].buad: clé inconnue ; vouliez-vous dire « baud » ?"}},
		{"misspelt table", minimal + "[keywrods]\nsubscription = \"open\"\n", []string{"t.toml:5: keywrods: clé inconnue ; vouliez-vous dire « keywords » ?"}},
		{"misspelt top-level", "[station]\nnmae = \"x\"\n" + minimal, []string{"t.toml:2: station.nmae: clé inconnue ; vouliez-vous dire « name » ?"}},
		{"misspelt key of a zone", minimal + "[[zone]]\nid = \"a\"\nname = \"A\"\nalias = [\"B\"]\n", []string{"t.toml:8: zone[0].alias: clé inconnue ; vouliez-vous dire « aliases » ?"}},
		{"bad numbers", minimal + "baud = 0\nrate_per_minute = 0\nburst = 0\ndaily_cap = -1\n", []string{
			"t.toml:5: modem[0].baud: doit être supérieur à 0",
			"t.toml:6: modem[0].rate_per_minute: doit être supérieur à 0",
			"t.toml:7: modem[0].burst: doit valoir au moins 1",
			"t.toml:8: modem[0].daily_cap: doit valoir au moins 1",
		}},
		{"nan rate", minimal + "rate_per_minute = nan\n", []string{"t.toml:5: modem[0].rate_per_minute: doit être supérieur à 0"}},
		{"inf rate", minimal + "rate_per_minute = inf\n", []string{"t.toml:5: modem[0].rate_per_minute: doit être supérieur à 0"}},
		{"modem names", `[[modem]]
device = "/dev/a"
[[modem]]
name = "x"
[[modem]]
name = "x"
device = "/dev/c"
`, []string{
			"t.toml:1: modem[0].name: est obligatoire",
			"t.toml:3: modem[1].device: est obligatoire",
			`t.toml:6: modem[2].name: "x" est déjà le nom de modem[1]`,
		}},
		{"pin", minimal + "pin = \"12\"\npin_file = \"/etc/pin\"\n", []string{
			"t.toml:5: modem[0].pin: doit compter 4 à 8 chiffres",
			"t.toml:6: modem[0].pin_file: pin et pin_file sont tous deux renseignés : n'en garder qu'un",
		}},
		{"sms", minimal + "[sms]\nmax_parts = 0\nalert_ttl = \"4 hours\"\n", []string{
			"t.toml:6: sms.max_parts: doit être entre 1 et 255",
			`t.toml:7: sms.alert_ttl: durée invalide "4 hours" (par exemple "4h" ou "90m")`,
		}},
		{"timeouts", minimal + "command_timeout = \"5 s\"\nsend_timeout = \"1h\"\n", []string{
			`t.toml:5: modem[0].command_timeout: durée invalide "5 s" (par exemple "5s" ou "2m")`,
			"t.toml:6: modem[0].send_timeout: doit être entre 1s et 10m0s",
		}},
		{"clock skew", minimal + "[station]\nmax_clock_skew = \"10s\"\n", []string{
			"t.toml:6: station.max_clock_skew: doit être entre 1m0s et 24h0m0s",
		}},
		{"concat window", minimal + "[sms]\nconcat_window = \"2d\"\n", []string{
			`t.toml:6: sms.concat_window: durée invalide "2d" (par exemple "1h" ou "30m")`,
		}},
		{"concat window range", minimal + "[sms]\nconcat_window = \"25h\"\n", []string{
			"t.toml:6: sms.concat_window: doit être entre 1s et 24h",
		}},
		{"ttl range", minimal + "[sms]\nalert_ttl = \"1m\"\n", []string{
			"t.toml:6: sms.alert_ttl: doit être entre 5m et 63 semaines (la durée de validité d'un SMS)",
		}},
		{"policy and replies", minimal + "[keywords]\nsubscription = \"auto\"\nreplies_per_day = -1\n", []string{
			`t.toml:6: keywords.subscription: politique inconnue "auto" (il faut confirm, approval ou open)`,
			"t.toml:7: keywords.replies_per_day: doit être positif ou nul",
		}},
		{"reply share", minimal + "[keywords]\nreply_share = 0\n", []string{
			"t.toml:6: keywords.reply_share: doit être une part entre 0 et 1 (par exemple 0.2 : un cinquième du débit et du plafond journalier de chaque modem pour les réponses, le reste pour les alertes)",
		}},
		{"reply share above one", minimal + "[keywords]\nreply_share = 1.5\n", []string{
			"t.toml:6: keywords.reply_share: doit être une part entre 0 et 1 (par exemple 0.2 : un cinquième du débit et du plafond journalier de chaque modem pour les réponses, le reste pour les alertes)",
		}},
		{"key file relative", minimal + "[store]\nkey_file = \"cle\"\n", []string{
			"t.toml:6: store.key_file: doit être un chemin absolu comme /var/lib/vigie/suppression.key",
		}},
		{"key file is the database", minimal + "[store]\npath = \"/srv/v.db\"\nkey_file = \"/srv/v.db\"\n", []string{
			"t.toml:7: store.key_file: doit être un autre fichier que la base (store.path)",
		}},
		{"key file among the backups", minimal + "[store]\nkey_file = \"/var/lib/vigie/backups/k\"\n", []string{
			"t.toml:6: store.key_file: ne doit pas être dans le répertoire des sauvegardes (backup.dir) : la clé se sauvegarde à part de la base",
		}},
		{"region", "[station]\nregion = \"France\"\n" + minimal, []string{
			`t.toml:2: station.region: région inconnue "FRANCE" (il faut un code ISO 3166 comme "FR", "GP", "RE")`,
		}},
		{"log led store api", minimal + "[log]\nlevel = \"loud\"\n[led]\npath = \"ACT\"\n[store]\npath = \"\"\n[api]\nsocket = \"\"\n", []string{
			"t.toml:10: store.path: ne doit pas être vide",
			"t.toml:12: api.socket: ne doit pas être vide",
			"t.toml:8: led.path: doit être un chemin absolu comme /sys/class/leds/ACT, ou vide s'il n'y a pas de LED",
			`t.toml:6: log.level: niveau inconnu "loud" (il faut debug, info, warn ou error)`,
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
			`t.toml:12: zone[1].id: "Macon Centre" n'est pas un identifiant valide (minuscules, chiffres et tirets simples, par exemple "macon-centre")`,
			`t.toml:17: zone[2].id: identifiant "macon" en double (déjà pris par zone[0])`,
			`t.toml:20: zone[3].name: est obligatoire`,
			`t.toml:22: zone[3].aliases[1]: "71000" désigne déjà zone[0] (macon)`,
			`t.toml:14: zone[1].parent: zone inconnue "nowhere"`,
		}},
		{"accent-insensitive collision", minimal + `
[[zone]]
id = "macon"
name = "Mâcon"
[[zone]]
id = "macon2"
name = "Macon"
`, []string{`t.toml:11: zone[1].name: "Macon" désigne déjà zone[0] (macon)`}},
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
			"t.toml:9: zone[0].parent: cycle de zones parentes a → c → b → a",
			"t.toml:21: zone[3].parent: cycle de zones parentes d → d",
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
			`t.toml:12: trade[1].aliases[0]: "tabac" désigne déjà trade[0] (tabac)`,
			`t.toml:12: trade[1].aliases[1]: "" ne contient ni lettre ni chiffre`,
		}},
		{"syntax", minimal + "baud = \n", []string{"t.toml:5: modem[0].baud: syntaxe TOML invalide : expected value but found '\\n' instead"}},
		{"type", minimal + "[[modem]]\nname = \"b\"\nbaud = \"fast\"\n", []string{
			"t.toml:7: modem[1].baud: type incorrect (valeur : texte ; attendu : nombre entier)",
			"t.toml:5: modem[1].device: est obligatoire", // reported at once too
		}},
		{"backup retention canary", minimal + `[backup]
dir = "backups"
keep = -1
at = "25:00"
[retention]
months = 121
[canary]
number = "01 23 45 67 89"
at = "9h"
`, []string{
			`t.toml:8: backup.at: heure invalide "25:00" (il faut HH:MM, par exemple "03:00")`,
			"t.toml:6: backup.dir: doit être un chemin absolu comme /var/lib/vigie/backups",
			"t.toml:7: backup.keep: doit être entre 0 (pas de copie nocturne) et 400",
			"t.toml:10: retention.months: doit être entre 0 (tout garder) et 120",
			`t.toml:13: canary.at: heure invalide "9h" (il faut HH:MM, par exemple "03:00")`,
			`t.toml:12: canary.number: "01 23 45 67 89" n'est pas un numéro de mobile valide (par exemple "06 12 34 56 78")`,
		}},
		{"inbox", minimal + `[inbox]
witness_window = "-1h"
forward_to = ["06 12 34 56 78", "01 23 45 67 89"]
forward_per_hour = 0
`, []string{
			"t.toml:6: inbox.witness_window: doit être entre 0 (jamais) et 168h (une semaine)",
			"t.toml:8: inbox.forward_per_hour: doit être entre 1 et 1000",
			`t.toml:7: inbox.forward_to[1]: "01 23 45 67 89" n'est pas un numéro de mobile valide (par exemple "06 12 34 56 78")`,
		}},
		{"every type error and the rest at once", minimal + "baud = \"fast\"\nburst = 0\n[sms]\nmax_parts = \"3\"\ntransliterate = \"yes\"\n[[modem]]\nname = 2\ndevice = \"/dev/b\"\n", []string{
			"t.toml:5: modem[0].baud: type incorrect (valeur : texte ; attendu : nombre entier)",
			"t.toml:8: sms.max_parts: type incorrect (valeur : texte ; attendu : nombre entier)",
			"t.toml:9: sms.transliterate: type incorrect (valeur : texte ; attendu : booléen (true ou false))",
			"t.toml:11: modem[1].name: type incorrect (valeur : nombre entier ; attendu : texte)",
			"t.toml:6: modem[0].burst: doit valoir au moins 1",
		}},
		{"bool type", minimal + "[sms]\ntransliterate = \"yes\"\n", []string{
			"t.toml:6: sms.transliterate: type incorrect (valeur : texte ; attendu : booléen (true ou false))",
		}},
		{"duplicate key", minimal + "name = \"again\"\n", []string{
			`t.toml:5: modem[0].name: clé définie deux fois`,
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
	if err == nil || err.Error() != path+":5: modem[0].baud: doit être supérieur à 0" {
		t.Errorf("Load = %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.toml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want ErrNotExist", err)
	}
}

func TestTimeOfDayNext(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skipf("no time zone database: %v", err)
	}
	tests := []struct {
		at    TimeOfDay
		after time.Time
		want  time.Time
	}{
		{TimeOfDay{3, 0}, time.Date(2026, 5, 4, 2, 59, 0, 0, paris), time.Date(2026, 5, 4, 3, 0, 0, 0, paris)},
		{TimeOfDay{3, 0}, time.Date(2026, 5, 4, 3, 0, 0, 0, paris), time.Date(2026, 5, 5, 3, 0, 0, 0, paris)},
		{TimeOfDay{9, 30}, time.Date(2026, 12, 31, 23, 0, 0, 0, paris), time.Date(2027, 1, 1, 9, 30, 0, 0, paris)},
		// 2026-03-29 02:30 does not exist in Paris (clocks jump to 03:00).
		{TimeOfDay{2, 30}, time.Date(2026, 3, 29, 1, 0, 0, 0, paris), time.Date(2026, 3, 29, 3, 30, 0, 0, paris)},
		// 2026-10-25: a 25-hour day; the next 03:00 is still on the calendar.
		{TimeOfDay{3, 0}, time.Date(2026, 10, 25, 0, 0, 0, 0, paris), time.Date(2026, 10, 25, 3, 0, 0, 0, paris)},
	}
	for _, tt := range tests {
		if got := tt.at.Next(tt.after); !got.Equal(tt.want) {
			t.Errorf("%v.Next(%v) = %v, want %v", tt.at, tt.after, got, tt.want)
		}
	}
	if s := (TimeOfDay{7, 5}).String(); s != "07:05" {
		t.Errorf("String = %q", s)
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
	f.Add(minimal + "baud = \"fast\"\nburst = [\n1,\n]\n[sms]\nmax_parts = \"3\"\n")
	f.Add("")
	f.Add(minimal + "[backup]\nat = \"24:00\"\n[canary]\nnumber = \"+33612345678\"\n")
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
		if c.Backup.Keep < 0 || c.Retention.Months < 0 || c.Backup.At.Hour > 23 || c.Canary.At.Minute > 59 {
			t.Fatalf("invalid care settings accepted: %+v %+v %+v", c.Backup, c.Retention, c.Canary)
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

// The configuration of the README's walkthrough stays valid.
func TestTryConfig(t *testing.T) {
	c, err := Load("../../configs/try.toml")
	if err != nil {
		t.Fatalf("configs/try.toml: %v", err)
	}
	if len(c.Modems) != 1 || c.Modems[0].Device != "/tmp/vigie-modem" || c.API.Socket != "/tmp/vigie-try/vigie.sock" || len(c.Trades) != 2 {
		t.Errorf("try.toml gives %+v", c)
	}
}

// TestWarnings pins, word for word, what is valid but cannot work: each
// warning with the key and line it is about, and none for the reference
// configuration.
func TestWarnings(t *testing.T) {
	dir := t.TempDir()
	port, link := filepath.Join(dir, "ttyUSB9"), filepath.Join(dir, "vigie-modem9")
	if err := os.WriteFile(port, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(port, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"reference", "", nil},
		{"two modems on one port", minimal + "[[modem]]\nname = \"m2\"\ndevice = \"/dev/ttyUSB0/\"\n[[modem]]\nname = \"m3\"\ndevice = \"" + port + "\"\n[[modem]]\nname = \"m4\"\ndevice = \"" + link + "\"\n" + zoneDoc, []string{
			"t.toml:7: modem[1].device: même port que modem[0] (/dev/ttyUSB0) : un port ne sert qu'un modem, les deux se disputeraient les réponses ; donnez à chaque modem le sien (ls -l /dev/serial/by-id)",
			"t.toml:13: modem[3].device: même port que modem[2] (DIR/ttyUSB9) : un port ne sert qu'un modem, les deux se disputeraient les réponses ; donnez à chaque modem le sien (ls -l /dev/serial/by-id)",
		}},
		{"a billion a minute", minimal + "rate_per_minute = 1e9\n" + zoneDoc, []string{
			"t.toml:5: modem[0].rate_per_minute: 1000000000 SMS par minute est hors de portée d'un modem, qui envoie un SMS en 3 à 10 s (6 à 20 par minute) : la durée d'envoi annoncée serait fausse ; indiquez le débit réel (10 est courant, 60 au plus)",
		}},
		{"sixty a minute is the edge", minimal + "rate_per_minute = 60\n" + zoneDoc, nil},
		{"a baud no port has", minimal + "baud = 115000\n" + zoneDoc, []string{
			"t.toml:5: modem[0].baud: 115000 bauds n'est pas une vitesse de port série : le port refusera de s'ouvrir ; 115200 convient à la plupart des modems 4G",
		}},
		{"no room for text", minimal + "[sms]\nmax_parts = 1\nprefix = \"" + strings.Repeat("p", 100) + "\"\nsignature = \"" + strings.Repeat("s", 60) + "\"\n" + zoneDoc, []string{
			"t.toml:8: sms.signature: le préfixe et la signature occupent 160 caractères : il ne reste aucune place pour le texte dans 1 SMS, toute alerte serait refusée ; raccourcissez-les ou augmentez sms.max_parts",
		}},
		{"little room for text", minimal + "[sms]\nmax_parts = 1\nprefix = \"Vigilance commerce de Saône-et-Loire : \"\nsignature = \" Gendarmerie nationale, compagnie de Mâcon. Envoyez STOP pour ne plus recevoir ces messages.\"\n" + zoneDoc, []string{
			"t.toml:8: sms.signature: le préfixe et la signature ne laissent que 29 caractères pour le texte dans 1 SMS : la plupart des alertes seraient refusées ; raccourcissez-les ou augmentez sms.max_parts",
		}},
		{"no room in UCS-2", minimal + "[sms]\nmax_parts = 1\ntransliterate = false\nprefix = \"Vigilance commerce, Saône-et-Loire : \"\nsignature = \" Fin du message.\"\n" + zoneDoc, []string{
			"t.toml:9: sms.signature: le préfixe et la signature ne laissent que 17 caractères pour le texte dans 1 SMS (en UCS-2 : le préfixe ou la signature a un caractère hors de l'alphabet GSM, et transliterate = false) : la plupart des alertes seraient refusées ; raccourcissez-les ou augmentez sms.max_parts",
		}},
		{"no zone", minimal, []string{
			"t.toml: zone: aucune zone : les commerçants ne peuvent pas s'inscrire par SMS et une alerte ne peut viser que --all ; ajoutez au moins un [[zone]] (id, name, aliases)",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join("..", "..", "configs", "vigie.toml")
			if tc.doc != "" {
				path = filepath.Join(dir, "t.toml")
				if err := os.WriteFile(path, []byte(tc.doc), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c, warns, err := Check(path)
			if err != nil || c == nil {
				t.Fatalf("Check: %v", err)
			}
			var got []string
			for _, w := range warns {
				got = append(got, strings.ReplaceAll(strings.TrimPrefix(w.String(), dir+string(filepath.Separator)), dir, "DIR"))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
	// Warnings come with the errors, so that one check tells everything.
	path := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(path, []byte(minimal+"burst = 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, warns, err := Check(path); err == nil || len(warns) != 1 || warns[0].Key != "zone" {
		t.Errorf("Check of an invalid file without zones: %v, %v; want an error and the no-zone warning", warns, err)
	}
}

const zoneDoc = "[[zone]]\nid = \"macon\"\nname = \"Mâcon\"\n"
