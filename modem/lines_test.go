package modem

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
)

func TestAnswerPicksTheRightShape(t *testing.T) {
	cases := []struct {
		info   []string
		prefix string
		ok     shape
		want   string // fields joined by "|"; "" for none
	}{
		{[]string{"+CREG: 1", "+CREG: 0,5"}, "+CREG:", leadingInts(2), "0|5"},
		{[]string{`+CREG: 1,"00C3","0010",7`, "", "+CREG: 2,1,\"00C3\",\"0010\",7"}, "+CREG:", leadingInts(2), `2|1|"00C3"|"0010"|7`},
		{[]string{"^RSSI:12", "RING", "+CSQ: 17,99"}, "+CSQ:", leadingInts(2), "17|99"},
		{[]string{"+CSQ: garbage"}, "+CSQ:", leadingInts(2), ""},
		{[]string{`+COPS: 0,0,"Orange, F",7`}, "+COPS:", leadingInts(1), `0|0|"Orange, F"|7`},
		{[]string{`+CNMI: (0-3),(0,1),(0-3),(0-2),(0,1)`}, "+CNMI:", nil, "(0-3)|(0,1)|(0-3)|(0-2)|(0,1)"},
		{[]string{"+CPIN: READY"}, "+CPIN:", oneWord, "READY"},
		{[]string{`+CSCA: 145`, `+CSCA: "+33609001390",145`}, "+CSCA:", smscShape, `"+33609001390"|145`},
	}
	for _, c := range cases {
		f, ok := answer(c.info, c.prefix, c.ok)
		if got := strings.Join(f, "|"); got != c.want || ok != (c.want != "") {
			t.Errorf("answer(%q) = %q, %v; want %q", c.info, got, ok, c.want)
		}
	}
}

func TestIdentValue(t *testing.T) {
	cases := []struct {
		info  []string
		valid func(string) bool
		want  string
	}{
		{[]string{"^RSSI:3", "", "huawei"}, nil, "huawei"},
		{[]string{"RING", "+CGMI: \"Quectel\""}, nil, "Quectel"},
		{[]string{"+CREG: 1", "NO CARRIER", "EC25"}, nil, "EC25"},
		{[]string{"ZZ", "356938035643809"}, isIMEI, "356938035643809"},
		{[]string{"+CGSN: 356938035643809"}, isIMEI, "356938035643809"},
		{[]string{"^BOOT:1,2"}, nil, ""},
	}
	for _, c := range cases {
		prefix := "+CGMI:"
		if c.valid != nil {
			prefix = "+CGSN:"
		}
		if got := identValue(c.info, prefix, c.valid); got != c.want {
			t.Errorf("identValue(%q) = %q, want %q", c.info, got, c.want)
		}
	}
}

func TestInRange(t *testing.T) {
	cases := []struct {
		list string
		n    int
		want bool
	}{
		{"(0-2)", 2, true}, {"(0,1)", 2, false}, {"(0,2)", 2, true}, {"(0-1)", 2, false}, {"garbage", 2, false}, {"(1-3,5)", 5, true},
	}
	for _, c := range cases {
		if got := inRange(c.list, c.n); got != c.want {
			t.Errorf("inRange(%q, %d) = %v", c.list, c.n, got)
		}
	}
}

// scripted is an in-memory modem that answers +CMGL=4 with listing, +CMGR
// with an error, and everything else with OK.
type scripted struct {
	io.Reader
	io.Writer
	closers []io.Closer
}

func (s scripted) Close() error {
	for _, c := range s.closers {
		c.Close()
	}
	return nil
}

func newScripted(listing []string) scripted {
	toModem, fromHost := io.Pipe()
	toHost, fromModem := io.Pipe()
	go func() {
		sc := bufio.NewScanner(toModem)
		for sc.Scan() {
			cmd := strings.TrimSpace(sc.Text())
			var reply []string
			switch {
			case cmd == "":
				continue
			case strings.HasPrefix(cmd, "AT+CMGL=4"):
				reply = append(listing, "OK")
			case strings.HasPrefix(cmd, "AT+CMGR="):
				reply = []string{"+CMS ERROR: 321"}
			default:
				reply = []string{"OK"}
			}
			if _, err := io.WriteString(fromModem, "\r\n"+strings.Join(reply, "\r\n")+"\r\n"); err != nil {
				return
			}
		}
	}()
	return scripted{Reader: toHost, Writer: fromHost, closers: []io.Closer{toModem, fromHost, toHost, fromModem}}
}

// sanitize turns fuzzed text into lines a modem could send inside a reply:
// no final result codes (they end the command), no echo of a command, no
// SMS prompt, no overlong line.
func sanitize(s string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' }) {
		// As the line filter will see it: no NULs, trimmed.
		l = strings.TrimSpace(strings.ReplaceAll(l, "\x00", ""))
		l = strings.TrimLeft(l, "> ")
		u := strings.ToUpper(l)
		if len(l) > 600 || l == "OK" || strings.HasPrefix(l, "ERROR") || strings.HasPrefix(l, "+CME ERROR:") ||
			strings.HasPrefix(l, "+CMS ERROR:") || strings.HasPrefix(u, "AT") || u == "NA" || u == "COMMAND NOT SUPPORT" {
			continue
		}
		out = append(out, l)
	}
	return out
}

func FuzzReceiveStored(f *testing.F) {
	f.Add("RING\nNO CARRIER\n\n^RSSI:12\n+CREG: 1\ngarbage \x01\x02", "+CMGL: 3,0,,23")
	f.Add("+CMGL: 5,0,,23\n^BOOT:1,2,3", stopPDU[:30])
	for _, s := range pduSeeds() {
		f.Add("+CMGL: 7,1,,40\n"+s, "^MODE:5,4\n+CMGL: 8,1,,10\n"+s)
	}
	good := pduSeeds()[1] // UCS-2, 57-octet TPDU, no SMSC
	want := Decode(good)
	f.Fuzz(func(t *testing.T, before, after string) {
		pre, post := sanitize(before), sanitize(after)
		listing := append(append(append([]string{}, pre...), "+CMGL: 99,0,,57", good), post...)
		headers := 1
		for _, l := range append(pre, post...) {
			if strings.HasPrefix(strings.TrimSpace(l), "+CMGL:") {
				headers++
			}
		}
		rw := newScripted(listing)
		m := newModem(rw, Config{Name: "fuzz"})
		defer m.Close()
		var seen []Received
		n, err := m.ReceiveStored(func(r Received) error { seen = append(seen, r); return nil })
		if errors.Is(err, ErrTimeout) || errors.Is(err, ErrClosed) {
			t.Fatalf("listing broke the command: %v", err)
		}
		found := false
		for _, r := range seen {
			if r.Index == 99 && r.Key == want.Key && r.Err == nil && r.Text == want.Text {
				found = true
			}
		}
		if !found {
			t.Fatalf("good entry not handed over; seen %+v, err %v", seen, err)
		}
		if n != len(seen) {
			t.Fatalf("handled %d of %d", n, len(seen))
		}
		if len(seen) < headers && err == nil {
			t.Fatalf("%d headers, %d entries, and no error: an entry was silently lost", headers, len(seen))
		}
	})
}

// The AT trace at debug level never shows the PIN, sent or echoed back by a
// modem that ignores ATE0.
func TestTracerMasksThePIN(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rw := &struct {
		io.Reader
		io.Writer
	}{strings.NewReader("AT+CPIN=\"4321\"\r\r\nOK\r\n"), io.Discard}
	tr := &tracer{rw: rw, log: log}
	if _, err := tr.Write([]byte("AT+CPIN=\"4321\"\r\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	if _, err := tr.Read(buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "4321") || !strings.Contains(logs.String(), "+CPIN=****") {
		t.Errorf("trace %q shows the PIN or lacks the mask", logs.String())
	}
}
