package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"vigie/gateway/french"
	"vigie/gateway/render"
)

// Warning is a setting that is valid but cannot work as meant: the daemon
// starts with it, `vigie config check` says « attention : » and exits 0.
type Warning struct {
	// File, Line and Key say where, as in Error.
	File string
	Line int
	Key  string
	// Msg says what will go wrong and what to do, in French.
	Msg string
}

// String formats w as "vigie.toml:14: modem[0].baud: …".
func (w Warning) String() string {
	return (&Error{File: w.File, Line: w.Line, Key: w.Key, Msg: w.Msg}).Error()
}

// Limits of what a modem and a port can do (SPEC §6): a modem sends one SMS
// in 3 to 10 s; a rate above one a second is never reached, and an ETA
// computed from it is wrong by as much.
const maxModemRatePerMinute = 60

// minTextRoom is the room an alert's own text needs within max_parts: what
// happened, where, a description; less and every alert is refused.
const minTextRoom = 60

// standardBauds are the speeds a serial port can be set to (POSIX and
// Linux termios B-constants, those go.bug.st/serial accepts).
var standardBauds = []int{50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600,
	19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600,
	1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000}

// Check reads and validates the configuration file at path as Load does,
// and also returns the warnings: what is valid but cannot work. Warnings
// come even when the file has errors, so that one check tells everything.
func Check(path string) (*Config, []Warning, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("config: %w", err)
	}
	return parseWarn(string(data), path)
}

// warnings lists what in c is valid but cannot work.
func (v *validator) warnings(c *Config) []Warning {
	var ws []Warning
	warn := func(key, format string, args ...any) {
		ws = append(ws, Warning{File: v.file, Line: v.pos.lineOf(key), Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	devices := map[string]int{}
	for i, m := range c.Modems {
		key := func(k string) string { return fmt.Sprintf("modem[%d].%s", i, k) }
		if m.Device != "" {
			// /dev/vigie-modem0 and the /dev/ttyUSB2 it links to are
			// one port.
			dev := filepath.Clean(m.Device)
			if real, err := filepath.EvalSymlinks(dev); err == nil {
				dev = real
			}
			if j, dup := devices[dev]; dup {
				warn(key("device"), "même port que modem[%d] (%s) : un port ne sert qu'un modem, les deux se disputeraient les réponses ; donnez à chaque modem le sien (ls -l /dev/serial/by-id)", j, c.Modems[j].Device)
			} else {
				devices[dev] = i
			}
		}
		if m.RatePerMinute > maxModemRatePerMinute {
			warn(key("rate_per_minute"), "%s SMS par minute est hors de portée d'un modem, qui envoie un SMS en 3 à 10 s (6 à 20 par minute) : la durée d'envoi annoncée serait fausse ; indiquez le débit réel (10 est courant, %d au plus)", strconv.FormatFloat(m.RatePerMinute, 'f', -1, 64), maxModemRatePerMinute)
		}
		if m.Baud > 0 && !slices.Contains(standardBauds, m.Baud) {
			warn(key("baud"), "%d bauds n'est pas une vitesse de port série : le port refusera de s'ouvrir ; 115200 convient à la plupart des modems 4G", m.Baud)
		}
	}
	if s := c.SMS; s.MaxParts >= 1 {
		frame := render.Render(s.Prefix, "", s.Signature, s.Transliterate)
		room := render.Room(frame, s.MaxParts)
		parts := french.Count(s.MaxParts, "SMS", "SMS")
		why := ""
		if frame.Encoding == render.UCS2 {
			why = " (en UCS-2 : le préfixe ou la signature a un caractère hors de l'alphabet GSM, et transliterate = false)"
		}
		switch {
		case room <= 0:
			warn("sms.signature", "le préfixe et la signature occupent %s : il ne reste aucune place pour le texte dans %s%s, toute alerte serait refusée ; raccourcissez-les ou augmentez sms.max_parts", french.Count(frame.Chars, "caractère", "caractères"), parts, why)
		case room < minTextRoom:
			warn("sms.signature", "le préfixe et la signature ne laissent que %s pour le texte dans %s%s : la plupart des alertes seraient refusées ; raccourcissez-les ou augmentez sms.max_parts", french.Count(room, "caractère", "caractères"), parts, why)
		}
	}
	if len(c.Zones) == 0 {
		warn("zone", "aucune zone : les commerçants ne peuvent pas s'inscrire par SMS et une alerte ne peut viser que --all ; ajoutez au moins un [[zone]] (id, name, aliases)")
	}
	return ws
}
