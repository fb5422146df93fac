package modem

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakePort is the modem side of a lineFilter: what the test writes to it
// is what the filter reads from "the modem".
type fakePort struct {
	r *io.PipeReader
	w *io.PipeWriter

	mu      sync.Mutex
	written bytes.Buffer
}

func newFakePort() *fakePort {
	r, w := io.Pipe()
	return &fakePort{r: r, w: w}
}

func (p *fakePort) Read(b []byte) (int, error) { return p.r.Read(b) }

func (p *fakePort) writtenString() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.written.String()
}

func (p *fakePort) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.written.Reset()
}
func (p *fakePort) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.written.Write(b)
}

// readLines reads from the filter until want lines (non-empty) came out.
func readLines(t *testing.T, f *lineFilter, want int) []string {
	t.Helper()
	got := make(chan []string, 1)
	go func() {
		var lines []string
		var buf []byte
		b := make([]byte, 256)
		for len(lines) < want {
			n, err := f.Read(b)
			if err != nil {
				break
			}
			buf = append(buf, b[:n]...)
			for {
				if len(buf) > 0 && buf[0] == '>' {
					lines = append(lines, ">")
					buf = bytes.TrimLeft(buf[1:], " ")
					continue
				}
				i := bytes.IndexByte(buf, '\n')
				if i < 0 {
					break
				}
				if l := string(bytes.TrimRight(buf[:i], "\r")); l != "" {
					lines = append(lines, l)
				}
				buf = buf[i+1:]
			}
		}
		got <- lines
	}()
	select {
	case l := <-got:
		return l
	case <-time.After(5 * time.Second):
		t.Fatalf("the filter gave fewer than %d lines", want)
		return nil
	}
}

func TestLineFilterNormalises(t *testing.T) {
	cases := []struct {
		name string
		cmd  string // written first, as the AT driver does
		in   string // what the modem sends
		want []string
	}{
		{"NUL before OK (Huawei E352, row 12)", "AT+CSQ\r\n", "\r\n+CSQ: 17,99\r\n\x00OK\r\n", []string{"+CSQ: 17,99", "OK"}},
		{"NULs inside a line", "AT+CGMI\r\n", "\r\nhua\x00wei\r\n\r\nOK\r\n", []string{"huawei", "OK"}},
		{"COMMAND NOT SUPPORT (Huawei 3G, row 4)", "AT+CEREG?\r\n", "\r\nCOMMAND NOT SUPPORT\r\n", []string{"ERROR"}},
		{"NA (row 14)", "AT+CMMS=?\r\n", "\r\nNA\r\n", []string{"ERROR"}},
		{"\\r\\r\\n endings and spaces (row 1)", "AT+CSQ\r\n", "\r\n^MODE:5,4\r\r\n+CSQ: 17,99 \r\r\n OK\r\r\n", []string{"^MODE:5,4", "+CSQ: 17,99", "OK"}},
		{"prompt without line end", "AT+CMGS=23\r", "\r\n> ", []string{">"}},
		{"+CPIN: with its OK", "AT+CPIN?\r\n", "\r\n+CPIN: READY\r\n\r\nOK\r\n", []string{"+CPIN: READY", "OK"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newFakePort()
			f := newLineFilter(p)
			defer p.w.Close()
			if _, err := f.Write([]byte(c.cmd)); err != nil {
				t.Fatal(err)
			}
			go p.w.Write([]byte(c.in))
			if got := readLines(t, f, len(c.want)); !slices.Equal(got, c.want) {
				t.Errorf("lines %q, want %q", got, c.want)
			}
		})
	}
}

// A +CPIN: answer with no OK (Sierra SL808x, Wavecom: rows 36, 40) gets
// one after the grace, and at once for a family known to omit it; a late
// real OK is dropped rather than ending the next command.
func TestLineFilterCompletesCPIN(t *testing.T) {
	p := newFakePort()
	f := newLineFilter(p)
	defer p.w.Close()
	f.Write([]byte("AT+CPIN?\r\n"))
	start := time.Now()
	go p.w.Write([]byte("\r\n+CPIN: READY\r\n"))
	if got := readLines(t, f, 2); !slices.Equal(got, []string{"+CPIN: READY", "OK"}) {
		t.Fatalf("lines %q", got)
	}
	if waited := time.Since(start); waited < cpinGrace/2 {
		t.Errorf("OK supplied after %v, before the grace", waited)
	}
	// Learnt: the next one is completed at once, and a late OK dropped.
	f.Write([]byte("AT+CPIN?\r\n"))
	go p.w.Write([]byte("\r\n+CPIN: READY\r\n\r\nOK\r\n"))
	if got := readLines(t, f, 2); !slices.Equal(got, []string{"+CPIN: READY", "OK"}) {
		t.Fatalf("second +CPIN?: lines %q", got)
	}
	f.Write([]byte("AT+CSQ\r\n"))
	go p.w.Write([]byte("\r\n+CSQ: 20,99\r\n\r\nOK\r\n"))
	if got := readLines(t, f, 2); !slices.Equal(got, []string{"+CSQ: 20,99", "OK"}) {
		t.Fatalf("next command: lines %q", got)
	}
	fixes := f.applied()
	if fixes[fixCPINNoOK] != 2 || fixes[fixLateOK] != 1 {
		t.Errorf("fixes %v", fixes)
	}
}

// Another command's +CPIN:-looking line is left alone.
func TestLineFilterCPINOnlyForCPIN(t *testing.T) {
	p := newFakePort()
	f := newLineFilter(p)
	f.setCPINNoOK()
	defer p.w.Close()
	f.Write([]byte("AT+CSQ\r\n"))
	go p.w.Write([]byte("\r\n+CPIN: READY\r\n+CSQ: 20,99\r\n\r\nOK\r\n"))
	if got := readLines(t, f, 3); !slices.Equal(got, []string{"+CPIN: READY", "+CSQ: 20,99", "OK"}) {
		t.Fatalf("lines %q", got)
	}
}

func FuzzLineFilter(f *testing.F) {
	f.Add("AT+CPIN?\r\n", "\r\n+CPIN: READY\r\n\r\nOK\r\n")
	f.Add("AT+CSQ\r\n", "\r\n\x00+CSQ: 17,99\r\r\n\x00OK\r\n")
	f.Add("AT+CMGS=23\r", "\r\n> ")
	f.Add("AT+CEREG?\r\n", "COMMAND NOT SUPPORT\r\nNA\r\n^RSSI:12\r\r\n")
	f.Fuzz(func(t *testing.T, cmd, in string) {
		p := newFakePort()
		lf := newLineFilter(p)
		lf.Write([]byte(cmd))
		go func() {
			p.w.Write([]byte(in + "\r\nOK\r\n"))
			p.w.Close()
		}()
		out, _ := io.ReadAll(lf)
		if bytes.IndexByte(out, 0) >= 0 {
			t.Errorf("NUL in the output %q", out)
		}
		for _, l := range strings.Split(string(out), "\r\n") {
			if l != strings.TrimSpace(l) && !strings.HasPrefix(l, ">") {
				t.Errorf("untrimmed line %q", l)
			}
			if strings.EqualFold(l, "COMMAND NOT SUPPORT") || l == "NA" {
				t.Errorf("non-standard final result %q passed on", l)
			}
		}
	})
}

func TestSMSCForms(t *testing.T) {
	cases := map[string]string{
		`+CSCA: "+33609001390",145`: "+33609001390",
		`+CSCA: +33609001390,145`:   "+33609001390",
		// UCS-2 hex, unquoted and quoted (gammu tests/at-smsc, row 30).
		`+CSCA: 002B00390037003200350034003100320030003000330032,145`:   "+97254120032",
		`+CSCA: "002B00330033003600300039003000300031003300390030",145`: "+33609001390",
		`+CSCA: "",129`:             "",
		`+CSCA:"0033609001390",129`: "0033609001390",
	}
	for line, want := range cases {
		f, ok := answer([]string{line}, "+CSCA:", smscShape)
		if !ok {
			t.Errorf("%s: not an answer", line)
			continue
		}
		if got := smscValue(f); got != want {
			t.Errorf("%s: SMSC %q, want %q", line, got, want)
		}
	}
	if _, ok := answer([]string{"+CSCA: 145"}, "+CSCA:", smscShape); ok {
		t.Error("a one-field +CSCA: line taken for the answer")
	}
}

func TestMemoryChoice(t *testing.T) {
	cases := []struct {
		answer string
		want   memories
		sr, ok bool
	}{
		{`+CPMS: ("SM","ME","SR"),("SM","ME"),("SM","ME")`, memories{"SM", "SM", "SM"}, true, true},
		{`+CPMS: ("ME","MT","SM","SR"),("ME","MT","SM"),("ME","MT","SM")`, memories{"SM", "SM", "SM"}, true, true},
		{`+CPMS: ("SM", "ME", "SM_P", "ME_P", "MT"), ("SM", "ME", "SM_P", "ME_P", "MT"), ("SM", "ME", "SM_P", "ME_P", "MT")`, memories{"SM", "SM", "SM"}, false, true},
		{`+CPMS: "SM","SM","SM"`, memories{"SM", "SM", "SM"}, false, true},
		{`+CPMS: ("ME","MT"),("ME","MT"),("ME","MT")`, memories{"MT", "MT", "MT"}, false, true},
		{`+CPMS: ("SM","ME")`, memories{"SM", "SM", "SM"}, false, true},
		{`+CPMS: `, memories{}, false, false},
	}
	for _, c := range cases {
		f, _ := answer([]string{c.answer}, "+CPMS:", nil)
		got, sr, ok := memoryChoice(f)
		if got != c.want || sr != c.sr || ok != c.ok {
			t.Errorf("%s: %+v sr=%v ok=%v, want %+v sr=%v ok=%v", c.answer, got, sr, ok, c.want, c.sr, c.ok)
		}
	}
}

func TestCNMIChoices(t *testing.T) {
	cases := []struct{ answer, first string }{
		{`+CNMI: (0-3),(0-3),(0,2,3),(0-2),(0,1)`, "2,1,0,2,0"},
		// Cinterion PHS8 and MC75i (row 28): bfr only 1; PHS8 ds only 0.
		{`+CNMI: (0,1,2),(0,1),(0,2),(0),(1)`, "2,1,0,0,1"},
		{`+CNMI: (0-3),(0,1),(0,2,3),(0,2),(1)`, "2,1,0,2,1"},
		// gammu tests/at-cnmi (row 29).
		{`+CNMI: (2),(0-1,3),(0,2),(0-1),(0)`, "2,1,0,0,0"},
		{`+CNMI: (0-2),(0,1,3),(0),(0,1),(0,1)`, "2,1,0,0,0"},
		{`+CNMI:(1),(1),(0),(2),(1)`, "1,1,0,2,1"},
		{`+CNMI: garbage`, "2,1,0,2,0"},
	}
	for _, c := range cases {
		f, _ := answer([]string{c.answer}, "+CNMI:", nil)
		got := cnmiChoices(f)
		if len(got) == 0 || got[0] != c.first {
			t.Errorf("%s: choices %q, want %s first", c.answer, got, c.first)
		}
	}
}

func TestAnnouncedMemory(t *testing.T) {
	for line, want := range map[string]string{
		`+CMTI: "SM",3`:  "SM",
		`+CDSI: "SR",8`:  "SR",
		`+CMTI: "ME", 0`: "ME",
		`+CDSI: 8`:       "",
		`+CMTI: "",3`:    "",
		`+CMTI:`:         "",
	} {
		if got := announcedMemory(line); got != want {
			t.Errorf("%s: %q, want %q", line, got, want)
		}
	}
}

func FuzzAnswers(f *testing.F) {
	for _, s := range []string{
		`+CSCA: 002B00390037003200350034003100320030003000330032,145`,
		`+CPMS: ("SM","ME","SR"),("SM","ME"),("SM","ME")`,
		`+CNMI: (0,1,2),(0,1),(0,2),(0),(1)`,
		`+CMTI: "SM",3`,
		`0791336000000000040B913306214365F700002120,0`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		fields := splitFields(line)
		if v := smscValue(fields); strings.ContainsAny(v, "\r\n") && !strings.ContainsAny(line, "\r\n") {
			t.Errorf("SMSC %q from %q", v, line)
		}
		if m, _, ok := memoryChoice(fields); ok && (m.read == "" || m.write == "" || m.receive == "") {
			t.Errorf("memories %+v from %q", m, line)
		}
		for _, c := range cnmiChoices(fields) {
			if len(strings.Split(c, ",")) != 5 {
				t.Errorf("CNMI %q from %q", c, line)
			}
		}
		if mem := announcedMemory(line); len(mem) > 8 {
			t.Errorf("memory %q from %q", mem, line)
		}
		if pdu, ok := pduLine(line); ok && !isHex(pdu) {
			t.Errorf("PDU %q from %q", pdu, line)
		}
	})
}

// An unsolicited +CPIN: that lands in the reply to AT+CPIN? (SIMCom,
// Quectel at start-up, row 19) is not taken for the answer: two states
// that disagree are no answer, and asking again settles it.
func TestSIMStateWithAnUnsolicitedCPIN(t *testing.T) {
	p := newFakePort()
	m := newModem(p, Config{CommandTimeout: time.Second})
	defer p.w.Close()
	go func() {
		// The modem's side: answer the two +CPIN? as they come.
		for _, reply := range []string{"\r\n+CPIN: SIM PIN\r\n\r\n+CPIN: READY\r\n\r\nOK\r\n", "\r\n+CPIN: READY\r\n\r\nOK\r\n"} {
			for !strings.Contains(p.writtenString(), "AT+CPIN?") {
				time.Sleep(5 * time.Millisecond)
			}
			p.reset()
			p.w.Write([]byte(reply))
		}
	}()
	if s, err := m.SIMState(); !errors.Is(err, ErrBadResponse) {
		t.Fatalf("state %q, %v; want no answer from a reply with two states", s, err)
	}
	if s, err := m.SIMState(); err != nil || s != "READY" {
		t.Fatalf("state %q, %v; want READY", s, err)
	}
}

func TestAnnouncedEntry(t *testing.T) {
	for line, want := range map[string]struct {
		slot announcedSlot
		ok   bool
	}{
		`+CMTI: "SM",3`:  {announcedSlot{mem: "SM", index: 3}, true},
		`+CDSI: "SR",8`:  {announcedSlot{mem: "SR", index: 8, report: true}, true},
		`+CMTI: "ME", 0`: {announcedSlot{mem: "ME", index: 0}, true},
		`+CDSI: 8`:       {announcedSlot{index: 8, report: true}, true},
		`+CMTI: "",3`:    {announcedSlot{}, false},
		`+CMTI: "SM",-1`: {announcedSlot{}, false},
		`+CMTI:`:         {announcedSlot{}, false},
		`+CMTI: "SM"`:    {announcedSlot{}, false},
	} {
		if got, ok := announcedEntry(line); got != want.slot || ok != want.ok {
			t.Errorf("%s: %+v %v, want %+v %v", line, got, ok, want.slot, want.ok)
		}
	}
}
