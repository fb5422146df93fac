package store

import (
	"errors"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// claimTest is the request of a modem with room to spare at now.
func claimTest(now time.Time) ClaimRequest {
	return ClaimRequest{Modem: "m1", Now: now, DailyCap: 100, ReplyCap: 10, ReplyRateOK: true}
}

// txid is the id of the last committed transaction: how many commits a
// call made is its delta.
func txid(t *testing.T, s *Store) int {
	t.Helper()
	var id int
	if err := s.db.View(func(tx *bolt.Tx) error { id = tx.ID(); return nil }); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestSentAndClaimOneCommit: the SMS just sent is recorded and the next
// message claimed in one commit, and the write that takes an alert's last
// message out of queued and sending says the alert is finished, with its
// counts.
func TestSentAndClaimOneCommit(t *testing.T) {
	s := newTest(t)
	a, err := s.CreateAlert(Alert{Rendered: "x", Parts: 1}, []string{"+33600000001", "+33600000002"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.ClaimNext(claimTest(t0))
	if err != nil || !first.OK || len(first.Finished) != 0 {
		t.Fatalf("first claim: %+v, %v", first, err)
	}
	before := txid(t, s)
	r := claimTest(t0.Add(time.Second))
	second, err := s.SentAndClaim(&Sent{ID: first.Msg.ID, Refs: []int{7}, At: t0.Add(time.Second)}, &r)
	if err != nil || !second.OK || second.Msg.ID == first.Msg.ID || len(second.Finished) != 0 {
		t.Fatalf("sent and claim: %+v, %v; want the second message, the alert not finished", second, err)
	}
	if n := txid(t, s) - before; n != 1 {
		t.Errorf("sent and claim took %d commits, want 1", n)
	}
	if m, _ := s.Message(first.Msg.ID); m.State != StateSent || len(m.Refs) != 1 || m.Refs[0] != 7 {
		t.Errorf("first message %+v: want sent with its reference", m)
	}
	if n, _ := s.PartsSent("m1", t0); n != 1 {
		t.Errorf("PartsSent = %d, want 1", n)
	}
	last, err := s.SentAndClaim(&Sent{ID: second.Msg.ID, Refs: []int{8}, At: t0.Add(2 * time.Second)}, &r)
	if err != nil || last.OK || last.HasNext {
		t.Fatalf("last: %+v, %v; want nothing left to claim", last, err)
	}
	if len(last.Finished) != 1 || last.Finished[0].ID != a.ID || last.Finished[0].Counts[StateSent] != 2 {
		t.Errorf("finished %+v: want alert %d, its 2 messages sent", last.Finished, a.ID)
	}
}

// TestClaimNextDailyCapInside: a message that would pass daily_cap, the
// parts in flight counted, is not claimed and stays queued, and the result
// says the cap is reached.
func TestClaimNextDailyCapInside(t *testing.T) {
	s := newTest(t)
	if _, err := s.CreateAlert(Alert{Rendered: "x", Parts: 2}, []string{"+33600000001", "+33600000002"}, t0); err != nil {
		t.Fatal(err)
	}
	r := claimTest(t0)
	r.DailyCap = 3
	first, err := s.ClaimNext(r)
	if err != nil || !first.OK {
		t.Fatalf("first claim: %+v, %v", first, err)
	}
	r.Pending = first.Msg.Parts // in flight: 2 of the 3 parts
	next, err := s.ClaimNext(r)
	if err != nil || next.OK || !next.CapReached || next.Used != 2 {
		t.Fatalf("second claim: %+v, %v; want the cap reached, 2 parts used", next, err)
	}
	if c, _ := s.QueueCounts(); c[StateQueued] != 1 || c[StateSending] != 1 {
		t.Errorf("counts %v: the message past the cap must stay queued", c)
	}
	r.DailyCap = 4
	if next, err := s.ClaimNext(r); err != nil || !next.OK {
		t.Errorf("with room for it: %+v, %v; want it claimed", next, err)
	}
}

// TestClaimNextReplyShare: replies past their share of the day's cap wait
// in the queue while alerts go, and the result says when to look again
// when only replies are left.
func TestClaimNextReplyShare(t *testing.T) {
	s := newTest(t)
	if _, err := s.EnqueueReply(KindReply, "+33600000009", "r", 1, false, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAlert(Alert{Rendered: "x", Parts: 1}, []string{"+33600000001"}, t0); err != nil {
		t.Fatal(err)
	}
	r := claimTest(t0)
	r.ReplyCap, r.PendingReply = 1, 1 // a reply in flight spends the share
	got, err := s.ClaimNext(r)
	if err != nil || !got.OK || got.Msg.Kind != KindAlert {
		t.Fatalf("claim: %+v, %v; want the alert, the reply held", got, err)
	}
	got, err = s.ClaimNext(r)
	if err != nil || got.OK || !got.HasNext || !got.Next.Equal(time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("only the held reply left: %+v, %v; want a look again at midnight", got, err)
	}
}

// TestClaimAhead: a message claimed ahead is sending with no attempt
// counted; released, it is queued again as it was; its send begun, the
// attempt is counted in the step's transaction; left by a crash, it is
// recovered uncertain, its attempt still not counted.
func TestClaimAhead(t *testing.T) {
	s := newTest(t)
	if _, err := s.CreateAlert(Alert{Rendered: "x", Parts: 1}, []string{"+33600000001", "+33600000002", "+33600000003"}, t0); err != nil {
		t.Fatal(err)
	}
	cur, _ := s.ClaimNext(claimTest(t0))
	r := claimTest(t0)
	r.Ahead = true
	ahead, err := s.ClaimNext(r)
	if err != nil || !ahead.OK || !ahead.Msg.Ahead || ahead.Msg.Attempts != 0 || ahead.Msg.State != StateSending {
		t.Fatalf("claim ahead: %+v, %v; want sending, ahead, no attempt", ahead.Msg, err)
	}
	if err := s.ReleaseAhead(ahead.Msg.ID, t0); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Message(ahead.Msg.ID); m.State != StateQueued || m.Attempts != 0 || m.Ahead {
		t.Errorf("released %+v: want queued, no attempt, not ahead", m)
	}
	if err := s.ReleaseAhead(cur.Msg.ID, t0); err == nil {
		t.Errorf("ReleaseAhead of a message whose send began: want an error")
	}
	ahead, _ = s.ClaimNext(r)
	// The SMS before went out; the one ahead begins; the next is claimed ahead.
	step, err := s.Advance(Step{Sent: &Sent{ID: cur.Msg.ID, Refs: []int{1}, At: t0}, Go: ahead.Msg.ID, Claim: &r})
	if err != nil || !step.OK || step.Msg.ID == ahead.Msg.ID {
		t.Fatalf("step: %+v, %v", step, err)
	}
	if m, _ := s.Message(ahead.Msg.ID); m.State != StateSending || m.Attempts != 1 || m.Ahead {
		t.Errorf("begun %+v: want sending, one attempt, not ahead", m)
	}
	if n, err := s.RecoverSending(t0); err != nil || n != 2 {
		t.Fatalf("recover: %d, %v; want the one begun and the one ahead", n, err)
	}
	if m, _ := s.Message(step.Msg.ID); m.State != StateQueued || !m.Uncertain || m.Attempts != 0 || m.Ahead {
		t.Errorf("recovered ahead %+v: want queued, uncertain, no attempt", m)
	}
	if m, _ := s.Message(ahead.Msg.ID); m.State != StateQueued || !m.Uncertain || m.Attempts != 1 {
		t.Errorf("recovered begun %+v: want queued, uncertain, its attempt kept", m)
	}
}

// TestCancelWithdrawsClaimedAhead: cancelling an alert cancels its message
// claimed ahead too, its send not begun; the step that was to begin it
// says it is withdrawn, and still records the SMS sent before it.
func TestCancelWithdrawsClaimedAhead(t *testing.T) {
	s := newTest(t)
	a, err := s.CreateAlert(Alert{Rendered: "x", Parts: 1}, []string{"+33600000001", "+33600000002"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	cur, _ := s.ClaimNext(claimTest(t0))
	r := claimTest(t0)
	r.Ahead = true
	ahead, _ := s.ClaimNext(r)
	if n, err := s.CancelAlert(a.ID, t0); err != nil || n != 1 {
		t.Fatalf("cancel: %d, %v; want the message claimed ahead cancelled", n, err)
	}
	step, err := s.Advance(Step{Sent: &Sent{ID: cur.Msg.ID, Refs: []int{1}, At: t0}, Go: ahead.Msg.ID, Now: t0})
	if err != nil || !step.Withdrawn {
		t.Fatalf("step: %+v, %v; want the message withdrawn", step, err)
	}
	if m, _ := s.Message(ahead.Msg.ID); m.State != StateCancelled || m.Attempts != 0 {
		t.Errorf("withdrawn %+v: want cancelled, no attempt", m)
	}
	if m, _ := s.Message(cur.Msg.ID); m.State != StateSent {
		t.Errorf("the SMS before %+v: want recorded sent", m)
	}
	if err := s.ReleaseAhead(ahead.Msg.ID, t0); err != nil {
		t.Errorf("releasing a withdrawn message: %v, want nothing to do", err)
	}
}

// TestStopBetweenClaimAheadAndSend: a STOP that comes after the claim
// ahead and before the send begins withdraws the message, suppressed.
func TestStopBetweenClaimAheadAndSend(t *testing.T) {
	s := newTest(t)
	const shop = "+33600000002"
	if _, err := s.CreateAlert(Alert{Rendered: "x", Parts: 1}, []string{"+33600000001", shop}, t0); err != nil {
		t.Fatal(err)
	}
	s.ClaimNext(claimTest(t0))
	r := claimTest(t0)
	r.Ahead = true
	ahead, _ := s.ClaimNext(r)
	if ahead.Msg.To != shop {
		t.Fatalf("claimed ahead %+v, want the message to %s", ahead.Msg, shop)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketSuppressed).Put([]byte(shop), nil) }); err != nil {
		t.Fatal(err)
	}
	step, err := s.Advance(Step{Go: ahead.Msg.ID, Now: t0})
	if err != nil || !step.Withdrawn {
		t.Fatalf("step: %+v, %v; want the message withdrawn", step, err)
	}
	if m, _ := s.Message(ahead.Msg.ID); m.State != StateSuppressed {
		t.Errorf("message %+v: want suppressed", m)
	}
}

// TestBeginWithoutTimeRefused: a step that begins a message claimed ahead
// with no time (no Now, no claim) is refused, nothing written: a zero
// UpdatedAt would come back from the codec as the creation time, and a
// send log tells claims apart by UpdatedAt.
func TestBeginWithoutTimeRefused(t *testing.T) {
	s := newTest(t)
	if _, err := s.CreateAlert(Alert{Rendered: "x", Parts: 1}, []string{"+33600000001", "+33600000002"}, t0); err != nil {
		t.Fatal(err)
	}
	s.ClaimNext(claimTest(t0))
	r := claimTest(t0)
	r.Ahead = true
	ahead, err := s.ClaimNext(r)
	if err != nil || !ahead.OK {
		t.Fatal(ahead, err)
	}
	if _, err := s.Advance(Step{Go: ahead.Msg.ID}); !errors.Is(err, ErrInvalid) {
		t.Errorf("begin with no time: %v, want ErrInvalid", err)
	}
	if m, _ := s.Message(ahead.Msg.ID); m.State != StateSending || !m.Ahead || m.Attempts != 0 || !m.UpdatedAt.Equal(t0) {
		t.Errorf("after the refused step %+v: want still claimed ahead at %v, no attempt", m, t0)
	}
	at := t0.Add(time.Second)
	if step, err := s.Advance(Step{Go: ahead.Msg.ID, Now: at}); err != nil || step.Withdrawn {
		t.Fatalf("begin at %v: %+v, %v", at, step, err)
	}
	if m, _ := s.Message(ahead.Msg.ID); m.Ahead || m.Attempts != 1 || !m.UpdatedAt.Equal(at) {
		t.Errorf("begun %+v: want its attempt counted, updated at %v", m, at)
	}
}

// TestEraseBetweenClaimAheadAndSend: an erasure after the claim ahead and
// before the send begins withdraws the message, even one that ignores
// suppression (a test SMS): the erasure cancels such messages still
// queued, and the sender holds the number in clear.
func TestEraseBetweenClaimAheadAndSend(t *testing.T) {
	s := newTest(t)
	const shop = "+33600000002"
	if _, err := s.CreateAlert(Alert{Rendered: "x", Parts: 1}, []string{"+33600000001"}, t0); err != nil {
		t.Fatal(err)
	}
	s.ClaimNext(claimTest(t0))
	test, err := s.EnqueueReply(KindTest, shop, "essai", 1, true, t0)
	if err != nil {
		t.Fatal(err)
	}
	r := claimTest(t0)
	r.Ahead = true
	ahead, err := s.ClaimNext(r)
	if err != nil || !ahead.OK || ahead.Msg.ID != test.ID {
		t.Fatalf("claimed ahead %+v, %v; want the test SMS to %s", ahead.Msg, err, shop)
	}
	if _, err := s.EraseSubscriber(shop, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	step, err := s.Advance(Step{Go: ahead.Msg.ID, Now: t0.Add(2 * time.Second)})
	if err != nil || !step.Withdrawn {
		t.Fatalf("step: %+v, %v; want the message withdrawn", step, err)
	}
	if m, _ := s.Message(ahead.Msg.ID); m.State != StateCancelled || m.Attempts != 0 {
		t.Errorf("message %+v: want cancelled, as the erasure does to those queued, no attempt", m)
	}
}
