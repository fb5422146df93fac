package modem

import (
	"bufio"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseClock(t *testing.T) {
	paris := time.FixedZone("", 3600)
	tests := []struct {
		in   string
		want time.Time
		err  error
	}{
		{`"26/12/03,09:15:42+04"`, time.Date(2026, 12, 3, 9, 15, 42, 0, paris), nil},
		{` "26/12/03,09:15:42+04"`, time.Date(2026, 12, 3, 9, 15, 42, 0, paris), nil},
		{`26/12/03,09:15:42+04`, time.Date(2026, 12, 3, 9, 15, 42, 0, paris), nil},                        // unquoted
		{`"2026/12/03,09:15:42+04,0"`, time.Date(2026, 12, 3, 9, 15, 42, 0, paris), nil},                  // Quectel +QLTS
		{`26/12/03,09:15:42+04,00`, time.Date(2026, 12, 3, 9, 15, 42, 0, paris), nil},                     // Huawei ^NWTIME
		{`"26/07/14,23:59:59-10"`, time.Date(2026, 7, 14, 23, 59, 59, 0, time.FixedZone("", -9000)), nil}, // UTC-2:30
		{`"26/12/03,08:15:42+00"`, time.Date(2026, 12, 3, 8, 15, 42, 0, time.UTC), nil},
		{`"26/12/03,08:15:42+0"`, time.Date(2026, 12, 3, 8, 15, 42, 0, time.UTC), nil},
		// Defaults of modems the network has not set.
		{`"80/01/06,00:00:00+00"`, time.Time{}, ErrClockUnset},
		{`"04/01/01,00:00:00+00"`, time.Time{}, ErrClockUnset},
		{`"00/01/01,00:01:12+00"`, time.Time{}, ErrClockUnset},
		{`"70/01/01,00:00:00+00"`, time.Time{}, ErrClockUnset},
		{`"24/12/31,23:59:59+00"`, time.Time{}, ErrClockUnset},
		// Broken or incomplete.
		{`"26/12/03,09:15:42"`, time.Time{}, ErrNoTimeZone},
		{`"26/12/03"`, time.Time{}, ErrBadResponse},
		{``, time.Time{}, ErrBadResponse},
		{`"26/13/03,09:15:42+04"`, time.Time{}, ErrBadResponse},
		{`"26/02/30,09:15:42+04"`, time.Time{}, ErrBadResponse},
		{`"26/12/03,24:00:00+04"`, time.Time{}, ErrBadResponse},
		{`"26/12/03,09:60:00+04"`, time.Time{}, ErrBadResponse},
		{`"26/12/03,09:15:42+57"`, time.Time{}, ErrBadResponse},
		{`"26/12/03,09:15:42-49"`, time.Time{}, ErrBadResponse},
		{`"26/12/03,09:15:42++4"`, time.Time{}, ErrBadResponse},
		{`"26/12/-3,09:15:42+04"`, time.Time{}, ErrBadResponse},
		{`"026/12/03,09:15:42+04"`, time.Time{}, ErrBadResponse},
		{`"26/12/03,9:15+04"`, time.Time{}, ErrBadResponse},
		{"\"26/12/03,09:15:42+04\x00\"", time.Time{}, ErrBadResponse},
	}
	for _, tt := range tests {
		got, err := ParseClock(tt.in)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("ParseClock(%q) = %v, %v; want %v", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseClock(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if _, off := got.Zone(); err == nil {
			if _, want := tt.want.Zone(); off != want {
				t.Errorf("ParseClock(%q): zone offset %d s, want %d", tt.in, off, want)
			}
		}
	}
}

func TestParseNITZ(t *testing.T) {
	want := time.Date(2026, 12, 3, 9, 15, 42, 0, time.FixedZone("", 2*3600)) // +08: two hours
	for _, in := range []string{
		`+QLTS: "2026/12/03,09:15:42+08,0"`,
		`+CTZE: "+08",0,"2026/12/03,09:15:42"`,
		`*PSUTTZ: 26/12/03,09:15:42","+08",0`,
		`*PSUTTZ: 2026,12,3,9,15,42,"+08",0`,
		`^NWTIME: 26/12/03,09:15:42+08,00`,
		`+CCLK: "26/12/03,09:15:42+08"`,
	} {
		got, err := ParseNITZ(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseNITZ(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{
		`+CTZV: +08`, // the zone alone
		`+CTZE: "+08",0`,
		`*PSUTTZ: 2026,12,x,9,15,42,"+08",0`,
		`*PSUTTZ: 80/01/06,00:00:00","+00",0`,
		`RING`,
		``,
	} {
		if got, err := ParseNITZ(in); err == nil {
			t.Errorf("ParseNITZ(%q) = %v, want an error", in, got)
		}
	}
}

func FuzzParseClock(f *testing.F) {
	for _, s := range []string{
		`"26/12/03,09:15:42+04"`, `26/12/03,09:15:42-10`, `"2026/12/03,09:15:42+04,0"`,
		`"80/01/06,00:00:00+00"`, `"04/01/01,00:00:00"`, `"26/02/30,09:15:42+04"`, `,`, `"`, `+`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseClock(s)
		if err != nil {
			return
		}
		if got.Before(trustedSince) {
			t.Fatalf("ParseClock(%q) = %v: before %v without ErrClockUnset", s, got, trustedSince)
		}
		if _, off := got.Zone(); off%(15*60) != 0 || off < -12*3600 || off > 14*3600 {
			t.Fatalf("ParseClock(%q) = %v: zone offset %d s", s, got, off)
		}
		// What parses is what a modem could have said: printed back in the
		// +CCLK form, it parses to the same instant.
		_, off := got.Zone()
		back := got.Format("06/01/02,15:04:05") + zoneSuffix(off/900)
		if got.Year() >= 2070 {
			back = got.Format("2006/01/02,15:04:05") + zoneSuffix(off/900)
		}
		again, err := ParseClock(back)
		if err != nil || !again.Equal(got) {
			t.Fatalf("ParseClock(%q) = %v; printed %q parses to %v, %v", s, got, back, again, err)
		}
	})
}

func FuzzParseNITZ(f *testing.F) {
	for _, s := range []string{
		`+QLTS: "2026/12/03,09:15:42+08,0"`, `+CTZE: "+08",0,"2026/12/03,09:15:42"`,
		`*PSUTTZ: 26/12/03,09:15:42","+08",0`, `*PSUTTZ: 2026,12,3,9,15,42,"+08",0`,
		`^NWTIME: 26/12/03,09:15:42+08,00`, `+CTZV: +08`, `:`, `*PSUTTZ:,,,,,,,`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseNITZ(s)
		if err == nil && got.Before(trustedSince) {
			t.Fatalf("ParseNITZ(%q) = %v: before %v", s, got, trustedSince)
		}
	})
}

func zoneSuffix(q int) string {
	if q < 0 {
		return "-" + twoDigits(-q)
	}
	return "+" + twoDigits(q)
}

func twoDigits(n int) string { return string(rune('0'+n/10)) + string(rune('0'+n%10)) }

// A modem that knows neither AT+CTZU nor AT+CLTS still opens, and its
// clock is still read.
func TestRefusedCTZUIsNoFailure(t *testing.T) {
	toModem, fromHost := io.Pipe()
	toHost, fromModem := io.Pipe()
	var mu sync.Mutex
	var asked []string
	go func() {
		sc := bufio.NewScanner(toModem)
		for sc.Scan() {
			cmd := strings.TrimSpace(sc.Text())
			reply := "OK"
			switch {
			case cmd == "":
				continue
			case cmd == "AT+CTZU=1" || cmd == "AT+CLTS=1":
				reply = "ERROR"
			case cmd == "AT+CPIN?":
				reply = "+CPIN: READY\r\n\r\nOK"
			case cmd == "AT+CCLK?":
				reply = "+CCLK: \"26/12/03,09:15:42+04\"\r\n\r\nOK"
			}
			mu.Lock()
			asked = append(asked, cmd)
			mu.Unlock()
			if _, err := io.WriteString(fromModem, "\r\n"+reply+"\r\n"); err != nil {
				return
			}
		}
	}()
	rw := scripted{Reader: toHost, Writer: fromHost, closers: []io.Closer{toModem, fromHost, toHost, fromModem}}
	m, err := New(rw, Config{Name: "t", CommandTimeout: time.Second})
	if err != nil {
		t.Fatalf("New with CTZU refused: %v", err)
	}
	defer m.Close()
	got, err := m.NetworkTime()
	if want := time.Date(2026, 12, 3, 8, 15, 42, 500e6, time.UTC); err != nil || !got.Equal(want) {
		t.Errorf("NetworkTime = %v, %v; want %v", got, err, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(asked, "AT+CTZU=1") || !slices.Contains(asked, "AT+CLTS=1") {
		t.Errorf("commands %q: want AT+CTZU=1 then AT+CLTS=1 tried", asked)
	}
}
