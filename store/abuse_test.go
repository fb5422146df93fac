package store

import (
	"fmt"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// codeRequest is INSCRIPTION macon from phone under policy confirm, with
// code, at most maxPerDay a day.
func codeRequest(phone, code string, maxPerDay int, at time.Time) Effect {
	return Effect{
		Outcome: "subscribe-confirm",
		Request: &Request{
			Phone:     phone,
			Pending:   Pending{Zone: "macon", Policy: PolicyConfirm, Code: code, At: at},
			MaxPerDay: maxPerDay,
			Refused:   &Reply{To: phone, Text: "refus", Parts: 1},
		},
		Reply: &Reply{To: phone, Text: "code " + code, Parts: 1},
	}
}

// codeCheck is OUI code from phone; its reply names the result.
func codeCheck(phone, code string) Effect {
	return Effect{Code: &CodeCheck{
		Phone: phone, Code: code, TTL: 48 * time.Hour, MaxWrong: 5,
		Reply: func(r CodeResult) *Reply {
			return &Reply{To: phone, Text: fmt.Sprintf("%s %d", r.Outcome, r.Left), Parts: 1}
		},
	}}
}

func TestCodeLockOut(t *testing.T) {
	for _, tc := range []struct {
		name  string
		codes []string // sent in order after the request of 4821
		want  []string // outcome and Left of each
		state SubscriberStatus
	}{
		{"right code", []string{"4821"}, []string{"subscribed 0"}, StatusActive},
		{"two typos then the right code", []string{"4812", "4281", "4821"},
			[]string{"confirm-wrong-code 4", "confirm-wrong-code 3", "subscribed 0"}, StatusActive},
		{"four typos then the right code", []string{"1", "2", "3", "4", "4821"},
			[]string{"confirm-wrong-code 4", "confirm-wrong-code 3", "confirm-wrong-code 2", "confirm-wrong-code 1", "subscribed 0"}, StatusActive},
		{"five wrong codes void it: the right one is refused", []string{"1", "2", "3", "4", "5", "4821", "4821"},
			[]string{"confirm-wrong-code 4", "confirm-wrong-code 3", "confirm-wrong-code 2", "confirm-wrong-code 1",
				"confirm-voided 0", "confirm-dead 0", "confirm-dead 0"}, StatusPending},
		{"nothing pending after activation", []string{"4821", "4821"}, []string{"subscribed 0", "confirm-nothing-pending 0"}, StatusActive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTest(t)
			if _, err := apply(t, s, alice, codeRequest(alice, "4821", 3, t0), t0); err != nil {
				t.Fatal(err)
			}
			for i, code := range tc.codes {
				at := t0.Add(time.Duration(i+1) * time.Minute)
				in := receive(t, s, alice, "OUI "+code, at)
				got, err := s.ApplyInbound(in.ID, codeCheck(alice, code), at)
				if err != nil {
					t.Fatal(err)
				}
				m := lastReply(t, s)
				if m.Text != tc.want[i] || got.Outcome != tc.want[i][:len(tc.want[i])-2] || !got.ReplyQueued {
					t.Errorf("OUI %s: outcome %q, reply %q; want %q", code, got.Outcome, m.Text, tc.want[i])
				}
				var stored Inbound
				if err := s.db.View(func(tx *bolt.Tx) (err error) { stored, err = loadInbound(tx, in.ID); return err }); err != nil || stored.Outcome != got.Outcome {
					t.Errorf("OUI %s: stored outcome %q, %v; want %q", code, stored.Outcome, err, got.Outcome)
				}
			}
			sub, _, _ := s.Subscriber(alice)
			if sub.Status != tc.state {
				t.Errorf("status %s, want %s", sub.Status, tc.state)
			}
		})
	}
}

// lastReply returns the newest queued message.
func lastReply(t *testing.T, s *Store) Message {
	t.Helper()
	var last Message
	for id := uint64(1); ; id++ {
		m, err := s.Message(id)
		if err != nil {
			return last
		}
		last = m
	}
}

// TestCodeCheckOneTransaction has two workers handle SMS of the same number
// at once, on a real bbolt file: of eight right codes one activates, and
// of twenty wrong codes exactly five count, the fifth voiding the request.
func TestCodeCheckOneTransaction(t *testing.T) {
	for _, tc := range []struct {
		name  string
		code  string
		n     int
		wants map[string]int
	}{
		{"right codes", "4821", 8, map[string]int{CodeConfirmed: 1, CodeNothing: 7}},
		{"wrong codes", "0000", 20, map[string]int{CodeWrong: 4, CodeVoided: 1, CodeDead: 15}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTest(t)
			if _, err := apply(t, s, alice, codeRequest(alice, "4821", 3, t0), t0); err != nil {
				t.Fatal(err)
			}
			var ins []*Inbound
			for i := range tc.n {
				ins = append(ins, receive(t, s, alice, fmt.Sprintf("OUI %s #%d", tc.code, i), t0.Add(time.Minute)))
			}
			outcomes := make(chan string, tc.n)
			var wg sync.WaitGroup
			for w := range 2 { // two modem workers, each with every other SMS
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := w; i < len(ins); i += 2 {
						got, err := s.ApplyInbound(ins[i].ID, codeCheck(alice, tc.code), t0.Add(time.Minute))
						if err != nil {
							t.Error(err)
							return
						}
						outcomes <- got.Outcome
					}
				}()
			}
			wg.Wait()
			close(outcomes)
			got := map[string]int{}
			for o := range outcomes {
				got[o]++
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.wants) {
				t.Errorf("outcomes %v, want %v", got, tc.wants)
			}
			sub, _, _ := s.Subscriber(alice)
			if tc.code == "0000" && (sub.Pending == nil || sub.Pending.WrongCodes != 5 || sub.Pending.VoidedAt.IsZero()) {
				t.Errorf("pending %+v, want 5 wrong codes and voided", sub.Pending)
			}
		})
	}
}

func TestCodeRequestsPerDay(t *testing.T) {
	s := newTest(t)
	paris := time.FixedZone("CET", 3600)
	day := time.Date(2026, 3, 14, 10, 0, 0, 0, paris)
	for i, want := range []string{"subscribe-confirm", "subscribe-confirm", "subscribe-confirm", RequestLimited, RequestLimited} {
		got, err := apply(t, s, alice, codeRequest(alice, fmt.Sprintf("%04d", i), 3, day), day.Add(time.Duration(i)*time.Minute))
		if err != nil || got.Outcome != want || !got.ReplyQueued {
			t.Fatalf("request %d: %+v, %v; want %s", i+1, got, err, want)
		}
		if want == RequestLimited && lastReply(t, s).Text != "refus" {
			t.Errorf("request %d: reply %q, want the refusal", i+1, lastReply(t, s).Text)
		}
	}
	// A refused request leaves the third one standing: its code still works.
	if sub, _, _ := s.Subscriber(alice); sub.Pending == nil || sub.Pending.Code != "0002" {
		t.Errorf("pending %+v, want the third request", sub.Pending)
	}
	if n, _ := s.CodeRequestsToday(alice, day); n != 3 {
		t.Errorf("CodeRequestsToday = %d, want 3", n)
	}
	if got, _ := apply(t, s, bob, codeRequest(bob, "1111", 3, day), day); got.Outcome != "subscribe-confirm" {
		t.Errorf("another number: %s", got.Outcome)
	}
	tomorrow := day.Add(14 * time.Hour) // 00:00 local
	if got, _ := apply(t, s, alice, codeRequest(alice, "9999", 3, tomorrow), tomorrow); got.Outcome != "subscribe-confirm" {
		t.Errorf("the next day: %s", got.Outcome)
	}
}

func TestVoidedRequestBlocksTheDay(t *testing.T) {
	s := newTest(t)
	if _, err := apply(t, s, alice, codeRequest(alice, "4821", 3, t0), t0); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := apply(t, s, alice, codeCheck(alice, fmt.Sprint(i)), t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := apply(t, s, alice, codeRequest(alice, "1234", 3, t0), t0.Add(2*time.Minute))
	if err != nil || got.Outcome != RequestVoidedToday {
		t.Fatalf("INSCRIPTION after the lock-out: %+v, %v", got, err)
	}
	if got, _ := apply(t, s, alice, codeCheck(alice, "1234"), t0.Add(3*time.Minute)); got.Outcome != CodeDead {
		t.Errorf("the refused request's code: %s, want %s", got.Outcome, CodeDead)
	}
	next := t0.Add(24 * time.Hour)
	if got, _ := apply(t, s, alice, codeRequest(alice, "5678", 3, next), next); got.Outcome != "subscribe-confirm" {
		t.Fatalf("INSCRIPTION the next day: %s", got.Outcome)
	}
	if got, _ := apply(t, s, alice, codeCheck(alice, "5678"), next); got.Outcome != CodeConfirmed {
		t.Errorf("the new code: %s", got.Outcome)
	}
}

// TestStopFlood: thirty STOPs from one number draw one confirmation; after
// subscribing again the same day, a new STOP draws one more, and no more.
func TestStopFlood(t *testing.T) {
	s := newTest(t)
	stopEffect := Effect{Outcome: "stopped", Unsubscribe: alice, ReplyCap: 5,
		Reply: &Reply{To: alice, Text: stopReply, Parts: 1, IgnoreSuppression: true, Stop: true}}
	queued := 0
	for i := range 30 {
		got, err := apply(t, s, alice, stopEffect, t0.Add(time.Duration(i)*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if got.ReplyQueued {
			queued++
		}
		if i > 0 && !got.StoppedToday {
			t.Errorf("STOP %d: StoppedToday false", i+1)
		}
	}
	if queued != 1 {
		t.Errorf("30 STOPs: %d confirmations, want 1", queued)
	}
	if _, err := apply(t, s, alice, Effect{Subscribe: &Subscription{Phone: alice, Zone: "macon", Source: SourceSMS}}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		got, _ := apply(t, s, alice, stopEffect, t0.Add(2*time.Hour+time.Duration(i)*time.Second))
		if got.ReplyQueued != (i == 0) {
			t.Errorf("STOP %d after subscribing again: queued %v", i+1, got.ReplyQueued)
		}
	}
	if n, _ := s.RepliesToday(alice, t0); n != 0 {
		t.Errorf("RepliesToday = %d: STOP confirmations are counted apart", n)
	}
}

// TestAuditInSameTransaction: the audit record of an SMS change commits
// with the change, with the outcome the transaction decided, and not at
// all when the change fails.
func TestAuditInSameTransaction(t *testing.T) {
	s := newTest(t)
	audit := func(outcome string) *AuditRecord {
		if outcome == "confirm-wrong-code" {
			return nil
		}
		return &AuditRecord{Time: t0, User: "sms", UID: -1, Action: "SMS " + outcome}
	}
	e := codeRequest(alice, "4821", 3, t0)
	e.Audit = audit
	got, err := apply(t, s, alice, e, t0)
	if err != nil || got.Audit == nil || got.Audit.Seq != 1 || got.Audit.Hash == "" {
		t.Fatalf("request: %+v, %v", got, err)
	}
	for _, code := range []string{"1", "2", "3", "4", "5"} {
		c := codeCheck(alice, code)
		c.Audit = audit
		if _, err := apply(t, s, alice, c, t0); err != nil {
			t.Fatal(err)
		}
	}
	// A failing change (nothing pending to confirm for bob) records nothing.
	in := receive(t, s, bob, "x", t0)
	if _, err := s.ApplyInbound(in.ID, Effect{Confirm: bob, Audit: audit}, t0); err == nil {
		t.Fatal("Confirm of a number with nothing pending succeeded")
	}
	recs, err := s.Audit(time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range recs {
		actions = append(actions, r.Action)
	}
	if want := "[SMS subscribe-confirm SMS confirm-voided]"; fmt.Sprint(actions) != want {
		t.Errorf("audit %v, want %s", actions, want)
	}
	if c, _ := s.VerifyAudit(); !c.OK() {
		t.Errorf("VerifyAudit: %+v", c)
	}
}

// TestClaimWithoutReplies: a claim that leaves replies out takes the alert
// behind them and leaves them queued; the replies sent count per modem
// and day apart from the alert's parts.
func TestClaimWithoutReplies(t *testing.T) {
	s := newTest(t)
	reply, err := s.EnqueueReply(KindReply, alice, "Vigilance commerce : aide", 1, false, t0)
	if err != nil {
		t.Fatal(err)
	}
	a := mustCreateAlert(t, s, []string{bob}, t0)
	if due, ok, _ := s.NextDueFor(false); !ok || !due.Equal(t0) {
		t.Errorf("NextDueFor(false) = %v, %v", due, ok)
	}
	m, ok, err := s.ClaimFor("m1", t0, false)
	if err != nil || !ok || m.AlertID != a.ID {
		t.Fatalf("ClaimFor(replies false) = %+v, %v, %v; want the alert message", m, ok, err)
	}
	if err := s.MarkSent(m.ID, []int{1}, t0); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.ClaimFor("m1", t0, false); ok {
		t.Error("ClaimFor(replies false) took the reply")
	}
	if _, ok, _ := s.NextDueFor(false); ok {
		t.Error("NextDueFor(false) sees the reply")
	}
	m = mustClaim(t, s, t0)
	if m.ID != reply.ID {
		t.Fatalf("Claim = %+v, want the reply", m)
	}
	if err := s.MarkSent(m.ID, []int{2}, t0); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.ReplyPartsSent("m1", t0); n != 1 {
		t.Errorf("ReplyPartsSent = %d, want 1", n)
	}
	if n, _ := s.PartsSent("m1", t0); n != 2 {
		t.Errorf("PartsSent = %d, want 2", n)
	}
}

// TestPurgeCountersAndStaleRequests: retention removes the per-number
// counters of old days (replies, STOP confirmations, code requests, reply
// parts) and old subscription requests with their wrong codes; today's
// counters and an active subscriber stay.
func TestPurgeCountersAndStaleRequests(t *testing.T) {
	s := openPurgeTest(t)
	old, now := t0, t0.AddDate(1, 0, 0)
	// carol: today's request and reply stay. Written first: each write
	// purges its bucket's days before its own, which must not do the
	// retention's work here.
	if _, err := apply(t, s, carol, codeRequest(carol, "2222", 3, now), now); err != nil {
		t.Fatal(err)
	}
	// alice: a request a year ago, two wrong codes; never active.
	if _, err := apply(t, s, alice, codeRequest(alice, "4821", 3, old), old); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"1", "2"} {
		if _, err := apply(t, s, alice, codeCheck(alice, c), old); err != nil {
			t.Fatal(err)
		}
	}
	// bob: active, with an old pending request for another zone.
	if _, err := s.AddSubscriber(Subscription{Phone: bob, Zone: "cluny"}, old); err != nil {
		t.Fatal(err)
	}
	if _, err := apply(t, s, bob, codeRequest(bob, "1111", 3, old), old); err != nil {
		t.Fatal(err)
	}
	if _, err := apply(t, s, bob, Effect{Unsubscribe: "+33644444444", Reply: &Reply{To: "+33644444444", Text: stopReply, Parts: 1, IgnoreSuppression: true, Stop: true}}, old); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Purge(now.AddDate(0, 0, -1)); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := s.Subscriber(alice); found {
		t.Error("alice's stale request (never active) survived the purge")
	}
	if sub, _, _ := s.Subscriber(bob); sub.Status != StatusActive || sub.Pending != nil {
		t.Errorf("bob %+v: want active, without his stale request", sub)
	}
	if sub, _, _ := s.Subscriber(carol); sub.Pending == nil {
		t.Error("carol's request of today was purged")
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketReplies, bucketCodeRequests} {
			if err := tx.Bucket(name).ForEach(func(k, _ []byte) error {
				if string(k[:10]) != dayKey(now) {
					t.Errorf("%s: stale key %q", name, k)
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := s.CodeRequestsToday(carol, now); n != 1 {
		t.Errorf("carol's code requests today = %d, want 1", n)
	}
}

// TestEraseRemovesAbuseCounters: an erased number leaves no key in the
// per-number counters, STOP confirmations and code requests included.
func TestEraseRemovesAbuseCounters(t *testing.T) {
	s := newTest(t)
	if _, err := apply(t, s, alice, codeRequest(alice, "4821", 3, t0), t0); err != nil {
		t.Fatal(err)
	}
	stopEffect := Effect{Outcome: "stopped", Unsubscribe: alice,
		Reply: &Reply{To: alice, Text: stopReply, Parts: 1, IgnoreSuppression: true, Stop: true}}
	if _, err := apply(t, s, alice, stopEffect, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EraseSubscriber(alice, t0); err != nil {
		t.Fatal(err)
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketReplies, bucketCodeRequests} {
			if err := tx.Bucket(name).ForEach(func(k, _ []byte) error {
				t.Errorf("%s: key %q left after erasure", name, k)
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
