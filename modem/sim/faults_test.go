package sim

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/warthog618/modem/at"
	"github.com/warthog618/sms"
	"github.com/warthog618/sms/encoding/tpdu"
	"go.bug.st/serial"
)

// waitGone reads port until it fails, as a client does when the modem's
// device node goes away.
func waitGone(t *testing.T, port serial.Port) {
	t.Helper()
	if err := port.SetReadTimeout(100 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 256)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if _, err := port.Read(buf); err != nil {
			return
		}
	}
	t.Fatal("the port still reads after the modem went away")
}

// waitReplug waits for the old port to fail and the link to come back, and
// opens the new port.
func waitReplug(t *testing.T, link string, old serial.Port) serial.Port {
	t.Helper()
	waitGone(t, old)
	return waitLink(t, link)
}

// waitLink waits for the link to lead to a device, and opens it.
func waitLink(t *testing.T, link string) serial.Port {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(link); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not come back", link)
		}
	}
	return openPort(t, link)
}

// TestReboot checks AT+CFUN=1,1 over a real pty: OK, then the device node
// vanishes for RebootDelay, then a new one appears behind the same link; the
// settings are back to their power-up values, the storage is kept, and a
// confused firmware (SetBroken) is cured.
func TestReboot(t *testing.T) {
	m := New(Options{RebootDelay: 300 * time.Millisecond})
	t.Cleanup(func() { _ = m.Close() })
	link := filepath.Join(t.TempDir(), "modem")
	path1, err := m.OpenPTY(link)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := newDriver(t, link)
	if err := m.Inject("+33698765432", "garde-moi"); err != nil {
		t.Fatal(err)
	}
	m.SetBroken(true)
	if _, err := send(t, a, "+33612345678", "x", false); err == nil || !strings.Contains(err.Error(), "300") {
		t.Errorf("broken modem: %v, want +CMS ERROR: 300", err)
	}
	if info, err := command(a, "+CFUN=1,1"); err != nil || len(info) != 0 {
		t.Fatalf("AT+CFUN=1,1: %q, %v", info, err)
	}
	select {
	case <-a.Closed():
	case <-time.After(10 * time.Second):
		t.Fatal("the at driver did not see the reboot")
	}
	if _, err := os.Lstat(link); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("link during the reboot: %v", err)
	}
	port := waitLink(t, link)
	path2, err := os.Readlink(link)
	if err != nil || path2 == path1 {
		t.Errorf("after reboot the link points to %q (%v), before %q", path2, err, path1)
	}
	if _, err := os.Stat(path1); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the old device %s after the reboot: %v", path1, err)
	}
	rawWrite(t, port, "AT+CMGF?\r")
	if got := rawExpect(t, port, "OK\r\n"); got != "AT+CMGF?\r"+okReply("+CMGF: 0") {
		t.Errorf("settings after reboot (echo on, PDU mode): %q", got)
	}
	rawWrite(t, port, "ATE0\r")
	rawExpect(t, port, "OK\r\n")
	rawWrite(t, port, "AT+CMGL=4\r")
	if got := rawExpect(t, port, "OK\r\n"); !strings.HasPrefix(got, "\r\n+CMGL: 0,0,,") {
		t.Errorf("storage after reboot: %q", got)
	}
	if err := port.Close(); err != nil {
		t.Fatal(err)
	}
	a, _ = newDriver(t, link)
	if _, err := send(t, a, "+33612345678", "réparé", false); err != nil {
		t.Errorf("send after reboot: %v", err)
	}
	if got := m.Received("+33612345678"); len(got) != 1 || got[0].Text != "réparé" {
		t.Errorf("received %+v", got)
	}
	if m.Resets() != 1 || m.CommandCount("+CFUN=1,1") != 1 {
		t.Errorf("Resets() = %d, CommandCount(+CFUN=1,1) = %d", m.Resets(), m.CommandCount("+CFUN=1,1"))
	}
}

// TestRebootWithoutPTY: on a pipe the modem restarts at once, in place.
func TestRebootWithoutPTY(t *testing.T) {
	h := newHarness(t, Options{PIN: "1234"})
	h.send("ATE0\rAT+CMEE=1\r" + `AT+CPIN="1234"` + "\r")
	h.m.SetBroken(true)
	if got := h.send("AT+CFUN=1,1\r"); got != okReply() {
		t.Errorf("AT+CFUN=1,1: %q", got)
	}
	if got := h.send("AT+CPIN?\r"); got != "AT+CPIN?\r"+okReply("+CPIN: SIM PIN") {
		t.Errorf("after reboot (echo on, SIM locked): %q", got)
	}
	if h.m.Resets() != 1 {
		t.Errorf("Resets() = %d", h.m.Resets())
	}
	h.send("ATE0\r" + `AT+CPIN="1234"` + "\r")
	cmd := submitHex(t, "+33612345678", "x", false)
	if got := h.send(cmd[0] + cmd[1] + "\x1a"); got != "\r\n> "+okReply("+CMGS: 0") {
		t.Errorf("send after reboot (no longer broken): %q", got)
	}
}

// A wedged firmware stays confused through AT+CFUN=1,1; a replug (what a
// USB reset does) cures it.
func TestWedgedSurvivesReboot(t *testing.T) {
	h := newHarness(t, Options{})
	h.send("ATE0\rAT+CMEE=1\r")
	h.m.SetWedged(true)
	cmd := submitHex(t, "+33612345678", "x", false)
	for _, when := range []string{"wedged", "after AT+CFUN=1,1"} {
		if got := h.send(cmd[0] + cmd[1] + "\x1a"); got != "\r\n> \r\n+CMS ERROR: 300\r\n" {
			t.Errorf("send %s: %q, want ME failure", when, got)
		}
		h.send("AT+CFUN=1,1\r")
		h.send("ATE0\rAT+CMEE=1\r")
	}
	if h.m.Resets() != 2 {
		t.Errorf("Resets() = %d", h.m.Resets())
	}
	if err := h.m.Unplug(); err != nil {
		t.Fatal(err)
	}
	h.m.mu.Lock()
	h.m.powerUpLocked() // OpenPTY's power-up, without a pseudo-terminal
	h.m.mu.Unlock()
	h.send("ATE0\rAT+CMEE=1\r")
	if got := h.send(cmd[0] + cmd[1] + "\x1a"); got != "\r\n> "+okReply("+CMGS: 0") {
		t.Errorf("send after a replug: %q", got)
	}
}

func TestSIMBusy(t *testing.T) {
	_, link := plugged(t, Options{SIMBusy: 1500 * time.Millisecond, RebootDelay: 10 * time.Millisecond})
	port := openPort(t, link)
	busyThenReady := func(when string) {
		t.Helper()
		rawWrite(t, port, "ATE0;+CMEE=1\r")
		rawExpect(t, port, "OK\r\n")
		rawWrite(t, port, "AT+CPIN?\r")
		if got := rawExpect(t, port, "\r\n"+"+CME ERROR: 14\r\n"); got != "\r\n+CME ERROR: 14\r\n" {
			t.Errorf("%s: +CPIN? %q", when, got)
		}
		rawWrite(t, port, "AT+CMGL=4\r")
		if got := rawExpect(t, port, "14\r\n"); got != "\r\n+CME ERROR: 14\r\n" {
			t.Errorf("%s: +CMGL %q", when, got)
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			rawWrite(t, port, "AT+CPIN?\r")
			got := rawExpect(t, port, "\r\n")
			for !strings.HasSuffix(got, "OK\r\n") && !strings.HasSuffix(got, "ERROR: 14\r\n") {
				got += rawExpect(t, port, "\r\n")
			}
			if got == okReply("+CPIN: READY") {
				break
			}
			if got != "\r\n+CME ERROR: 14\r\n" || time.Now().After(deadline) {
				t.Fatalf("%s: +CPIN? %q", when, got)
			}
		}
		rawWrite(t, port, "AT+CMGL=4\r")
		if got := rawExpect(t, port, "OK\r\n"); got != okReply() {
			t.Errorf("%s: +CMGL once ready: %q", when, got)
		}
	}
	busyThenReady("after power-on")
	rawWrite(t, port, "AT+CFUN=1,1\r")
	rawExpect(t, port, "OK\r\n")
	port = waitReplug(t, link, port)
	busyThenReady("after reboot")
}

func TestFailRate(t *testing.T) {
	run := func(seed uint64) []bool {
		h := newHarness(t, Options{Seed: seed})
		h.send("ATE0\r")
		h.m.FailRate(38, 0.25)
		var failed []bool
		for i := range 200 {
			cmd := submitHex(t, "+33612345678", fmt.Sprint(i), false)
			got := strings.TrimPrefix(h.send(cmd[0]+cmd[1]+"\x1a"), "\r\n> ")
			switch {
			case got == "\r\n+CMS ERROR: 38\r\n":
				failed = append(failed, true)
			case strings.HasPrefix(got, "\r\n+CMGS: "):
				failed = append(failed, false)
			default:
				t.Fatalf("send %d: %q", i, got)
			}
		}
		n := 0
		for _, f := range failed {
			if f {
				n++
			}
		}
		if got := len(h.m.Received("+33612345678")); got != 200-n {
			t.Errorf("seed %d: %d failed but %d delivered", seed, n, got)
		}
		h.m.FailRate(0, 0)
		cmd := submitHex(t, "+33612345678", "x", false)
		if got := h.send(cmd[0] + cmd[1] + "\x1a"); !strings.Contains(got, "+CMGS: ") {
			t.Errorf("after FailRate(0, 0): %q", got)
		}
		return failed
	}
	count := func(fs []bool) (n int) {
		for _, f := range fs {
			if f {
				n++
			}
		}
		return n
	}
	a, b, c := run(7), run(7), run(8)
	if n := count(a); n != 53 {
		t.Errorf("seed 7: %d of 200 failed, want 53 (about a quarter)", n)
	}
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Error("the same seed gave other failures")
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Error("another seed gave the same failures")
	}
	if n := count(c); n < 30 || n > 70 {
		t.Errorf("seed 8: %d of 200 failed at a rate of 0.25", n)
	}
}

func TestFailRateCodesDrawsAmongCodes(t *testing.T) {
	h := newHarness(t, Options{Seed: 3})
	h.send("ATE0\r")
	h.m.FailRateCodes(0.3, 38, 500)
	seen := map[string]int{}
	for i := range 300 {
		cmd := submitHex(t, "+33612345678", fmt.Sprint(i), false)
		got := strings.TrimPrefix(h.send(cmd[0]+cmd[1]+"\x1a"), "\r\n> ")
		switch {
		case got == "\r\n+CMS ERROR: 38\r\n", got == "\r\n+CMS ERROR: 500\r\n":
			seen[got]++
		case strings.HasPrefix(got, "\r\n+CMGS: "):
			seen["sent"]++
		default:
			t.Fatalf("send %d: %q", i, got)
		}
	}
	failed := 300 - seen["sent"]
	if failed < 60 || failed > 120 || len(seen) != 3 {
		t.Errorf("outcomes %v: want about 30 %% failed, with both codes", seen)
	}
	if got := len(h.m.Received("+33612345678")); got != seen["sent"] {
		t.Errorf("%d delivered, %d sent", got, seen["sent"])
	}
	h.m.FailRateCodes(0.3)
	cmd := submitHex(t, "+33612345678", "x", false)
	for range 20 {
		if got := h.send(cmd[0] + cmd[1] + "\x1a"); !strings.Contains(got, "+CMGS: ") {
			t.Fatalf("after FailRateCodes without codes: %q", got)
		}
	}
}

func TestErrorAfterPDU(t *testing.T) {
	for _, sent := range []bool{false, true} {
		t.Run(fmt.Sprintf("sent=%v", sent), func(t *testing.T) {
			h := newHarness(t, Options{})
			h.send("ATE0\r")
			h.send("AT+CMEE=1\r") // a stray ERROR stays bare whatever the mode
			h.m.ErrorAfterPDU(2, sent)
			cmd := submitHex(t, "+33612345678", "Alerte", false)
			for i := range 2 {
				if got := h.send(cmd[0]); got != "\r\n> " {
					t.Fatalf("submit %d: %q before the PDU, want the prompt", i, got)
				}
				if got := h.send(cmd[1] + "\x1a"); got != "\r\nERROR\r\n" {
					t.Fatalf("submit %d: %q after the PDU, want a bare ERROR", i, got)
				}
			}
			want := 0
			if sent {
				want = 2
			}
			if got := len(h.m.Received("+33612345678")); got != want {
				t.Errorf("phone got %d SMS, want %d", got, want)
			}
			// Then the modem answers as usual again.
			if got := h.send(cmd[0] + cmd[1] + "\x1a"); !strings.Contains(got, "+CMGS: ") {
				t.Errorf("third submit: %q", got)
			}
			if got := len(h.m.Received("+33612345678")); got != want+1 {
				t.Errorf("phone got %d SMS, want %d", got, want+1)
			}
		})
	}
}

func TestHangAfter(t *testing.T) {
	h := newHarness(t, Options{})
	h.send("ATE0\r")
	h.m.HangAfter(2)
	// Three command lines in one read: two answered, then silence.
	if got := h.send("AT\rAT+CSQ\rAT\r"); got != okReply()+okReply("+CSQ: 20,99") {
		t.Errorf("got %q", got)
	}
	if got := h.send("AT\r"); got != "" {
		t.Errorf("hung modem answered %q", got)
	}
	if err := h.m.Inject("+33698765432", "x"); err != nil {
		t.Fatal(err)
	}
	h.m.Emit("RING")
	if got := h.idle(); got != "" {
		t.Errorf("hung modem announced %q", got)
	}
	h.m.SetHang(false)
	if got := h.send("AT\r"); got != okReply() {
		t.Errorf("after SetHang(false): %q", got)
	}

	// The countdown includes a +CMGS: its PDU is taken, its answer is the last.
	h.m.HangAfter(1)
	cmd := submitHex(t, "+33612345678", "x", false)
	if got := h.send(cmd[0] + cmd[1] + "\x1aAT\r"); got != "\r\n> "+okReply("+CMGS: 0") {
		t.Errorf("got %q", got)
	}
	if got := h.send("AT\r"); got != "" {
		t.Errorf("hung modem answered %q", got)
	}
}

// TestHangAfterReplug: over a real pty, only a USB replug (or SetHang(false))
// revives a hung modem.
func TestHangAfterReplug(t *testing.T) {
	m, link := plugged(t, Options{})
	a, _ := newDriver(t, link)
	m.HangAfter(1)
	if _, err := command(a, "+CSQ"); err != nil {
		t.Fatalf("the last command before the hang: %v", err)
	}
	if info, err := a.Command("+CSQ", at.WithTimeout(300*time.Millisecond)); !errors.Is(err, at.ErrDeadlineExceeded) {
		t.Fatalf("hung modem: %q, %v", info, err)
	}
	if err := m.Unplug(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.OpenPTY(link); err != nil {
		t.Fatal(err)
	}
	a, _ = newDriver(t, link)
	if info, err := command(a, "+CSQ"); err != nil || len(info) != 1 {
		t.Errorf("after replug: %q, %v", info, err)
	}
}

func TestEmitDuringNextCommand(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		in    string
		want  string
	}{
		{"after the first info line", []string{"^RSSI:20", "RING"}, "AT+CGMI;+CGMM\r",
			"\r\n" + manufacturer + "\r\n\r\n^RSSI:20\r\n\r\nRING\r\n\r\n" + model + "\r\n\r\nOK\r\n"},
		{"before a bare final result", []string{"+CREG: 1"}, "AT\r", "\r\n+CREG: 1\r\n\r\nOK\r\n"},
		{"before an error", []string{""}, "AT+NOPE\r", "\r\n\r\n\r\nERROR\r\n"},
		{"inside the +CMGS result", []string{"^BOOT:1"}, "+CMGS",
			"\r\n> \r\n+CMGS: 0\r\n\r\n^BOOT:1\r\n\r\nOK\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Options{})
			h.send("ATE0\r")
			h.m.EmitDuringNextCommand(tt.lines...)
			in := tt.in
			if in == "+CMGS" {
				cmd := submitHex(t, "+33612345678", "x", false)
				in = cmd[0] + cmd[1] + "\x1a"
			}
			if got := h.send(in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if got := h.send("AT\r"); got != okReply() {
				t.Errorf("the command after: %q", got)
			}
		})
	}
}

func TestEmit(t *testing.T) {
	h := newHarness(t, Options{})
	h.send("ATE0\r")
	// Between commands.
	h.m.Emit("RING", "", "\xff\x00#garbage")
	if got, want := h.idle(), "\r\nRING\r\n\r\n\r\n\r\n\xff\x00#garbage\r\n"; got != want {
		t.Errorf("idle: %q, want %q", got, want)
	}
	// Inside a half-typed command line, unlike the URCs that wait.
	h.send("ATE1\rAT+CS")
	h.m.Emit("NO CARRIER")
	if got := h.idle(); got != "\r\nNO CARRIER\r\n" {
		t.Errorf("half-typed line: %q", got)
	}
	if got := h.send("Q\r"); got != "Q\r"+okReply("+CSQ: 20,99") {
		t.Errorf("the line goes on: %q", got)
	}
}

// TestEmitPTY: over a real pty the at driver of the gateway gets the lines.
func TestEmitPTY(t *testing.T) {
	m := New(Options{})
	t.Cleanup(func() { _ = m.Close() })
	path, err := m.OpenPTY("")
	if err != nil {
		t.Fatal(err)
	}
	port := openPort(t, path)
	rawWrite(t, port, "ATE0\r")
	rawExpect(t, port, "OK\r\n")
	m.Emit("RING", "NO CARRIER")
	if got := rawExpect(t, port, "NO CARRIER\r\n"); got != "\r\nRING\r\n\r\nNO CARRIER\r\n" {
		t.Errorf("got %q", got)
	}
}

func TestCommandCount(t *testing.T) {
	h := newHarness(t, Options{PIN: "1234", Personality: Huawei, URCEvery: time.Hour})
	h.send("ATE0\r" + `AT+CPIN="0000"` + "\r" + `at+cpin="1234"` + "\rAT+CPIN?\rat^curc=0\rAT+CMMS=1\rAT+CMMS=1;+CMMS?\r")
	tests := []struct {
		prefix string
		want   int
	}{
		{"+CPIN=", 2},
		{"+cpin", 3},
		{"^CURC=0", 1},
		{"+CMMS=1", 2},
		{"+CMMS=1;", 1},
		{"", 7},
		{"+CSQ", 0},
	}
	for _, tt := range tests {
		if got := h.m.CommandCount(tt.prefix); got != tt.want {
			t.Errorf("CommandCount(%q) = %d, want %d", tt.prefix, got, tt.want)
		}
	}
}

func TestReportDelay(t *testing.T) {
	m := New(Options{ReportDelay: 100 * time.Millisecond})
	t.Cleanup(func() { _ = m.Close() })
	path, err := m.OpenPTY("")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := newDriver(t, path)
	cdsi := make(chan string, 4)
	if err := a.AddIndication("+CDSI:", func(info []string) { cdsi <- info[0] }); err != nil {
		t.Fatal(err)
	}
	m.SetReportStatus("+33612345678", 0x46) // permanent failure: expired
	infos, err := send(t, a, "+33612345678", "x", true)
	if err != nil || len(infos) != 1 {
		t.Fatalf("send: %q, %v", infos, err)
	}
	// The report is generated later by the modem's own goroutine.
	i := index(t, recv(t, cdsi))
	stat, sr := readStored(t, a, i, sms.AsMT)
	if stat != statUnread || sr.SmsType() != tpdu.SmsStatusReport || sr.ST != 0x46 || sr.RA.Number() != "+33612345678" {
		t.Errorf("stored report: stat %d, %+v", stat, sr)
	}
	if fmt.Sprintf("+CMGS: %d", sr.MR) != infos[0] {
		t.Errorf("report for MR %d, +CMGS said %q", sr.MR, infos[0])
	}
}

// TestCloseStopsPending: Close ends the goroutines of a pending reboot, a
// pending status report and the Huawei flood.
func TestCloseStopsPending(t *testing.T) {
	before := runtime.NumGoroutine()
	m := New(Options{Personality: Huawei, URCEvery: time.Millisecond, ReportDelay: time.Hour, RebootDelay: time.Hour})
	h := &harness{m: m, out: &bytes.Buffer{}}
	h.s = newSession(m, h.out)
	m.mu.Lock()
	m.sessions[h.s] = struct{}{}
	m.mu.Unlock()
	h.send("ATE0\rAT+CNMI=2,1,0,2,0\r")
	cmd := submitHex(t, "+33612345678", "x", true)
	if got := h.send(cmd[0] + cmd[1] + "\x1a"); !strings.Contains(got, "+CMGS: 0") {
		t.Fatalf("send: %q", got)
	}
	path, err := m.OpenPTY("")
	if err != nil {
		t.Fatal(err)
	}
	port, err := serial.Open(path, &serial.Mode{BaudRate: 115200})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = port.Close() }()
	rawWrite(t, port, "AT+CFUN=1,1\r")
	rawExpect(t, port, "OK\r\n")
	waitGone(t, port)
	if m.Stored() != 0 {
		t.Errorf("the status report came %d early", m.Stored())
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); runtime.NumGoroutine() > before; {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines left, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
