package store

import (
	"errors"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// commits is the id of the last committed write transaction: its delta
// counts the commits in between.
func commits(t *testing.T, s *Store) uint64 {
	t.Helper()
	var id uint64
	if err := s.db.View(func(tx *bolt.Tx) error { id = uint64(tx.ID()); return nil }); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestReceiveInboundOneCommit: a single-part STOP is saved and applied in
// one commit, where SaveInboundPart then ApplyInbound take two, with the
// same result; a duplicate changes nothing.
func TestReceiveInboundOneCommit(t *testing.T) {
	stopEffect := func(phone string) Effect {
		return Effect{Outcome: "stopped", Unsubscribe: phone,
			Reply: &Reply{To: phone, Text: stopReply, Parts: 1, IgnoreSuppression: true},
			Audit: func(outcome string) *AuditRecord {
				return &AuditRecord{Time: t0, User: "sms", UID: -1, Action: "SMS " + outcome}
			}}
	}
	part := InboundPart{Key: "k-alice", From: alice, SCTS: t0, Total: 1, Text: "STOP", ReceivedAt: t0}

	before := newTest(t)
	c0 := commits(t, before)
	stop(t, before, alice, t0)
	oldCommits := commits(t, before) - c0

	s := newTest(t)
	c0 = commits(t, s)
	in, done, dup, err := s.ReceiveInbound(part, stopEffect(alice), t0)
	if err != nil || dup {
		t.Fatalf("ReceiveInbound = %v, dup %v", err, dup)
	}
	newCommits := commits(t, s) - c0
	t.Logf("store commits per single-part inbound SMS: before %d, after %d", oldCommits, newCommits)
	if oldCommits != 2 || newCommits != 1 {
		t.Fatalf("commits: before %d, after %d; want 2 and 1", oldCommits, newCommits)
	}
	if !in.Processed || in.Outcome != "stopped" || in.ID == 0 || !done.ReplyQueued || done.Audit == nil {
		t.Fatalf("in %+v, done %+v", in, done)
	}
	if want := "SMS 1"; done.Audit.Request != want || in.ID != 1 {
		t.Fatalf("audit request %q for SMS %d, want %q", done.Audit.Request, in.ID, want)
	}
	if left, err := s.Unprocessed(); err != nil || len(left) != 0 {
		t.Fatalf("Unprocessed = %v, %v", left, err)
	}
	if sup, err := s.Suppressed(alice); err != nil || !sup {
		t.Fatalf("suppressed after STOP = %v, %v", sup, err)
	}
	c1 := commits(t, s)
	if _, _, dup, err := s.ReceiveInbound(part, stopEffect(alice), t0); err != nil || !dup {
		t.Fatalf("ReceiveInbound again = dup %v, %v", dup, err)
	}
	if c := commits(t, s) - c1; c > 1 {
		t.Fatalf("duplicate: %d commits", c)
	}
}

// TestReceiveInboundRollsBack: an effect the store refuses leaves nothing
// written — not even the dedupe key — so the SMS can still be saved alone.
func TestReceiveInboundRollsBack(t *testing.T) {
	s := newTest(t)
	part := InboundPart{Key: "k-bob", From: bob, SCTS: t0, Total: 1, Text: "OUI", ReceivedAt: t0}
	// Confirm of an unknown number is refused (ErrNotFound).
	_, _, _, err := s.ReceiveInbound(part, Effect{Outcome: "confirm", Confirm: bob}, t0)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("ReceiveInbound(confirm, unknown number) = %v, want ErrNotFound", err)
	}
	if left, err := s.Unprocessed(); err != nil || len(left) != 0 {
		t.Fatalf("after a refused effect: Unprocessed = %v, %v", left, err)
	}
	in, dup, err := s.SaveInboundPart(part)
	if err != nil || dup || in == nil {
		t.Fatalf("SaveInboundPart after the rollback = %+v, %v, %v", in, dup, err)
	}
	part.Total = 2
	if _, _, _, err := s.ReceiveInbound(part, Effect{}, t0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("ReceiveInbound(2 parts) = %v, want ErrInvalid", err)
	}
}
