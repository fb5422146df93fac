package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

// Two modem workers both rescan the unprocessed SMS and may pick the same
// one at once: the claim is decided inside ApplyInbound's transaction, so
// each SMS is applied once and the loser gets ErrProcessed.
func TestApplyInboundOnceUnderRace(t *testing.T) {
	s := newTest(t)
	const n = 40
	for i := range n {
		receive(t, s, fmt.Sprintf("+336110000%02d", i), "INSCRIPTION macon", t0)
	}
	pending, err := s.Unprocessed()
	if err != nil || len(pending) != n {
		t.Fatalf("Unprocessed = %d SMS, %v; want %d", len(pending), err, n)
	}
	var (
		start          = make(chan struct{})
		wg             sync.WaitGroup
		mu             sync.Mutex
		applied, stale int
	)
	for range 2 {
		wg.Go(func() {
			<-start
			for _, in := range pending { // both workers listed the same SMS
				e := Effect{
					Outcome:   "subscribed",
					Subscribe: &Subscription{Phone: in.From, Zone: "macon", Source: SourceSMS},
					Reply:     &Reply{To: in.From, Text: "Inscription enregistrée", Parts: 1},
				}
				_, err := s.ApplyInbound(in.ID, e, t0)
				mu.Lock()
				switch {
				case err == nil:
					applied++
				case errors.Is(err, ErrProcessed):
					stale++
				default:
					t.Errorf("ApplyInbound(%d): %v", in.ID, err)
				}
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if applied != n || stale != n {
		t.Errorf("applied %d, refused as processed %d; want %d each", applied, stale, n)
	}
	counts, err := s.QueueCounts()
	if err != nil {
		t.Fatal(err)
	}
	if counts[StateQueued] != n {
		t.Errorf("%d replies queued, want %d (one per SMS)", counts[StateQueued], n)
	}
	for _, in := range pending {
		if got, err := s.RepliesToday(in.From, t0); err != nil || got != 1 {
			t.Errorf("%s: %d replies counted (%v), want 1", in.From, got, err)
		}
	}
	if left, err := s.Unprocessed(); err != nil || len(left) != 0 {
		t.Errorf("Unprocessed after both workers = %d, %v; want none", len(left), err)
	}
}
