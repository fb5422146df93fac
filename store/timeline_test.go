package store

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

func recipientsN(n int) []string {
	var rs []string
	for i := range n {
		rs = append(rs, fmt.Sprintf("+336%08d", 10000000+i))
	}
	return rs
}

func mustTimeline(t *testing.T, s *Store, id uint64) Timeline {
	t.Helper()
	tl, err := s.AlertTimeline(id)
	if err != nil {
		t.Fatalf("AlertTimeline(%d): %v", id, err)
	}
	return tl
}

// sendOne claims the next message and marks it sent at at.
func sendOne(t *testing.T, s *Store, at time.Time) Message {
	t.Helper()
	m := mustClaim(t, s, at)
	if err := s.MarkSent(m.ID, []int{int(m.ID % 256)}, at); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTimelineMilestones(t *testing.T) {
	s := newTest(t)
	a := mustCreateAlert(t, s, recipientsN(10), t0)
	minute := func(i int) time.Time { return t0.Add(time.Duration(i)*time.Minute + 10*time.Second) }
	var sent []Message
	for i := range 10 {
		sent = append(sent, sendOne(t, s, minute(i)))
		tl := mustTimeline(t, s, a.ID)
		if tl.Sent != i+1 {
			t.Fatalf("after %d sends: Sent = %d", i+1, tl.Sent)
		}
		if i < 9 && (!tl.LastSentAt.IsZero() || tl.Finished) {
			t.Fatalf("after %d of 10 sends: last sent %v, finished %v; want neither", i+1, tl.LastSentAt, tl.Finished)
		}
		if i < 4 && !tl.HalfSentAt.IsZero() {
			t.Fatalf("after %d of 10 sends: half sent at %v", i+1, tl.HalfSentAt)
		}
	}
	// Two delivery reports at minute 12, a failed one at minute 13.
	if err := s.MarkDelivered(sent[0].ID, t0.Add(12*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDelivered(sent[1].ID, t0.Add(12*time.Minute+30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkFailed(sent[2].ID, "rapport : échec", t0.Add(13*time.Minute)); err != nil {
		t.Fatal(err)
	}
	tl := mustTimeline(t, s, a.ID)
	want := map[string][2]time.Time{
		"accepted": {tl.AcceptedAt, t0},
		"first":    {tl.FirstSentAt, minute(0)},
		"50 %":     {tl.HalfSentAt, minute(4)},
		"90 %":     {tl.NinetySentAt, minute(8)},
		"last":     {tl.LastSentAt, minute(9)},
		"report 1": {tl.FirstReportAt, t0.Add(12 * time.Minute)},
		"report n": {tl.LastReportAt, t0.Add(13 * time.Minute)},
		"failed":   {tl.FirstFailedAt, t0.Add(13 * time.Minute)},
	}
	for name, w := range want {
		if !w[0].Equal(w[1]) {
			t.Errorf("%s at %v, want %v", name, w[0], w[1])
		}
	}
	if !tl.Finished || tl.Reports != 3 || tl.Uncertain != 0 || !tl.CancelledAt.IsZero() || !tl.FirstExpiredAt.IsZero() {
		t.Errorf("timeline %+v: want finished, 3 reports, nothing uncertain, cancelled or expired", tl)
	}
	if d, ok := tl.ToLast(); !ok || d != 9*time.Minute+10*time.Second {
		t.Errorf("ToLast = %v, %v", d, ok)
	}
	if len(tl.Minutes) != 12 {
		t.Fatalf("minutes %+v: want 0–9, 12 and 13", tl.Minutes)
	}
	if m := tl.Minutes[10]; m.Minute != 12 || m.Delivered != 2 || m.Sent != 0 {
		t.Errorf("minute 12: %+v", m)
	}
	if m := tl.Minutes[11]; m.Minute != 13 || m.Failed != 1 {
		t.Errorf("minute 13: %+v", m)
	}
	for _, m := range tl.Minutes[:10] {
		if m.Sent != 1 {
			t.Errorf("minute %d: %+v, want 1 sent", m.Minute, m)
		}
	}
}

// A cancel ends the alert: its last SMS out is the last one that left,
// and it never reached 50 %.
func TestTimelineCancelAndUncertain(t *testing.T) {
	s := newTest(t)
	a := mustCreateAlert(t, s, recipientsN(4), t0)
	sendOne(t, s, t0.Add(time.Minute))
	m := mustClaim(t, s, t0.Add(2*time.Minute))
	if _, err := s.CancelAlert(a.ID, t0.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	tl := mustTimeline(t, s, a.ID)
	if tl.Finished || !tl.LastSentAt.IsZero() || !tl.CancelledAt.Equal(t0.Add(3*time.Minute)) {
		t.Fatalf("one still sending: %+v; want cancelled at +3 min, not finished", tl)
	}
	if err := s.MarkSentUncertain(m.ID, "pas de réponse", t0.Add(4*time.Minute)); err != nil {
		t.Fatal(err)
	}
	tl = mustTimeline(t, s, a.ID)
	if !tl.Finished || !tl.LastSentAt.Equal(t0.Add(4*time.Minute)) || tl.Sent != 2 || tl.Uncertain != 1 {
		t.Errorf("timeline %+v: want finished, last sent at +4 min, 2 sent, 1 uncertain", tl)
	}
	if !tl.HalfSentAt.Equal(t0.Add(4*time.Minute)) || !tl.NinetySentAt.IsZero() {
		t.Errorf("2 of 4 sent: 50 %% at %v, 90 %% at %v", tl.HalfSentAt, tl.NinetySentAt)
	}
}

func TestTimelineExpiry(t *testing.T) {
	s := newTest(t)
	a := mustCreateAlert(t, s, recipientsN(3), t0)
	sendOne(t, s, t0.Add(time.Minute))
	if n, _, err := s.ExpireQueued(t0.Add(time.Second), t0.Add(time.Hour)); err != nil || n != 2 {
		t.Fatalf("ExpireQueued = %d, %v", n, err)
	}
	tl := mustTimeline(t, s, a.ID)
	if !tl.Finished || !tl.LastSentAt.Equal(t0.Add(time.Minute)) || !tl.FirstExpiredAt.Equal(t0.Add(time.Hour)) || !tl.LastExpiredAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("timeline %+v: want last sent at +1 min, expiries at +1 h", tl)
	}
}

// The timeline is history: the retention purge leaves it whole.
func TestTimelineSurvivesPurge(t *testing.T) {
	s := openPurgeTest(t)
	a := mustCreateAlert(t, s, recipientsN(3), t0)
	for i := range 3 {
		m := sendOne(t, s, t0.Add(time.Duration(i+1)*time.Minute))
		if err := s.MarkDelivered(m.ID, t0.Add(time.Duration(i+2)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	before := mustTimeline(t, s, a.ID)
	p, err := s.Purge(t0.Add(48 * time.Hour))
	if err != nil || p.Messages != 3 {
		t.Fatalf("Purge = %+v, %v; want the 3 messages gone", p, err)
	}
	if msgs, _ := s.AlertMessages(a.ID); len(msgs) != 0 {
		t.Fatalf("messages left: %d", len(msgs))
	}
	after := mustTimeline(t, s, a.ID)
	if !reflect.DeepEqual(before, after) {
		t.Errorf("timeline changed by the purge:\nbefore %+v\nafter  %+v", before, after)
	}
	if after.Sent != 3 || after.Reports != 3 || after.LastSentAt.IsZero() {
		t.Errorf("after purge: %+v", after)
	}
}

// Migration 5 derives the timeline of an alert of an earlier schema from
// its messages: the same as the one kept live.
func TestTimelineMigrationBackfills(t *testing.T) {
	s := newTest(t)
	a := mustCreateAlert(t, s, recipientsN(4), t0)
	for i := range 3 {
		m := sendOne(t, s, t0.Add(time.Duration(i+1)*time.Minute))
		if i == 0 {
			if err := s.MarkDelivered(m.ID, t0.Add(5*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.CancelAlert(a.ID, t0.Add(6*time.Minute)); err != nil {
		t.Fatal(err)
	}
	live := mustTimeline(t, s, a.ID)
	// Run over the live buckets: it starts them anew, each message counted once.
	if err := s.db.Update(migrateV5); err != nil {
		t.Fatal(err)
	}
	if got := mustTimeline(t, s, a.ID); !reflect.DeepEqual(got, live) {
		t.Errorf("backfilled timeline:\n got %+v\nwant %+v", got, live)
	}
	if !live.LastSentAt.Equal(t0.Add(3*time.Minute)) || !live.CancelledAt.Equal(t0.Add(6*time.Minute)) || !live.NinetySentAt.IsZero() {
		t.Errorf("live timeline %+v", live)
	}
}

// A delivery report for each part of a long SMS counts; the message is
// delivered, in its minute, with the last.
func TestTimelineReportsPerPart(t *testing.T) {
	s := newTest(t)
	a, err := s.CreateAlert(testAlert(2), []string{alice}, t0)
	if err != nil {
		t.Fatal(err)
	}
	m := mustClaim(t, s, t0.Add(time.Minute))
	if err := s.MarkSent(m.ID, []int{5, 6}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for i, ref := range []int{5, 6} {
		at := t0.Add(time.Duration(2+i) * time.Minute)
		if _, ok, err := s.ApplyReport(Report{Modem: "m1", Ref: ref, Recipient: alice, SCTS: t0.Add(time.Minute)}, at); err != nil || !ok {
			t.Fatalf("report on part %d: %v, %v", i, ok, err)
		}
		tl := mustTimeline(t, s, a.ID)
		if tl.Reports != i+1 || !tl.FirstReportAt.Equal(t0.Add(2*time.Minute)) || !tl.LastReportAt.Equal(at) {
			t.Errorf("after part %d: %+v", i, tl)
		}
	}
	tl := mustTimeline(t, s, a.ID)
	if want := []TimelineMinute{{Minute: 1, Sent: 1}, {Minute: 3, Delivered: 1}}; !reflect.DeepEqual(tl.Minutes, want) {
		t.Errorf("minutes %+v, want %+v", tl.Minutes, want)
	}
	// A duplicate report changes nothing.
	if _, _, err := s.ApplyReport(Report{Modem: "m1", Ref: 6, Recipient: alice, SCTS: t0.Add(time.Minute)}, t0.Add(9*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if again := mustTimeline(t, s, a.ID); !reflect.DeepEqual(again, tl) {
		t.Errorf("a duplicate report moved the timeline: %+v", again)
	}
}
