package store

import (
	"errors"
	"maps"
	"slices"
	"testing"
	"time"
)

const (
	alice = "+33611111111"
	bob   = "+33622222222"
	carol = "+33633333333"
)

func testAlert(parts int) Alert {
	return Alert{
		Author: "gendarme", Category: "vol", Zones: []string{"macon"},
		Text: "Vol à l'étalage", Rendered: "Vigilance commerce 71 : Vol a l'etalage", Encoding: "GSM7", Parts: parts,
	}
}

func mustCreateAlert(t *testing.T, s *Store, recipients []string, now time.Time) Alert {
	t.Helper()
	a, err := s.CreateAlert(testAlert(1), recipients, now)
	if err != nil {
		t.Fatalf("CreateAlert: %v", err)
	}
	return a
}

func mustClaim(t *testing.T, s *Store, now time.Time) Message {
	t.Helper()
	m, ok, err := s.Claim("m1", now)
	if err != nil || !ok {
		t.Fatalf("Claim(%v) = %v, %v; want a message", now, ok, err)
	}
	return m
}

func claimNone(t *testing.T, s *Store, now time.Time) {
	t.Helper()
	if m, ok, err := s.Claim("m1", now); err != nil || ok {
		t.Fatalf("Claim(%v) = %+v, %v, %v; want nothing", now, m, ok, err)
	}
}

func TestCreateAlert(t *testing.T) {
	s := newTest(t)
	a, err := s.CreateAlert(testAlert(2), []string{bob, alice, bob, carol}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != 1 || a.Recipients != 3 || !a.CreatedAt.Equal(t0) {
		t.Errorf("alert %+v: want ID 1, 3 recipients, created at t0", a)
	}
	got, err := s.Alert(a.ID)
	if err != nil || got.Rendered != a.Rendered || got.Recipients != 3 {
		t.Errorf("Alert(%d) = %+v, %v", a.ID, got, err)
	}
	msgs, err := s.AlertMessages(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var to []string
	for _, m := range msgs {
		to = append(to, m.To)
		if m.State != StateQueued || m.Kind != KindAlert || m.AlertID != a.ID || m.Parts != 2 || m.Text != a.Rendered || !m.NotBefore.Equal(t0) {
			t.Errorf("message %+v", m)
		}
	}
	if want := []string{bob, alice, carol}; !slices.Equal(to, want) {
		t.Errorf("recipients %v, want %v (order kept, duplicates dropped)", to, want)
	}
	if c, _ := s.AlertCounts(a.ID); !maps.Equal(c, map[State]int{StateQueued: 3}) {
		t.Errorf("AlertCounts %v", c)
	}

	b := mustCreateAlert(t, s, nil, t0.Add(time.Minute))
	alerts, err := s.Alerts()
	if err != nil || len(alerts) != 2 || alerts[0].ID != b.ID || alerts[1].ID != a.ID {
		t.Errorf("Alerts() = %+v, %v; want newest first", alerts, err)
	}
	if _, err := s.Alert(42); !errors.Is(err, ErrNotFound) {
		t.Errorf("Alert(42): %v, want ErrNotFound", err)
	}
	if _, err := s.AlertMessages(42); !errors.Is(err, ErrNotFound) {
		t.Errorf("AlertMessages(42): %v, want ErrNotFound", err)
	}
}

// A failure in the middle of the fan-out leaves nothing behind: no alert, no
// message, no counter, and the IDs are not consumed.
func TestCreateAlertIsAtomic(t *testing.T) {
	s := newTest(t)
	_, err := s.CreateAlert(testAlert(1), []string{alice, bob, "", carol}, t0)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("CreateAlert with an empty recipient: %v, want ErrInvalid", err)
	}
	if alerts, _ := s.Alerts(); len(alerts) != 0 {
		t.Errorf("alerts after failed create: %+v", alerts)
	}
	if c, _ := s.QueueCounts(); len(c) != 0 {
		t.Errorf("counts after failed create: %v", c)
	}
	claimNone(t, s, t0)
	a := mustCreateAlert(t, s, []string{alice}, t0)
	if m := mustClaim(t, s, t0); a.ID != 1 || m.ID != 1 {
		t.Errorf("IDs after rollback: alert %d, message %d; want 1, 1", a.ID, m.ID)
	}
	if _, err := s.CreateAlert(Alert{Rendered: "x"}, []string{alice}, t0); !errors.Is(err, ErrInvalid) {
		t.Errorf("CreateAlert with 0 parts: %v, want ErrInvalid", err)
	}
}

func TestClaimOrder(t *testing.T) {
	s := newTest(t)
	a1 := mustCreateAlert(t, s, []string{alice, bob}, t0)
	a2 := mustCreateAlert(t, s, []string{carol}, t0.Add(time.Second))
	if _, err := s.EnqueueReply(KindReply, carol, "Inscription confirmée", 1, false, t0.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnqueueReply(KindTest, alice, "Essai", 1, false, t0.Add(3*time.Second)); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(4 * time.Second)
	type claimed struct {
		kind    Kind
		alertID uint64
		to      string
	}
	var got []claimed
	for {
		m, ok, err := s.Claim("m1", now)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if m.State != StateSending || m.Attempts != 1 || m.Modem != "m1" {
			t.Errorf("claimed %+v: want sending, 1 attempt, modem m1", m)
		}
		got = append(got, claimed{m.Kind, m.AlertID, m.To})
	}
	want := []claimed{
		{KindReply, 0, carol}, {KindTest, 0, alice},
		{KindAlert, a1.ID, alice}, {KindAlert, a1.ID, bob}, {KindAlert, a2.ID, carol},
	}
	if !slices.Equal(got, want) {
		t.Errorf("claim order %v, want %v", got, want)
	}
	if c, _ := s.QueueCounts(); !maps.Equal(c, map[State]int{StateSending: 5}) {
		t.Errorf("counts %v", c)
	}
}

func TestClaimRespectsNotBefore(t *testing.T) {
	s := newTest(t)
	if _, ok, err := s.NextDue(); ok || err != nil {
		t.Errorf("NextDue on empty queue: %v, %v", ok, err)
	}
	// Created in the future: not due yet.
	mustCreateAlert(t, s, []string{alice}, t0.Add(time.Minute))
	claimNone(t, s, t0)
	if due, ok, err := s.NextDue(); !ok || err != nil || !due.Equal(t0.Add(time.Minute)) {
		t.Errorf("NextDue = %v, %v, %v; want t0+1m", due, ok, err)
	}

	// A reply waiting for its retry does not hold back a due alert message.
	r, _ := s.EnqueueReply(KindReply, bob, "Aide", 1, false, t0)
	mustClaim(t, s, t0)
	retryAt := t0.Add(5 * time.Minute)
	if err := s.Retry(r.ID, "CMS ERROR 42", retryAt, t0); err != nil {
		t.Fatal(err)
	}
	m := mustClaim(t, s, t0.Add(2*time.Minute))
	if m.Kind != KindAlert {
		t.Errorf("claimed %+v, want the due alert message", m)
	}
	if due, ok, _ := s.NextDue(); !ok || !due.Equal(retryAt) {
		t.Errorf("NextDue = %v, %v; want %v", due, ok, retryAt)
	}
	claimNone(t, s, retryAt.Add(-time.Nanosecond))
	m = mustClaim(t, s, retryAt)
	if m.ID != r.ID || m.Attempts != 2 || m.LastError != "CMS ERROR 42" {
		t.Errorf("retried %+v: want message %d, attempt 2, last error kept", m, r.ID)
	}
	if _, ok, _ := s.NextDue(); ok {
		t.Error("NextDue with an empty queue reports a due time")
	}
}

func TestClaimSuppressesStoppedNumber(t *testing.T) {
	s := newTest(t)
	a := mustCreateAlert(t, s, []string{alice, bob}, t0)
	first := mustClaim(t, s, t0) // alice's alert message is on the wire when she sends STOP
	stop(t, s, alice, t0)
	if err := s.Retry(first.ID, "timeout", t0, t0); err != nil {
		t.Fatal(err)
	}
	later, _ := s.EnqueueReply(KindReply, alice, "Vous êtes inscrit", 1, false, t0)

	// Alice's STOP confirmation (queued by stop) goes out; her other messages
	// are suppressed at claim time; Bob's goes out.
	var sent []string
	for {
		m, ok, err := s.Claim("m1", t0.Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		sent = append(sent, m.To+" "+m.Text)
	}
	want := []string{alice + " " + stopReply, bob + " " + testAlert(1).Rendered}
	if !slices.Equal(sent, want) {
		t.Errorf("sent %q, want %q", sent, want)
	}
	for _, id := range []uint64{first.ID, later.ID} {
		if m, _ := s.Message(id); m.State != StateSuppressed {
			t.Errorf("message %d to a stopped number is %s, want suppressed", id, m.State)
		}
	}
	if c, _ := s.AlertCounts(a.ID); !maps.Equal(c, map[State]int{StateSuppressed: 1, StateSending: 1}) {
		t.Errorf("AlertCounts %v", c)
	}
}

func TestTransitions(t *testing.T) {
	s := newTest(t)
	a := mustCreateAlert(t, s, []string{alice, bob, carol}, t0)
	msgs, _ := s.AlertMessages(a.ID)
	ma, mb, mc := msgs[0].ID, msgs[1].ID, msgs[2].ID

	// Nothing but Claim moves a queued message to sending.
	for name, err := range map[string]error{
		"MarkSent":      s.MarkSent(ma, []int{1}, t0),
		"MarkFailed":    s.MarkFailed(ma, "x", t0),
		"MarkDelivered": s.MarkDelivered(ma, t0),
		"Retry":         s.Retry(ma, "x", t0, t0),
	} {
		if !errors.Is(err, ErrState) {
			t.Errorf("%s on a queued message: %v, want ErrState", name, err)
		}
	}
	if err := s.MarkSent(999, nil, t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("MarkSent(999): %v, want ErrNotFound", err)
	}
	if _, err := s.Message(999); !errors.Is(err, ErrNotFound) {
		t.Errorf("Message(999): %v, want ErrNotFound", err)
	}

	mustClaim(t, s, t0)
	mustClaim(t, s, t0)
	if err := s.MarkSent(ma, []int{7, 8}, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkFailed(mb, "numéro invalide", t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDelivered(ma, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkExpired(mc, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkFailed(mc, "x", t0); !errors.Is(err, ErrState) {
		t.Errorf("MarkFailed on an expired message: %v, want ErrState", err)
	}
	m, _ := s.Message(ma)
	if m.State != StateDelivered || !slices.Equal(m.Refs, []int{7, 8}) || !m.SentAt.Equal(t0.Add(time.Second)) || !m.UpdatedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("delivered message %+v", m)
	}
	if m, _ := s.Message(mb); m.State != StateFailed || m.LastError != "numéro invalide" {
		t.Errorf("failed message %+v", m)
	}
	want := map[State]int{StateDelivered: 1, StateFailed: 1, StateExpired: 1}
	if c, _ := s.QueueCounts(); !maps.Equal(c, want) {
		t.Errorf("QueueCounts %v, want %v", c, want)
	}
	if c, _ := s.AlertCounts(a.ID); !maps.Equal(c, want) {
		t.Errorf("AlertCounts %v, want %v", c, want)
	}
}

func TestCancelAlert(t *testing.T) {
	s := newTest(t)
	a := mustCreateAlert(t, s, []string{alice, bob, carol}, t0)
	other := mustCreateAlert(t, s, []string{alice}, t0)
	mustClaim(t, s, t0) // alice's message of a is sending
	n, err := s.CancelAlert(a.ID, t0)
	if err != nil || n != 2 {
		t.Fatalf("CancelAlert = %d, %v; want 2", n, err)
	}
	if c, _ := s.AlertCounts(a.ID); !maps.Equal(c, map[State]int{StateSending: 1, StateCancelled: 2}) {
		t.Errorf("AlertCounts %v", c)
	}
	if m := mustClaim(t, s, t0); m.AlertID != other.ID {
		t.Errorf("claimed %+v after cancel, want the other alert's message", m)
	}
	if _, err := s.CancelAlert(42, t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("CancelAlert(42): %v, want ErrNotFound", err)
	}
}

func TestRecoverSending(t *testing.T) {
	path := t.TempDir() + "/vigie.db"
	s := openTest(t, path)
	mustCreateAlert(t, s, []string{alice, bob, carol}, t0)
	m1 := mustClaim(t, s, t0)
	m2 := mustClaim(t, s, t0)
	if err := s.MarkSent(m1.ID, []int{1}, t0); err != nil {
		t.Fatal(err)
	}
	s.Close() // the daemon dies with m2 in flight

	s = openTest(t, path)
	n, err := s.RecoverSending(t0.Add(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("RecoverSending = %d, %v; want 1", n, err)
	}
	m, _ := s.Message(m2.ID)
	if m.State != StateQueued || !m.Uncertain || m.Attempts != 1 {
		t.Errorf("recovered %+v: want queued, uncertain, 1 attempt", m)
	}
	// It keeps its place: it goes before carol's, queued after it.
	again := mustClaim(t, s, t0.Add(time.Hour))
	if again.ID != m2.ID || again.Attempts != 2 || !again.Uncertain {
		t.Errorf("claimed %+v, want message %d again, attempt 2, uncertain", again, m2.ID)
	}
	if n, _ := s.RecoverSending(t0); n != 1 {
		t.Errorf("second RecoverSending = %d, want 1", n)
	}
	if m, _ := s.Message(m1.ID); m.State != StateSent || m.Uncertain {
		t.Errorf("sent message touched by recovery: %+v", m)
	}
}

func TestSentSince(t *testing.T) {
	s := newTest(t)
	if _, err := s.CreateAlert(testAlert(3), []string{alice, bob}, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnqueueReply(KindReply, carol, "ok", 1, false, t0); err != nil {
		t.Fatal(err)
	}
	times := map[uint64]time.Time{}
	for i := range 3 {
		m := mustClaim(t, s, t0)
		times[m.ID] = t0.Add(time.Duration(i) * time.Hour)
		if err := s.MarkSent(m.ID, nil, times[m.ID]); err != nil {
			t.Fatal(err)
		}
	}
	// The reply (1 part) at t0, the alert messages (3 parts) at t0+1h, t0+2h.
	for _, tc := range []struct {
		since          time.Time
		want, messages int
	}{
		{t0.Add(-time.Hour), 7, 3},
		{t0, 7, 3},
		{t0.Add(time.Nanosecond), 6, 2},
		{t0.Add(2 * time.Hour), 3, 1},
		{t0.Add(3 * time.Hour), 0, 0},
	} {
		if got, err := s.SentSince(tc.since); err != nil || got != tc.want {
			t.Errorf("SentSince(%v) = %d, %v; want %d", tc.since, got, err, tc.want)
		}
		if msgs, parts, err := s.SentTally(tc.since); err != nil || msgs != tc.messages || parts != tc.want {
			t.Errorf("SentTally(%v) = %d messages, %d parts, %v; want %d, %d", tc.since, msgs, parts, err, tc.messages, tc.want)
		}
	}
	// The last sends, oldest first, for the measured pace.
	for n, want := range map[int][]time.Time{
		2:  {t0.Add(time.Hour), t0.Add(2 * time.Hour)},
		10: {t0, t0.Add(time.Hour), t0.Add(2 * time.Hour)},
	} {
		got, err := s.RecentSends(n)
		if err != nil || len(got) != len(want) {
			t.Fatalf("RecentSends(%d) = %v, %v; want %v", n, got, err, want)
		}
		for i := range want {
			if !got[i].Equal(want[i]) {
				t.Errorf("RecentSends(%d)[%d] = %v, want %v", n, i, got[i], want[i])
			}
		}
	}
}

func TestEnqueueReplyValidates(t *testing.T) {
	s := newTest(t)
	for _, tc := range []struct {
		kind  Kind
		to    string
		parts int
	}{
		{KindAlert, alice, 1},
		{"autre", alice, 1},
		{KindReply, "", 1},
		{KindTest, alice, 0},
	} {
		if _, err := s.EnqueueReply(tc.kind, tc.to, "x", tc.parts, false, t0); !errors.Is(err, ErrInvalid) {
			t.Errorf("EnqueueReply(%q, %q, %d): %v, want ErrInvalid", tc.kind, tc.to, tc.parts, err)
		}
	}
	m, err := s.EnqueueReply(KindTest, alice, "Essai", 1, true, t0)
	if err != nil || m.ID == 0 || m.State != StateQueued || !m.IgnoreSuppression || !m.CreatedAt.Equal(t0) {
		t.Errorf("EnqueueReply = %+v, %v", m, err)
	}
}

func TestRetryUncertainMarksTheMessage(t *testing.T) {
	s := newTest(t)
	mustCreateAlert(t, s, []string{alice}, t0)
	m := mustClaim(t, s, t0)
	if err := s.RetryUncertain(m.ID, "no answer to +CMGS", t0.Add(time.Minute), t0); err != nil {
		t.Fatal(err)
	}
	got, err := s.Message(m.ID)
	if err != nil || got.State != StateQueued || !got.Uncertain || got.LastError != "no answer to +CMGS" {
		t.Fatalf("message %+v, %v; want queued, uncertain, with the error", got, err)
	}
	if _, ok, _ := s.Claim("m1", t0); ok {
		t.Error("claimed before its retry time")
	}
	if again, ok, _ := s.Claim("m1", t0.Add(time.Minute)); !ok || again.ID != m.ID || !again.Uncertain {
		t.Errorf("claim after the retry time = %+v, %v", again, ok)
	}
}

func TestMarkSentUncertain(t *testing.T) {
	s := newTest(t)
	a := mustCreateAlert(t, s, []string{alice}, t0)
	m := mustClaim(t, s, t0)
	if err := s.MarkSentUncertain(m.ID, "bare ERROR after the PDU", t0); err != nil {
		t.Fatal(err)
	}
	got, err := s.Message(m.ID)
	if err != nil || got.State != StateSent || !got.Uncertain || len(got.Refs) != 0 || !got.SentAt.Equal(t0) || got.LastError != "bare ERROR after the PDU" {
		t.Fatalf("message %+v, %v; want sent, uncertain, no refs, the reason kept", got, err)
	}
	counts, err := s.AlertCounts(a.ID)
	if err != nil || counts[StateSent] != 1 || counts[StateFailed] != 0 || counts[StateSending] != 0 {
		t.Errorf("alert counts %v, %v; want 1 sent", counts, err)
	}
	// It may have gone out: it counts against daily_cap.
	if n, err := s.PartsSent("m1", t0); err != nil || n != 1 {
		t.Errorf("parts sent %d, %v; want 1", n, err)
	}
	// Only a sending message can end so.
	if err := s.MarkSentUncertain(m.ID, "again", t0); !errors.Is(err, ErrState) {
		t.Errorf("MarkSentUncertain of a sent message = %v, want ErrState", err)
	}
}

// A message waiting for its retry never holds back what is due: the queue is
// ordered by due time within each priority, and a reply waiting for its
// retry lets alert messages due now go.
func TestRetryWaitingDoesNotBlockDueMessages(t *testing.T) {
	s := newTest(t)
	mustCreateAlert(t, s, []string{alice, bob}, t0)
	first := mustClaim(t, s, t0)
	if err := s.Retry(first.ID, "+CMS ERROR: 38", t0.Add(2*time.Second), t0); err != nil {
		t.Fatal(err)
	}
	reply, err := s.EnqueueReply(KindReply, carol, "Inscription enregistrée.", 1, false, t0)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustClaim(t, s, t0); got.ID != reply.ID {
		t.Fatalf("claimed %d, want the reply %d first", got.ID, reply.ID)
	}
	if err := s.Retry(reply.ID, "+CMS ERROR: 500", t0.Add(2*time.Second), t0); err != nil {
		t.Fatal(err)
	}
	second := mustClaim(t, s, t0.Add(time.Second))
	if second.ID == first.ID || second.ID == reply.ID {
		t.Fatalf("claimed %d while %d and %d wait for their retry", second.ID, first.ID, reply.ID)
	}
	if due, ok, err := s.NextDue(); err != nil || !ok || !due.Equal(t0.Add(2*time.Second)) {
		t.Errorf("next due %v, %v, %v; want the retries' time", due, ok, err)
	}
	if got := mustClaim(t, s, t0.Add(2*time.Second)); got.ID != reply.ID {
		t.Errorf("at the retry time claimed %d, want the reply %d", got.ID, reply.ID)
	}
	if got := mustClaim(t, s, t0.Add(2*time.Second)); got.ID != first.ID {
		t.Errorf("then claimed %d, want %d", got.ID, first.ID)
	}
}

func TestReleaseDoesNotCountTheAttempt(t *testing.T) {
	s := newTest(t)
	mustCreateAlert(t, s, []string{alice}, t0)
	m := mustClaim(t, s, t0)
	if err := s.Release(m.ID, "no network", t0); err != nil {
		t.Fatal(err)
	}
	got, err := s.Message(m.ID)
	if err != nil || got.State != StateQueued || got.Attempts != 0 || got.LastError != "no network" {
		t.Fatalf("released message %+v, %v; want queued, 0 attempts, the reason kept", got, err)
	}
	if again := mustClaim(t, s, t0); again.ID != m.ID || again.Attempts != 1 {
		t.Errorf("claim after release = %+v; want the same message at attempt 1", again)
	}
	if err := s.Release(m.ID+100, "x", t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("Release of an unknown message = %v, want ErrNotFound", err)
	}
}

// A retry due a moment from now is claimed ahead of its time only within
// the horizon given, and the claim is dated now, not at the due time.
func TestClaimDueByTakesARetryAhead(t *testing.T) {
	s := newTest(t)
	mustCreateAlert(t, s, []string{alice}, t0)
	m := mustClaim(t, s, t0)
	due := t0.Add(time.Second)
	if err := s.Retry(m.ID, "+CMS ERROR: 38", due, t0); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(100 * time.Millisecond)
	for _, by := range []time.Time{t0, now, due.Add(-time.Nanosecond)} {
		if got, ok, err := s.ClaimDueBy("m1", by, now, true); err != nil || ok {
			t.Fatalf("ClaimDueBy(by %v) = %+v, %v, %v; want nothing before its due time", by.Sub(t0), got, ok, err)
		}
	}
	got, ok, err := s.ClaimDueBy("m1", due, now, true)
	if err != nil || !ok || got.ID != m.ID || got.Attempts != 2 || got.State != StateSending {
		t.Fatalf("ClaimDueBy(by its due time) = %+v, %v, %v; want its second attempt", got, ok, err)
	}
	if !got.UpdatedAt.Equal(now) {
		t.Errorf("claim dated %v, want now (%v)", got.UpdatedAt.Sub(t0), now.Sub(t0))
	}
}
