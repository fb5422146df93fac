package modem_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warthog618/modem/at"

	"vigie/modem"
	"vigie/modem/sim"
)

// open starts a simulated modem on a real pseudo-terminal and opens it
// through the real serial port and AT driver.
func open(t *testing.T, o sim.Options) (*modem.Modem, *sim.Modem) {
	t.Helper()
	s, cfg := plug(t, o)
	m, err := modem.Open(cfg)
	if err != nil {
		t.Fatalf("open modem: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m, s
}

// plug starts a simulated modem on a pseudo-terminal behind a link, as udev
// would name it, and returns the config to open it.
func plug(t *testing.T, o sim.Options) (*sim.Modem, modem.Config) {
	t.Helper()
	s := sim.New(o)
	t.Cleanup(func() { s.Close() })
	link := filepath.Join(t.TempDir(), "modem")
	if _, err := s.OpenPTY(link); err != nil {
		t.Fatalf("open pty: %v", err)
	}
	return s, modem.Config{Name: "t", Device: link, CommandTimeout: 5 * time.Second, SendTimeout: 10 * time.Second, Validity: 4 * time.Hour, SIMWait: 10 * time.Second}
}

func TestSendSinglePart(t *testing.T) {
	m, s := open(t, sim.Options{})
	refs, err := m.Send("+33612345678", "Vigilance : vol rue Carnot. STOP pour ne plus recevoir.", nil)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	got := s.Received("+33612345678")
	if len(got) != 1 || got[0].Text != "Vigilance : vol rue Carnot. STOP pour ne plus recevoir." {
		t.Fatalf("phone got %+v", got)
	}
	if len(refs) != 1 || refs[0] != got[0].Refs[0] {
		t.Errorf("refs = %v, modem gave %v", refs, got[0].Refs)
	}
	if !got[0].SRR || got[0].Alphabet != "GSM7" {
		t.Errorf("SRR %v alphabet %s; want a status report requested, GSM7", got[0].SRR, got[0].Alphabet)
	}
}

func TestSendConcatenatedUCS2(t *testing.T) {
	m, s := open(t, sim.Options{})
	text := strings.Repeat("Œuvre d’art volée « ici » — ", 8)
	calls := 0
	refs, err := m.Send("+33612345678", text, func() error { calls++; return nil })
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	got := s.Received("+33612345678")
	if len(got) != 1 || got[0].Text != text || got[0].Alphabet != "UCS2" {
		t.Fatalf("phone got %+v", got)
	}
	if got[0].Parts < 3 || len(refs) != got[0].Parts || calls != got[0].Parts {
		t.Errorf("parts %d, refs %v, beforePart calls %d", got[0].Parts, refs, calls)
	}
}

func TestSendBeforePartRefusal(t *testing.T) {
	m, s := open(t, sim.Options{})
	stop := errors.New("no token")
	_, err := m.Send("+33612345678", "x", func() error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("err = %v, want the refusal", err)
	}
	if got := s.AllReceived(); len(got) != 0 {
		t.Errorf("sent %v despite the refusal", got)
	}
}

func TestSendCMSErrorIsClassified(t *testing.T) {
	m, s := open(t, sim.Options{})
	s.FailNumber("+33699999999", 1) // unassigned number
	_, err := m.Send("+33699999999", "x", nil)
	if err == nil {
		t.Fatal("send to a failing number succeeded")
	}
	if a := modem.Classify(err); a != modem.FailRecipient {
		t.Errorf("Classify(%v) = %v, want fail-recipient", err, a)
	}
	// The modem goes on working for the next recipient.
	if _, err := m.Send("+33612345678", "suivant", nil); err != nil {
		t.Errorf("next send: %v", err)
	}
}

// A bare ERROR after the PDU went out is no refusal: the modem may have sent
// it (the sim's network took it here), so Send says the outcome is unknown.
func TestSendStrayErrorAfterPDUIsUnconfirmed(t *testing.T) {
	for _, sent := range []bool{false, true} {
		m, s := open(t, sim.Options{})
		s.ErrorAfterPDU(1, sent)
		_, err := m.Send("+33612345678", "Alerte", nil)
		if !errors.Is(err, modem.ErrUnconfirmed) || !errors.Is(err, at.ErrError) {
			t.Fatalf("sent=%v: err = %v, want a bare ERROR marked unconfirmed", sent, err)
		}
		if a := modem.Classify(err); a != modem.Ambiguous {
			t.Errorf("sent=%v: Classify(%v) = %v, want ambiguous", sent, err, a)
		}
		// The modem goes on answering.
		if _, err := m.Send("+33612345678", "suivant", nil); err != nil {
			t.Errorf("sent=%v: next send: %v", sent, err)
		}
	}
}

// A definite refusal after the PDU (a code of the tables) keeps its meaning.
func TestSendKnownCodeAfterPDUIsDefinite(t *testing.T) {
	m, s := open(t, sim.Options{})
	s.FailRate(38, 1)
	_, err := m.Send("+33612345678", "Alerte", nil)
	if err == nil || errors.Is(err, modem.ErrUnconfirmed) || modem.Classify(err) != modem.RetryLater {
		t.Fatalf("err = %v (%v), want +CMS ERROR: 38, temporary, not unconfirmed", err, modem.Classify(err))
	}
}

// An answer lost after the PDU went out is unconfirmed; one lost before the
// prompt (the modem hung) is not: nothing was sent.
func TestSendTimeoutBeforeAndAfterPDU(t *testing.T) {
	t.Run("after", func(t *testing.T) {
		_, cfg := plug(t, sim.Options{SendDelay: 3 * time.Second})
		cfg.SendTimeout = 500 * time.Millisecond
		m, err := modem.Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		_, err = m.Send("+33612345678", "Alerte", nil)
		if !errors.Is(err, modem.ErrUnconfirmed) || !errors.Is(err, modem.ErrTimeout) || modem.Classify(err) != modem.Ambiguous {
			t.Fatalf("err = %v, want a timeout marked unconfirmed", err)
		}
	})
	t.Run("before", func(t *testing.T) {
		s, cfg := plug(t, sim.Options{})
		cfg.SendTimeout = 500 * time.Millisecond
		m, err := modem.Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		s.SetHang(true)
		_, err = m.Send("+33612345678", "Alerte", nil)
		if !errors.Is(err, modem.ErrTimeout) || errors.Is(err, modem.ErrUnconfirmed) || modem.Classify(err) != modem.RetryLater {
			t.Fatalf("err = %v (%v), want a plain timeout, temporary", err, modem.Classify(err))
		}
		if got := s.AllReceived(); len(got) != 0 {
			t.Errorf("a hung modem sent %v", got)
		}
	})
}

func TestReceiveStoredDeletesOnlyWhatWasHandled(t *testing.T) {
	m, s := open(t, sim.Options{})
	for _, txt := range []string{"INSCRIPTION macon", "STOP"} {
		if err := s.Inject("+33611111111", txt); err != nil {
			t.Fatal(err)
		}
	}
	waitArrival(t, m)
	// The handler refuses the first: it must stay in the modem.
	var seen []string
	n, err := m.ReceiveStored(func(r modem.Received) error {
		seen = append(seen, r.Text)
		if r.Text == "INSCRIPTION macon" {
			return errors.New("database down")
		}
		return nil
	})
	if err == nil || n != 1 || len(seen) != 2 {
		t.Fatalf("handled %d, seen %q, err %v; want 1 handled of 2 and an error", n, seen, err)
	}
	if s.Stored() != 1 {
		t.Fatalf("modem stores %d, want the refused one kept", s.Stored())
	}
	var again []modem.Received
	if _, err := m.ReceiveStored(func(r modem.Received) error { again = append(again, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(again) != 1 || again[0].Text != "INSCRIPTION macon" || again[0].From != "+33611111111" || again[0].Key == "" {
		t.Fatalf("second listing = %+v", again)
	}
	if s.Stored() != 0 {
		t.Errorf("modem still stores %d", s.Stored())
	}
}

func TestReceiveConcatenatedParts(t *testing.T) {
	m, s := open(t, sim.Options{})
	long := strings.Repeat("témoin : voiture grise immatriculée AB-123-CD, ", 5)
	if err := s.Inject("+33611111111", long); err != nil {
		t.Fatal(err)
	}
	waitArrival(t, m)
	var parts []modem.Received
	if _, err := m.ReceiveStored(func(r modem.Received) error { parts = append(parts, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(parts) < 2 {
		t.Fatalf("got %d parts", len(parts))
	}
	text := make([]string, len(parts))
	for _, p := range parts {
		if p.Total != len(parts) || p.ConcatRef != parts[0].ConcatRef || p.Seq < 1 || p.Seq > p.Total {
			t.Fatalf("part %+v does not belong to a %d-part message", p, len(parts))
		}
		text[p.Seq-1] = p.Text
	}
	if got := strings.Join(text, ""); got != long {
		t.Errorf("reassembled %q, want %q", got, long)
	}
}

func TestStatusProbes(t *testing.T) {
	m, _ := open(t, sim.Options{})
	sig, err := m.Signal()
	if err != nil || sig.RSSI < 0 || sig.RSSI > 31 || sig.DBm >= 0 {
		t.Errorf("signal %+v, %v", sig, err)
	}
	reg, err := m.Registration()
	if err != nil || !reg.Registered() {
		t.Errorf("registration %v, %v", reg, err)
	}
	if op, err := m.Operator(); err != nil || op == "" {
		t.Errorf("operator %q, %v", op, err)
	}
}

func waitArrival(t *testing.T, m *modem.Modem) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	select {
	case <-m.Arrivals():
	case <-ctx.Done():
		t.Fatal("no +CMTI announced")
	}
}
