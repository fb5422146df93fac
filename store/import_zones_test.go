package store

import (
	"slices"
	"testing"
)

// TestImportAddsOrReplacesZones: by default an import adds the file's
// zones to a subscriber's; with ReplaceZones they become its zones, the
// rows of one number together.
func TestImportAddsOrReplacesZones(t *testing.T) {
	for _, tc := range []struct {
		name    string
		replace bool
		want    []string
		outs    []Outcome
	}{
		{"add", false, []string{"cluny", "macon", "macon-nord"}, []Outcome{OutcomeUpdated, OutcomeUpdated}},
		{"replace", true, []string{"macon", "macon-nord"}, []Outcome{OutcomeUpdated, OutcomeUnchanged}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTest(t)
			if _, err := s.AddSubscriber(Subscription{Phone: alice, Zone: "cluny"}, t0); err != nil {
				t.Fatal(err)
			}
			outs, err := s.Import([]Enrolment{
				{Phone: alice, Zones: []string{"macon"}, Source: SourceImport, ReplaceZones: tc.replace},
				{Phone: alice, Zones: []string{"macon-nord"}, Source: SourceImport, ReplaceZones: tc.replace},
			}, false, t0)
			if err != nil || !slices.Equal(outs, tc.outs) {
				t.Fatalf("Import = %v, %v; want %v", outs, err, tc.outs)
			}
			sub, _, _ := s.Subscriber(alice)
			if !slices.Equal(sub.Zones, tc.want) {
				t.Errorf("zones %v, want %v", sub.Zones, tc.want)
			}
			// The same file again changes nothing, in either mode.
			outs, _ = s.Import([]Enrolment{
				{Phone: alice, Zones: []string{"macon"}, Source: SourceImport, ReplaceZones: tc.replace},
				{Phone: alice, Zones: []string{"macon-nord"}, Source: SourceImport, ReplaceZones: tc.replace},
			}, false, t0)
			if !slices.Equal(outs, []Outcome{OutcomeUnchanged, OutcomeUnchanged}) {
				t.Errorf("second import: %v, want unchanged", outs)
			}
		})
	}
}
