package store

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestEnrolOutcomes(t *testing.T) {
	t1 := t0.Add(time.Hour)
	for _, tc := range []struct {
		name    string
		before  func(t *testing.T, s *Store)
		e       Enrolment
		out     Outcome
		err     error
		want    check
		source  string
		created time.Time
	}{
		{
			name:    "new number",
			e:       Enrolment{Phone: alice, Zones: []string{"macon", "cluny"}, Trade: "tabac", Source: SourceImport},
			out:     OutcomeAdded,
			want:    check{status: StatusActive, zones: []string{"cluny", "macon"}, trade: "tabac"},
			source:  SourceImport,
			created: t1,
		},
		{
			name: "same zones again",
			before: func(t *testing.T, s *Store) {
				mustEnrol(t, s, Enrolment{Phone: alice, Zones: []string{"macon"}, Trade: "tabac"}, t0)
			},
			e:       Enrolment{Phone: alice, Zones: []string{"macon"}, Source: SourceImport},
			out:     OutcomeUnchanged,
			want:    check{status: StatusActive, zones: []string{"macon"}, trade: "tabac"},
			source:  SourceOperator,
			created: t0,
		},
		{
			name:    "a zone more keeps the first consent's source",
			before:  func(t *testing.T, s *Store) { mustEnrol(t, s, Enrolment{Phone: alice, Zones: []string{"macon"}}, t0) },
			e:       Enrolment{Phone: alice, Zones: []string{"cluny"}, Source: SourceImport},
			out:     OutcomeUpdated,
			want:    check{status: StatusActive, zones: []string{"cluny", "macon"}},
			source:  SourceOperator,
			created: t0,
		},
		{
			name: "new trade",
			before: func(t *testing.T, s *Store) {
				mustEnrol(t, s, Enrolment{Phone: alice, Zones: []string{"macon"}, Trade: "tabac"}, t0)
			},
			e:       Enrolment{Phone: alice, Zones: []string{"macon"}, Trade: "bijouterie"},
			out:     OutcomeUpdated,
			want:    check{status: StatusActive, zones: []string{"macon"}, trade: "bijouterie"},
			source:  SourceOperator,
			created: t0,
		},
		{
			name: "removed by an operator comes back",
			before: func(t *testing.T, s *Store) {
				mustEnrol(t, s, Enrolment{Phone: alice, Zones: []string{"macon"}}, t0)
				if _, _, err := s.RemoveSubscriber(alice, t0); err != nil {
					t.Fatal(err)
				}
			},
			e:       Enrolment{Phone: alice, Zones: []string{"cluny"}, Source: SourceImport},
			out:     OutcomeUpdated,
			want:    check{status: StatusActive, zones: []string{"cluny"}},
			source:  SourceImport,
			created: t0,
		},
		{
			name:   "STOP is not overridden",
			before: func(t *testing.T, s *Store) { stop(t, s, alice, t0) },
			e:      Enrolment{Phone: alice, Zones: []string{"macon"}, Source: SourceImport},
			out:    OutcomeSuppressed,
			err:    ErrSuppressed,
		},
		{
			name:    "forced after STOP: a new consent",
			before:  func(t *testing.T, s *Store) { stop(t, s, alice, t0) },
			e:       Enrolment{Phone: alice, Zones: []string{"macon"}, Force: true},
			out:     OutcomeAdded,
			want:    check{status: StatusActive, zones: []string{"macon"}},
			source:  SourceOperator,
			created: t1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTest(t)
			if tc.before != nil {
				tc.before(t, s)
			}
			sub, out, err := s.Enrol(tc.e, t1)
			if out != tc.out || !errors.Is(err, tc.err) || (err != nil) != (tc.err != nil) {
				t.Fatalf("Enrol = %s, %v; want %s, %v", out, err, tc.out, tc.err)
			}
			if tc.err != nil {
				if _, found, _ := s.Subscriber(alice); found {
					t.Errorf("refused enrolment recorded a subscriber")
				}
				return
			}
			checkSubscriber(t, s, "after", tc.want)
			if sub.Source != tc.source || !sub.CreatedAt.Equal(tc.created) {
				t.Errorf("source %q created %v, want %q %v", sub.Source, sub.CreatedAt, tc.source, tc.created)
			}
		})
	}
}

func mustEnrol(t *testing.T, s *Store, e Enrolment, now time.Time) {
	t.Helper()
	if _, _, err := s.Enrol(e, now); err != nil {
		t.Fatalf("Enrol(%+v): %v", e, err)
	}
}

func TestImport(t *testing.T) {
	s := newTest(t)
	stop(t, s, carol, t0)
	mustEnrol(t, s, Enrolment{Phone: bob, Zones: []string{"macon"}}, t0)
	rows := []Enrolment{
		{Phone: alice, Zones: []string{"macon"}, Source: SourceImport},
		{Phone: bob, Zones: []string{"macon"}, Source: SourceImport},
		{Phone: carol, Zones: []string{"macon"}, Source: SourceImport, Force: true}, // ignored in a file
		{Phone: alice, Zones: []string{"cluny"}, Trade: "tabac", Source: SourceImport},
	}
	first := []Outcome{OutcomeAdded, OutcomeUnchanged, OutcomeSuppressed, OutcomeUpdated}
	before, _ := s.Subscribers()

	dry, err := s.Import(rows, true, t0)
	if err != nil || !slices.Equal(dry, first) {
		t.Fatalf("dry run = %v, %v; want %v", dry, err, first)
	}
	if after, _ := s.Subscribers(); !slices.EqualFunc(before, after, equalSubscriber) {
		t.Fatalf("dry run changed the subscribers: %+v", after)
	}

	got, err := s.Import(rows, false, t0)
	if err != nil || !slices.Equal(got, first) {
		t.Fatalf("import = %v, %v; want %v", got, err, first)
	}
	sub, _, _ := s.Subscriber(alice)
	if !slices.Equal(sub.Zones, []string{"cluny", "macon"}) || sub.Trade != "tabac" || sub.Source != SourceImport {
		t.Errorf("alice after import: %+v", sub)
	}
	if sup, _ := s.Suppressed(carol); !sup {
		t.Errorf("import took a STOPped number off the suppression list")
	}

	once, _ := s.Subscribers()
	again, err := s.Import(rows, false, t0.Add(time.Hour))
	want := []Outcome{OutcomeUnchanged, OutcomeUnchanged, OutcomeSuppressed, OutcomeUnchanged}
	if err != nil || !slices.Equal(again, want) {
		t.Fatalf("second import = %v, %v; want %v", again, err, want)
	}
	if twice, _ := s.Subscribers(); !slices.EqualFunc(once, twice, func(a, b Subscriber) bool {
		return equalSubscriber(a, b) && a.UpdatedAt.Equal(b.UpdatedAt)
	}) {
		t.Errorf("second import changed something:\n%+v\n%+v", once, twice)
	}
}

func TestImportIsAllOrNothing(t *testing.T) {
	s := newTest(t)
	_, err := s.Import([]Enrolment{
		{Phone: alice, Zones: []string{"macon"}},
		{Phone: bob}, // no zone: the caller should have rejected it
	}, false, t0)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Import = %v, want ErrInvalid", err)
	}
	if subs, _ := s.Subscribers(); len(subs) != 0 {
		t.Errorf("a failed import left %+v", subs)
	}
}

func TestRemoveSubscriber(t *testing.T) {
	s := newTest(t)
	mustEnrol(t, s, Enrolment{Phone: alice, Zones: []string{"macon"}, Trade: "tabac"}, t0)
	mustCreateAlert(t, s, []string{alice, bob}, t0)
	reply, err := s.EnqueueReply(KindReply, alice, "x", 1, false, t0)
	if err != nil {
		t.Fatal(err)
	}
	sub, n, err := s.RemoveSubscriber(alice, t0)
	if err != nil || n != 1 || sub.Status != StatusStopped || len(sub.Zones) != 0 || sub.Trade != "" {
		t.Fatalf("RemoveSubscriber = %+v, %d, %v; want stopped, 1 alert message cancelled", sub, n, err)
	}
	if sup, _ := s.Suppressed(alice); sup {
		t.Errorf("an operator's remove put the number on the suppression list")
	}
	if m, _ := s.Message(reply.ID); m.State != StateQueued {
		t.Errorf("reply to the removed number is %s, want still queued", m.State)
	}
	if rs, _ := s.ActiveRecipients([]string{"macon"}, nil, false); len(rs) != 0 {
		t.Errorf("removed number still a recipient: %v", rs)
	}
	if _, _, err := s.RemoveSubscriber(bob, t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("remove unknown = %v, want ErrNotFound", err)
	}
}

func TestApproveAndReply(t *testing.T) {
	s := newTest(t)
	if _, err := apply(t, s, alice, Effect{Request: &Request{Phone: alice, Pending: Pending{Zone: "macon", Policy: PolicyApproval, At: t0}}}, t0); err != nil {
		t.Fatal(err)
	}
	sub, err := s.ApproveAndReply(alice, func(p Pending) Reply {
		return Reply{To: alice, Text: "inscription enregistrée " + p.Zone, Parts: 1}
	}, t0)
	if err != nil || sub.Status != StatusActive || !slices.Equal(sub.Zones, []string{"macon"}) || sub.Pending != nil {
		t.Fatalf("ApproveAndReply = %+v, %v", sub, err)
	}
	m := mustClaim(t, s, t0)
	if m.To != alice || m.Text != "inscription enregistrée macon" || m.Kind != KindReply {
		t.Errorf("queued reply %+v", m)
	}
	if _, err := s.ApproveAndReply(alice, func(Pending) Reply { return Reply{To: alice, Text: "x", Parts: 1} }, t0); !errors.Is(err, ErrState) {
		t.Errorf("second approval = %v, want ErrState", err)
	}
}
