package modem_test

import (
	"fmt"
	"testing"
	"time"

	"vigie/modem"
	"vigie/modem/sim"
)

// deliveryReports sends n SMS, each with a delivery report, and reads the
// reports as the worker does, once per arrival, with read; it returns the
// AT commands spent reading and how many were listings (+CMGL).
func deliveryReports(t *testing.T, m *modem.Modem, s *sim.Modem, n int, read func(func(modem.Received) error) error) (commands, listings int) {
	t.Helper()
	before, cmgl := s.CommandCount(""), s.CommandCount("+CMGL")
	reports := 0
	handle := func(r modem.Received) error {
		if r.Report != nil {
			reports++
		}
		return nil
	}
	spent := 0
	for i := range n {
		to := fmt.Sprintf("+3361234%04d", i)
		s.SetReportStatus(to, 0x00)
		if _, err := m.Send(to, "Vigilance commerce : vol rue Carnot.", nil); err != nil {
			t.Fatalf("send: %v", err)
		}
		spent += s.CommandCount("") - before - spent // the send's own commands are not reading
		mark := s.CommandCount("")
		deadline := time.After(10 * time.Second)
		for reports <= i {
			select {
			case <-m.Arrivals():
			case <-deadline:
				t.Fatalf("report %d never read (%d read)", i+1, reports)
			}
			if err := read(handle); err != nil {
				t.Fatalf("read: %v", err)
			}
		}
		commands += s.CommandCount("") - mark
		before = s.CommandCount("")
		spent = 0
	}
	return commands, s.CommandCount("+CMGL") - cmgl
}

// TestReceiveAnnouncedReadsTheIndex: a delivery report announced by
// +CDSI is read alone (+CMGR of its index, in "SR" where the modem keeps
// reports there, whatever memory it names: Quectel), not by listing every
// memory; fewer AT commands per report than the listing, none of them a
// +CMGL, and nothing left in the modem.
func TestReceiveAnnouncedReadsTheIndex(t *testing.T) {
	const n = 4
	for _, p := range sim.Personalities() {
		t.Run(p.String(), func(t *testing.T) {
			m, s := open(t, sim.Options{Personality: p, BootScale: 0.01, Seed: 1})
			if !m.Support().StatusReports {
				t.Skipf("%s stores no status reports", p) // nothing announced to follow
			}
			listed, listings := deliveryReports(t, m, s, n, func(h func(modem.Received) error) error {
				_, err := m.ReceiveStored(h)
				return err
			})
			read, readListings := deliveryReports(t, m, s, n, func(h func(modem.Received) error) error {
				_, _, err := m.ReceiveAnnounced(h)
				return err
			})
			t.Logf("%s: AT commands per delivery report: listing %.1f (%d +CMGL), announced index %.1f (%d +CMGL)",
				p, float64(listed)/n, listings, float64(read)/n, readListings)
			// A one-entry listing costs what a read does (+CMGL, +CMGD);
			// where reports wait in a memory of their own, every listing
			// walks both memories and selects them in turn.
			apart := p == sim.Quectel || p == sim.SIM7600
			if readListings != 0 || read > listed || (apart && read >= listed) {
				t.Errorf("announced: %d commands, %d listings; listing: %d commands", read, readListings, listed)
			}
			if st, err := m.Storage(); apart && (err != nil || st.Mem != "SM") {
				// mem1 was left on "SR": the status still shows the SIM's.
				t.Errorf("storage after reading reports = %+v, %v; want the SIM's", st, err)
			}
			if got := s.Stored(); got != 0 {
				t.Errorf("%d entries left in the modem", got)
			}
		})
	}
}

// TestReceiveAnnouncedFallsBack: an announcement that cannot be followed
// — an empty slot, an SMS stored while another was announced — leads to a
// listing, so nothing waits for the next poll.
func TestReceiveAnnouncedFallsBack(t *testing.T) {
	m, s := open(t, sim.Options{})
	if err := s.Inject("+33611111111", "un"); err != nil {
		t.Fatal(err)
	}
	<-m.Arrivals()
	s.Emit(`+CMTI: "SM",9`) // announced, but slot 9 holds nothing
	time.Sleep(100 * time.Millisecond)
	var texts []string
	cmgl := s.CommandCount("+CMGL")
	got, listed, err := m.ReceiveAnnounced(func(r modem.Received) error { texts = append(texts, r.Text); return nil })
	if err != nil || got != 1 || !listed || len(texts) != 1 || texts[0] != "un" {
		t.Fatalf("ReceiveAnnounced = %d, listed %v, %v; texts %q", got, listed, err, texts)
	}
	if s.CommandCount("+CMGL") == cmgl || s.Stored() != 0 {
		t.Errorf("no listing after an empty slot, or %d left", s.Stored())
	}
	// Nothing announced: nothing read, no listing.
	cmgl = s.CommandCount("+CMGL")
	if got, listed, err := m.ReceiveAnnounced(func(modem.Received) error { return nil }); got != 0 || listed || err != nil {
		t.Errorf("nothing announced: %d, listed %v, %v", got, listed, err)
	}
	if s.CommandCount("+CMGL") != cmgl {
		t.Error("listed with nothing announced")
	}
}
