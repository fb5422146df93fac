package sim

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/warthog618/sms"
	"github.com/warthog618/sms/encoding/pdumode"
	"github.com/warthog618/sms/encoding/tpdu"
)

// harness drives a session's state machine step by step, without goroutines
// or delays: each send is one read from the client.
type harness struct {
	m   *Modem
	s   *session
	out *bytes.Buffer
}

func newHarness(t testing.TB, opts Options) *harness {
	t.Helper()
	m := New(opts)
	out := &bytes.Buffer{}
	s := newSession(m, out)
	m.mu.Lock()
	m.sessions[s] = struct{}{}
	m.mu.Unlock()
	t.Cleanup(func() { _ = m.Close() })
	return &harness{m: m, s: s, out: out}
}

// send feeds in and returns what the modem wrote in response.
func (h *harness) send(in string) string {
	h.out.Reset()
	h.s.input([]byte(in))
	if err := h.s.flush(); err != nil {
		panic(err)
	}
	return h.out.String()
}

// idle lets queued URCs out, as the event loop does when woken.
func (h *harness) idle() string { return h.send("") }

func okReply(lines ...string) string {
	return reply{lines: lines, final: "OK"}.String()
}

// submitHex encodes text to to as +CMGS command lines and PDU-mode hex
// (SMSC "00"), alternately.
func submitHex(t testing.TB, to, text string, srr bool) []string {
	t.Helper()
	tpdus, err := sms.Encode([]byte(text), sms.To(to))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
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
		out = append(out, fmt.Sprintf("AT+CMGS=%d\r", len(b)), h)
	}
	return out
}

func TestDialect(t *testing.T) {
	tests := []struct {
		name  string
		opts  Options
		setup []string // command lines run first, output ignored
		in    string
		want  string
	}{
		{name: "echo on at power-up", in: "AT\r", want: "AT\r" + okReply()},
		{name: "echo includes LF", in: "AT\r\n", want: "AT\r" + okReply() + "\n"},
		{name: "ATE0 echoes its own line", in: "ATE0\r", want: "ATE0\r" + okReply()},
		{name: "echo off", setup: []string{"ATE0"}, in: "AT\r", want: okReply()},
		{name: "ATZ restores echo", setup: []string{"ATE0", "ATZ"}, in: "AT\r", want: "AT\r" + okReply()},
		{name: "ATE1", setup: []string{"ATE0", "ATE1"}, in: "AT\r", want: "AT\r" + okReply()},
		{name: "lower case", setup: []string{"ATE0"}, in: "at+csq\r", want: okReply("+CSQ: 20,99")},
		{name: "garbage before AT ignored", setup: []string{"ATE0"}, in: "xxAT\r", want: okReply()},
		{name: "line without AT ignored", setup: []string{"ATE0"}, in: "hello\r", want: ""},
		{name: "empty line ignored", setup: []string{"ATE0"}, in: "\r\n", want: ""},
		{name: "backspace", setup: []string{"ATE0"}, in: "AT+CSX\bQ\r", want: okReply("+CSQ: 20,99")},
		{name: "unknown command", setup: []string{"ATE0"}, in: "AT+FOO\r", want: "\r\nERROR\r\n"},
		{name: "unknown basic command", setup: []string{"ATE0"}, in: "ATY\r", want: "\r\nERROR\r\n"},
		{name: "concatenated basic", in: "ATE0V1\r", want: "ATE0V1\r" + okReply()},
		{name: "concatenated extended", setup: []string{"ATE0"}, in: "AT+CMEE=1;+CMEE?\r", want: okReply("+CMEE: 1")},
		{name: "stops at first error", setup: []string{"ATE0"}, in: "AT+CSQ;+FOO;+CMEE=1\r", want: "\r\n+CSQ: 20,99\r\n\r\nERROR\r\n"},
		{name: "unbalanced quote", setup: []string{"ATE0"}, in: "AT+CSCA=\"123\r", want: "\r\nERROR\r\n"},
		{name: "CMEE range", setup: []string{"ATE0"}, in: "AT+CMEE=3\r", want: "\r\nERROR\r\n"},
		{name: "CMGF read", setup: []string{"ATE0"}, in: "AT+CMGF?\r", want: okReply("+CMGF: 0")},
		{name: "CMGF set", setup: []string{"ATE0", "AT+CMGF=1"}, in: "AT+CMGF?\r", want: okReply("+CMGF: 1")},
		{name: "CMGS in text mode", setup: []string{"ATE0", "AT+CMGF=1"}, in: "AT+CMGS=\"+33612345678\"\r", want: "\r\n+CMS ERROR: 302\r\n"},
		{name: "CMGS bad length", setup: []string{"ATE0"}, in: "AT+CMGS=0\r", want: "\r\n+CMS ERROR: 304\r\n"},
		{name: "CMGS prompt", setup: []string{"ATE0"}, in: "AT+CMGS=20\r", want: "\r\n> "},
		{name: "CPIN ready", setup: []string{"ATE0"}, in: "AT+CPIN?\r", want: okReply("+CPIN: READY")},
		{name: "CREG", setup: []string{"ATE0"}, in: "AT+CREG?\r", want: okReply("+CREG: 0,1")},
		{name: "CREG=2", setup: []string{"ATE0", "AT+CREG=2"}, in: "AT+CREG?\r", want: okReply(`+CREG: 2,1,"1A2B","01C3D4E5",7`)},
		{name: "CEREG", setup: []string{"ATE0", "AT+CEREG=0"}, in: "AT+CEREG?\r", want: okReply("+CEREG: 0,1")},
		{name: "COPS", setup: []string{"ATE0"}, in: "AT+COPS?\r", want: okReply(`+COPS: 0,0,"Orange F",7`)},
		{name: "ATI", setup: []string{"ATE0"}, in: "ATI\r", want: okReply("Vigie-Sim", "SIM-LTE", "Revision: VIGIESIM01R01")},
		{name: "CGMI", setup: []string{"ATE0"}, in: "AT+CGMI\r", want: okReply("Vigie-Sim")},
		{name: "CGMM", setup: []string{"ATE0"}, in: "AT+CGMM\r", want: okReply("SIM-LTE")},
		{name: "CGSN", setup: []string{"ATE0"}, in: "AT+CGSN\r", want: okReply("356938035643809")},
		{name: "CNUM", setup: []string{"ATE0"}, in: "AT+CNUM\r", want: okReply(`+CNUM: "","+33700000001",145`)},
		{name: "CSCA read", setup: []string{"ATE0"}, in: "AT+CSCA?\r", want: okReply(`+CSCA: "+33609001390",145`)},
		{name: "CSCA set", setup: []string{"ATE0", `AT+CSCA="+33611111111",145`}, in: "AT+CSCA?\r", want: okReply(`+CSCA: "+33611111111",145`)},
		{name: "CSMS read", setup: []string{"ATE0"}, in: "AT+CSMS?\r", want: okReply("+CSMS: 0,1,1,1")},
		{name: "CSMS set", setup: []string{"ATE0"}, in: "AT+CSMS=0\r", want: okReply("+CSMS: 1,1,1")},
		{name: "CMMS", setup: []string{"ATE0", "AT+CMMS=1"}, in: "AT+CMMS?\r", want: okReply("+CMMS: 1")},
		{name: "CMMS range", setup: []string{"ATE0"}, in: "AT+CMMS=3\r", want: "\r\n+CMS ERROR: 303\r\n"},
		{name: "CPMS read", opts: Options{Capacity: 10}, setup: []string{"ATE0"}, in: "AT+CPMS?\r", want: okReply(`+CPMS: "SM",0,10,"SM",0,10,"SM",0,10`)},
		{name: "CPMS set", setup: []string{"ATE0"}, in: `AT+CPMS="SM","SM","SM"` + "\r", want: okReply("+CPMS: 0,30,0,30,0,30")},
		{name: "CPMS other memory", setup: []string{"ATE0"}, in: `AT+CPMS="ME"` + "\r", want: "\r\n+CMS ERROR: 302\r\n"},
		{name: "CNMI", setup: []string{"ATE0", "AT+CNMI=2,1,0,2,0"}, in: "AT+CNMI?\r", want: okReply("+CNMI: 2,1,0,2,0")},
		{name: "CNMI short", setup: []string{"ATE0", "AT+CNMI=2,1"}, in: "AT+CNMI?\r", want: okReply("+CNMI: 2,1,0,0,0")},
		{name: "CNMI range", setup: []string{"ATE0"}, in: "AT+CNMI=2,1,0,3,0\r", want: "\r\n+CMS ERROR: 303\r\n"},
		{name: "ATZ resets CNMI", setup: []string{"AT+CNMI=2,1", "ATZ", "ATE0"}, in: "AT+CNMI?\r", want: okReply("+CNMI: 0,0,0,0,0")},
		{name: "CMGR empty", setup: []string{"ATE0"}, in: "AT+CMGR=5\r", want: "\r\n+CMS ERROR: 321\r\n"},
		{name: "CMGR out of range", setup: []string{"ATE0"}, in: "AT+CMGR=99\r", want: "\r\n+CMS ERROR: 321\r\n"},
		{name: "CMGL empty", setup: []string{"ATE0"}, in: "AT+CMGL=4\r", want: okReply()},
		{name: "CMGD empty slot", setup: []string{"ATE0"}, in: "AT+CMGD=3\r", want: okReply()},
		{name: "CMGD out of range", setup: []string{"ATE0"}, in: "AT+CMGD=30\r", want: "\r\n+CMS ERROR: 321\r\n"},
		{name: "CNMA", setup: []string{"ATE0"}, in: "AT+CNMA\r", want: okReply()},
		{name: "CME numeric", setup: []string{"ATE0", "AT+CMEE=1"}, in: "AT+CPIN=\"0000\"\r", want: "\r\n+CME ERROR: 3\r\n"},
		{name: "CME plain", setup: []string{"ATE0", "AT+CMEE=0"}, in: "AT+CPIN=\"0000\"\r", want: "\r\nERROR\r\n"},
		{name: "CME verbose", setup: []string{"ATE0", "AT+CMEE=2"}, in: "AT+CPIN=\"0000\"\r", want: "\r\n+CME ERROR: operation not allowed\r\n"},
		{name: "CMS numeric with CMEE=0", setup: []string{"ATE0"}, in: "AT+CMGR=1\r", want: "\r\n+CMS ERROR: 321\r\n"},
		{name: "SIM PIN", opts: Options{PIN: "1234"}, setup: []string{"ATE0"}, in: "AT+CPIN?\r", want: okReply("+CPIN: SIM PIN")},
		{name: "SIM PIN blocks SMS", opts: Options{PIN: "1234"}, setup: []string{"ATE0"}, in: "AT+CMGS=20\r", want: "\r\n+CMS ERROR: 311\r\n"},
		{name: "SIM PIN not registered", opts: Options{PIN: "1234"}, setup: []string{"ATE0"}, in: "AT+CREG?\r", want: okReply("+CREG: 0,0")},
		{name: "wrong PIN", opts: Options{PIN: "1234"}, setup: []string{"ATE0", "AT+CMEE=1"}, in: "AT+CPIN=\"0000\"\r", want: "\r\n+CME ERROR: 16\r\n"},
		{name: "right PIN", opts: Options{PIN: "1234"}, setup: []string{"ATE0", `AT+CPIN="1234"`}, in: "AT+CPIN?;+CREG?\r", want: okReply("+CPIN: READY", "+CREG: 0,1")},
		{name: "three wrong PINs", opts: Options{PIN: "1234"}, setup: []string{"ATE0", `AT+CPIN="1"`, `AT+CPIN="2"`, `AT+CPIN="3"`}, in: "AT+CPIN?\r", want: okReply("+CPIN: SIM PUK")},
		{name: "PUK", opts: Options{PIN: "1234", PUK: "12345678"}, setup: []string{"ATE0", `AT+CPIN="1"`, `AT+CPIN="2"`, `AT+CPIN="3"`, `AT+CPIN="12345678","4321"`}, in: "AT+CPIN?\r", want: okReply("+CPIN: READY")},
		{name: "CFUN=0 deregisters", setup: []string{"ATE0", "AT+CFUN=0"}, in: "AT+CREG?;+CSQ\r", want: okReply("+CREG: 0,0", "+CSQ: 99,99")},
		{name: "CFUN read", setup: []string{"ATE0"}, in: "AT+CFUN?\r", want: okReply("+CFUN: 1")},
		{name: "S-register read", setup: []string{"ATE0"}, in: "ATS3?\r", want: okReply("013")},
		{name: "test command", setup: []string{"ATE0"}, in: "AT+CMGS=?\r", want: okReply()},
		{name: "ESC discards a typed line", setup: []string{"ATE0"}, in: "AT+FOO\x1bAT\r", want: okReply()},
		{name: "overlong line", setup: []string{"ATE0"}, in: "AT" + strings.Repeat("E", maxLine) + "\r", want: "\r\nERROR\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.opts)
			for _, l := range tt.setup {
				h.send(l + "\r")
			}
			if got := h.send(tt.in); got != tt.want {
				t.Errorf("%q:\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSubmitValidation(t *testing.T) {
	good := submitHex(t, "+33612345678", "Bonjour", false)
	goodLen := strings.TrimSuffix(strings.TrimPrefix(good[0], "AT+CMGS="), "\r")
	deliver := func() string {
		d, err := sms.Encode([]byte("x"), sms.AsDeliver, sms.From("+33612345678"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := d[0].MarshalBinary()
		return fmt.Sprintf("AT+CMGS=%d\r00%X", len(b), b)
	}()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"valid", good[0] + good[1] + "\x1a", okReply("+CMGS: 0")},
		{"upper-case hex", good[0] + strings.ToUpper(good[1]) + "\x1a", okReply("+CMGS: 0")},
		{"CR inside PDU", good[0] + good[1][:10] + "\r\n" + good[1][10:] + "\x1a", okReply("+CMGS: 0")},
		{"not hex", "AT+CMGS=5\r00ZZ\x1a", "\r\n+CMS ERROR: 304\r\n"},
		{"odd hex", "AT+CMGS=5\r001\x1a", "\r\n+CMS ERROR: 304\r\n"},
		{"length mismatch", "AT+CMGS=" + goodLen + "1\r" + good[1] + "\x1a", "\r\n+CMS ERROR: 304\r\n"},
		{"truncated TPDU", "AT+CMGS=3\r00110003\x1a", "\r\n+CMS ERROR: 304\r\n"},
		{"deliver is not submit", deliver + "\x1a", "\r\n+CMS ERROR: 304\r\n"},
		{"empty", "AT+CMGS=5\r\x1a", "\r\n+CMS ERROR: 304\r\n"},
		{"ESC cancels", good[0] + good[1][:8] + "\x1b", "\r\nOK\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Options{})
			h.send("ATE0\r")
			got := strings.TrimPrefix(h.send(tt.in), "\r\n> ")
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if got := h.send("AT\r"); got != okReply() {
				t.Errorf("after: got %q, want OK: not back in command mode", got)
			}
			if tt.want != okReply("+CMGS: 0") && len(h.m.AllReceived()) != 0 {
				t.Errorf("rejected PDU was delivered: %+v", h.m.AllReceived())
			}
		})
	}
}

func TestEchoedPDU(t *testing.T) {
	h := newHarness(t, Options{})
	cmd := submitHex(t, "+33612345678", "Salut", false)
	got := h.send(cmd[0] + cmd[1] + "\x1a")
	want := cmd[0] + "\r\n> " + cmd[1] + "\x1a" + okReply("+CMGS: 0")
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestReassembly(t *testing.T) {
	h := newHarness(t, Options{})
	h.send("ATE0\r")
	to := "+33612345678"
	long := strings.Repeat("Alerte: fermez vos vitrines. ", 8) // GSM7, 232 chars: 2 parts
	parts := submitHex(t, to, long, true)
	if len(parts) != 4 {
		t.Fatalf("want 2 parts, got %d lines", len(parts))
	}
	// Parts arrive out of order, with an unrelated single message between.
	single := submitHex(t, "+33600000002", "court", false)
	for i, in := range []string{parts[2] + parts[3], single[0] + single[1], parts[0] + parts[1]} {
		if got, want := h.send(in+"\x1a"), "\r\n> "+okReply(fmt.Sprintf("+CMGS: %d", i)); got != want {
			t.Fatalf("submit %d: got %q, want %q", i, got, want)
		}
	}
	got := h.m.Received(to)
	if len(got) != 1 {
		t.Fatalf("Received(%s) = %+v, want 1 message", to, got)
	}
	msg := got[0]
	if msg.Text != long || msg.Parts != 2 || !msg.SRR || msg.Alphabet != "GSM7" || msg.From != DefaultNumber || msg.To != to {
		t.Errorf("got %+v", msg)
	}
	if fmt.Sprint(msg.Refs) != "[2 0]" {
		t.Errorf("Refs = %v, want [2 0] (part order)", msg.Refs)
	}
	all := h.m.AllReceived()
	if len(all) != 2 || all[0].To != "+33600000002" || all[1].To != to {
		t.Errorf("AllReceived order: %+v", all)
	}
}
