package store

import (
	"strings"
	"testing"
)

func TestCleanName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"  Tabac du Centre ", "Tabac du Centre"},
		{"Bijouterie\r\nMartin\t& fils", "Bijouterie Martin & fils"},
		{"a\x1b[31mb", "a [31mb"},
		{strings.Repeat("é", MaxNameLen+5), strings.Repeat("é", MaxNameLen)},
		{"   ", ""},
	} {
		if got := CleanName(tc.in); got != tc.want {
			t.Errorf("CleanName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// An import or an operator names the shop; a later enrolment without a
// name keeps it, and a new name alone is a change.
func TestEnrolName(t *testing.T) {
	s := newTest(t)
	if _, out, err := s.Enrol(Enrolment{Phone: alice, Zones: []string{"macon"}, Name: " Tabac du Centre ", Source: SourceImport}, t0); err != nil || out != OutcomeAdded {
		t.Fatalf("Enrol = %v, %v", out, err)
	}
	if _, out, err := s.Enrol(Enrolment{Phone: alice, Zones: []string{"macon"}, Source: SourceImport}, t0); err != nil || out != OutcomeUnchanged {
		t.Errorf("Enrol without a name = %v, %v; want unchanged", out, err)
	}
	if _, out, err := s.Enrol(Enrolment{Phone: alice, Zones: []string{"macon"}, Name: "Le Balto", Source: SourceOperator}, t0); err != nil || out != OutcomeUpdated {
		t.Errorf("Enrol with a new name = %v, %v; want updated", out, err)
	}
	if sub, _, err := s.Subscriber(alice); err != nil || sub.Name != "Le Balto" {
		t.Errorf("name = %q, %v", sub.Name, err)
	}
}
