package store

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"pgregory.net/rapid"
)

// TestQueueProperty runs random sequences of enqueue, fan-out, claim, sent,
// failed, retry, recover, STOP, re-subscribe and cancel, and checks after each
// step that the counters match a recount by scan, that the queue index is
// exactly the set of queued messages, that every transition the state machine
// refuses fails with ErrState and changes nothing, and that Claim takes what a
// scan says is next.
func TestQueueProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		s, err := open(filepath.Join(t.TempDir(), "prop.db"), true)
		if err != nil {
			rt.Fatal(err)
		}
		defer func() {
			s.db.View(func(tx *bolt.Tx) error {
				for err := range tx.Check() {
					rt.Errorf("bbolt check: %v", err)
				}
				return nil
			})
			s.Close()
		}()
		phones := []string{alice, bob, carol}
		now := t0
		var alertIDs []uint64
		var inboundKey int

		// msg draws an existing message ID, or one that does not exist.
		msg := func(rt *rapid.T) uint64 {
			c, _ := s.QueueCounts()
			total := 0
			for _, n := range c {
				total += n
			}
			return rapid.Uint64Range(1, uint64(total)+1).Draw(rt, "id")
		}
		// move applies a transition and checks it was refused exactly when
		// the state machine says so.
		move := func(rt *rapid.T, id uint64, to State, do func() error) {
			before, getErr := s.Message(id)
			err := do()
			switch {
			case errors.Is(getErr, ErrNotFound):
				if !errors.Is(err, ErrNotFound) {
					rt.Fatalf("to %s on missing message %d: %v", to, id, err)
				}
			case allowed(before.State, to):
				if err != nil {
					rt.Fatalf("%s → %s refused: %v", before.State, to, err)
				}
				if after, _ := s.Message(id); after.State != to {
					rt.Fatalf("message %d is %s after a move to %s", id, after.State, to)
				}
			default:
				if !errors.Is(err, ErrState) {
					rt.Fatalf("%s → %s: %v, want ErrState", before.State, to, err)
				}
				if after, _ := s.Message(id); !after.UpdatedAt.Equal(before.UpdatedAt) || after.State != before.State {
					rt.Fatalf("refused move changed message %d: %+v", id, after)
				}
			}
		}

		rt.Repeat(map[string]func(*rapid.T){
			"": func(rt *rapid.T) {
				if err := s.db.View(verify); err != nil {
					rt.Fatal(err)
				}
				got, err := s.QueueCounts()
				if err != nil {
					rt.Fatal(err)
				}
				if want := recount(rt, s); !maps.Equal(got, want) {
					rt.Fatalf("QueueCounts %v, recount %v", got, want)
				}
			},
			"tick": func(rt *rapid.T) {
				now = now.Add(time.Duration(rapid.IntRange(1, 600).Draw(rt, "seconds")) * time.Second)
			},
			"reply": func(rt *rapid.T) {
				kind := rapid.SampledFrom([]Kind{KindReply, KindTest}).Draw(rt, "kind")
				to := rapid.SampledFrom(phones).Draw(rt, "to")
				_, err := s.EnqueueReply(kind, to, "r", rapid.IntRange(1, 3).Draw(rt, "parts"), rapid.Bool().Draw(rt, "ignore"), now)
				if err != nil {
					rt.Fatal(err)
				}
			},
			"alert": func(rt *rapid.T) {
				to := rapid.SliceOf(rapid.SampledFrom(phones)).Draw(rt, "recipients")
				a, err := s.CreateAlert(testAlert(rapid.IntRange(1, 3).Draw(rt, "parts")), to, now)
				if err != nil {
					rt.Fatal(err)
				}
				alertIDs = append(alertIDs, a.ID)
			},
			"claim": func(rt *rapid.T) {
				want, suppressed := expectClaim(rt, s, now)
				m, ok, err := s.Claim("m1", now)
				if err != nil {
					rt.Fatal(err)
				}
				if ok != (want != 0) || m.ID != want {
					rt.Fatalf("Claim = %d (%v), scan says %d", m.ID, ok, want)
				}
				for _, id := range suppressed {
					if got, _ := s.Message(id); got.State != StateSuppressed {
						rt.Fatalf("message %d to a stopped number is %s", id, got.State)
					}
				}
			},
			"sent": func(rt *rapid.T) {
				id := msg(rt)
				move(rt, id, StateSent, func() error { return s.MarkSent(id, []int{int(id % 256)}, now) })
			},
			"failed": func(rt *rapid.T) {
				id := msg(rt)
				move(rt, id, StateFailed, func() error { return s.MarkFailed(id, "boom", now) })
			},
			"delivered": func(rt *rapid.T) {
				id := msg(rt)
				move(rt, id, StateDelivered, func() error { return s.MarkDelivered(id, now) })
			},
			"expired": func(rt *rapid.T) {
				id := msg(rt)
				move(rt, id, StateExpired, func() error { return s.MarkExpired(id, now) })
			},
			"retry": func(rt *rapid.T) {
				id := msg(rt)
				at := now.Add(time.Duration(rapid.IntRange(0, 900).Draw(rt, "backoff")) * time.Second)
				move(rt, id, StateQueued, func() error { return s.Retry(id, "later", at, now) })
			},
			"recover": func(rt *rapid.T) {
				before := recount(rt, s)[StateSending]
				n, err := s.RecoverSending(now)
				if err != nil || n != before {
					rt.Fatalf("RecoverSending = %d, %v; %d were sending", n, err, before)
				}
			},
			"stop": func(rt *rapid.T) {
				phone := rapid.SampledFrom(phones).Draw(rt, "phone")
				inboundKey++
				in, _, err := s.SaveInboundPart(InboundPart{Key: fmt.Sprint(inboundKey), From: phone, Total: 1, Text: "STOP"})
				if err != nil {
					rt.Fatal(err)
				}
				err = s.ApplyInbound(in.ID, Effect{Unsubscribe: phone, Reply: &Reply{To: phone, Text: stopReply, Parts: 1, IgnoreSuppression: true}}, now)
				if err != nil {
					rt.Fatal(err)
				}
				err = s.db.View(func(tx *bolt.Tx) error {
					return tx.Bucket(bucketQueue).ForEach(func(k, _ []byte) error {
						m, err := loadMessage(tx, queueKeyID(k))
						if err == nil && m.To == phone && !m.IgnoreSuppression {
							return fmt.Errorf("message %d to stopped %s still queued", m.ID, phone)
						}
						return err
					})
				})
				if err != nil {
					rt.Fatal(err)
				}
			},
			"subscribe": func(rt *rapid.T) {
				phone := rapid.SampledFrom(phones).Draw(rt, "phone")
				if _, err := s.AddSubscriber(Subscription{Phone: phone, Zone: "macon"}, now); err != nil {
					rt.Fatal(err)
				}
			},
			"cancel": func(rt *rapid.T) {
				if len(alertIDs) == 0 {
					rt.Skip("no alert")
				}
				id := rapid.SampledFrom(alertIDs).Draw(rt, "alert")
				before, _ := s.AlertCounts(id)
				n, err := s.CancelAlert(id, now)
				if err != nil || n != before[StateQueued] {
					rt.Fatalf("CancelAlert = %d, %v; %d were queued", n, err, before[StateQueued])
				}
			},
		})
	})
}

// recount counts the outbox by state with a full scan.
func recount(rt *rapid.T, s *Store) map[State]int {
	counts := make(map[State]int)
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
			var m Message
			if err := decode(k, v, &m); err != nil {
				return err
			}
			counts[m.State]++
			return nil
		})
	})
	if err != nil {
		rt.Fatal(err)
	}
	return counts
}

// expectClaim says from a scan of the outbox which message Claim must take
// (0: none) and which it must suppress on the way.
func expectClaim(rt *rapid.T, s *Store, now time.Time) (uint64, []uint64) {
	var due []Message
	suppressed := make(map[string]bool)
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
			var m Message
			if err := decode(k, v, &m); err != nil {
				return err
			}
			if m.State == StateQueued && !m.NotBefore.After(now) {
				due = append(due, m)
				suppressed[m.To] = isSuppressed(tx, m.To)
			}
			return nil
		})
	})
	if err != nil {
		rt.Fatal(err)
	}
	slices.SortFunc(due, func(a, b Message) int {
		return cmp.Or(cmp.Compare(priority(a.Kind), priority(b.Kind)), a.NotBefore.Compare(b.NotBefore), cmp.Compare(a.ID, b.ID))
	})
	var skipped []uint64
	for _, m := range due {
		if suppressed[m.To] && !m.IgnoreSuppression {
			skipped = append(skipped, m.ID)
			continue
		}
		return m.ID, skipped
	}
	return 0, skipped
}
