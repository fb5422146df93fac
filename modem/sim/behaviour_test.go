package sim

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

func TestURCsWaitForIdle(t *testing.T) {
	h := newHarness(t, Options{})
	h.send("ATE0\rAT+CNMI=2,1,0,2,0\r")
	cmd := submitHex(t, "+33612345678", "x", false)

	if got := h.send(cmd[0]); got != "\r\n> " {
		t.Fatalf("prompt: %q", got)
	}
	if err := h.m.Inject("+33698765432", "coucou"); err != nil {
		t.Fatal(err)
	}
	if got := h.idle(); got != "" {
		t.Errorf("URC written during PDU input: %q", got)
	}
	got := h.send(cmd[1] + "\x1a")
	if want := okReply("+CMGS: 0") + "\r\n+CMTI: \"SM\",0\r\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}

	// A half-typed command line holds URCs too.
	h.send("AT+CS")
	if err := h.m.Inject("+33698765432", "encore"); err != nil {
		t.Fatal(err)
	}
	if got := h.idle(); got != "" {
		t.Errorf("URC written inside a typed line: %q", got)
	}
	if got, want := h.send("Q\r"), okReply("+CSQ: 20,99")+"\r\n+CMTI: \"SM\",1\r\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCNMI(t *testing.T) {
	tests := []struct {
		cnmi string
		want string
	}{
		{"AT+CNMI=0,0,0,0,0", ""},
		{"AT+CNMI=2,1,0,0,0", "\r\n+CMTI: \"SM\",0\r\n"},
		{"AT+CNMI=2,2,0,0,0", "\r\n+CMTI: \"SM\",0\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.cnmi, func(t *testing.T) {
			h := newHarness(t, Options{})
			h.send("ATE0\r" + tt.cnmi + "\r")
			if err := h.m.Inject("+33698765432", "x"); err != nil {
				t.Fatal(err)
			}
			if got := h.idle(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if h.m.Stored() != 1 {
				t.Errorf("stored %d, want 1", h.m.Stored())
			}
		})
	}
}

func TestStatusReportRouting(t *testing.T) {
	tests := []struct {
		ds     int
		prefix string
		stored int
	}{
		{0, "", 0},
		{1, "\r\n+CDS: ", 0},
		{2, "\r\n+CDSI: \"SM\",0\r\n", 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("ds=", tt.ds), func(t *testing.T) {
			h := newHarness(t, Options{})
			h.send(fmt.Sprintf("ATE0\rAT+CNMI=2,1,0,%d,0\r", tt.ds))
			h.m.SetReportStatus("+33612345678", 0x46)
			cmd := submitHex(t, "+33612345678", "x", true)
			got := strings.TrimPrefix(h.send(cmd[0]+cmd[1]+"\x1a"), "\r\n> "+okReply("+CMGS: 0"))
			if !strings.HasPrefix(got, tt.prefix) || (tt.prefix == "" && got != "") {
				t.Errorf("after +CMGS: %q, want prefix %q", got, tt.prefix)
			}
			if tt.ds == 1 && !strings.Contains(got, "0B913316325476F8") {
				t.Errorf("+CDS PDU does not carry the recipient: %q", got)
			}
			if h.m.Stored() != tt.stored {
				t.Errorf("stored %d, want %d", h.m.Stored(), tt.stored)
			}
		})
	}
}

func TestLatencyQueuesInput(t *testing.T) {
	h := newHarness(t, Options{})
	h.send("ATE0\r")
	h.m.SetLatency(time.Hour)
	if got := h.send("AT+CSQ\r"); got != "" {
		t.Fatalf("answered before the latency: %q", got)
	}
	if got := h.send("AT+CMGF?\r"); got != "" {
		t.Fatalf("second command answered while busy: %q", got)
	}
	h.m.SetLatency(0)
	// End the busy period as the event loop does when the timer fires.
	h.s.timer.Stop()
	h.s.timer = nil
	h.out.Reset()
	h.s.complete()
	if err := h.s.flush(); err != nil {
		t.Fatal(err)
	}
	if got, want := h.out.String(), okReply("+CSQ: 20,99")+okReply("+CMGF: 0"); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestHang(t *testing.T) {
	h := newHarness(t, Options{})
	h.m.SetHang(true)
	if got := h.send("AT\r"); got != "" {
		t.Errorf("hung modem answered %q", got)
	}
	h.m.SetHang(false)
	if got := h.send("AT\r"); got != "AT\r"+okReply() {
		t.Errorf("after hang: %q", got)
	}
}

func TestNetworkLoss(t *testing.T) {
	h := newHarness(t, Options{})
	h.send("ATE0\rAT+CREG=1;+CEREG=2\r")
	h.m.SetNetwork(false)
	if got, want := h.idle(), "\r\n+CREG: 2\r\n\r\n+CEREG: 2\r\n"; got != want {
		t.Errorf("URCs: %q, want %q", got, want)
	}
	if got := h.send("AT+CREG?;+COPS?\r"); got != okReply("+CREG: 1,2", "+COPS: 0") {
		t.Errorf("got %q", got)
	}
	cmd := submitHex(t, "+33612345678", "x", false)
	if got := h.send(cmd[0] + cmd[1] + "\x1a"); got != "\r\n> \r\n+CMS ERROR: 331\r\n" {
		t.Errorf("send without network: %q", got)
	}
	if err := h.m.Inject("+33698765432", "x"); !errors.Is(err, ErrNotRegistered) {
		t.Errorf("Inject without network: %v", err)
	}
	h.m.SetNetwork(true)
	if got, want := h.idle(), "\r\n+CREG: 1\r\n\r\n+CEREG: 1,\"1A2B\",\"01C3D4E5\",7\r\n"; got != want {
		t.Errorf("URCs: %q, want %q", got, want)
	}
}

func TestSIM(t *testing.T) {
	h := newHarness(t, Options{PIN: "1234"})
	h.send("ATE0\rAT+CMEE=1\r")
	if err := h.m.Inject("+33698765432", "x"); !errors.Is(err, ErrNotRegistered) {
		t.Errorf("Inject with SIM locked: %v", err)
	}
	h.send(`AT+CPIN="1234"` + "\r")
	if h.m.PINTries() != 1 {
		t.Errorf("PINTries = %d", h.m.PINTries())
	}
	h.m.SetSIMPresent(false)
	if got := h.send("AT+CPIN?\r"); got != "\r\n+CME ERROR: 10\r\n" {
		t.Errorf("no SIM: %q", got)
	}
	if got := h.send("AT+CMGL=4\r"); got != "\r\n+CMS ERROR: 310\r\n" {
		t.Errorf("no SIM, SMS command: %q", got)
	}
	h.m.SetSIMPresent(true)
	if got := h.send("AT+CPIN?\r"); got != okReply("+CPIN: SIM PIN") {
		t.Errorf("SIM back: %q", got)
	}
}

func TestStorageFull(t *testing.T) {
	h := newHarness(t, Options{Capacity: 2})
	if err := h.m.Inject("+33698765432", strings.Repeat("trop long ", 40)); !errors.Is(err, ErrStorageFull) {
		t.Errorf("3 parts in 2 slots: %v", err)
	}
	for range 2 {
		if err := h.m.Inject("+33698765432", "x"); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.m.Inject("+33698765432", "x"); !errors.Is(err, ErrStorageFull) {
		t.Errorf("third message: %v", err)
	}
	if h.m.Stored() != 2 {
		t.Errorf("stored %d", h.m.Stored())
	}
}

func TestInjectSenders(t *testing.T) {
	tests := []struct {
		from string
		err  error
	}{
		{"+33612345678", nil},
		{"36180", nil},
		{"VIGIE", nil},
		{"Mairie 75", nil},
		{"", ErrInvalidSender},
		{"+", ErrInvalidSender},
		{"TOOLONGSENDER", ErrInvalidSender},
		{"€uro", ErrInvalidSender},
	}
	for _, tt := range tests {
		t.Run(tt.from, func(t *testing.T) {
			h := newHarness(t, Options{})
			if err := h.m.Inject(tt.from, "x"); !errors.Is(err, tt.err) {
				t.Errorf("Inject(%q) = %v, want %v", tt.from, err, tt.err)
			}
		})
	}
	h := newHarness(t, Options{})
	if err := h.m.Inject("+33612345678", ""); err != nil || h.m.Stored() != 1 {
		t.Errorf("empty text: %v, stored %d", err, h.m.Stored())
	}
}

// pipeClient serves m over an in-memory pipe and reads its answers.
type pipeClient struct {
	conn net.Conn
	r    *bufio.Reader
	done chan error
}

func newPipeClient(t *testing.T, m *Modem) *pipeClient {
	t.Helper()
	client, server := net.Pipe()
	c := &pipeClient{conn: client, r: bufio.NewReader(client), done: make(chan error, 1)}
	go func() { c.done <- m.Serve(server) }()
	t.Cleanup(func() { _ = client.Close() })
	return c
}

func (c *pipeClient) write(t *testing.T, s string) {
	t.Helper()
	if _, err := c.conn.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
}

// until reads up to and including want.
func (c *pipeClient) until(t *testing.T, want string) string {
	t.Helper()
	var b strings.Builder
	for !strings.HasSuffix(b.String(), want) {
		r, err := c.r.ReadByte()
		if err != nil {
			t.Fatalf("read %q: %v", b.String(), err)
		}
		b.WriteByte(r)
	}
	return b.String()
}

func TestServeSendDelayKeepsOrder(t *testing.T) {
	m := New(Options{SendDelay: 20 * time.Millisecond})
	t.Cleanup(func() { _ = m.Close() })
	c := newPipeClient(t, m)
	c.write(t, "ATE0\r")
	c.until(t, "OK\r\n")
	cmd := submitHex(t, "+33612345678", "x", false)
	c.write(t, cmd[0])
	c.until(t, "> ")
	// The next command arrives while the network is still busy with the SMS:
	// the reader takes it, and it is answered after +CMGS.
	c.write(t, cmd[1]+"\x1aAT+CSQ\r")
	got := c.until(t, "+CSQ: 20,99\r\n\r\nOK\r\n")
	if want := okReply("+CMGS: 0") + okReply("+CSQ: 20,99"); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := m.WaitReceived(ctx, "+33612345678", 1); err != nil {
		t.Error(err)
	}
}

func TestServeEnds(t *testing.T) {
	m := New(Options{})
	c := newPipeClient(t, m)
	c.write(t, "AT\r")
	c.until(t, "OK\r\n")
	if err := c.conn.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-c.done; err != nil {
		t.Errorf("Serve after the client hung up: %v", err)
	}

	c = newPipeClient(t, m)
	c.write(t, "AT\r")
	c.until(t, "OK\r\n")
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-c.done; !errors.Is(err, ErrClosed) {
		t.Errorf("Serve after Close: %v", err)
	}
	if err := m.Serve(nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Serve on a closed modem: %v", err)
	}
	if _, err := m.WaitReceived(context.Background(), "+33612345678", 1); !errors.Is(err, ErrClosed) {
		t.Errorf("WaitReceived on a closed modem: %v", err)
	}
	if err := m.Inject("+33612345678", "x"); !errors.Is(err, ErrClosed) {
		t.Errorf("Inject on a closed modem: %v", err)
	}
}

func TestWaitReceivedContext(t *testing.T) {
	m := New(Options{})
	t.Cleanup(func() { _ = m.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got, err := m.WaitReceived(ctx, "+33612345678", 1); !errors.Is(err, context.Canceled) || len(got) != 0 {
		t.Errorf("got %v, %v", got, err)
	}
}

func FuzzCommandLine(f *testing.F) {
	for _, seed := range []string{
		"AT\r",
		"ATE0V1Q0\r",
		"AT+CMEE=2;+CPIN?;+CSQ\r\n",
		"AT+CMGS=20\r0011000B913316325476F80000AA01E1\x1a",
		"AT+CMGS=5\r00ZZ\x1b",
		"AT+CMGR=0\rAT+CMGL=4\rAT+CMGD=0,4\r",
		"AT+CNMI=2,1,0,2,0;+CPMS=\"SM\",\"SM\",\"SM\"\r",
		"AT+CSCA=\"+33609001390\",145\r",
		"ATS3?S7=60&F&W\r",
		"AT+CPIN=\"1234\",\"0000\"\r",
		"AT+CFUN=1,1;+COPS=?\r",
		"\x1b\r\n\r\nATZ\r\n",
		"AT+CMGS=1\r\x1a",
		"AT+\"\r",
		"AT+X=\"a\"\"b\",,\r",
		"AT^CURC=0;^CURC?;^CURC=?\r",
		"AT+CREG=2;+CEREG=2;+CREG?;+CEREG?\r",
		"AT+CFUN=1,1\rAT+CPIN?\r",
		"AT+CMMS=1;+CGMI;+CGMM;+CGMR;+CGSN\r",
		"ATE1\rAT+CS\x1bQ\r\r\n",
		"AT+CPMS=\"SR\";+CPMS?;+CPMS=\"ME\",\"SM\";+CPMS=?\r",
		"AT+CNMI=?;+CNMI=2,1,0,0,1;+CNMI=1\r",
		"AT+CPIN?;+CSCA?;+CMGR=1;+CEREG?\r",
		"AT+CPIN=\"1234\"\rAT\rAT+CMGL=4\r",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, p := range Personalities() {
			// No timer fires during a run: coverage stays deterministic.
			h := newHarness(t, Options{Capacity: 3, PIN: "1234", Personality: p, ReportDelay: time.Hour, URCEvery: time.Hour})
			_ = h.m.Inject("VIGIE", "x") // fails while the SIM is locked; fine
			h.m.EmitDuringNextCommand("^RSSI:20")
			h.send(string(in))
			h.send(`AT+CPIN="1234"` + "\r")
			_ = h.m.Inject("+33612345678", "x")
			h.m.HangAfter(2)
			h.send(string(in))
			_ = h.m.AllReceived()
			_ = h.m.Close()
		}
	})
}

func TestSendCompletingAfterClose(t *testing.T) {
	h := newHarness(t, Options{SendDelay: time.Hour})
	h.send("ATE0\r")
	cmd := submitHex(t, "+33612345678", "x", false)
	if got := h.send(cmd[0] + cmd[1] + "\x1a"); got != "\r\n> " {
		t.Fatalf("got %q", got)
	}
	if err := h.m.Close(); err != nil {
		t.Fatal(err)
	}
	// The network answers after Close: the part is recorded, nothing panics.
	h.s.timer.Stop()
	h.s.timer = nil
	h.s.complete()
	if n := len(h.m.Received("+33612345678")); n != 1 {
		t.Errorf("received %d", n)
	}
}
