package sim

// One raw AT dialogue per modem family, over the real pty and go.bug.st/serial,
// asserting the bytes real-modems.md quotes for it (row numbers in comments).

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.bug.st/serial"
)

// rawPort is a family's simulated modem on a pty, opened raw.
type rawPort struct {
	t    *testing.T
	m    *Modem
	link string
	port serial.Port
	left string // read past what until returned
}

func plugRaw(t *testing.T, opts Options) *rawPort {
	t.Helper()
	if opts.RebootDelay == 0 {
		opts.RebootDelay = 10 * time.Millisecond
	}
	m, link := plugged(t, opts)
	return &rawPort{t: t, m: m, link: link, port: openPort(t, link)}
}

// until reads up to want and returns what was read up to it.
func (r *rawPort) until(want string) string {
	r.t.Helper()
	if err := r.port.SetReadTimeout(100 * time.Millisecond); err != nil {
		r.t.Fatal(err)
	}
	buf := make([]byte, 256)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(r.left, want); {
		if time.Now().After(deadline) {
			r.t.Fatalf("read %q, never saw %q", r.left, want)
		}
		n, err := r.port.Read(buf)
		if err != nil {
			r.t.Fatalf("read: %v (got %q)", err, r.left)
		}
		r.left += string(buf[:n])
	}
	i := strings.Index(r.left, want) + len(want)
	got := r.left[:i]
	r.left = r.left[i:]
	return got
}

// do writes a command line and reads up to want (its last bytes).
func (r *rawPort) do(line, want string) string {
	r.t.Helper()
	rawWrite(r.t, r.port, line+"\r")
	return r.until(want)
}

// check runs a command and compares the whole answer.
func (r *rawPort) check(line, want string) {
	r.t.Helper()
	tail := want[max(0, len(want)-4):]
	if got := r.do(line, tail); got != want {
		r.t.Errorf("%s:\n got %q\nwant %q", line, got, want)
	}
}

// send submits text to to with a status report requested, after the prompt.
func (r *rawPort) send(to, text string) string {
	r.t.Helper()
	cmd := submitHex(r.t, to, text, true)
	rawWrite(r.t, r.port, cmd[0])
	r.until("> ")
	rawWrite(r.t, r.port, cmd[1]+"\x1a")
	return r.until("OK\r\n")
}

// notReadyThenReady sends line until the answer is not notReady, and checks
// that the SMS subsystem refused it until its ready line came out: answered
// notReady before ready was read, OK after.
func (r *rawPort) notReadyThenReady(line, notReady, ready string) {
	r.t.Helper()
	refused := 0
	var seen strings.Builder
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		got := r.do(line, "\r\n")
		for !strings.HasSuffix(got, "OK\r\n") && !strings.HasSuffix(got, notReady+"\r\n") {
			got += r.until("\r\n")
		}
		readyBefore := strings.Contains(seen.String(), ready)
		seen.WriteString(got)
		switch {
		case strings.HasSuffix(got, "\r\nOK\r\n"):
			if refused == 0 {
				r.t.Errorf("%s answered OK at once: no SMS-not-ready window", line)
			}
			if !strings.Contains(seen.String(), ready) {
				r.t.Errorf("%s answered OK before %q was said: %q", line, ready, seen.String())
			}
			return
		case readyBefore:
			r.t.Fatalf("%s still answers %q after %q: %q", line, notReady, ready, seen.String())
		}
		refused++
	}
	r.t.Fatalf("%s never answered OK: %q", line, seen.String())
}

func TestPersonalityNames(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range Personalities() {
		name := p.String()
		if name != strings.ToLower(name) || strings.ContainsAny(name, " _") || seen[name] {
			t.Errorf("name %q: want unique, lower case, no space", name)
		}
		seen[name] = true
		if got, err := ParsePersonality(strings.ToUpper(name)); err != nil || got != p {
			t.Errorf("ParsePersonality(%q) = %v, %v", name, got, err)
		}
		if p.identity().manufacturer == "" || len(p.dialect().store.mem1) == 0 {
			t.Errorf("%s: no identity or no storage", name)
		}
	}
	if _, err := ParsePersonality("nokia"); !errors.Is(err, ErrUnknownPersonality) {
		t.Errorf("ParsePersonality(nokia) = %v", err)
	}
	if got := Personality(99).String(); got != "Personality(99)" {
		t.Errorf("String of an unknown personality: %q", got)
	}
}

// Quectel EC25/EG25: rows 15, 16, 17, 39.
func TestFamilyQuectel(t *testing.T) {
	t.Parallel()
	r := plugRaw(t, Options{Personality: Quectel, BootScale: 1})
	// Row 15: the boot lines, in order.
	if got := r.until("+QUSIM: 1\r\n"); got != "\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\n+QUSIM: 1\r\n" {
		t.Errorf("boot: %q", got)
	}
	r.check("ATE0", "ATE0\r\r\nOK\r\n")
	// Defect 1: +CMS ERROR: 500 until SMS DONE.
	r.notReadyThenReady("AT+CMGF=0", "+CMS ERROR: 500", "+QIND: SMS DONE")
	r.until("+QIND: PB DONE\r\n")
	r.check("AT+CREG?;+CEREG?", okReply("+CREG: 0,0", "+CEREG: 0,1"))
	r.check(`AT+CPMS=?`, okReply(`+CPMS: ("SM","ME","SR"),("SM","ME"),("SM","ME")`))
	// Row 16: the report goes to "SR" but is announced in "SM"…
	r.check("AT+CNMI=2,1,0,2,0", okReply())
	if got := r.send("+33612345678", "vol"); got != okReply("+CMGS: 0") {
		t.Errorf("send: %q", got)
	}
	if got := r.until("\r\n+CDSI: \"SM\",0\r\n"); got != "\r\n+CDSI: \"SM\",0\r\n" {
		t.Errorf("announce: %q", got)
	}
	// …so +CMGR on SM gives a bare OK; in SR the report is there.
	r.check("AT+CMGR=0", okReply())
	r.check(`AT+CPMS="SR"`, okReply("+CPMS: 1,50,0,30,0,30"))
	if got := r.do("AT+CMGR=0", "OK\r\n"); !strings.HasPrefix(got, "\r\n+CMGR: 0,,25\r\n\r\n07913306091093F002") {
		t.Errorf("report in SR: %q", got)
	}
	r.check("AT+CPMS?", okReply(`+CPMS: "SR",1,50,"SM",0,30,"SM",0,30`))
	// Row 39: verbose +CMS ERROR with +CMEE=2.
	r.check("AT+CMEE=2;+CMGD=60", "\r\n+CMS ERROR: invalid memory index\r\n")
	if n := r.m.StoredIn("SR"); n != 1 {
		t.Errorf("SR holds %d", n)
	}
}

// SIMCom SIM7600: rows 19, 21, 22.
func TestFamilySIM7600(t *testing.T) {
	t.Parallel()
	r := plugRaw(t, Options{Personality: SIM7600, BootScale: 1})
	if got := r.until("+CPIN: READY\r\n"); got != "\r\nRDY\r\n\r\n+CPIN: READY\r\n" {
		t.Errorf("boot: %q", got)
	}
	// Row 22: echo on, +CMEE: 2 by default.
	r.check("AT+CMEE?", "AT+CMEE?\r"+okReply("+CMEE: 2"))
	r.check("ATE0", "ATE0\r\r\nOK\r\n")
	r.notReadyThenReady("AT+CMGF=0", "ERROR", "\r\nSMS DONE\r\n")
	r.until("\r\nPB DONE\r\n")
	r.check(`AT+CPIN="1234"`, "\r\n+CME ERROR: operation not allowed\r\n")
	// Row 21: +CDSI: "SR",<n>; +CPMS="SR" then +CMGR reads it.
	r.check("AT+CNMI=2,1,0,2,0", okReply())
	r.send("+33612345678", "vol")
	r.until("\r\n+CDSI: \"SR\",0\r\n")
	r.check("AT+CMGR=0", "\r\n+CMS ERROR: invalid memory index\r\n") // mem1 is SM
	r.check(`AT+CPMS="SR","SM","SM"`, okReply("+CPMS: 1,50,0,30,0,30"))
	if got := r.do("AT+CMGR=0", "OK\r\n"); !strings.HasPrefix(got, "\r\n+CMGR: 0,,25\r\n") {
		t.Errorf("report in SR: %q", got)
	}
	r.check("AT+CMGD=0;+CPMS?", okReply(`+CPMS: "SR",0,50,"SM",0,30,"SM",0,30`))
}

// SIMCom SIM800: rows 18, 51.
func TestFamilySIM800(t *testing.T) {
	t.Parallel()
	r := plugRaw(t, Options{Personality: SIM800, BootScale: 1})
	if got := r.until("+CPIN: READY\r\n"); got != "\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n" {
		t.Errorf("boot: %q", got)
	}
	r.check("AT", okReply()) // row 51: no echo at power-up
	r.notReadyThenReady("AT+CMGF=1", "ERROR", "\r\nSMS Ready\r\n")
	if !strings.Contains(r.do("AT+CMGF=0", "OK\r\n"), "OK") {
		t.Error("no OK")
	}
	r.check("AT+CEREG?", "\r\nERROR\r\n") // 2G
	r.check("AT+CREG?", okReply("+CREG: 0,1"))
	r.check("AT+CNMI=2,1,0,2,0", okReply())
	if err := r.m.Inject("+33698765432", "bonjour"); err != nil {
		t.Fatal(err)
	}
	r.until("\r\n+CMTI: \"SM\",1\r\n") // storage from 1
	if got := r.do("AT+CMGL=4", "OK\r\n"); !strings.HasPrefix(got, "\r\n+CMGL: 1,0,,") {
		t.Errorf("+CMGL: %q", got)
	}
	r.check("AT+CMGD=0", "\r\n+CMS ERROR: 321\r\n")
}

// SIMCom A7670: row 20.
func TestFamilyA7670(t *testing.T) {
	t.Parallel()
	r := plugRaw(t, Options{Personality: A7670, BootScale: 1})
	if got := r.until("+CPIN: READY\r\n"); got != "\r\n*ATREADY: 1\r\n\r\n+CPIN: READY\r\n" {
		t.Errorf("boot: %q", got)
	}
	r.check("ATE0", "ATE0\r\r\nOK\r\n")
	r.check("AT+CMGS=20", "\r\nERROR\r\n")
	r.notReadyThenReady("AT+CMGF=0", "ERROR", "\r\nSMS DONE\r\n")
	r.check("AT+CMGS=20", "\r\n> ")
	rawWrite(t, r.port, "\x1b")
	r.until("OK\r\n")
}

// Huawei E3372: rows 1, 2, 6, 11.
func TestFamilyHuaweiE3372(t *testing.T) {
	t.Parallel()
	r := plugRaw(t, Options{Personality: HuaweiE3372, URCEvery: 10 * time.Millisecond})
	r.until("^RSSI:20\r\n")
	r.until("^HCSQ:\"LTE\",")
	r.until("^DSFLOWRPT:")
	r.do("ATE0;^CURC=0", "OK\r\n")
	r.check("AT^CURC?", okReply("^CURC: 0"))
	// Row 11: +CPMS with 1 or 2 arguments: ERROR; only 3 work.
	r.check(`AT+CPMS="SM"`, "\r\nERROR\r\n")
	r.check(`AT+CPMS="SM","SM"`, "\r\nERROR\r\n")
	r.check(`AT+CPMS="SM","SM","SM"`, okReply("+CPMS: 0,30,0,30,0,30"))
	r.check("AT+CMMS=1", "\r\nERROR\r\n")
	r.check("AT+CNMI=2,1,0,2,0", okReply())
	if err := r.m.Inject("+33698765432", "bonjour"); err != nil {
		t.Fatal(err)
	}
	r.until("\r\n+CMTI: \"SM\",0\r\n") // row 6
}

// Huawei 3G E1752/E303: rows 3, 4, 5, 9, 12, 41, 42.
func TestFamilyHuaweiE303(t *testing.T) {
	t.Parallel()
	r := plugRaw(t, Options{Personality: HuaweiE303, PIN: "1234", BootScale: 0.2, URCEvery: time.Hour, Seed: 3})
	clean := func(s string) string { return strings.ReplaceAll(s, "\x00", "") }
	// Row 9: a command right after the PIN makes the firmware reboot.
	if got := clean(r.do(`AT+CPIN="1234"`, "OK\r\n\r\n")); got != `AT+CPIN="1234"`+"\r\r\nOK\r\n\r\n" {
		t.Errorf("PIN: %q", got)
	}
	rawWrite(t, r.port, "AT+CPIN?\r")
	r.port, r.left = waitReplug(t, r.link, r.port), ""
	if r.m.Crashes() != 1 || r.m.Resets() != 0 {
		t.Errorf("crashes %d, resets %d: want the firmware to have rebooted by itself", r.m.Crashes(), r.m.Resets())
	}
	r.do(`AT+CPIN="1234"`, "OK\r\n\r\n")
	time.Sleep(time.Second) // more than the 0.6 s the scaled firmware needs
	// Row 3: ^SRVST glued to the echo; row 5: a blank line after the reply.
	if got := clean(r.do("AT+CPIN?", "OK\r\n\r\n")); got != "^SRVST:1\r\n\r\n^SRVST:2\r\nAT+CPIN?\r\r\n+CPIN: READY\r\n\r\nOK\r\n\r\n" {
		t.Errorf("+CPIN?: %q", got)
	}
	r.do("ATE0", "OK\r\n\r\n")
	// Rows 4, 41: COMMAND NOT SUPPORT, no OK, no ERROR.
	r.check("AT+CEREG?", "\r\nCOMMAND NOT SUPPORT\r\n\r\n")
	r.check("AT+CMMS=1", "\r\nCOMMAND NOT SUPPORT\r\n\r\n")
	if got := clean(r.do("AT+CREG?", "OK\r\n\r\n")); got != okReply("+CREG: 0,1")+"\r\n" {
		t.Errorf("+CREG?: %q", got)
	}
	// Row 12: a NUL before some final OKs.
	nul := 0
	for range 20 {
		got := r.do("AT", "OK\r\n\r\n")
		switch got {
		case "\r\n\x00OK\r\n\r\n":
			nul++
		case "\r\nOK\r\n\r\n":
		default:
			t.Fatalf("AT: %q", got)
		}
	}
	if nul == 0 || nul == 20 {
		t.Errorf("%d of 20 OKs with a NUL, want some", nul)
	}
	r.do("AT+CNMI=2,1,0,2,0", "OK\r\n\r\n")
	if err := r.m.Inject("+33698765432", "bonjour"); err != nil {
		t.Fatal(err)
	}
	r.until("\r\n+CMTI: \"SM\",0\r\n") // row 6
}

// ZTE MF: rows 24, 30, 44.
func TestFamilyZTE(t *testing.T) {
	t.Parallel()
	r := plugRaw(t, Options{Personality: ZTE, BootScale: 1, URCEvery: 20 * time.Millisecond})
	r.until("+ZUSIMR:2\r\n")
	r.do("ATE0;+CMEE=1", "OK\r\n")
	// Row 24: +CPMS? is SIM busy for a while after the SIM is up; asking
	// it stops the +ZUSIMR:2 flood.
	if got := r.do("AT+CPMS?", "\r\n+CME ERROR: 14\r\n"); !strings.HasSuffix(got, "\r\n+CME ERROR: 14\r\n") {
		t.Errorf("+CPMS?: %q", got)
	}
	r.do("AT", "OK\r\n") // a flood line may have been on its way
	for range 5 {
		if got := r.do("AT+CSQ", "OK\r\n"); strings.Contains(got, "ZUSIMR") {
			t.Errorf("+ZUSIMR after +CPMS?: %q", got)
		}
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		got := r.do("AT+CPMS?", "\r\n")
		for !strings.HasSuffix(got, "OK\r\n") && !strings.HasSuffix(got, "ERROR: 14\r\n") {
			got += r.until("\r\n")
		}
		got = strings.ReplaceAll(got, "\r\n+ZPASR: \"UMTS\"\r\n", "")
		if got == okReply(`+CPMS: "SM",0,30,"SM",0,30,"SM",0,30`) {
			break
		}
		if got != "\r\n+CME ERROR: 14\r\n" || time.Now().After(deadline) {
			t.Fatalf("+CPMS?: %q", got)
		}
	}
	// Row 30: UCS2 hex, unquoted.
	r.check("AT+CSCA?", okReply("+CSCA: 002B00330033003600300039003000300031003300390030,145"))
	r.check("AT+CNMI=2,1,0,2,0", okReply())
	if err := r.m.Inject("+33698765432", "bonjour"); err != nil {
		t.Fatal(err)
	}
	r.until("\r\n+CMTI: \"SM\",0\r\n")
	// Row 44: +CMGR without <stat>.
	if got := r.do("AT+CMGR=0", "OK\r\n"); !strings.HasPrefix(got, "\r\n+CMGR: ,,") {
		t.Errorf("+CMGR: %q", got)
	}
}

// Cinterion PHS8 and MC75i: row 28.
func TestFamilyCinterion(t *testing.T) {
	t.Parallel()
	t.Run("PHS8", func(t *testing.T) {
		r := plugRaw(t, Options{Personality: CinterionPHS8})
		r.do("ATE0", "OK\r\n")
		r.check("AT+CNMI=?", okReply("+CNMI: (0,1,2),(0,1),(0,2),(0),(1)"))
		for _, cnmi := range []string{"2,1,0,2,0", "2,1,0,0,0", "1,1,0,0,0", "2,1,0,2,1"} {
			r.check("AT+CNMI="+cnmi, "\r\n+CMS ERROR: 303\r\n")
		}
		r.check("AT+CNMI=2,1,0,0,1", okReply())
		r.check("AT+CNMI=1,1;+CNMI?", okReply("+CNMI: 1,1,0,0,1")) // <bfr> 1 when omitted
		r.send("+33612345678", "vol")
		r.check("AT", okReply()) // <ds> 0: no report, stored or not
		if n := r.m.Stored(); n != 0 {
			t.Errorf("stored %d", n)
		}
	})
	t.Run("MC75i", func(t *testing.T) {
		r := plugRaw(t, Options{Personality: CinterionMC75i})
		r.do("ATE0", "OK\r\n")
		r.check("AT+CNMI=?", okReply("+CNMI: (0-3),(0,1),(0,2,3),(0,2),(1)"))
		r.check("AT+CNMI=2,1,0,2,0", "\r\n+CMS ERROR: 303\r\n")
		r.check("AT+CNMI=2,1,0,2,1", okReply())
		r.check(`AT+CPMS="ME","ME","ME"`, "\r\n+CMS ERROR: 302\r\n")
		r.check(`AT+CPMS="ME","ME","SM"`, okReply("+CPMS: 0,100,0,100,0,30"))
		r.send("+33612345678", "vol")
		r.until("\r\n+CDSI: \"SM\",1\r\n") // in <mem3>, from 1
	})
}

// Sierra SL808x / Wavecom: rows 36, 40.
func TestFamilySierra(t *testing.T) {
	t.Parallel()
	r := plugRaw(t, Options{Personality: Sierra})
	r.do("ATE0", "OK\r\n")
	// The reply ends with +CPIN: READY: the next command's answer follows.
	rawWrite(t, r.port, "AT+CPIN?\rAT+CSQ\r")
	if got := r.until("OK\r\n"); got != "\r\n+CPIN: READY\r\n"+okReply("+CSQ: 20,99") {
		t.Errorf("got %q", got)
	}
	r.check("AT+CPIN=?", okReply())
}

// u-blox SARA-R4/R5: rows 48, 49.
func TestFamilyUblox(t *testing.T) {
	t.Parallel()
	r := plugRaw(t, Options{Personality: Ublox, BootScale: 1})
	r.do("ATE0;+CMEE=1", "OK\r\n")
	var answers []string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		got := r.do("AT+CPIN?", "\r\n")
		for !strings.HasSuffix(got, "OK\r\n") && !strings.HasSuffix(got, "ERROR\r\n") && !strings.Contains(got, "ERROR: ") {
			got += r.until("\r\n")
		}
		if len(answers) == 0 || answers[len(answers)-1] != got {
			answers = append(answers, got)
		}
		if got == okReply("+CPIN: READY") {
			break
		}
	}
	want := []string{"\r\n+CME ERROR: SIM busy\r\n", "\r\n+CME ERROR: 3\r\n", "\r\nERROR\r\n", okReply("+CPIN: READY")}
	if fmt.Sprintf("%q", answers) != fmt.Sprintf("%q", want) {
		t.Errorf("+CPIN? answers in turn:\n %q\nwant %q", answers, want)
	}
}

// recorder keeps each write apart.
type recorder struct{ writes []string }

func (w *recorder) Write(p []byte) (int, error) {
	w.writes = append(w.writes, string(p))
	return len(p), nil
}
func (w *recorder) Read([]byte) (int, error) { return 0, errors.New("write only") }

// Row 49: the LF of "+CME ERROR: 3" comes in a write of its own.
func TestUbloxSplitFinal(t *testing.T) {
	m := New(Options{Personality: Ublox, BootScale: 1})
	t.Cleanup(func() { _ = m.Close() })
	w := &recorder{}
	s := newSession(m, w)
	m.mu.Lock()
	m.poweredAt = time.Now().Add(-2 * time.Second) // in the "+CME ERROR: 3" phase
	m.mu.Unlock()
	s.input([]byte("ATE0\r"))
	if err := s.flush(); err != nil {
		t.Fatal(err)
	}
	w.writes = nil
	s.input([]byte("AT+CPIN?\r"))
	if err := s.flush(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%q", w.writes) != fmt.Sprintf("%q", []string{"\r\n+CME ERROR: 3\r", "\n"}) {
		t.Errorf("writes %q", w.writes)
	}
}

// Row 34: "some phones" end the PDU line with ",0".
func TestPDUTrailer(t *testing.T) {
	h := newHarness(t, Options{PDUTrailer: true})
	h.send("ATE0\r")
	if err := h.m.Inject("+33698765432", "x"); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"AT+CMGL=4\r", "AT+CMGR=0\r"} {
		got := h.send(cmd)
		lines := strings.Split(strings.TrimSpace(got), "\r\n")
		if len(lines) < 3 || !strings.HasSuffix(lines[len(lines)-3], ",0") || !strings.HasPrefix(lines[len(lines)-3], "07") {
			t.Errorf("%q: %q", cmd, got)
		}
	}
}

// The SMS subsystem answers once its ready line is out of the port: a
// command handled in the step that queues the line is refused, and its
// refusal comes before the line (under load, an OK came before it).
func TestSMSReadyOnceItsLineIsWritten(t *testing.T) {
	h := newHarness(t, Options{Personality: SIM800, BootScale: 1000})
	h.m.mu.Lock()
	h.m.smsReady = false
	h.m.timedLineLocked(timedLine{line: "SMS Ready", smsReady: true})
	h.m.mu.Unlock()
	got := h.send("AT+CMGF=1\r")
	refused, ready := strings.Index(got, "ERROR"), strings.Index(got, "SMS Ready")
	if refused < 0 || ready < refused {
		t.Fatalf("AT+CMGF=1 in the step of the ready line: %q, want refused, then the line", got)
	}
	if got := h.send("AT+CMGF=1\r"); !strings.HasSuffix(got, "OK\r\n") {
		t.Errorf("AT+CMGF=1 after the line: %q, want OK", got)
	}
}
