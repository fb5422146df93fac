package sim

import (
	"strings"
	"testing"
	"time"
)

// answer formats an expected reply: information lines, then final.
func answer(final string, lines ...string) string {
	return reply{lines: lines, final: final}.String()
}

func TestPersonalityDialect(t *testing.T) {
	tests := []struct {
		name string
		p    Personality
		in   string
		want string
	}{
		{"generic identity", Generic, "AT+CGMI;+CGMM\r", okReply(manufacturer, model)},
		{"huawei identity", Huawei, "AT+CGMI;+CGMM;+CGMR\r", okReply("huawei", "ME909s-120", "11.617.01.00.00")},
		{"quectel identity", Quectel, "AT+CGMI;+CGMM\r", okReply("Quectel", "EC25")},
		{"generic +CMMS", Generic, "AT+CMMS=1\r", okReply()},
		{"huawei rejects +CMMS", Huawei, "AT+CMMS=1\r", answer("ERROR")},
		{"huawei ^CURC power-up value", Huawei, "AT^CURC?\r", okReply("^CURC: 1")},
		{"huawei ^CURC test", Huawei, "AT^CURC=?\r", okReply("^CURC: (0-1)")},
		{"huawei ^CURC off", Huawei, "AT^CURC=0;^CURC?\r", okReply("^CURC: 0")},
		{"huawei ^CURC out of range", Huawei, "AT^CURC=2\r", answer("ERROR")},
		{"generic has no ^CURC", Generic, "AT^CURC=0\r", answer("ERROR")},
		{"quectel has no ^CURC", Quectel, "AT^CURC?\r", answer("ERROR")},
		{"generic registration", Generic, "AT+CREG?;+CEREG?\r", okReply("+CREG: 0,1", "+CEREG: 0,1")},
		{"huawei registration", Huawei, "AT+CREG?;+CEREG?\r", okReply("+CREG: 0,1", "+CEREG: 0,1")},
		{"quectel: no CS registration", Quectel, "AT+CREG?;+CEREG?\r", okReply("+CREG: 0,0", "+CEREG: 0,1")},
		{"quectel +CREG=2", Quectel, "AT+CREG=2;+CEREG=2;+CREG?;+CEREG?\r",
			okReply("+CREG: 2,0", `+CEREG: 2,1,"1A2B","01C3D4E5",7`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Options{Personality: tt.p, URCEvery: time.Hour})
			h.send("ATE0\r")
			h.idle() // Quectel's power-up lines
			if got := h.send(tt.in); got != tt.want {
				t.Errorf("%q: got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestQuectelRegistrationURCs(t *testing.T) {
	h := newHarness(t, Options{Personality: Quectel})
	h.send("ATE0\rAT+CREG=1;+CEREG=1\r")
	h.idle()
	h.m.SetNetwork(false)
	if got, want := h.idle(), "\r\n+CEREG: 2\r\n"; got != want {
		t.Errorf("network lost: %q, want only the +CEREG URC %q", got, want)
	}
	if got := h.send("AT+CREG?;+CEREG?\r"); got != okReply("+CREG: 1,0", "+CEREG: 1,2") {
		t.Errorf("got %q", got)
	}
}

// TestHuaweiFlood checks over a real pty that the ME909 reports flow at
// power-up, land even inside a reply, and stop with AT^CURC=0.
func TestHuaweiFlood(t *testing.T) {
	m := New(Options{Personality: Huawei, URCEvery: 10 * time.Millisecond})
	t.Cleanup(func() { _ = m.Close() })
	path, err := m.OpenPTY("")
	if err != nil {
		t.Fatal(err)
	}
	port := openPort(t, path)
	rawExpect(t, port, "^RSSI:20\r\n")
	rawExpect(t, port, "^BOOT:")
	rawExpect(t, port, "^MODE:17,17\r\n")

	// While a command takes its time, the reports land between its
	// information line and its final result code.
	rawWrite(t, port, "ATE0\r")
	rawExpect(t, port, "OK\r\n")
	m.SetLatency(100 * time.Millisecond)
	inside := false
	for i := 0; i < 5 && !inside; i++ {
		rawWrite(t, port, "AT+CGMI\r")
		got := rawExpect(t, port, "\r\nOK\r\n")
		info := strings.Index(got, "\r\nhuawei\r\n")
		if info < 0 {
			t.Fatalf("no +CGMI answer in %q", got)
		}
		inside = strings.Contains(got[info:], "\r\n^RSSI:20\r\n")
	}
	if !inside {
		t.Error("no ^RSSI inside a reply in 5 slow commands")
	}

	rawWrite(t, port, "AT^CURC=0\r")
	rawExpect(t, port, "\r\nOK\r\n") // may still carry reports made before
	m.SetLatency(200 * time.Millisecond)
	rawWrite(t, port, "AT^CURC?\r")
	if got := rawExpect(t, port, "OK\r\n"); got != okReply("^CURC: 0") {
		t.Errorf("after AT^CURC=0: %q", got)
	}
	if n := m.CommandCount("^curc=0"); n != 1 {
		t.Errorf("CommandCount(^curc=0) = %d", n)
	}
}

// TestQuectelBoot checks over a real pty that the EC25 power-up lines are
// waiting for the client, and come again after AT+CFUN=1,1.
func TestQuectelBoot(t *testing.T) {
	m := New(Options{Personality: Quectel, RebootDelay: 10 * time.Millisecond})
	t.Cleanup(func() { _ = m.Close() })
	link := t.TempDir() + "/modem"
	if _, err := m.OpenPTY(link); err != nil {
		t.Fatal(err)
	}
	port := openPort(t, link)
	boot := "\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\n+QUSIM: 1\r\n\r\n+QIND: SMS DONE\r\n\r\n+QIND: PB DONE\r\n"
	if got := rawExpect(t, port, "PB DONE\r\n"); got != boot {
		t.Errorf("power-up: %q, want %q", got, boot)
	}
	rawWrite(t, port, "ATE0;+CFUN=1,1\r")
	rawExpect(t, port, "OK\r\n")
	port = waitReplug(t, link, port)
	if got := rawExpect(t, port, "PB DONE\r\n"); got != boot {
		t.Errorf("after reboot: %q, want %q", got, boot)
	}
}
