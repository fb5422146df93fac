package modem_test

import (
	"slices"
	"testing"
	"time"

	"vigie/modem"
	"vigie/modem/sim"
)

// Every modem family of real-modems.md, as the simulated modem reproduces
// it at its real start-up timing, opens within 10 s of power-on (30 s
// with a PIN), sends, has its status report read from wherever it keeps
// it, and hands over an inbound SMS — through the real serial port, AT
// driver and PDUs.
func TestEveryFamily(t *testing.T) {
	for _, p := range sim.Personalities() {
		for _, pin := range []string{"", "1234"} {
			name := p.String()
			limit := 10 * time.Second
			if pin != "" {
				name += "/PIN"
				limit = 30 * time.Second
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				s, cfg := plug(t, sim.Options{Personality: p, BootScale: 1, PIN: pin, Seed: 1})
				cfg.PIN, cfg.SIMWait = pin, limit
				start := time.Now()
				m, err := modem.Open(cfg)
				if err != nil {
					t.Fatalf("open: %v", err)
				}
				defer m.Close()
				ready := time.Since(start)
				if ready > limit {
					t.Errorf("ready after %v, want within %v", ready, limit)
				}
				t.Logf("%s: ready in %.1f s, family %s", name, ready.Seconds(), m.Identity().Manufacturer)
				if n := s.CommandCount("+CPIN="); n > 1 {
					t.Errorf("PIN entered %d times", n)
				}
				s.SetReportStatus("+33612345678", 0x00)
				refs, err := m.Send("+33612345678", "Vigilance commerce : vol rue Carnot.", nil)
				if err != nil {
					t.Fatalf("send: %v", err)
				}
				if got := s.Received("+33612345678"); len(got) != 1 {
					t.Fatalf("phone got %d SMS", len(got))
				}
				if err := s.Inject("+33611111111", "je l'ai vu partir vers la gare"); err != nil {
					t.Fatal(err)
				}
				var texts []string
				var reports []modem.StatusReport
				deadline := time.Now().Add(10 * time.Second)
				for (len(texts) == 0 || (m.Support().StatusReports && len(reports) == 0)) && time.Now().Before(deadline) {
					if _, err := m.ReceiveStored(func(r modem.Received) error {
						switch {
						case r.Err != nil:
							t.Errorf("undecodable entry %d: %v", r.Index, r.Err)
						case r.Report != nil:
							reports = append(reports, *r.Report)
						default:
							texts = append(texts, r.Text)
						}
						return nil
					}); err != nil {
						t.Errorf("receive: %v", err)
					}
					time.Sleep(200 * time.Millisecond)
				}
				if !slices.Equal(texts, []string{"je l'ai vu partir vers la gare"}) {
					t.Errorf("inbound %q", texts)
				}
				if m.Support().StatusReports {
					if len(reports) != 1 || reports[0].Ref != refs[0] || reports[0].Status != 0 {
						t.Errorf("reports %+v, want one delivered on ref %d", reports, refs[0])
					}
				}
				// Everything read was deleted: nothing left in any memory.
				n, err := m.ReceiveStored(func(modem.Received) error { return nil })
				if err != nil || n != 0 {
					t.Errorf("second listing: %d entries, %v", n, err)
				}
			})
		}
	}
}

// A modem that restarts on its own behind a port that stays open (a
// Quectel on a UART says RDY) has lost its settings: the connection is
// closed so that its owner sets it up again. Boot lines during start-up
// are expected and close nothing.
func TestSpontaneousRestartEndsTheConnection(t *testing.T) {
	m, s := open(t, sim.Options{Personality: sim.Quectel, BootScale: 0.1})
	select {
	case <-m.Done():
		t.Fatal("the start-up's own RDY closed the connection")
	case <-time.After(200 * time.Millisecond):
	}
	s.Emit("RDY")
	select {
	case <-m.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a late RDY left the connection open on a modem that lost its settings")
	}
}

// "Some phones" end the PDU line of +CMGL/+CMGR with ",0" (real-modems.md
// row 34): the SMS is still read, and deleted.
func TestPDULineWithTrailer(t *testing.T) {
	m, s := open(t, sim.Options{PDUTrailer: true})
	if err := s.Inject("+33611111111", "STOP"); err != nil {
		t.Fatal(err)
	}
	waitArrival(t, m)
	var texts []string
	n, err := m.ReceiveStored(func(r modem.Received) error {
		if r.Err != nil {
			t.Errorf("entry %d: %v", r.Index, r.Err)
		}
		texts = append(texts, r.Text)
		return nil
	})
	if err != nil || n != 1 || !slices.Equal(texts, []string{"STOP"}) {
		t.Fatalf("read %d %q, %v", n, texts, err)
	}
	if n, err := m.ReceiveStored(func(modem.Received) error { return nil }); err != nil || n != 0 {
		t.Errorf("left in the modem: %d, %v", n, err)
	}
}
