package store

import (
	"fmt"
	"path/filepath"
	"slices"

	bolt "go.etcd.io/bbolt"
	"testing"
	"time"
)

// sendAlertTo creates an alert to recipients and marks every message sent
// at at (and delivered at at+1m when deliver).
func sendAlertTo(t *testing.T, s *Store, at time.Time, deliver bool, recipients ...string) Alert {
	t.Helper()
	a, err := s.CreateAlert(Alert{Category: "vol", Zones: []string{"macon"}, Text: "x", Rendered: "x", Parts: 1}, recipients, at)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := s.AlertMessages(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	for range msgs {
		m, ok, err := s.Claim("m1", at)
		if err != nil || !ok {
			t.Fatalf("Claim: %v %v", ok, err)
		}
		if err := s.MarkSent(m.ID, []int{int(m.ID)}, at); err != nil {
			t.Fatal(err)
		}
		if deliver {
			if err := s.MarkDelivered(m.ID, at.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return a
}

// reply receives an SMS from phone at at and applies it to the inbox as a
// candidate witness reply with window.
func reply(t *testing.T, s *Store, phone, text string, at time.Time, window time.Duration) Applied {
	t.Helper()
	in := receive(t, s, phone, text, at)
	got, err := s.ApplyInbound(in.ID, Effect{Outcome: "inbox", ToInbox: true,
		Witness: &Witness{Phone: phone, Window: window, Lookback: window + 24*time.Hour}}, at)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestWitnessTie(t *testing.T) {
	s := openPurgeTest(t) // it purges: the alert counters outlive their messages
	const window = 24 * time.Hour
	first := sendAlertTo(t, s, t0, true, alice, bob)
	second := sendAlertTo(t, s, t0.Add(2*time.Hour), false, alice)

	// Alice got both: her reply goes to the most recent, by its sent time.
	if got := reply(t, s, alice, "vu vers la gare", t0.Add(3*time.Hour), window); got.AlertID != second.ID {
		t.Errorf("alice tied to %d, want %d (most recent)", got.AlertID, second.ID)
	}
	// Bob got only the first, delivered at t0+1m.
	if got := reply(t, s, bob, "rien vu", t0.Add(5*time.Hour), window); got.AlertID != first.ID {
		t.Errorf("bob tied to %d, want %d", got.AlertID, first.ID)
	}
	// Carol received no alert.
	if got := reply(t, s, carol, "bonjour", t0.Add(3*time.Hour), window); got.AlertID != 0 {
		t.Errorf("carol tied to %d, want none", got.AlertID)
	}
	// Bob after the window of the delivery (t0+1m+24h).
	if got := reply(t, s, bob, "trop tard", t0.Add(window+2*time.Minute), window); got.AlertID != 0 {
		t.Errorf("late reply tied to %d, want none", got.AlertID)
	}
	// The shop answers before the delivery report of the alert comes.
	early := sendAlertTo(t, s, t0.Add(4*time.Hour), false, dave)
	if got := reply(t, s, dave, "vu", t0.Add(4*time.Hour+time.Second), window); got.AlertID != early.ID {
		t.Errorf("reply before the delivery report tied to %d, want %d", got.AlertID, early.ID)
	}
	// An alert whose SMS failed never reached the shop.
	failed := sendAlertTo(t, s, t0.Add(4*time.Hour), false, carol)
	msgs, err := s.AlertMessages(failed.ID)
	if err != nil || len(msgs) != 1 {
		t.Fatal(msgs, err)
	}
	if err := s.MarkFailed(msgs[0].ID, "réseau", t0.Add(4*time.Hour+time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := reply(t, s, carol, "quoi ?", t0.Add(4*time.Hour+2*time.Second), window); got.AlertID != 0 {
		t.Errorf("reply to a failed alert SMS tied to %d", got.AlertID)
	}
	// A zero window ties nothing.
	if got := reply(t, s, alice, "encore", t0.Add(3*time.Hour), 0); got.AlertID != 0 {
		t.Errorf("window 0 tied to %d", got.AlertID)
	}

	replies, err := s.AlertReplies(first.ID)
	if err != nil || len(replies) != 1 || replies[0].Text != "rien vu" || replies[0].AlertID != first.ID {
		t.Fatalf("AlertReplies(first) = %+v, %v", replies, err)
	}
	inbox, err := s.Inbox()
	if err != nil || len(inbox) != 7 {
		t.Fatalf("Inbox = %d entries, %v; want 7 (tied or not, all are kept)", len(inbox), err)
	}

	// The purge removes the SMS, not the counts the report needs.
	if _, err := s.Purge(t0.Add(48 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	if replies, err := s.AlertReplies(first.ID); err != nil || len(replies) != 0 {
		t.Errorf("after purge AlertReplies = %+v, %v; want none", replies, err)
	}
	for _, tc := range []struct {
		id   uint64
		want int
	}{{first.ID, 1}, {second.ID, 1}, {early.ID, 1}} {
		if n, err := s.AlertReplyCount(tc.id); err != nil || n != tc.want {
			t.Errorf("after purge AlertReplyCount(%d) = %d, %v; want %d", tc.id, n, err, tc.want)
		}
	}
	days, err := s.ReplyDays(t0.AddDate(0, 0, -1), t0.AddDate(0, 0, 1))
	if err != nil || len(days) != 3 || !days[0].Day.Equal(t0.Truncate(24*time.Hour)) ||
		days[0].AlertID != first.ID || days[1].AlertID != second.ID || days[0].Replies+days[1].Replies+days[2].Replies != 3 {
		t.Errorf("ReplyDays = %+v, %v", days, err)
	}
	if days, err := s.ReplyDays(t0.AddDate(0, 0, 1), t0.AddDate(0, 0, 3)); err != nil || len(days) != 0 {
		t.Errorf("ReplyDays of the next days = %+v, %v; want none", days, err)
	}
	// The purged messages left no recipient index behind.
	if got := reply(t, s, bob, "vu", t0.Add(49*time.Hour), 100*time.Hour); got.AlertID != 0 {
		t.Errorf("reply to a purged alert message tied to %d", got.AlertID)
	}
}

// A schema-3 file's alerts are indexed by migration 4: a reply to an alert
// sent before the upgrade is tied.
func TestWitnessMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigie.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	a := sendAlertTo(t, s, t0, true, alice)
	// Back to schema 3: no witness buckets.
	err = s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketAlertRecipients, bucketAlertReplies, bucketAlertReplyCounts, bucketReplyDays, bucketForwards} {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, u64(3))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openTest(t, path)
	if got := reply(t, s, alice, "vu", t0.Add(time.Hour), 24*time.Hour); got.AlertID != a.ID {
		t.Errorf("after migration tied to %d, want %d", got.AlertID, a.ID)
	}
}

// Forwards of witness replies stop at the hour's limit, counted durably,
// and start again the next hour; they are not automatic replies.
func TestWitnessForwardLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigie.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	sendAlertTo(t, s, t0, true, alice, bob)
	const duty = "+33699999999"
	fwd := func(phone, text string, at time.Time) Applied {
		t.Helper()
		in := receive(t, s, phone, text, at)
		got, err := s.ApplyInbound(in.ID, Effect{Outcome: "inbox", ToInbox: true,
			Witness: &Witness{Phone: phone, Window: 24 * time.Hour},
			Forward: &Forward{PerHour: 1, About: phone, Build: func(id uint64) []Reply {
				return []Reply{{To: duty, Text: fmt.Sprintf("renvoi %d : %s", id, text), Parts: 1}}
			}}}, at)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := fwd(alice, "vu", t0.Add(10*time.Minute)); got.Forwarded != 1 || got.ForwardCapped {
		t.Errorf("first forward: %+v", got)
	}
	// Restarted: the hour's count is on disk.
	s.Close()
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := fwd(bob, "vu aussi", t0.Add(20*time.Minute)); got.Forwarded != 0 || !got.ForwardCapped || got.ForwardsThisHour != 1 {
		t.Errorf("second forward in the hour: %+v", got)
	}
	if got := fwd(bob, "encore", t0.Add(70*time.Minute)); got.Forwarded != 1 {
		t.Errorf("forward the next hour: %+v", got)
	}
	// Erasing bob erases what the forward about him said, not alice's.
	if _, err := s.EraseSubscriber(bob, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	var forwards []string
	for {
		m, ok, err := s.Claim("m1", t0.Add(2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if m.Kind == KindForward && m.To == duty {
			forwards = append(forwards, m.Text)
		}
	}
	if want := []string{"renvoi 1 : vu", erasedText}; !slices.Equal(forwards, want) {
		t.Errorf("forwards queued %q, want %q", forwards, want)
	}
	if n, err := s.RepliesToday(alice, t0); err != nil || n != 0 {
		t.Errorf("forwards counted as replies to alice: %d, %v", n, err)
	}
}
