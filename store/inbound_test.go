package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const stopReply = "Vous ne recevrez plus d'alertes."

// stop receives a STOP from phone and applies its effect, as the gateway does.
func stop(t *testing.T, s *Store, phone string, now time.Time) {
	t.Helper()
	in := receive(t, s, phone, "STOP", now)
	_, err := s.ApplyInbound(in.ID, Effect{
		Outcome:     "stopped",
		Unsubscribe: phone,
		Reply:       &Reply{To: phone, Text: stopReply, Parts: 1, IgnoreSuppression: true},
	}, now)
	if err != nil {
		t.Fatalf("ApplyInbound(STOP): %v", err)
	}
}

// receive saves a single-part SMS and returns it complete.
func receive(t *testing.T, s *Store, from, text string, now time.Time) *Inbound {
	t.Helper()
	in, dup, err := s.SaveInboundPart(InboundPart{
		Key: fmt.Sprintf("%s|%s|%s", from, now.Format(time.RFC3339Nano), text), From: from,
		SCTS: now, Total: 1, Text: text, ReceivedAt: now,
	})
	if err != nil || dup || in == nil {
		t.Fatalf("SaveInboundPart(%q) = %+v, %v, %v", text, in, dup, err)
	}
	return in
}

func TestSubscribers(t *testing.T) {
	s := newTest(t)
	t1 := t0.Add(time.Hour)
	for _, tc := range []struct {
		sub  Subscription
		now  time.Time
		want Subscriber
	}{
		{Subscription{Phone: alice, Zone: "macon-centre", Trade: "tabac-presse"}, t0,
			Subscriber{Phone: alice, Zones: []string{"macon-centre"}, Trade: "tabac-presse", Status: StatusActive, Source: SourceOperator, CreatedAt: t0, UpdatedAt: t0}},
		{Subscription{Phone: alice, Zone: "macon", Source: SourceSMS}, t1,
			Subscriber{Phone: alice, Zones: []string{"macon", "macon-centre"}, Trade: "tabac-presse", Status: StatusActive, Source: SourceSMS, CreatedAt: t0, UpdatedAt: t1}},
		{Subscription{Phone: alice, Zone: "macon"}, t1,
			Subscriber{Phone: alice, Zones: []string{"macon", "macon-centre"}, Trade: "tabac-presse", Status: StatusActive, Source: SourceOperator, CreatedAt: t0, UpdatedAt: t1}},
		{Subscription{Phone: carol, Zone: "cluny", Source: SourceImport}, t0,
			Subscriber{Phone: carol, Zones: []string{"cluny"}, Status: StatusActive, Source: SourceImport, CreatedAt: t0, UpdatedAt: t0}},
		{Subscription{Phone: bob, Zone: "macon-centre"}, t0,
			Subscriber{Phone: bob, Zones: []string{"macon-centre"}, Status: StatusActive, Source: SourceOperator, CreatedAt: t0, UpdatedAt: t0}},
	} {
		got, err := s.AddSubscriber(tc.sub, tc.now)
		if err != nil {
			t.Fatalf("AddSubscriber(%+v): %v", tc.sub, err)
		}
		stored, found, err := s.Subscriber(tc.sub.Phone)
		if err != nil || !found {
			t.Fatalf("Subscriber(%s) = %v, %v", tc.sub.Phone, found, err)
		}
		for _, sub := range []Subscriber{got, stored} {
			if !equalSubscriber(sub, tc.want) {
				t.Errorf("after %+v: %+v, want %+v", tc.sub, sub, tc.want)
			}
		}
	}
	if _, found, err := s.Subscriber("+33699999999"); found || err != nil {
		t.Errorf("unknown subscriber: %v, %v", found, err)
	}
	if _, err := s.AddSubscriber(Subscription{Zone: "macon"}, t0); !errors.Is(err, ErrInvalid) {
		t.Errorf("AddSubscriber without phone: %v, want ErrInvalid", err)
	}
	subs, err := s.Subscribers()
	if err != nil {
		t.Fatal(err)
	}
	var phones []string
	for _, sub := range subs {
		phones = append(phones, sub.Phone)
	}
	if want := []string{alice, bob, carol}; !slices.Equal(phones, want) {
		t.Errorf("Subscribers() phones %v, want %v", phones, want)
	}

	stop(t, s, carol, t1)
	for _, tc := range []struct {
		zones []string
		all   bool
		want  []string
	}{
		{[]string{"macon-centre"}, false, []string{alice, bob}},
		{[]string{"macon", "macon-centre"}, false, []string{alice, bob}},
		{[]string{"macon"}, false, []string{alice}},
		{[]string{"cluny"}, false, nil},
		{nil, false, nil},
		{nil, true, []string{alice, bob}},
	} {
		got, err := s.ActiveRecipients(tc.zones, nil, tc.all)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ActiveRecipients(%v, %v) = %v, %v; want %v", tc.zones, tc.all, got, err, tc.want)
		}
	}
}

func equalSubscriber(a, b Subscriber) bool {
	return a.Phone == b.Phone && slices.Equal(a.Zones, b.Zones) && a.Trade == b.Trade && a.Status == b.Status &&
		a.Source == b.Source && a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
}

func TestUnsubscribeEffect(t *testing.T) {
	s := newTest(t)
	for _, p := range []string{alice, bob} {
		if _, err := s.AddSubscriber(Subscription{Phone: p, Zone: "macon", Trade: "bijouterie", Source: SourceSMS}, t0); err != nil {
			t.Fatal(err)
		}
	}
	a := mustCreateAlert(t, s, []string{alice, bob}, t0)
	test, _ := s.EnqueueReply(KindTest, alice, "Essai", 1, false, t0)

	stop(t, s, alice, t0.Add(time.Minute))

	sub, _, _ := s.Subscriber(alice)
	if sub.Status != StatusStopped || len(sub.Zones) != 0 || sub.Zones == nil || sub.Trade != "" {
		t.Errorf("stopped subscriber %+v: want stopped, zones [] and no trade", sub)
	}
	if ok, err := s.Suppressed(alice); !ok || err != nil {
		t.Errorf("Suppressed(alice) = %v, %v", ok, err)
	}
	if ok, _ := s.Suppressed(bob); ok {
		t.Error("bob suppressed")
	}
	if m, _ := s.Message(test.ID); m.State != StateSuppressed {
		t.Errorf("queued test to alice is %s, want suppressed", m.State)
	}
	msgs, _ := s.AlertMessages(a.ID)
	for _, m := range msgs {
		want := map[string]State{alice: StateSuppressed, bob: StateQueued}[m.To]
		if m.State != want {
			t.Errorf("alert message to %s is %s, want %s", m.To, m.State, want)
		}
	}
	if got, _ := s.ActiveRecipients([]string{"macon"}, nil, false); !slices.Equal(got, []string{bob}) {
		t.Errorf("ActiveRecipients after STOP = %v", got)
	}
	// Only the confirmation to alice, then bob's alert.
	if m := mustClaim(t, s, t0.Add(time.Minute)); m.To != alice || m.Text != stopReply || m.Kind != KindReply {
		t.Errorf("first claim %+v, want the STOP confirmation", m)
	}
	if m := mustClaim(t, s, t0.Add(time.Minute)); m.To != bob {
		t.Errorf("second claim %+v, want bob's alert", m)
	}
	claimNone(t, s, t0.Add(time.Minute))

	// STOP from a number that never subscribed still suppresses it.
	stop(t, s, carol, t0)
	if ok, _ := s.Suppressed(carol); !ok {
		t.Error("carol not suppressed")
	}
	if _, found, _ := s.Subscriber(carol); found {
		t.Error("STOP created a subscriber")
	}

	// Subscribing again is a new consent: off the suppression list.
	in := receive(t, s, alice, "INSCRIPTION macon", t0.Add(time.Hour))
	_, err := s.ApplyInbound(in.ID, Effect{Outcome: "subscribed", Subscribe: &Subscription{Phone: alice, Zone: "macon", Source: SourceSMS}}, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Suppressed(alice); ok {
		t.Error("alice still suppressed after subscribing again")
	}
	if got, _ := s.ActiveRecipients([]string{"macon"}, nil, false); !slices.Equal(got, []string{alice, bob}) {
		t.Errorf("ActiveRecipients after re-subscription = %v", got)
	}
}

func TestInboundLifecycle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigie.db")
	s := openTest(t, path)
	part := InboundPart{Key: "k1", From: alice, SCTS: t0, Total: 1, Text: "J'ai vu le suspect rue Carnot", ReceivedAt: t0.Add(time.Second)}
	in, dup, err := s.SaveInboundPart(part)
	if err != nil || dup || in == nil {
		t.Fatalf("SaveInboundPart = %+v, %v, %v", in, dup, err)
	}
	if in.ID != 1 || in.Text != part.Text || in.From != alice || !in.SCTS.Equal(t0) || !in.ReceivedAt.Equal(part.ReceivedAt) || in.Processed {
		t.Errorf("inbound %+v", in)
	}
	if again, dup, err := s.SaveInboundPart(part); again != nil || !dup || err != nil {
		t.Errorf("same part again = %+v, %v, %v; want dup", again, dup, err)
	}
	second := receive(t, s, bob, "Merci", t0.Add(time.Minute))
	s.Close() // crash before handling

	s = openTest(t, path)
	if _, dup, _ := s.SaveInboundPart(part); !dup {
		t.Error("part not recognised as a duplicate after reopen")
	}
	un, err := s.Unprocessed()
	if err != nil || len(un) != 2 || un[0].ID != in.ID || un[1].ID != second.ID {
		t.Fatalf("Unprocessed = %+v, %v; want both, oldest first", un, err)
	}
	for _, u := range un {
		if _, err := s.ApplyInbound(u.ID, Effect{Outcome: "inbox", ToInbox: true, Reply: &Reply{To: u.From, Text: "Message transmis", Parts: 1}}, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if un, _ := s.Unprocessed(); len(un) != 0 {
		t.Errorf("Unprocessed after handling = %+v", un)
	}
	inbox, err := s.Inbox()
	if err != nil || len(inbox) != 2 || inbox[0].ID != second.ID || inbox[1].ID != in.ID {
		t.Fatalf("Inbox = %+v, %v; want newest first", inbox, err)
	}
	if !inbox[0].Processed || inbox[0].Outcome != "inbox" {
		t.Errorf("inbox entry %+v", inbox[0])
	}
	if _, err := s.ApplyInbound(in.ID, Effect{Reply: &Reply{To: alice, Text: "x", Parts: 1}}, t0); !errors.Is(err, ErrState) {
		t.Errorf("ApplyInbound twice: %v, want ErrState", err)
	}
	if c, _ := s.QueueCounts(); c[StateQueued] != 2 {
		t.Errorf("replies queued: %v, want 2 (no duplicate reply)", c)
	}
	if _, err := s.ApplyInbound(99, Effect{}, t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("ApplyInbound(99): %v, want ErrNotFound", err)
	}
	// A failed effect changes nothing, not even the processed flag.
	third := receive(t, s, carol, "bonjour", t0)
	if _, err := s.ApplyInbound(third.ID, Effect{Reply: &Reply{To: carol, Text: "x"}}, t0); !errors.Is(err, ErrInvalid) {
		t.Errorf("ApplyInbound with a 0-part reply: %v, want ErrInvalid", err)
	}
	if un, _ := s.Unprocessed(); len(un) != 1 || un[0].ID != third.ID {
		t.Errorf("Unprocessed after a failed apply = %+v", un)
	}
}

// parts splits text into n concatenated parts from sender with reference ref.
func parts(from string, ref int, text string, n int) []InboundPart {
	var ps []InboundPart
	size := (len(text) + n - 1) / n
	for i := range n {
		chunk := text[min(i*size, len(text)):min((i+1)*size, len(text))]
		ps = append(ps, InboundPart{
			Key: fmt.Sprintf("%s|%d|%d", from, ref, i+1), From: from, SCTS: t0.Add(time.Duration(i) * time.Second),
			ConcatRef: ref, Total: n, Seq: i + 1, Text: chunk, ReceivedAt: t0.Add(time.Duration(10+i) * time.Second),
		})
	}
	return ps
}

func TestInboundReassembly(t *testing.T) {
	const text = "Un homme en veste rouge a payé avec un faux billet de 50 euros à la boulangerie."
	for _, tc := range []struct {
		name  string
		order []int // indexes into the parts; repeats are re-reads
		close int   // close and reopen the store before this step (0: never)
	}{
		{"in order", []int{0, 1, 2}, 0},
		{"out of order", []int{2, 0, 1}, 0},
		{"re-read parts", []int{1, 1, 0, 1, 0, 2}, 0},
		{"across a restart", []int{2, 0, 2, 1}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "vigie.db")
			s := openTest(t, path)
			ps := parts(alice, 200, text, 3)
			// A message from another sender with the same reference never mixes in.
			other := parts(bob, 200, "Autre message en deux parties", 2)
			if in, _, err := s.SaveInboundPart(other[1]); in != nil || err != nil {
				t.Fatalf("other part = %+v, %v", in, err)
			}
			seen := map[int]bool{}
			var complete []*Inbound
			for step, i := range tc.order {
				if tc.close != 0 && step == tc.close {
					s.Close()
					s = openTest(t, path)
				}
				in, dup, err := s.SaveInboundPart(ps[i])
				if err != nil {
					t.Fatal(err)
				}
				if dup != seen[i] {
					t.Errorf("step %d (part %d): dup %v, want %v", step, i+1, dup, seen[i])
				}
				seen[i] = true
				if in != nil {
					complete = append(complete, in)
				}
			}
			if len(complete) != 1 {
				t.Fatalf("%d complete messages, want 1", len(complete))
			}
			in := complete[0]
			if in.Text != text || in.From != alice || !in.SCTS.Equal(t0) || !in.ReceivedAt.Equal(t0.Add(12*time.Second)) {
				t.Errorf("reassembled %+v", in)
			}
			if un, _ := s.Unprocessed(); len(un) != 1 || un[0].Text != text {
				t.Errorf("Unprocessed = %+v", un)
			}
			in, _, err := s.SaveInboundPart(other[0])
			if err != nil || in == nil || in.Text != "Autre message en deux parties" {
				t.Errorf("other message = %+v, %v", in, err)
			}
		})
	}
}

func TestSaveInboundPartRejects(t *testing.T) {
	s := newTest(t)
	for _, p := range []InboundPart{
		{Key: "", From: alice, Total: 1},
		{Key: "a", From: alice, Total: 3, Seq: 0},
		{Key: "b", From: alice, Total: 3, Seq: 4},
		{Key: "c", From: alice, Total: 300, Seq: 1},
		{Key: "d", From: alice, Total: 2, Seq: 1, ConcatRef: -1},
	} {
		if _, _, err := s.SaveInboundPart(p); !errors.Is(err, ErrInvalid) {
			t.Errorf("SaveInboundPart(%+v): %v, want ErrInvalid", p, err)
		}
	}
	// A rejected part was not marked seen.
	if _, dup, err := s.SaveInboundPart(InboundPart{Key: "a", From: alice, Total: 1}); dup || err != nil {
		t.Errorf("key of a rejected part: dup %v, %v", dup, err)
	}
}

// FuzzSaveInboundPart feeds parts as a hostile network could shape them: the
// store never panics, a key is never processed twice, and what completes is
// exactly the text of the parts.
func FuzzSaveInboundPart(f *testing.F) {
	f.Add("+33611111111", 0, 1, 1, "STOP", "ab")
	f.Add("+33611111111", 12, 2, 1, "première ", "partie")
	f.Add("VIGIE", 65535, 255, 255, "", "")
	f.Add("", -1, 0, 7, "x", "y")
	f.Add(strings.Repeat("9", 40), 3, 2, 2, "\x00", "\xff")
	s, err := open(filepath.Join(f.TempDir(), "fuzz.db"), true)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	var n int
	f.Fuzz(func(t *testing.T, from string, ref, total, seq int, text1, text2 string) {
		n++
		key := fmt.Sprintf("fuzz-%d", n)
		p := InboundPart{Key: key, From: from, ConcatRef: ref, Total: total, Seq: seq, Text: text1, SCTS: t0, ReceivedAt: t0}
		in, dup, err := s.SaveInboundPart(p)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("SaveInboundPart(%+v): %v", p, err)
			}
			return
		}
		if dup {
			t.Fatalf("fresh key %q reported as duplicate", key)
		}
		// Texts are stored as UTF-8: invalid bytes become U+FFFD.
		text1, text2 = strings.ToValidUTF8(text1, "\uFFFD"), strings.ToValidUTF8(text2, "\uFFFD")
		if total <= 1 && (in == nil || in.Text != text1) {
			t.Fatalf("single part: %+v", in)
		}
		if _, dup, err := s.SaveInboundPart(p); !dup || err != nil {
			t.Fatalf("same key again: dup %v, %v", dup, err)
		}
		if total == 2 && in == nil {
			other := p
			other.Key, other.Seq, other.Text = key+"-other", 3-seq, text2
			in, _, err := s.SaveInboundPart(other)
			if err != nil || in == nil {
				t.Fatalf("second of two parts: %+v, %v", in, err)
			}
			if want := map[int]string{1: text1 + text2, 2: text2 + text1}[seq]; in.Text != want {
				t.Fatalf("reassembled %q, want %q", in.Text, want)
			}
		}
	})
}
