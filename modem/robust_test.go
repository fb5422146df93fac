package modem_test

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.bug.st/serial"

	"vigie/modem"
	"vigie/modem/sim"
)

// noise is what cheap modems slip into replies.
var noise = []string{"", "RING", "NO CARRIER", "^RSSI:12", "^BOOT:12,0,0,4,0", "^MODE:5,4", "+CREG: 1", "+CEREG: 1", "#&%garbage"}

func TestHuaweiFlood(t *testing.T) {
	m, s := open(t, sim.Options{Personality: sim.Huawei, URCEvery: 2 * time.Millisecond})
	if n := s.CommandCount("^CURC=0"); n != 1 {
		t.Errorf("^CURC=0 sent %d times, want 1", n)
	}
	if id := m.Identity(); !strings.Contains(strings.ToLower(id.Manufacturer), "huawei") || id.IMEI == "" || id.SMSC == "" {
		t.Errorf("identity %+v", id)
	}
	if m.SupportsCMMS() {
		t.Error("Huawei refuses +CMMS, yet it is said to support it")
	}
	s.EmitDuringNextCommand(noise...)
	if _, err := m.Send("+33612345678", strings.Repeat("long ", 60), nil); err != nil {
		t.Fatalf("send: %v", err)
	}
	if n := s.CommandCount("+CMMS=1"); n != 0 {
		t.Errorf("+CMMS=1 sent %d times to a modem that refuses it", n)
	}
	if err := s.Inject("+33611111111", "STOP"); err != nil {
		t.Fatal(err)
	}
	waitArrival(t, m)
	s.EmitDuringNextCommand(noise...)
	var got []modem.Received
	if _, err := m.ReceiveStored(func(r modem.Received) error {
		if r.Report == nil { // the send's status report is stored too
			got = append(got, r)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Text != "STOP" {
		t.Errorf("received %+v", got)
	}
}

func TestQuectelRegistrationFromCEREG(t *testing.T) {
	m, _ := open(t, sim.Options{Personality: sim.Quectel})
	if reg, err := m.Registration(); err != nil || reg != modem.Home {
		t.Errorf("registration %v, %v; want home from +CEREG", reg, err)
	}
}

func TestSIMBusyAtStart(t *testing.T) {
	m, s := open(t, sim.Options{SIMBusy: 2 * time.Second})
	if s.CommandCount("+CPIN?") < 2 {
		t.Errorf("+CPIN? asked %d times; the SIM was busy", s.CommandCount("+CPIN?"))
	}
	if _, err := m.Signal(); err != nil {
		t.Error(err)
	}
}

func TestWrongPINEnteredOnce(t *testing.T) {
	s, cfg := plug(t, sim.Options{PIN: "1234"})
	cfg.PIN = "0000"
	_, err := modem.Open(cfg)
	if !errors.Is(err, modem.ErrSIMLocked) {
		t.Fatalf("err = %v, want SIM locked", err)
	}
	if n := s.CommandCount("+CPIN="); n != 1 {
		t.Errorf("PIN entered %d times, want once", n)
	}
	// A right PIN opens it.
	cfg.PIN = "1234"
	m, err := modem.Open(cfg)
	if err != nil {
		t.Fatalf("open with the right PIN: %v", err)
	}
	m.Close()
}

func TestNoiseInsideReplies(t *testing.T) {
	m, s := open(t, sim.Options{})
	s.EmitDuringNextCommand(noise...)
	if sig, err := m.Signal(); err != nil || sig.RSSI > 31 {
		t.Errorf("signal %+v, %v", sig, err)
	}
	for range 2 { // +CEREG? then +CREG?
		s.EmitDuringNextCommand(noise...)
		if reg, err := m.Registration(); err != nil || reg != modem.Home {
			t.Errorf("registration %v, %v", reg, err)
		}
	}
	s.EmitDuringNextCommand(noise...)
	refs, err := m.Send("+33612345678", "bonjour", nil)
	if err != nil || len(refs) != 1 {
		t.Fatalf("send: %v, %v", refs, err)
	}
	if got := s.Received("+33612345678"); len(got) != 1 || got[0].Refs[0] != refs[0] {
		t.Errorf("phone got %+v, refs %v", got, refs)
	}
	for _, txt := range []string{"un", "deux"} {
		if err := s.Inject("+33611111111", txt); err != nil {
			t.Fatal(err)
		}
	}
	s.EmitDuringNextCommand(noise...)
	var texts []string
	if _, err := m.ReceiveStored(func(r modem.Received) error {
		if r.Report == nil {
			texts = append(texts, r.Text)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(texts)
	if !slices.Equal(texts, []string{"deux", "un"}) {
		t.Errorf("received %q", texts)
	}
	s.Emit(noise...) // between commands
	if _, err := m.Operator(); err != nil {
		t.Error(err)
	}
}

func TestCMMS(t *testing.T) {
	long := strings.Repeat("Alerte : vol à l'étalage, rue Carnot. ", 13)
	for _, c := range []struct {
		p    sim.Personality
		want int
	}{{sim.Generic, 1}, {sim.Huawei, 0}} {
		t.Run(c.p.String(), func(t *testing.T) {
			m, s := open(t, sim.Options{Personality: c.p})
			refs, err := m.Send("+33612345678", long, nil)
			if err != nil || len(refs) < 3 {
				t.Fatalf("send: %v, %v", refs, err)
			}
			if n := s.CommandCount("+CMMS=1"); n != c.want {
				t.Errorf("+CMMS=1 sent %d times, want %d", n, c.want)
			}
		})
	}
}

func TestReset(t *testing.T) {
	s, cfg := plug(t, sim.Options{RebootDelay: 1500 * time.Millisecond})
	m, err := modem.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Reset(); err != nil {
		t.Fatalf("reset: %v", err)
	}
	// The simulated modem counts the reset when it reboots, just after our
	// read of its OK: wait for it.
	for deadline := time.Now().Add(5 * time.Second); s.Resets() != 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("modem reset %d times", s.Resets())
		}
	}
	select {
	case <-m.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("connection still up after a reset")
	}
	// The sim drops the node once it has seen our read of OK: poll for it.
	for gone := time.Now().Add(time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(cfg.Device); err != nil {
			break
		}
		if time.Now().After(gone) {
			t.Fatal("device link still there while the modem reboots")
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err = modem.Open(cfg)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("modem did not come back: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	defer m.Close()
	if _, err := m.Send("+33612345678", "de retour", nil); err != nil {
		t.Error(err)
	}
}

func TestStatusReportAfterDelay(t *testing.T) {
	m, s := open(t, sim.Options{ReportDelay: 200 * time.Millisecond})
	s.SetReportStatus("+33612345678", 0x00)
	refs, err := m.Send("+33612345678", "rapport", nil)
	if err != nil {
		t.Fatal(err)
	}
	waitArrival(t, m)
	var got []modem.Received
	if _, err := m.ReceiveStored(func(r modem.Received) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Report == nil || got[0].Report.Ref != refs[0] || got[0].Report.Recipient != "+33612345678" || got[0].Report.Status != 0 {
		t.Fatalf("got %+v, want the report on ref %d", got, refs[0])
	}
}

func hasProblem(r modem.Report, p modem.Problem) bool { return slices.Contains(r.Problems, p) }

func TestProbe(t *testing.T) {
	t.Run("healthy", func(t *testing.T) {
		_, cfg := plug(t, sim.Options{})
		r, err := modem.Probe(cfg)
		if err != nil || len(r.Problems) != 0 {
			t.Fatalf("report %+v, %v", r, err)
		}
		if r.Identity.Manufacturer == "" || r.Identity.IMEI == "" || r.Identity.SMSC == "" || r.SIM != "READY" ||
			r.Registration != "home" || r.Signal == nil || r.Operator == "" || r.Storage == nil || r.Storage.Total == 0 ||
			!r.Support.CMMS || !r.Support.StatusReports || r.Support.CSMS == "" {
			t.Errorf("report %+v", r)
		}
	})
	t.Run("PIN locked", func(t *testing.T) {
		s, cfg := plug(t, sim.Options{PIN: "1234"})
		r, err := modem.Probe(cfg) // no PIN configured: the daemon could not send
		if err != nil || !hasProblem(r, modem.ProblemSIMPIN) {
			t.Errorf("report %+v, %v", r, err)
		}
		if n := s.CommandCount("+CPIN="); n != 0 {
			t.Errorf("probe entered a PIN %d times, none configured", n)
		}
	})
	t.Run("PIN configured", func(t *testing.T) {
		// As the daemon would: the configured PIN entered once, then the
		// SMS setup; the daemon could send, so no problem.
		s, cfg := plug(t, sim.Options{PIN: "1234"})
		cfg.PIN = "1234"
		r, err := modem.Probe(cfg)
		if err != nil || len(r.Problems) != 0 || r.SIM != "READY" {
			t.Errorf("report %+v, %v", r, err)
		}
		if n := s.CommandCount("+CPIN="); n != 1 {
			t.Errorf("probe entered the PIN %d times, want once", n)
		}
		if n := s.CommandCount("+CNMI="); n == 0 {
			t.Error("probe did not set +CNMI as the daemon does")
		}
	})
	t.Run("no network", func(t *testing.T) {
		s, cfg := plug(t, sim.Options{})
		s.SetNetwork(false)
		r, err := modem.Probe(cfg)
		if err != nil || !(hasProblem(r, modem.ProblemNoNetwork) || hasProblem(r, modem.ProblemSearching)) {
			t.Errorf("report %+v, %v", r, err)
		}
	})
	t.Run("missing device", func(t *testing.T) {
		r, err := modem.Probe(modem.Config{Device: "/dev/does-not-exist-vigie"})
		if !errors.Is(err, os.ErrNotExist) || !hasProblem(r, modem.ProblemNoDevice) {
			t.Errorf("report %+v, %v", r, err)
		}
	})
	t.Run("port held", func(t *testing.T) {
		_, cfg := plug(t, sim.Options{})
		held, err := serial.Open(cfg.Device, &serial.Mode{BaudRate: 115200})
		if err != nil {
			t.Fatal(err)
		}
		defer held.Close()
		r, err := modem.Probe(cfg)
		if !errors.Is(err, modem.ErrPortBusy) || !hasProblem(r, modem.ProblemPortBusy) {
			t.Errorf("report %+v, %v", r, err)
		}
		if _, err := modem.Open(cfg); !errors.Is(err, modem.ErrPortBusy) {
			t.Errorf("open of a held port: %v", err)
		}
	})
	t.Run("hung", func(t *testing.T) {
		s, cfg := plug(t, sim.Options{})
		s.SetHang(true)
		cfg.CommandTimeout = 300 * time.Millisecond
		r, err := modem.Probe(cfg)
		if !errors.Is(err, modem.ErrTimeout) || !hasProblem(r, modem.ProblemNoAnswer) {
			t.Errorf("report %+v, %v", r, err)
		}
	})
}
