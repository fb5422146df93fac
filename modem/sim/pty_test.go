package sim

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/warthog618/modem/at"
	"github.com/warthog618/sms"
	"github.com/warthog618/sms/encoding/pdumode"
	"github.com/warthog618/sms/encoding/tpdu"
	"go.bug.st/serial"
)

// openPort opens the modem's pseudo-terminal with the real serial library.
func openPort(t *testing.T, path string) serial.Port {
	t.Helper()
	port, err := serial.Open(path, &serial.Mode{BaudRate: 115200})
	if err != nil {
		t.Fatalf("serial.Open(%s): %v", path, err)
	}
	t.Cleanup(func() { _ = port.Close() })
	return port
}

// newDriver opens the pty behind link with the at driver, initialised as the
// gateway does (ATZ, ATE0, then numeric errors, PDU mode, store-then-notify).
func newDriver(t *testing.T, link string) (*at.AT, serial.Port) {
	t.Helper()
	port := openPort(t, link)
	a := at.New(port, at.WithTimeout(5*time.Second))
	if err := a.Init(); err != nil {
		t.Fatalf("Init: %v", err)
	}
	for _, cmd := range []string{"+CMEE=1", "+CMGF=0", "+CNMI=2,1,0,2,0"} {
		if _, err := a.Command(cmd); err != nil {
			t.Fatalf("AT%s: %v", cmd, err)
		}
	}
	return a, port
}

// submitPDUs encodes text to to as PDU-mode hex strings and TPDU lengths.
func submitPDUs(t *testing.T, to, text string, srr bool) (hexes []string, lens []int) {
	t.Helper()
	tpdus, err := sms.Encode([]byte(text), sms.To(to))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range tpdus {
		if srr {
			p.FirstOctet |= tpdu.FoSRR
		}
		b, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		pm := pdumode.PDU{TPDU: b}
		h, err := pm.MarshalHexString()
		if err != nil {
			t.Fatal(err)
		}
		hexes, lens = append(hexes, h), append(lens, len(b))
	}
	return hexes, lens
}

// send submits text to to through the driver and returns the +CMGS answers.
func send(t *testing.T, a *at.AT, to, text string, srr bool) ([]string, error) {
	t.Helper()
	hexes, lens := submitPDUs(t, to, text, srr)
	var infos []string
	for i, h := range hexes {
		info, err := a.SMSCommand(fmt.Sprintf("+CMGS=%d", lens[i]), h)
		if err != nil {
			return infos, err
		}
		infos = append(infos, withoutURCs(info)...)
	}
	return infos, nil
}

// command runs cmd and drops the indication lines from its answer: the at
// driver (v0.4.0) hands every line to its indication handler AND to the
// pending command, so a URC that the modem wrote just after the previous
// final result code can land in the next command's answer.
func command(a *at.AT, cmd string) ([]string, error) {
	info, err := a.Command(cmd)
	return withoutURCs(info), err
}

func withoutURCs(info []string) []string {
	var out []string
	for _, l := range info {
		if !strings.HasPrefix(l, "+CMTI:") && !strings.HasPrefix(l, "+CDSI:") {
			out = append(out, l)
		}
	}
	return out
}

// readStored reads a message with +CMGR and unmarshals its TPDU.
func readStored(t *testing.T, a *at.AT, index int, dir sms.UnmarshalOption) (stat int, msg *tpdu.TPDU) {
	t.Helper()
	info, err := command(a, fmt.Sprintf("+CMGR=%d", index))
	if err != nil || len(info) != 2 {
		t.Fatalf("+CMGR=%d: %q, %v", index, info, err)
	}
	var length int
	if _, err := fmt.Sscanf(info[0], "+CMGR: %d,,%d", &stat, &length); err != nil {
		t.Fatalf("+CMGR header %q: %v", info[0], err)
	}
	if info[1] != strings.ToUpper(info[1]) {
		t.Errorf("PDU %q is not upper-case hex", info[1])
	}
	p, err := pdumode.UnmarshalHexString(info[1])
	if err != nil {
		t.Fatalf("PDU %q: %v", info[1], err)
	}
	if p.SMSC.Number() != DefaultSMSC {
		t.Errorf("SMSC prefix = %q, want %q", p.SMSC.Number(), DefaultSMSC)
	}
	if len(p.TPDU) != length {
		t.Errorf("+CMGR length %d, TPDU is %d octets", length, len(p.TPDU))
	}
	msg, err = sms.Unmarshal(p.TPDU, dir)
	if err != nil {
		t.Fatalf("TPDU: %v", err)
	}
	return stat, msg
}

// index extracts <index> from `+CMTI: "SM",<index>` and the like.
func index(t *testing.T, urc string) int {
	t.Helper()
	_, n, found := strings.Cut(urc, `"SM",`)
	i, err := strconv.Atoi(n)
	if !found || err != nil {
		t.Fatalf("bad indication %q", urc)
	}
	return i
}

func recv(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no indication")
		return ""
	}
}

// TestEndToEnd drives the simulated modem exactly as the gateway drives a
// real one: pty, go.bug.st/serial, the at driver, sms PDUs.
func TestEndToEnd(t *testing.T) {
	m := New(Options{SendDelay: 5 * time.Millisecond})
	t.Cleanup(func() { _ = m.Close() })
	link := filepath.Join(t.TempDir(), "ttyVIGIE")
	path, err := m.OpenPTY(link)
	if err != nil {
		t.Fatal(err)
	}
	if target, err := os.Readlink(link); err != nil || target != path || !strings.HasPrefix(path, "/dev/pts/") {
		t.Fatalf("link %s -> %q (%v), pty %s", link, target, err, path)
	}
	a, _ := newDriver(t, link)
	cmti, cdsi := make(chan string, 10), make(chan string, 10)
	for prefix, ch := range map[string]chan string{"+CMTI:": cmti, "+CDSI:": cdsi} {
		if err := a.AddIndication(prefix, func(l []string) { ch <- l[0] }); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	t.Run("probe", func(t *testing.T) {
		for cmd, want := range map[string]string{
			"+CPIN?": "+CPIN: READY", "+CSQ": "+CSQ: 20,99", "+CREG?": "+CREG: 0,1",
			"+CEREG?": "+CEREG: 0,1", "+COPS?": `+COPS: 0,0,"Orange F",7`, "+CGMI": "Vigie-Sim",
			"+CSCA?": `+CSCA: "+33609001390",145`, "+CMGF?": "+CMGF: 0",
		} {
			if info, err := a.Command(cmd); err != nil || len(info) != 1 || info[0] != want {
				t.Errorf("AT%s = %q, %v; want %q", cmd, info, err, want)
			}
		}
	})

	t.Run("send", func(t *testing.T) {
		info, err := send(t, a, "+33612345678", "Bonjour, réunion à 18h", false)
		if err != nil || len(info) != 1 || info[0] != "+CMGS: 0" {
			t.Fatalf("send: %q, %v", info, err)
		}
		got, err := m.WaitReceived(ctx, "+33612345678", 1)
		if err != nil {
			t.Fatal(err)
		}
		if g := got[0]; g.Text != "Bonjour, réunion à 18h" || g.Parts != 1 || g.Alphabet != "GSM7" ||
			g.SRR || g.From != DefaultNumber || fmt.Sprint(g.Refs) != "[0]" || g.At.IsZero() {
			t.Errorf("received %+v", g)
		}
	})

	t.Run("long UCS-2 with status reports", func(t *testing.T) {
		text := strings.Repeat("Внимание: ", 17) // 170 UCS-2 characters: 3 parts
		info, err := send(t, a, "+33612345678", text, true)
		if err != nil || fmt.Sprint(info) != "[+CMGS: 1 +CMGS: 2 +CMGS: 3]" {
			t.Fatalf("send: %q, %v", info, err)
		}
		got, err := m.WaitReceived(ctx, "+33612345678", 2)
		if err != nil {
			t.Fatal(err)
		}
		if g := got[1]; g.Text != text || g.Parts != 3 || g.Alphabet != "UCS2" || !g.SRR || fmt.Sprint(g.Refs) != "[1 2 3]" {
			t.Errorf("received %+v", g)
		}
		for mr := 1; mr <= 3; mr++ {
			i := index(t, recv(t, cdsi))
			_, rep := readStored(t, a, i, sms.AsMT)
			if rep.SmsType() != tpdu.SmsStatusReport || int(rep.MR) != mr || rep.RA.Number() != "+33612345678" || rep.ST != 0 {
				t.Errorf("status report %d: %+v", i, rep)
			}
			if _, err := a.Command(fmt.Sprintf("+CMGD=%d", i)); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("inject and read", func(t *testing.T) {
		if err := m.Inject("+33698765432", "Bonjour, c'est Léa"); err != nil {
			t.Fatal(err)
		}
		i := index(t, recv(t, cmti))
		stat, msg := readStored(t, a, i, sms.AsMT)
		text, err := sms.Decode([]*tpdu.TPDU{msg})
		if err != nil || stat != 0 || string(text) != "Bonjour, c'est Léa" || msg.OA.Number() != "+33698765432" || msg.SCTS.IsZero() {
			t.Errorf("+CMGR=%d: stat %d, text %q (%v), OA %q", i, stat, text, err, msg.OA.Number())
		}
		if stat, _ := readStored(t, a, i, sms.AsMT); stat != 1 {
			t.Errorf("second read: stat %d, want 1 (read)", stat)
		}

		if err := m.Inject("VIGIE", strings.Repeat("Message long de la CCI. ", 8)); err != nil {
			t.Fatal(err)
		}
		var segs []*tpdu.TPDU
		for range 2 {
			_, p := readStored(t, a, index(t, recv(t, cmti)), sms.AsMT)
			if p.OA.Number() != "VIGIE" || p.OA.TypeOfNumber() != tpdu.TonAlphanumeric {
				t.Errorf("OA = %+v", p.OA)
			}
			segs = append(segs, p)
		}
		// The two +CMTI may reach us in either order (the AT driver hands
		// each indication to its own handler call): put the parts in order.
		slices.SortFunc(segs, func(x, y *tpdu.TPDU) int {
			_, sx, _, _ := x.ConcatInfo()
			_, sy, _, _ := y.ConcatInfo()
			return sx - sy
		})
		if text, err := sms.Decode(segs); err != nil || string(text) != strings.Repeat("Message long de la CCI. ", 8) {
			t.Errorf("reassembled %q, %v", text, err)
		}

		info, err := command(a, "+CMGL=4")
		if err != nil || len(info) != 2*3 || m.Stored() != 3 {
			t.Fatalf("+CMGL=4: %d lines, %v; stored %d", len(info), err, m.Stored())
		}
		if _, err := a.Command(fmt.Sprintf("+CMGD=%d", i)); err != nil || m.Stored() != 2 {
			t.Errorf("+CMGD=%d: %v, stored %d", i, err, m.Stored())
		}
		if _, err := a.Command("+CMGD=0,4"); err != nil || m.Stored() != 0 {
			t.Errorf("+CMGD=0,4: %v, stored %d", err, m.Stored())
		}
	})

	t.Run("errors", func(t *testing.T) {
		m.FailNumber("+33611111111", 21)
		if _, err := send(t, a, "+33611111111", "x", false); err != at.CMSError("21") {
			t.Errorf("failing number: %v, want CMS 21", err)
		}
		m.FailNumber("+33611111111", 0)
		if _, err := send(t, a, "+33611111111", "x", false); err != nil {
			t.Errorf("cleared number: %v", err)
		}
		if _, err := a.SMSCommand("+CMGS=5", "00ZZ"); err != at.CMSError("304") {
			t.Errorf("malformed PDU: %v, want CMS 304", err)
		}
		if _, err := a.Command("+CPIN=\"1234\""); err != at.CMEError("3") {
			t.Errorf("CPIN when ready: %v, want CME 3", err)
		}
		if _, err := a.Command("+NOPE"); !errors.Is(err, at.ErrError) {
			t.Errorf("unknown command: %v, want ERROR", err)
		}
	})

	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(link); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("link still there after Close: %v", err)
	}
	select {
	case <-a.Closed():
	case <-time.After(10 * time.Second):
		t.Error("the at driver did not see the modem go away")
	}
}

// rawExpect reads from port until want (or fails), returning what was read.
func rawExpect(t *testing.T, port serial.Port, want string) string {
	t.Helper()
	if err := port.SetReadTimeout(100 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var got []byte
	buf := make([]byte, 256)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(string(got), want) {
		if time.Now().After(deadline) {
			t.Fatalf("read %q, never saw %q", got, want)
		}
		n, err := port.Read(buf)
		if err != nil {
			t.Fatalf("read: %v (got %q)", err, got)
		}
		got = append(got, buf[:n]...)
	}
	return string(got)
}

func rawWrite(t *testing.T, port serial.Port, s string) {
	t.Helper()
	if _, err := port.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
}

func TestRawPTY(t *testing.T) {
	m := New(Options{})
	t.Cleanup(func() { _ = m.Close() })
	path, err := m.OpenPTY("")
	if err != nil {
		t.Fatal(err)
	}
	port := openPort(t, path)

	rawWrite(t, port, "AT\r")
	if got := rawExpect(t, port, "OK\r\n"); got != "AT\r\r\nOK\r\n" {
		t.Errorf("echo at power-up: %q", got)
	}
	rawWrite(t, port, "ATE0\r")
	rawExpect(t, port, "OK\r\n")

	rawWrite(t, port, "AT+CMGS=20\r")
	if got := rawExpect(t, port, "> "); got != "\r\n> " {
		t.Errorf("prompt: %q", got)
	}
	rawWrite(t, port, "0011000B91\x1b")
	if got := rawExpect(t, port, "OK\r\n"); got != "\r\nOK\r\n" {
		t.Errorf("ESC: %q", got)
	}
	rawWrite(t, port, "AT+CSQ\r")
	if got := rawExpect(t, port, "OK\r\n"); got != "\r\n+CSQ: 20,99\r\n\r\nOK\r\n" {
		t.Errorf("after ESC: %q", got)
	}
	if n := len(m.AllReceived()); n != 0 {
		t.Errorf("cancelled PDU delivered %d messages", n)
	}

	// The client may close and reopen the port: the settings persist.
	if err := port.Close(); err != nil {
		t.Fatal(err)
	}
	port = openPort(t, path)
	rawWrite(t, port, "AT\r")
	if got := rawExpect(t, port, "OK\r\n"); got != "\r\nOK\r\n" {
		t.Errorf("after reopen: %q", got)
	}
}

// plugged is a simulated modem with opts, served on a pty behind a link in
// a temp dir, closed when the test ends.
func plugged(t *testing.T, opts Options) (*Modem, string) {
	t.Helper()
	m := New(opts)
	t.Cleanup(func() { _ = m.Close() })
	link := filepath.Join(t.TempDir(), "modem")
	if _, err := m.OpenPTY(link); err != nil {
		t.Fatal(err)
	}
	return m, link
}

func TestUnplug(t *testing.T) {
	m, link := plugged(t, Options{})
	if _, err := m.OpenPTY(link); !errors.Is(err, ErrAlreadyOpen) {
		t.Errorf("second OpenPTY: %v", err)
	}
	a, _ := newDriver(t, link)
	if err := m.Inject("+33612345678", "avant"); err != nil {
		t.Fatal(err)
	}
	if err := m.Unplug(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.Closed():
	case <-time.After(10 * time.Second):
		t.Fatal("the at driver did not see the unplug")
	}
	if _, err := os.Lstat(link); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("link after unplug: %v", err)
	}

	if _, err := m.OpenPTY(link); err != nil {
		t.Fatal(err)
	}
	a, _ = newDriver(t, link) // echo is on again after power loss: Init copes
	if info, err := command(a, "+CMGL=4"); err != nil || len(info) != 2 {
		t.Errorf("storage after replug: %q, %v", info, err)
	}
}

func TestCloseStopsEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	m := New(Options{SendDelay: time.Hour})
	link := filepath.Join(t.TempDir(), "modem")
	path, err := m.OpenPTY(link)
	if err != nil {
		t.Fatal(err)
	}
	port, err := serial.Open(path, &serial.Mode{BaudRate: 115200})
	if err != nil {
		t.Fatal(err)
	}
	a := at.New(port, at.WithTimeout(5*time.Second))
	if err := a.Init(); err != nil {
		t.Fatal(err)
	}
	// Leave a +CMGS pending on the network for an hour.
	hexes, lens := submitPDUs(t, "+33612345678", "x", false)
	go func() { _, _ = a.SMSCommand(fmt.Sprintf("+CMGS=%d", lens[0]), hexes[0]) }()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs")
	}
	if _, err := os.Lstat(link); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("link after Close: %v", err)
	}
	if _, err := m.OpenPTY(""); !errors.Is(err, ErrClosed) {
		t.Errorf("OpenPTY after Close: %v", err)
	}
	<-a.Closed()
	_ = port.Close()
	for deadline := time.Now().Add(10 * time.Second); runtime.NumGoroutine() > before; {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines left, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
