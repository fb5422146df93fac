package modem_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"vigie/modem"
	"vigie/modem/sim"
)

// The sim delivers through real PDUs what a hostile sender controls: the
// type of number and the concatenation header.
func TestSimDeliversSenderKindAndParts(t *testing.T) {
	m, s := open(t, sim.Options{})
	scts := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	for _, d := range []sim.Delivery{
		{From: "0612345679", Alphanumeric: true, Text: "STOP"},
		{From: "+33612345679", Text: "deux", Ref: 7, Total: 3, Seq: 2, SCTS: scts},
	} {
		if err := s.Deliver(d); err != nil {
			t.Fatal(err)
		}
	}
	var got []modem.Received
	if _, err := m.ReceiveStored(func(r modem.Received) error {
		got = append(got, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b modem.Received) int { return strings.Compare(a.Text, b.Text) })
	if len(got) != 2 {
		t.Fatalf("read %+v", got)
	}
	if r := got[0]; r.From != "0612345679" || r.FromKind != modem.SenderAlphanumeric || r.Text != "STOP" || r.Total != 1 {
		t.Errorf("alphanumeric sender read as %+v", r)
	}
	if r := got[1]; r.From != "+33612345679" || r.FromKind != modem.SenderNumber || r.Text != "deux" ||
		r.ConcatRef != 7 || r.Total != 3 || r.Seq != 2 || !r.SCTS.Equal(scts) {
		t.Errorf("part read as %+v", r)
	}
	if err := s.Deliver(sim.Delivery{From: "+33612345679", Text: "x", Total: 3, Seq: 4}); !errors.Is(err, sim.ErrInvalidPart) {
		t.Errorf("part 4 of 3: %v", err)
	}
}
