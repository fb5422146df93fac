package modem_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"vigie/modem"
	"vigie/modem/sim"
)

// sendWithReports sends n SMS whose delivery reports the sim brings back.
func sendWithReports(t *testing.T, m *modem.Modem, s *sim.Modem, n int) {
	t.Helper()
	for i := range n {
		to := fmt.Sprintf("+3361234%04d", i)
		s.SetReportStatus(to, 0x00)
		if _, err := m.Send(to, "Vigilance commerce : vol rue Carnot.", nil); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
}

// keepReports reads with read, arrival after arrival, until n status
// reports were handed over, keeping each for DeleteKept; it returns their
// keys. An SMS is accepted (deleted at once).
func keepReports(t *testing.T, m *modem.Modem, n int, read func(func(modem.Received) error) error) []string {
	t.Helper()
	var keys []string
	handle := func(r modem.Received) error {
		if r.Report == nil {
			return nil
		}
		keys = append(keys, r.Key)
		return modem.ErrDeleteLater
	}
	deadline := time.After(10 * time.Second)
	for len(keys) < n {
		if err := read(handle); err != nil {
			t.Fatalf("read: %v", err)
		}
		if len(keys) >= n {
			break
		}
		select {
		case <-m.Arrivals():
		case <-deadline:
			t.Fatalf("%d reports handed over, want %d", len(keys), n)
		}
	}
	return keys
}

func announced(m *modem.Modem) func(func(modem.Received) error) error {
	return func(h func(modem.Received) error) error {
		_, _, err := m.ReceiveAnnounced(h)
		return err
	}
}

func stored(m *modem.Modem) func(func(modem.Received) error) error {
	return func(h func(modem.Received) error) error {
		_, err := m.ReceiveStored(h)
		return err
	}
}

// TestDeleteLaterKeepsUntilDeleted: status reports a handler keeps
// (ErrDeleteLater) stay in the modem, counted as unread, and no listing of
// the session hands them over again, while an SMS that arrives meanwhile
// is read and deleted as before; DeleteKept then deletes them all, in the
// memory they wait in ("SR" on Quectel), and leaves mem1 as it found it.
func TestDeleteLaterKeepsUntilDeleted(t *testing.T) {
	const n = 3
	for _, p := range []sim.Personality{sim.Generic, sim.Quectel} {
		t.Run(p.String(), func(t *testing.T) {
			m, s := open(t, sim.Options{Personality: p, BootScale: 0.01, Seed: 1})
			if !m.Support().StatusReports {
				t.Fatalf("%s stores no status reports", p)
			}
			sendWithReports(t, m, s, n)
			keys := keepReports(t, m, n, announced(m))
			if got := s.Stored(); got != n {
				t.Fatalf("%d entries in the modem after keeping %d reports", got, n)
			}
			if got := m.Unread(); got < n {
				t.Errorf("Unread = %d with %d reports kept", got, n)
			}
			var again []string
			if _, err := m.ReceiveStored(func(r modem.Received) error {
				again = append(again, r.Key)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(again) != 0 {
				t.Errorf("listing handed over %d kept entries again", len(again))
			}
			if err := s.Inject("+33611111111", "STOP"); err != nil {
				t.Fatal(err)
			}
			// An arrival left from the reports' announcements may wake us
			// before the SMS's own: read at each one until the SMS came.
			var texts []string
			deadline := time.After(10 * time.Second)
			for len(texts) == 0 {
				select {
				case <-m.Arrivals():
				case <-deadline:
					t.Fatalf("the SMS was never announced")
				}
				if _, _, err := m.ReceiveAnnounced(func(r modem.Received) error {
					if slices.Contains(keys, r.Key) {
						t.Errorf("kept report handed over again")
					}
					texts = append(texts, r.Text)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			if !slices.Equal(texts, []string{"STOP"}) || s.Stored() != n {
				t.Errorf("SMS read %q, %d entries left; want the SMS, %d", texts, s.Stored(), n)
			}
			deleted, err := m.DeleteKept()
			if err != nil || deleted != n {
				t.Fatalf("DeleteKept = %d, %v; want %d", deleted, err, n)
			}
			if s.Stored() != 0 || m.Unread() != 0 {
				t.Errorf("after DeleteKept: %d stored, Unread %d", s.Stored(), m.Unread())
			}
			if st, err := m.Storage(); err != nil || st.Mem != "SM" {
				t.Errorf("storage after deleting = %+v, %v; want the SIM's", st, err)
			}
			if deleted, err := m.DeleteKept(); deleted != 0 || err != nil {
				t.Errorf("DeleteKept again = %d, %v", deleted, err)
			}
		})
	}
}

// TestDeleteLaterReadAgain: what was kept and not deleted comes back — at
// the next listing once released (the caller could not commit it), and in
// the next session after a modem loss — so nothing kept is lost.
func TestDeleteLaterReadAgain(t *testing.T) {
	s, cfg := plug(t, sim.Options{})
	m, err := modem.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sendWithReports(t, m, s, 2)
	keys := keepReports(t, m, 2, stored(m))
	m.ReleaseKept()
	released := keepReports(t, m, 2, stored(m))
	if !sameSet(keys, released) {
		t.Errorf("after ReleaseKept: %q, want %q", released, keys)
	}
	m.Close() // the modem is lost before DeleteKept
	m, err = modem.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	var reread []string
	if _, err := m.ReceiveStored(func(r modem.Received) error {
		reread = append(reread, r.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !sameSet(keys, reread) || s.Stored() != 0 {
		t.Errorf("after a reopen: read %q, want %q; %d left", reread, keys, s.Stored())
	}
	if deleted, err := m.DeleteKept(); deleted != 0 || err != nil {
		t.Errorf("DeleteKept in the new session = %d, %v", deleted, err)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestCapacity: the modem says how many entries the memory received SMS
// and reports are stored in holds, from its answer to the +CPMS selection.
func TestCapacity(t *testing.T) {
	for _, c := range []int{12, 30} {
		m, _ := open(t, sim.Options{Capacity: c})
		if got := m.Capacity(); got != c {
			t.Errorf("Capacity = %d with a %d-entry SIM", got, c)
		}
	}
}
