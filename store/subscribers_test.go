package store

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// apply receives an SMS from phone and applies e to it, as the gateway does.
// The text, hence the dedupe key, differs with each effect.
func apply(t *testing.T, s *Store, from string, e Effect, now time.Time) (Applied, error) {
	t.Helper()
	// The text is what makes each SMS new: it must show the values behind
	// the effect's pointers, not their addresses, which the allocator reuses.
	text := fmt.Sprintf("%+v %+v", e, e.Request)
	if e.Code != nil {
		text += fmt.Sprintf(" %+v", *e.Code)
	}
	if e.Subscribe != nil {
		text += fmt.Sprintf(" %+v", *e.Subscribe)
	}
	if e.Reply != nil {
		text += fmt.Sprintf(" %+v", *e.Reply)
	}
	in := receive(t, s, from, text, now)
	return s.ApplyInbound(in.ID, e, now)
}

func TestSubscriptionRequests(t *testing.T) {
	t1, t2 := t0.Add(time.Minute), t0.Add(2*time.Minute)
	confirmMacon := Pending{Zone: "macon", Trade: "bijouterie", Policy: PolicyConfirm, Code: "4821", At: t1}
	for _, tc := range []struct {
		name     string
		before   func(t *testing.T, s *Store) // the number's history
		requests []Pending                    // received in order at t1
		pending  check                        // after the requests
		activate func(s *Store) error         // at t2
		active   check                        // after activation
	}{
		{
			name:     "unknown number confirms",
			requests: []Pending{confirmMacon},
			pending:  check{status: StatusPending, zones: []string{}, pending: &confirmMacon},
			activate: func(s *Store) error {
				_, err := apply(t, s, alice, Effect{Confirm: alice}, t2)
				return err
			},
			active: check{status: StatusActive, zones: []string{"macon"}, trade: "bijouterie"},
		},
		{
			name:     "stopped number stays suppressed until it confirms",
			before:   func(t *testing.T, s *Store) { stop(t, s, alice, t0) },
			requests: []Pending{confirmMacon},
			pending:  check{status: StatusPending, zones: []string{}, pending: &confirmMacon, suppressed: true},
			activate: func(s *Store) error {
				_, err := apply(t, s, alice, Effect{Confirm: alice}, t2)
				return err
			},
			active: check{status: StatusActive, zones: []string{"macon"}, trade: "bijouterie"},
		},
		{
			name: "active number keeps its zones while a request is pending",
			before: func(t *testing.T, s *Store) {
				if _, err := s.AddSubscriber(Subscription{Phone: alice, Zone: "cluny"}, t0); err != nil {
					t.Fatal(err)
				}
			},
			requests: []Pending{confirmMacon},
			pending:  check{status: StatusActive, zones: []string{"cluny"}, pending: &confirmMacon},
			activate: func(s *Store) error {
				_, err := apply(t, s, alice, Effect{Confirm: alice}, t2)
				return err
			},
			active: check{status: StatusActive, zones: []string{"cluny", "macon"}, trade: "bijouterie"},
		},
		{
			name:     "a new request replaces the previous one",
			requests: []Pending{{Zone: "cluny", Policy: PolicyConfirm, Code: "1111", At: t0}, confirmMacon},
			pending:  check{status: StatusPending, zones: []string{}, pending: &confirmMacon},
			activate: func(s *Store) error {
				_, err := s.Approve(alice, t2)
				return err
			},
			active: check{status: StatusActive, zones: []string{"macon"}, trade: "bijouterie"},
		},
		{
			name:     "operator approves",
			requests: []Pending{{Zone: "macon", Policy: PolicyApproval, At: t1}},
			pending:  check{status: StatusPending, zones: []string{}, pending: &Pending{Zone: "macon", Policy: PolicyApproval, At: t1}},
			activate: func(s *Store) error {
				_, err := s.Approve(alice, t2)
				return err
			},
			active: check{status: StatusActive, zones: []string{"macon"}},
		},
		{
			name:     "STOP drops the request",
			requests: []Pending{confirmMacon},
			pending:  check{status: StatusPending, zones: []string{}, pending: &confirmMacon},
			activate: func(s *Store) error {
				stop(t, s, alice, t2)
				return nil
			},
			active: check{status: StatusStopped, zones: []string{}, suppressed: true},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTest(t)
			if tc.before != nil {
				tc.before(t, s)
			}
			for _, p := range tc.requests {
				if _, err := apply(t, s, alice, Effect{Request: &Request{Phone: alice, Pending: p}}, t1); err != nil {
					t.Fatalf("request %+v: %v", p, err)
				}
			}
			checkSubscriber(t, s, "pending", tc.pending)
			if got, _ := s.ActiveRecipients([]string{"macon"}, nil, false); slices.Contains(got, alice) {
				t.Errorf("pending request already receives alerts for its zone")
			}
			if err := tc.activate(s); err != nil {
				t.Fatalf("activate: %v", err)
			}
			checkSubscriber(t, s, "activated", tc.active)
			if reqs, _ := s.PendingRequests(); len(reqs) != 0 {
				t.Errorf("PendingRequests after activation = %+v", reqs)
			}
		})
	}
}

// check is what a test expects of alice's subscription.
type check struct {
	status     SubscriberStatus
	zones      []string
	trade      string
	pending    *Pending
	suppressed bool
}

func checkSubscriber(t *testing.T, s *Store, when string, want check) {
	t.Helper()
	sub, found, err := s.Subscriber(alice)
	if err != nil || !found {
		t.Fatalf("%s: Subscriber = %v, %v", when, found, err)
	}
	if sub.Status != want.status || !slices.Equal(sub.Zones, want.zones) || sub.Trade != want.trade {
		t.Errorf("%s: %+v, want status %s zones %v trade %q", when, sub, want.status, want.zones, want.trade)
	}
	if (sub.Pending == nil) != (want.pending == nil) || sub.Pending != nil && !equalPending(*sub.Pending, *want.pending) {
		t.Errorf("%s: pending %+v, want %+v", when, sub.Pending, want.pending)
	}
	if got, _ := s.Suppressed(alice); got != want.suppressed {
		t.Errorf("%s: suppressed %v, want %v", when, got, want.suppressed)
	}
}

func equalPending(a, b Pending) bool {
	return a.Zone == b.Zone && a.Trade == b.Trade && a.Policy == b.Policy && a.Code == b.Code && a.At.Equal(b.At)
}

func TestSubscriptionRequestErrors(t *testing.T) {
	s := newTest(t)
	if _, err := s.AddSubscriber(Subscription{Phone: bob, Zone: "macon"}, t0); err != nil {
		t.Fatal(err)
	}
	// A Confirm with nothing pending fails, and the whole effect with it:
	// the SMS stays unprocessed and nothing else was applied.
	in := receive(t, s, bob, "OUI 1234", t0)
	_, err := s.ApplyInbound(in.ID, Effect{Confirm: bob, Reply: &Reply{To: bob, Text: "ok", Parts: 1}}, t0)
	if !errors.Is(err, ErrState) {
		t.Errorf("Confirm without a request: %v, want ErrState", err)
	}
	if un, _ := s.Unprocessed(); len(un) != 1 {
		t.Errorf("after a refused Confirm: unprocessed %+v", un)
	}
	if c, _ := s.QueueCounts(); len(c) != 0 {
		t.Errorf("after a refused Confirm: counts %v", c)
	}
	for _, tc := range []struct {
		phone string
		want  error
	}{
		{carol, ErrNotFound},
		{bob, ErrState},
	} {
		if _, err := s.Approve(tc.phone, t0); !errors.Is(err, tc.want) {
			t.Errorf("Approve(%s): %v, want %v", tc.phone, err, tc.want)
		}
	}
	for _, r := range []Request{{Phone: carol}, {Pending: Pending{Zone: "macon"}}} {
		if _, err := apply(t, s, carol, Effect{Request: &r}, t0); !errors.Is(err, ErrInvalid) {
			t.Errorf("Request %+v: %v, want ErrInvalid", r, err)
		}
	}
}

func TestPendingRequestsOldestFirst(t *testing.T) {
	s := newTest(t)
	for _, r := range []struct {
		phone string
		at    time.Time
	}{{alice, t0.Add(2 * time.Hour)}, {carol, t0}, {bob, t0.Add(time.Hour)}} {
		p := Pending{Zone: "macon", Policy: PolicyApproval, At: r.at}
		if _, err := apply(t, s, r.phone, Effect{Request: &Request{Phone: r.phone, Pending: p}}, r.at); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddSubscriber(Subscription{Phone: "+33644444444", Zone: "macon"}, t0); err != nil {
		t.Fatal(err)
	}
	reqs, err := s.PendingRequests()
	if err != nil {
		t.Fatal(err)
	}
	var phones []string
	for _, r := range reqs {
		phones = append(phones, r.Phone)
	}
	if want := []string{carol, bob, alice}; !slices.Equal(phones, want) {
		t.Errorf("PendingRequests = %v, want %v", phones, want)
	}
}

func TestReplyCap(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	evening := time.Date(2026, 3, 14, 23, 10, 0, 0, paris)
	reply := &Reply{To: alice, Text: "Inscription en attente", Parts: 1}
	stop := &Reply{To: alice, Text: stopReply, Parts: 1, IgnoreSuppression: true, Stop: true}
	type step struct {
		reply *Reply
		cap   int
		at    time.Time
		want  Applied
		today int // RepliesToday(alice, at) after the step
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"cap 2, then capped, STOP confirmations counted apart", []step{
			{reply, 2, evening, Applied{ReplyQueued: true}, 1},
			{reply, 2, evening, Applied{ReplyQueued: true}, 2},
			{reply, 2, evening, Applied{ReplyCapped: true}, 2},
			{stop, 2, evening, Applied{ReplyQueued: true}, 2},
			{reply, 2, evening, Applied{ReplyCapped: true}, 2},
			{stop, 2, evening, Applied{ReplyQueued: true}, 2},
			{stop, 2, evening, Applied{ReplyCapped: true}, 2}, // StopRepliesPerDay
		}},
		{"local midnight starts a new day", []step{
			{reply, 1, evening, Applied{ReplyQueued: true}, 1},
			{reply, 1, evening.Add(40 * time.Minute), Applied{ReplyCapped: true}, 1}, // 23:50 local, 22:50 UTC
			{reply, 1, evening.Add(55 * time.Minute), Applied{ReplyQueued: true}, 1}, // 00:05 local, 23:05 UTC
		}},
		{"no cap", []step{
			{reply, 0, evening, Applied{ReplyQueued: true}, 1},
			{reply, 0, evening, Applied{ReplyQueued: true}, 2},
			{reply, 0, evening, Applied{ReplyQueued: true}, 3},
		}},
		{"no reply", []step{
			{nil, 1, evening, Applied{}, 0},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTest(t)
			queued := 0
			for i, st := range tc.steps {
				in := receive(t, s, alice, "AIDE", st.at.Add(time.Duration(i)))
				got, err := s.ApplyInbound(in.ID, Effect{Outcome: "help", Reply: st.reply, ReplyCap: st.cap}, st.at)
				got.Outcome = ""
				if err != nil || got != st.want {
					t.Fatalf("step %d: ApplyInbound = %+v, %v; want %+v", i, got, err, st.want)
				}
				if got.ReplyQueued {
					queued++
				}
				if n, err := s.RepliesToday(alice, st.at); err != nil || n != st.today {
					t.Errorf("step %d: RepliesToday = %d, %v; want %d", i, n, err, st.today)
				}
				if in, _ := s.Unprocessed(); len(in) != 0 {
					t.Errorf("step %d: a capped SMS must still be processed: %+v", i, in)
				}
			}
			if c, _ := s.QueueCounts(); c[StateQueued] != queued {
				t.Errorf("queued %d, want %d", c[StateQueued], queued)
			}
			if n, _ := s.RepliesToday(bob, evening); n != 0 {
				t.Errorf("RepliesToday(bob) = %d", n)
			}
		})
	}
}

func TestActiveRecipientsByZonesAndTrades(t *testing.T) {
	s := newTest(t)
	const dave = "+33644444444"
	for _, sub := range []Subscription{
		{Phone: alice, Zone: "macon", Trade: "bijouterie"},
		{Phone: bob, Zone: "macon", Trade: "tabac-presse"},
		{Phone: carol, Zone: "cluny", Trade: "bijouterie"},
		{Phone: dave, Zone: "cluny"},
	} {
		if _, err := s.AddSubscriber(sub, t0); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		zones, trades []string
		all           bool
		want          []string
	}{
		{[]string{"macon"}, nil, false, []string{alice, bob}},
		{[]string{"macon"}, []string{"bijouterie"}, false, []string{alice}},
		{[]string{"macon", "cluny"}, []string{"bijouterie"}, false, []string{alice, carol}},
		{[]string{"cluny"}, []string{"bijouterie", "tabac-presse"}, false, []string{carol}},
		{nil, []string{"bijouterie"}, false, []string{alice, carol}},
		{nil, []string{"pharmacie"}, false, nil},
		{nil, nil, true, []string{alice, bob, carol, dave}},
		{nil, []string{"tabac-presse"}, true, []string{bob}},
		{[]string{"cluny"}, nil, true, []string{alice, bob, carol, dave}},
		{nil, nil, false, nil},
	} {
		got, err := s.ActiveRecipients(tc.zones, tc.trades, tc.all)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ActiveRecipients(%v, %v, %v) = %v, %v; want %v", tc.zones, tc.trades, tc.all, got, err, tc.want)
		}
	}
	stop(t, s, carol, t0)
	if got, _ := s.ActiveRecipients(nil, []string{"bijouterie"}, false); !slices.Equal(got, []string{alice}) {
		t.Errorf("after carol's STOP: %v", got)
	}
}
