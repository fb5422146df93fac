package modem

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The network's time. A Raspberry Pi has no real-time clock: after a power
// cut without network it boots with the time it last saved (fake-hwclock,
// systemd-timesyncd's clock file), hours or days behind. The mobile
// network says the time (NITZ, 3GPP TS 24.008 §9.2.15a) when the modem
// registers; the modem sets its own clock from it when asked to
// (AT+CTZU=1, TS 27.007 §8.41) and tells it through AT+CCLK? (§8.15) or,
// in some families, unsolicited codes. The gateway compares it with the
// system clock.

// ErrClockUnset: the modem's clock still holds its power-on default (1980
// for many Qualcomm firmwares, 2000 or 2004 for others): the network has not
// set it, and it says nothing about the time.
var ErrClockUnset = errors.New("modem clock not set by the network")

// ErrNoTimeZone: the modem gave a time without its zone; a local time of
// unknown zone cannot be compared with the system clock.
var ErrNoTimeZone = errors.New("modem time without time zone")

// trustedSince is the earliest time a modem may plausibly say: this code
// did not exist before, so anything earlier is a default or garbage. A
// firmware whose default is later than this (a build date, say) on a
// network that sends no NITZ would pass for the network's time: a limit
// of reading +CCLK, which does not say who set the clock.
var trustedSince = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// nitzPrefixes are the unsolicited codes by which families announce the
// network's time: Quectel (+QLTS with AT+CTZR=2, +CTZE), SIMCom (*PSUTTZ
// on SIM800/SIM7600 with AT+CLTS=1), Huawei (^NWTIME). They are registered
// as indications so that one arriving in the middle of a reply does not
// stay there; the time they carry backs +CCLK? where it fails.
var nitzPrefixes = []string{"+QLTS:", "+CTZE:", "*PSUTTZ:", "^NWTIME:"}

// nitz is the latest network time announced unsolicited, and when (on the
// monotonic clock) it came. Written by the AT driver's indication goroutine,
// read by NetworkTime.
type nitz struct {
	mu   sync.Mutex
	time time.Time // zero until one is seen
	seen time.Time // time.Now() with its monotonic reading
}

// enableNetworkTime asks the modem to set its clock from the network:
// AT+CTZU=1 (standard), else AT+CLTS=1 (SIMCom's own switch). A modem that
// refuses both may still set its clock on its own, so a refusal is only
// logged: the network's time is a check on the system clock, never needed
// to send.
func (m *Modem) enableNetworkTime() {
	for _, cmd := range []string{"+CTZU=1", "+CLTS=1"} {
		_, err := m.command(cmd)
		if err == nil {
			break
		}
		m.log.Debug("network time updates not enabled", "cmd", cmd, "err", err)
	}
	for _, p := range nitzPrefixes {
		// Only fails when the prefix is already registered.
		_ = m.at.AddIndication(p, m.nitzSeen)
	}
}

// nitzSeen keeps the time an unsolicited NITZ code carries.
func (m *Modem) nitzSeen(lines []string) {
	if len(lines) == 0 {
		return
	}
	t, err := ParseNITZ(lines[0])
	if err != nil {
		m.log.Debug("network time code not understood", "line", lines[0], "err", err)
		return
	}
	m.nitz.mu.Lock()
	defer m.nitz.mu.Unlock()
	m.nitz.time, m.nitz.seen = t, time.Now()
}

// NetworkTime is the network's time as the modem knows it: its clock
// (AT+CCLK?) once the network set it, else the latest unsolicited NITZ code
// advanced by the time since it came. The result carries the network's zone.
// ErrClockUnset when the modem's clock holds its default and no code came.
func (m *Modem) NetworkTime() (time.Time, error) {
	t, err := m.readClock()
	if err == nil {
		return t, nil
	}
	m.nitz.mu.Lock()
	defer m.nitz.mu.Unlock()
	if !m.nitz.time.IsZero() {
		return m.nitz.time.Add(time.Since(m.nitz.seen)), nil
	}
	return time.Time{}, err
}

// readClock asks AT+CCLK?.
func (m *Modem) readClock() (time.Time, error) {
	info, err := m.command("+CCLK?")
	if err != nil {
		return time.Time{}, err
	}
	for _, l := range info {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "+CCLK:"); ok {
			t, err := ParseClock(v)
			if err != nil {
				return time.Time{}, fmt.Errorf("AT+CCLK?: %w", err)
			}
			// The clock counts whole seconds: the time is within the
			// second it says, half a second in on average.
			return t.Add(500 * time.Millisecond), nil
		}
	}
	return time.Time{}, fmt.Errorf("AT+CCLK?: no +CCLK: answer in %q: %w", info, ErrBadResponse)
}

// ParseClock reads the value of a +CCLK: answer, "yy/MM/dd,hh:mm:ss±zz"
// with zz the zone in quarters of an hour (TS 27.007 §8.15), quoted or not;
// it also takes a four-digit year and a trailing daylight-saving field
// (Quectel's +QLTS, Huawei's ^NWTIME). A time before trustedSince is the
// modem's default: ErrClockUnset.
func ParseClock(v string) (time.Time, error) {
	s := strings.TrimSpace(strings.ReplaceAll(v, `"`, ""))
	date, rest, ok := strings.Cut(s, ",")
	if !ok {
		return time.Time{}, fmt.Errorf("clock %q: no time of day: %w", v, ErrBadResponse)
	}
	clock, _, _ := strings.Cut(rest, ",") // a daylight-saving field may follow
	i := strings.IndexAny(clock, "+-")
	if i < 0 {
		if _, err := parseDateTime(date, clock, 0); err != nil {
			return time.Time{}, fmt.Errorf("clock %q: %w", v, err)
		}
		return time.Time{}, fmt.Errorf("clock %q: %w", v, ErrNoTimeZone)
	}
	q, err := parseQuarters(clock[i:])
	if err != nil {
		return time.Time{}, fmt.Errorf("clock %q: %w", v, err)
	}
	t, err := parseDateTime(date, clock[:i], q)
	if err != nil {
		return time.Time{}, fmt.Errorf("clock %q: %w", v, err)
	}
	return t, nil
}

// ParseNITZ reads an unsolicited line that carries the network's time:
//
//	+QLTS: "2024/05/04,10:11:12+08,0"         Quectel
//	+CTZE: "+08",0,"2024/05/04,10:11:12"      Quectel (AT+CTZR=2)
//	*PSUTTZ: 24/05/04,10:11:12","+08",0       SIMCom SIM7600
//	*PSUTTZ: 2024,5,4,10,11,12,"+08",0        SIMCom SIM800
//	^NWTIME: 24/05/04,10:11:12+08,00          Huawei
//	+CCLK: "24/05/04,10:11:12+08"
//
// The times are local, the zone in quarters of an hour.
func ParseNITZ(line string) (time.Time, error) {
	line = strings.TrimSpace(line)
	prefix, v, ok := strings.Cut(line, ":")
	if !ok {
		return time.Time{}, fmt.Errorf("network time %q: no prefix: %w", line, ErrBadResponse)
	}
	switch prefix {
	case "+QLTS", "^NWTIME", "+CCLK":
		return ParseClock(v)
	case "+CTZE":
		f := splitFields(v)
		if len(f) < 3 {
			return time.Time{}, fmt.Errorf("network time %q: %w", line, ErrBadResponse)
		}
		return ParseClock(unquote(f[2]) + unquote(f[0]))
	case "*PSUTTZ":
		f := splitFields(strings.ReplaceAll(v, `"`, ""))
		switch len(f) {
		case 4: // date, time, zone, dst
			return ParseClock(f[0] + "," + f[1] + f[2])
		case 8: // year, month, day, hour, minute, second, zone, dst
			for _, n := range f[:6] {
				if !isInt(n) {
					return time.Time{}, fmt.Errorf("network time %q: %w", line, ErrBadResponse)
				}
			}
			return ParseClock(f[0] + "/" + f[1] + "/" + f[2] + "," + f[3] + ":" + f[4] + ":" + f[5] + f[6])
		}
	}
	return time.Time{}, fmt.Errorf("network time %q: %w", line, ErrBadResponse)
}

// parseQuarters reads "±zz", the zone in quarters of an hour: UTC-12 to
// UTC+14 are the zones that exist.
func parseQuarters(s string) (int, error) {
	if len(s) < 2 || len(s) > 4 {
		return 0, fmt.Errorf("zone %q: %w", s, ErrBadResponse)
	}
	n, err := strconv.Atoi(s[1:])
	if err != nil || !digits(s[1:]) || n > 56 {
		return 0, fmt.Errorf("zone %q: %w", s, ErrBadResponse)
	}
	if s[0] == '-' {
		n = -n
		if n < -48 {
			return 0, fmt.Errorf("zone %q: %w", s, ErrBadResponse)
		}
	}
	return n, nil
}

// parseDateTime reads "yy/MM/dd" (or "yyyy/MM/dd") and "hh:mm:ss" as a
// local time quarters×15 min east of UTC. Two-digit years from 70 are
// 19xx: a default of "80/01/06" is 1980 (the GPS epoch), not 2080.
func parseDateTime(date, clock string, quarters int) (time.Time, error) {
	d := strings.Split(strings.TrimSpace(date), "/")
	c := strings.Split(strings.TrimSpace(clock), ":")
	if len(d) != 3 || len(c) != 3 {
		return time.Time{}, fmt.Errorf("date %q time %q: %w", date, clock, ErrBadResponse)
	}
	var n [6]int
	for i, s := range append(d, c...) {
		v, err := strconv.Atoi(s)
		if err != nil || !digits(s) || len(s) > 4 || i > 0 && len(s) > 2 {
			return time.Time{}, fmt.Errorf("date %q time %q: %w", date, clock, ErrBadResponse)
		}
		n[i] = v
	}
	switch year := n[0]; {
	case len(d[0]) == 4:
	case len(d[0]) == 2 && year >= 70:
		n[0] += 1900
	case len(d[0]) == 2:
		n[0] += 2000
	default:
		return time.Time{}, fmt.Errorf("year %q: %w", d[0], ErrBadResponse)
	}
	zone := time.FixedZone(zoneName(quarters), quarters*15*60)
	t := time.Date(n[0], time.Month(n[1]), n[2], n[3], n[4], n[5], 0, zone)
	if t.Year() != n[0] || int(t.Month()) != n[1] || t.Day() != n[2] || t.Hour() != n[3] || t.Minute() != n[4] || t.Second() != n[5] {
		return time.Time{}, fmt.Errorf("date %q time %q out of range: %w", date, clock, ErrBadResponse)
	}
	if t.Before(trustedSince) {
		return t, fmt.Errorf("modem clock says %s: %w", t.Format(time.DateTime), ErrClockUnset)
	}
	return t, nil
}

// zoneName names a fixed zone as "+01:00".
func zoneName(quarters int) string {
	sign := '+'
	if quarters < 0 {
		sign, quarters = '-', -quarters
	}
	return fmt.Sprintf("%c%02d:%02d", sign, quarters/4, quarters%4*15)
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
