package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// receiveHashed saves an SMS the way the gateway does: its dedupe key is a
// hash, not the number.
func receiveHashed(t *testing.T, s *Store, from, text string, now time.Time) *Inbound {
	t.Helper()
	key := sha256.Sum256([]byte(from + text + now.String()))
	in, _, err := s.SaveInboundPart(InboundPart{
		Key: hex.EncodeToString(key[:]), From: from, SCTS: now, Total: 1, Text: text, ReceivedAt: now,
	})
	if err != nil || in == nil {
		t.Fatalf("SaveInboundPart: %v", err)
	}
	return in
}

// traces returns the buckets whose keys or values contain needle.
func traces(t *testing.T, s *Store, needle string) []string {
	t.Helper()
	var found []string
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				if bytes.Contains(k, []byte(needle)) || bytes.Contains(v, []byte(needle)) {
					found = append(found, string(name))
				}
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func TestEraseSubscriber(t *testing.T) {
	s := newTest(t)
	// alice's life: subscribed, got an alert, wrote to the inbox, sent STOP
	// (whose confirmation is still queued), a part of a long SMS pending.
	mustEnrol(t, s, Enrolment{Phone: alice, Zones: []string{"macon"}, Trade: "tabac"}, t0)
	mustEnrol(t, s, Enrolment{Phone: bob, Zones: []string{"macon"}}, t0)
	a := mustCreateAlert(t, s, []string{alice}, t0)
	m := mustClaim(t, s, t0)
	if err := s.MarkSent(m.ID, []int{12}, t0); err != nil {
		t.Fatal(err)
	}
	in := receiveHashed(t, s, "0611111111", "J'ai vu l'homme rue Carnot", t0)
	if _, err := s.ApplyInbound(in.ID, Effect{Outcome: "inbox", ToInbox: true, ReplyCap: 5,
		Reply: &Reply{To: alice, Text: "message transmis", Parts: 1}}, t0); err != nil {
		t.Fatal(err)
	}
	stopIn := receiveHashed(t, s, alice, "STOP", t0)
	if _, err := s.ApplyInbound(stopIn.ID, Effect{Outcome: "stopped", Unsubscribe: alice,
		Reply: &Reply{To: alice, Text: stopReply, Parts: 1, IgnoreSuppression: true}}, t0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SaveInboundPart(InboundPart{Key: "k1", From: alice, Total: 2, Seq: 1, ConcatRef: 7, Text: "début", ReceivedAt: t0}); err != nil {
		t.Fatal(err)
	}

	t1 := t0.Add(time.Hour)
	got, err := s.EraseSubscriber(alice, t1)
	// Inbound: the inbox SMS, the STOP, the part; messages: the alert, the
	// reply (suppressed by the STOP), the STOP confirmation (cancelled).
	want := Erasure{Subscriber: true, Inbound: 3, Messages: 3, Cancelled: 1}
	if err != nil || got != want {
		t.Fatalf("EraseSubscriber = %+v, %v; want %+v", got, err, want)
	}
	if found := traces(t, s, "611111111"); len(found) != 0 {
		t.Errorf("the erased number is still in buckets %v", found)
	}
	if found := traces(t, s, "rue Carnot"); len(found) != 0 {
		t.Errorf("the erased number's text is still in buckets %v", found)
	}
	if sub, found, _ := s.Subscriber(bob); !found || sub.Status != StatusActive {
		t.Errorf("bob was touched: %+v", sub)
	}
	msgs, _ := s.AlertMessages(a.ID)
	if len(msgs) != 1 || msgs[0].To != ErasedPhone || msgs[0].State != StateSent {
		t.Errorf("alert history after erase: %+v", msgs)
	}
	inbox, _ := s.Inbox()
	if len(inbox) != 1 || inbox[0].From != ErasedPhone || inbox[0].Text != erasedText {
		t.Errorf("inbox after erase: %+v", inbox)
	}

	// Only the keyed hash remains, and it is recognised everywhere.
	if sup, _ := s.Suppressed(alice); !sup {
		t.Fatal("erased number not suppressed")
	}
	if outs, _ := s.Import([]Enrolment{{Phone: alice, Zones: []string{"macon"}}}, false, t1); outs[0] != OutcomeSuppressed {
		t.Errorf("import after erase: %v, want suppressed", outs)
	}
	if _, _, err := s.Enrol(Enrolment{Phone: alice, Zones: []string{"macon"}}, t1); !errors.Is(err, ErrSuppressed) {
		t.Errorf("add after erase: %v, want ErrSuppressed", err)
	}
	// The send path does not hash: what was queued to the number is
	// cancelled, the history's placeholder is never sent to, and a test
	// SMS is refused by the gateway through Suppressed.
	if _, err := s.EnqueueReply(KindTest, ErasedPhone, "follow-up", 1, false, t1); err != nil {
		t.Fatal(err)
	}
	claimNone(t, s, t1)

	// A new consent in person takes the hash off.
	if _, out, err := s.Enrol(Enrolment{Phone: alice, Zones: []string{"macon"}, Force: true}, t1); err != nil || out != OutcomeAdded {
		t.Fatalf("forced add after erase = %s, %v", out, err)
	}
	if sup, _ := s.Suppressed(alice); sup {
		t.Errorf("still suppressed after a forced add")
	}
}

func TestEraseUnknownNumberStillSuppresses(t *testing.T) {
	s := newTest(t)
	got, err := s.EraseSubscriber(carol, t0)
	if err != nil || got != (Erasure{}) {
		t.Fatalf("EraseSubscriber = %+v, %v", got, err)
	}
	if sup, _ := s.Suppressed(carol); !sup {
		t.Error("erased unknown number not suppressed")
	}
	if sup, _ := s.Suppressed(bob); sup {
		t.Error("another number suppressed")
	}
	if _, err := s.EraseSubscriber("", t0); !errors.Is(err, ErrInvalid) {
		t.Errorf("erase empty = %v, want ErrInvalid", err)
	}
}

func TestSubscribingBySMSClearsTheHash(t *testing.T) {
	s := newTest(t)
	if _, err := s.EraseSubscriber(alice, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := apply(t, s, alice, Effect{Subscribe: &Subscription{Phone: alice, Zone: "macon", Source: SourceSMS}}, t0); err != nil {
		t.Fatal(err)
	}
	if sup, _ := s.Suppressed(alice); sup {
		t.Error("an SMS subscription left the erased number suppressed")
	}
	if rs, _ := s.ActiveRecipients([]string{"macon"}, nil, false); len(rs) != 1 {
		t.Errorf("recipients = %v", rs)
	}
}
