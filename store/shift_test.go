package store

import (
	"testing"
	"time"
)

// A step of the gateway's clock moves this run's timers and only those:
// after a +2 days step a message queued a minute before is neither expired
// nor overdue, a retry keeps its backoff, and the messages of an earlier
// run (dated by that run's clock) stay as they were.
func TestShiftTimersMovesThisRunsTimers(t *testing.T) {
	s := newTest(t)
	old := mustCreateAlert(t, s, []string{alice}, t0.Add(-time.Hour)) // an earlier run
	last, err := s.Mark()
	if err != nil || last != (Mark{Message: 1, Alert: 1}) {
		t.Fatalf("Mark = %+v, %v; want message 1, alert 1", last, err)
	}
	this := mustCreateAlert(t, s, []string{bob, carol}, t0)
	retried := mustClaim(t, s, t0) // the old run's message goes first
	if retried.To != alice {
		t.Fatalf("claimed %s first", retried.To)
	}
	if err := s.Retry(retried.ID, "congestion", t0.Add(time.Minute), t0); err != nil {
		t.Fatal(err)
	}
	sending := mustClaim(t, s, t0)
	if err := s.Retry(mustClaim(t, s, t0).ID, "congestion", t0.Add(2*time.Minute), t0); err != nil {
		t.Fatal(err)
	}
	step := 48 * time.Hour
	n, err := s.ShiftTimers(last, step)
	if err != nil || n != 2 {
		t.Fatalf("ShiftTimers = %d, %v; want the 2 messages of this run", n, err)
	}
	now := t0.Add(step + 30*time.Second)
	// alert_ttl (4 h) counted from the moved creation: nothing expires.
	if n, _, err := s.ExpireQueued(now.Add(-4*time.Hour), now); err != nil || n != 1 {
		t.Fatalf("ExpireQueued = %d, %v; want only the earlier run's message, 2 days old", n, err)
	}
	if m, _ := s.Message(retried.ID); m.State != StateExpired {
		t.Errorf("earlier run's message is %s", m.State)
	}
	// The retry still waits its two minutes from the step.
	claimNone(t, s, now)
	if m := mustClaim(t, s, t0.Add(step+2*time.Minute)); m.To == alice {
		t.Errorf("claimed %+v", m)
	}
	if a, err := s.Alert(this.ID); err != nil || !a.CreatedAt.Equal(t0.Add(step)) {
		t.Errorf("this run's alert: %+v, %v; want it accepted at the moved time", a, err)
	}
	if a, err := s.Alert(old.ID); err != nil || !a.CreatedAt.Equal(t0.Add(-time.Hour)) {
		t.Errorf("earlier run's alert: %+v, %v; want it as it was", a, err)
	}
	got, err := s.Message(sending.ID)
	if err != nil || !got.CreatedAt.Equal(t0.Add(step)) || got.State != StateSending {
		t.Errorf("message being sent: %+v, %v; want its creation moved", got, err)
	}
}
