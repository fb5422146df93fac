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

// TestQueueProperty runs random sequences of enqueue, fan-out, claim (on two
// modems), sent, failed, retry, release, recover after a crash, STOP,
// re-subscribe, cancel, TTL expiry and delivery reports, over hours and days,
// and checks after each step that the counters match a recount by scan, that
// the indexes (queue by priority and by age, sending, sent log, report index,
// usage counters) are exactly what the outbox implies (verify), that every
// transition the state machine refuses fails with ErrState and changes
// nothing, that Claim takes what a scan says is next, that ExpireQueued
// expires exactly the old queued messages, and that ApplyReport picks the
// part a scan says it must.
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
		// reportsFrom: report index entries of parts sent before it were purged.
		var reportsFrom time.Time
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
			"night": func(rt *rapid.T) {
				now = now.Add(time.Duration(rapid.IntRange(10, 30).Draw(rt, "hours")) * time.Hour)
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
				m, ok, err := s.Claim(rapid.SampledFrom([]string{"m1", "m2"}).Draw(rt, "modem"), now)
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
			"send": func(rt *rapid.T) {
				// What the sender loop does: claim, then the SMS leaves.
				want, _ := expectClaim(rt, s, now)
				m, ok, err := s.Claim(rapid.SampledFrom([]string{"m1", "m2"}).Draw(rt, "modem"), now)
				if err != nil || ok != (want != 0) || m.ID != want {
					rt.Fatalf("Claim = %d (%v), %v; scan says %d", m.ID, ok, err, want)
				}
				if !ok {
					return
				}
				if err := s.MarkSent(m.ID, rapid.SliceOfN(rapid.IntRange(0, 3), 1, 3).Draw(rt, "refs"), now); err != nil {
					rt.Fatal(err)
				}
				reportsFrom = now.Add(-ReportWindow)
			},
			"sent": func(rt *rapid.T) {
				id := msg(rt)
				if sending := inState(rt, s, StateSending); len(sending) > 0 && rapid.Bool().Draw(rt, "aimed") {
					id = rapid.SampledFrom(sending).Draw(rt, "sending").ID
				}
				refs := rapid.SliceOfN(rapid.IntRange(0, 3), 1, 3).Draw(rt, "refs")
				move(rt, id, StateSent, func() error { return s.MarkSent(id, refs, now) })
				if m, _ := s.Message(id); m.State == StateSent && m.SentAt.Equal(now) {
					reportsFrom = now.Add(-ReportWindow)
				}
			},
			"release": func(rt *rapid.T) {
				id := msg(rt)
				move(rt, id, StateQueued, func() error { return s.Release(id, "pas de réseau", now) })
			},
			"expire": func(rt *rapid.T) {
				cutoff := now.Add(-time.Duration(rapid.IntRange(0, 7200).Draw(rt, "age")) * time.Second)
				var want []uint64
				var alerts []uint64
				for _, m := range scan(rt, s) {
					if m.State == StateQueued && m.CreatedAt.Before(cutoff) {
						want = append(want, m.ID)
						if m.AlertID != 0 && !slices.Contains(alerts, m.AlertID) {
							alerts = append(alerts, m.AlertID)
						}
					}
				}
				slices.Sort(alerts)
				n, got, err := s.ExpireQueued(cutoff, now)
				if err != nil || n != len(want) || !slices.Equal(got, alerts) {
					rt.Fatalf("ExpireQueued = %d, %v, %v; scan says %d, %v", n, got, err, len(want), alerts)
				}
				for _, id := range want {
					if m, _ := s.Message(id); m.State != StateExpired {
						rt.Fatalf("message %d is %s after ExpireQueued", id, m.State)
					}
				}
			},
			"report": func(rt *rapid.T) {
				to := rapid.SampledFrom(phones).Draw(rt, "to")
				modem, ref := rapid.SampledFrom([]string{"m1", "m2"}).Draw(rt, "modem"), rapid.IntRange(0, 3).Draw(rt, "ref")
				if sent := inState(rt, s, StateSent); len(sent) > 0 && rapid.Bool().Draw(rt, "aimed") {
					m := rapid.SampledFrom(sent).Draw(rt, "sent")
					to, modem, ref = m.To, m.Modem, rapid.SampledFrom(m.Refs).Draw(rt, "part ref")
				}
				r := Report{
					Modem:     modem,
					Ref:       ref,
					Recipient: rapid.SampledFrom([]string{to, "0" + to[3:]}).Draw(rt, "recipient"),
					Status:    rapid.SampledFrom([]byte{0x00, 0x1F, 0x20, 0x3F, 0x40, 0x62, 0x7F}).Draw(rt, "status"),
					SCTS:      now.Add(-time.Duration(rapid.IntRange(0, 3600).Draw(rt, "delay")) * time.Second),
				}
				want, part, live := expectReport(rt, s, r, to, reportsFrom)
				before, _ := s.Message(want)
				got, matched, err := s.ApplyReport(r, now)
				if err != nil || matched != (want != 0) || got.ID != want {
					rt.Fatalf("ApplyReport(%+v) = %d, %v, %v; scan says %d", r, got.ID, matched, err, want)
				}
				after, _ := s.Message(want)
				wantState, wantStatus := before.State, before.PartStatus
				if live && (r.Status < reportPending || r.Status >= reportFailed) {
					wantStatus = make([]int, len(before.Refs))
					for i := range wantStatus {
						wantStatus[i] = partStatus(&before, i)
					}
					wantStatus[part] = int(r.Status)
					wantState = StateDelivered
					for _, st := range wantStatus {
						if st < 0 {
							wantState = StateSent
						}
					}
					if r.Status >= reportFailed {
						wantState = StateFailed
					}
				}
				if after.State != wantState || !slices.Equal(after.PartStatus, wantStatus) {
					rt.Fatalf("after report %+v: message %d is %s %v, want %s %v", r, want, after.State, after.PartStatus, wantState, wantStatus)
				}
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
				_, err = s.ApplyInbound(in.ID, Effect{Unsubscribe: phone, Reply: &Reply{To: phone, Text: stopReply, Parts: 1, IgnoreSuppression: true}}, now)
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

// scan returns every message of the outbox.
func scan(rt *rapid.T, s *Store) []Message {
	var msgs []Message
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
			var m Message
			if err := decodeMessage(tx, nil, k, v, &m); err != nil {
				return err
			}
			msgs = append(msgs, m)
			return nil
		})
	})
	if err != nil {
		rt.Fatal(err)
	}
	return msgs
}

// inState returns the messages in state st.
func inState(rt *rapid.T, s *Store, st State) []Message {
	var msgs []Message
	for _, m := range scan(rt, s) {
		if m.State == st {
			msgs = append(msgs, m)
		}
	}
	return msgs
}

// expectReport says from a scan of the outbox which message, and which part
// of it, ApplyReport must match (0: none) for a report naming phone to, and
// whether the part can still take a status. Parts sent before purged have no
// index entry any more.
func expectReport(rt *rapid.T, s *Store, r Report, to string, purged time.Time) (id uint64, part int, live bool) {
	type candidate struct {
		m    Message
		part int
		dist time.Duration
		live bool
	}
	var cands []candidate
	for _, m := range scan(rt, s) {
		if m.SentAt.IsZero() || m.SentAt.Before(purged) || m.Modem != r.Modem || m.To != to {
			continue
		}
		for i, ref := range m.Refs {
			dist := m.SentAt.Sub(r.SCTS).Abs()
			if ref == r.Ref && dist <= ReportWindow {
				cands = append(cands, candidate{m, i, dist, m.State == StateSent && partStatus(&m, i) < 0})
			}
		}
	}
	slices.SortFunc(cands, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(a.dist, b.dist), a.m.SentAt.Compare(b.m.SentAt), cmp.Compare(a.m.ID, b.m.ID), cmp.Compare(a.part, b.part))
	})
	for _, c := range cands {
		if c.live {
			return c.m.ID, c.part, true
		}
	}
	if len(cands) > 0 {
		return cands[0].m.ID, cands[0].part, false
	}
	return 0, 0, false
}

// recount counts the outbox by state with a full scan.
func recount(rt *rapid.T, s *Store) map[State]int {
	counts := make(map[State]int)
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
			var m Message
			if err := decodeMessage(tx, nil, k, v, &m); err != nil {
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
			if err := decodeMessage(tx, nil, k, v, &m); err != nil {
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
