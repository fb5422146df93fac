package store

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// send queues a reply to to, has modem claim it and marks it sent at at
// with refs.
func send(t *testing.T, s *Store, modem, to string, refs []int, at time.Time) Message {
	t.Helper()
	m, err := s.EnqueueReply(KindReply, to, "x", max(len(refs), 1), false, at)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok, err := s.Claim(modem, at); err != nil || !ok || c.ID != m.ID {
		t.Fatalf("Claim = %+v, %v, %v; want message %d", c, ok, err, m.ID)
	}
	if err := s.MarkSent(m.ID, refs, at); err != nil {
		t.Fatal(err)
	}
	if m, err = s.Message(m.ID); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestApplyReport(t *testing.T) {
	day := 24 * time.Hour
	type sending struct {
		modem, to string
		refs      []int
		at        time.Duration // after t0
	}
	type step struct {
		r       Report
		matched bool
		msg     int // index in sends of the message reported on
		state   State
		status  []int
	}
	report := func(ref int, to string, st byte, scts time.Duration) Report {
		return Report{Modem: "m1", Ref: ref, Recipient: to, Status: st, SCTS: t0.Add(scts), Discharge: t0.Add(scts + time.Minute)}
	}
	for _, tc := range []struct {
		name  string
		sends []sending
		steps []step
	}{
		{"delivered, E.164 recipient", []sending{{"m1", alice, []int{7}, 0}}, []step{
			{report(7, alice, 0x00, time.Second), true, 0, StateDelivered, []int{0}},
		}},
		{"national recipient", []sending{{"m1", alice, []int{7}, 0}}, []step{
			{report(7, "0611111111", 0x22, time.Second), true, 0, StateSent, []int{-1}},
			{report(7, "0033611111111", 0x30, time.Second), true, 0, StateSent, []int{-1}},
			{report(7, "33611111111", 0x3F, time.Second), true, 0, StateSent, []int{-1}},
			{report(7, "0622222222", 0x00, time.Second), false, 0, StateSent, []int{-1}},
			{report(7, "611111111", 0x01, time.Second), true, 0, StateDelivered, []int{1}},
		}},
		{"refs wrap: the closest in time wins, within the window", []sending{
			{"m1", alice, []int{7}, 0},
			{"m1", alice, []int{7}, 30 * time.Hour},
		}, []step{
			{report(7, alice, 0x00, 30*time.Hour+5*time.Second), true, 1, StateDelivered, []int{0}},
			{report(7, alice, 0x00, -49*time.Hour), false, 0, StateSent, []int{-1}},
			{report(7, alice, 0x00, time.Minute), true, 0, StateDelivered, []int{0}},
		}},
		{"a part already final is never chosen", []sending{
			{"m1", alice, []int{9}, 0},
			{"m1", alice, []int{9}, time.Minute},
		}, []step{
			{report(9, alice, 0x00, 0), true, 0, StateDelivered, []int{0}},
			{report(9, alice, 0x00, 0), true, 1, StateDelivered, []int{0}},
			{report(9, alice, 0x00, 0), true, 0, StateDelivered, []int{0}}, // absorbed
		}},
		{"multi-part: delivered when all parts are", []sending{{"m1", bob, []int{1, 2, 3}, 0}}, []step{
			{report(2, bob, 0x00, time.Second), true, 0, StateSent, []int{-1, 0, -1}},
			{report(1, bob, 0x20, time.Second), true, 0, StateSent, []int{-1, 0, -1}},
			{report(1, bob, 0x02, time.Second), true, 0, StateSent, []int{2, 0, -1}},
			{report(3, bob, 0x00, time.Second), true, 0, StateDelivered, []int{2, 0, 0}},
		}},
		{"one failed part fails the message, later reports absorbed", []sending{{"m1", bob, []int{4, 5}, 0}}, []step{
			{report(5, bob, 0x46, time.Second), true, 0, StateFailed, []int{-1, 0x46}},
			{report(4, bob, 0x00, time.Second), true, 0, StateFailed, []int{-1, 0x46}},
			{report(5, bob, 0x00, time.Second), true, 0, StateFailed, []int{-1, 0x46}},
		}},
		{"unknown ref, modem or time", []sending{{"m1", alice, []int{7}, 0}}, []step{
			{report(8, alice, 0x00, 0), false, 0, StateSent, []int{-1}},
			{Report{Modem: "m2", Ref: 7, Recipient: alice, SCTS: t0}, false, 0, StateSent, []int{-1}},
			{report(7, alice, 0x00, ReportWindow+time.Second), false, 0, StateSent, []int{-1}},
			{report(-1, alice, 0x00, 0), false, 0, StateSent, []int{-1}},
			{report(7, "", 0x00, 0), false, 0, StateSent, []int{-1}},
		}},
		{"same ref on two modems", []sending{
			{"m1", alice, []int{7}, 0},
			{"m2", alice, []int{7}, 0},
		}, []step{
			{Report{Modem: "m2", Ref: 7, Recipient: alice, SCTS: t0}, true, 1, StateDelivered, []int{0}},
			{report(7, alice, 0x00, 0), true, 0, StateDelivered, []int{0}},
		}},
		{"a message with refs beyond a byte", []sending{{"m1", carol, []int{300, 70000}, 0}}, []step{
			{report(300, carol, 0x00, 0), true, 0, StateSent, []int{0, -1}},
			{report(70000, carol, 0x00, 0), false, 0, StateSent, []int{0, -1}},
		}},
		{"days apart: the later send purged the entry older than the window", []sending{
			{"m1", alice, []int{200}, 0},
			{"m1", alice, []int{200}, 3 * day},
		}, []step{
			{report(200, alice, 0x41, 3*day+time.Second), true, 1, StateFailed, []int{0x41}},
			{report(200, alice, 0x00, 0), false, 0, StateSent, []int{-1}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTest(t)
			var ids []uint64
			for _, snd := range tc.sends {
				ids = append(ids, send(t, s, snd.modem, snd.to, snd.refs, t0.Add(snd.at)).ID)
			}
			now := t0.Add(4 * day)
			for i, st := range tc.steps {
				got, matched, err := s.ApplyReport(st.r, now)
				if err != nil || matched != st.matched {
					t.Fatalf("step %d: ApplyReport(%+v) = %v, %v; want matched %v", i, st.r, matched, err, st.matched)
				}
				if matched && got.ID != ids[st.msg] {
					t.Errorf("step %d: matched message %d, want %d", i, got.ID, ids[st.msg])
				}
				m, _ := s.Message(ids[st.msg])
				if m.State != st.state || !slices.Equal(m.PartStatus, st.status) {
					t.Errorf("step %d: message %d is %s %v, want %s %v", i, m.ID, m.State, m.PartStatus, st.state, st.status)
				}
				if matched && (got.State != m.State || !slices.Equal(got.PartStatus, m.PartStatus)) {
					t.Errorf("step %d: returned %+v, stored %+v", i, got, m)
				}
				switch m.State {
				case StateDelivered:
					want := st.r.Discharge
					if want.IsZero() {
						want = now
					}
					if !m.DeliveredAt.Equal(want) {
						t.Errorf("step %d: DeliveredAt %v, want %v", i, m.DeliveredAt, want)
					}
				case StateFailed:
					if !strings.HasPrefix(m.LastError, "rapport de remise : échec (TP-ST 0x") {
						t.Errorf("step %d: LastError %q", i, m.LastError)
					}
				}
			}
		})
	}
}

func TestApplyReportFailureReason(t *testing.T) {
	s := newTest(t)
	m := send(t, s, "m1", alice, []int{12}, t0)
	if _, _, err := s.ApplyReport(Report{Modem: "m1", Ref: 12, Recipient: alice, Status: 0x62, SCTS: t0}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	m, _ = s.Message(m.ID)
	if want := "rapport de remise : échec (TP-ST 0x62)"; m.State != StateFailed || m.LastError != want {
		t.Errorf("message %s %q, want failed %q", m.State, m.LastError, want)
	}
	if c, _ := s.QueueCounts(); c[StateFailed] != 1 || c[StateSent] != 0 {
		t.Errorf("counts %v", c)
	}
}

// TestApplyReportNeverSent: a message that never reached sent (expired,
// cancelled, failed at once) has no report entry, so a report naming its
// recipient and a reference is unmatched; one sent then failed by the
// operator absorbs its report.
func TestApplyReportNeverSent(t *testing.T) {
	s := newTest(t)
	a := mustCreateAlert(t, s, []string{alice, bob}, t0)
	if _, err := s.CancelAlert(a.ID, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnqueueReply(KindReply, carol, "x", 1, false, t0); err != nil {
		t.Fatal(err)
	}
	if n, _, err := s.ExpireQueued(t0.Add(time.Second), t0.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("ExpireQueued = %d, %v", n, err)
	}
	for _, to := range []string{alice, bob, carol} {
		for ref := range 3 {
			if _, matched, err := s.ApplyReport(Report{Modem: "m1", Ref: ref, Recipient: to, SCTS: t0}, t0.Add(time.Hour)); err != nil || matched {
				t.Errorf("report for %s ref %d: matched %v, %v", to, ref, matched, err)
			}
		}
	}
	m := send(t, s, "m1", alice, []int{0}, t0)
	if err := s.MarkFailed(m.ID, "rejet opérateur", t0); err != nil {
		t.Fatal(err)
	}
	got, matched, err := s.ApplyReport(Report{Modem: "m1", Ref: 0, Recipient: alice, SCTS: t0}, t0.Add(time.Hour))
	if err != nil || !matched || got.ID != m.ID {
		t.Fatalf("report for a failed message: %+v, %v, %v; want absorbed", got, matched, err)
	}
	if m, _ = s.Message(m.ID); m.State != StateFailed || m.LastError != "rejet opérateur" || !m.UpdatedAt.Equal(t0) {
		t.Errorf("absorbed report changed the message: %+v", m)
	}
}

func TestSameNumber(t *testing.T) {
	for _, tc := range []struct {
		e164, reported string
		want           bool
	}{
		{"+33612345678", "+33612345678", true},
		{"+33612345678", "33612345678", true},
		{"+33612345678", "0033612345678", true},
		{"+33612345678", "0612345678", true},
		{"+33612345678", "612345678", true},
		{"+33612345678", "06 12 34 56 78", true},
		{"+33612345678", "+33 6 12 34 56 78", true},
		{"+33612345678", "+33612345679", false},
		{"+33612345678", "+612345678", false},
		{"+33612345678", "0612345679", false},
		{"+33612345678", "12345678", true}, // "336" could be a country code: modem, ref and time decide
		{"+33612345678", "2345678", false}, // a 4-digit country code does not exist
		{"+33612345678", "2345678", false},
		{"+33612345678", "", false},
		{"+15551234567", "5551234567", true},
		{"+15551234567", "15551234567", true},
		{"+393471234567", "3471234567", true},
		{"+3361234", "061234", false}, // too short to be told apart
	} {
		if got := sameNumber(tc.e164, tc.reported); got != tc.want {
			t.Errorf("sameNumber(%q, %q) = %v, want %v", tc.e164, tc.reported, got, tc.want)
		}
	}
}

// FuzzSameNumber checks the recipient comparison of delivery reports on
// arbitrary text: it never panics, a number matches itself and its national
// form, and a match always shares its report index prefix, so the index
// lookup finds every message sameNumber accepts.
func FuzzSameNumber(f *testing.F) {
	for _, seed := range [][2]string{
		{"+33612345678", "0612345678"},
		{"+33612345678", "0033612345678"},
		{"+33612345678", "33612345678"},
		{"+15551234567", "5551234567"},
		{"+33612345678", "+33 6 12"},
		{"+", "00"},
		{"+33612345678", "\x00+٣٣6"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, e164, reported string) {
		match := sameNumber(e164, reported)
		if match {
			a, okA := reportPrefix("m1", 7, e164)
			b, okB := reportPrefix("m1", 7, reported)
			if !okA || !okB || !bytes.Equal(a, b) {
				t.Errorf("sameNumber(%q, %q) but prefixes %x, %x", e164, reported, a, b)
			}
		}
		d := digitsOf(e164)
		if len(d) < tailDigits || len(d) > 15 || d[0] == '0' {
			return
		}
		intl := "+" + d
		if !sameNumber(intl, intl) || !sameNumber(intl, d) || !sameNumber(intl, "00"+d) {
			t.Errorf("%q does not match itself", intl)
		}
		for cc := 1; cc <= 3; cc++ {
			if nsn := d[cc:]; len(nsn) >= tailDigits && nsn[0] != '0' && !sameNumber(intl, "0"+nsn) {
				t.Errorf("%q does not match its national form 0%s", intl, nsn)
			}
		}
	})
}

// TestApplyReportsOneCommit: the reports of one pass are recorded in one
// transaction, each with its own result, as one ApplyReport after the
// other would have: both parts of a two-part message (the second sees the
// first), a failure, a pending status, one that matches nothing, and the
// same report read twice (after a modem loss) absorbed.
func TestApplyReportsOneCommit(t *testing.T) {
	batch := func(at time.Duration) []Report {
		r := func(ref int, to string, st byte) Report {
			return Report{Modem: "m1", Ref: ref, Recipient: to, Status: st, SCTS: t0.Add(at), Discharge: t0.Add(at + time.Minute)}
		}
		return []Report{r(3, alice, 0x00), r(4, alice, 0x00), r(5, bob, 0x41), r(6, carol, 0x21), r(9, carol, 0x00), r(5, bob, 0x41)}
	}
	sendAll := func(s *Store) []Message {
		return []Message{
			send(t, s, "m1", alice, []int{3, 4}, t0),
			send(t, s, "m1", bob, []int{5}, t0),
			send(t, s, "m1", carol, []int{6}, t0),
		}
	}
	one, many := newTest(t), newTest(t)
	oneMsgs, manyMsgs := sendAll(one), sendAll(many)
	var want []ReportResult
	for _, r := range batch(time.Second) {
		msg, matched, err := one.ApplyReport(r, t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, ReportResult{Msg: msg, Matched: matched})
	}
	before := lastTxID(t, many)
	got, err := many.ApplyReports(batch(time.Second), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if commits := lastTxID(t, many) - before; commits != 1 {
		t.Errorf("%d reports recorded in %d commits, want 1", len(got), commits)
	}
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d", len(got), len(want))
	}
	wantMatched := []bool{true, true, true, true, false, true}
	for i := range want {
		if got[i].Matched != want[i].Matched || got[i].Matched != wantMatched[i] ||
			got[i].Msg.ID != want[i].Msg.ID || got[i].Msg.State != want[i].Msg.State ||
			!slices.Equal(got[i].Msg.PartStatus, want[i].Msg.PartStatus) {
			t.Errorf("report %d: batch %v %d %s %v, one by one %v %d %s %v", i,
				got[i].Matched, got[i].Msg.ID, got[i].Msg.State, got[i].Msg.PartStatus,
				want[i].Matched, want[i].Msg.ID, want[i].Msg.State, want[i].Msg.PartStatus)
		}
	}
	if got[1].Msg.State != StateDelivered || got[0].Msg.State != StateSent || got[2].Msg.State != StateFailed {
		t.Errorf("states %s, %s, %s; want sent after one part, delivered after both, failed", got[0].Msg.State, got[1].Msg.State, got[2].Msg.State)
	}
	for i := range oneMsgs {
		a, _ := one.Message(oneMsgs[i].ID)
		b, _ := many.Message(manyMsgs[i].ID)
		if a.State != b.State || !slices.Equal(a.PartStatus, b.PartStatus) || !a.DeliveredAt.Equal(b.DeliveredAt) || a.LastError != b.LastError {
			t.Errorf("message %d: batch %s %v, one by one %s %v", i, b.State, b.PartStatus, a.State, a.PartStatus)
		}
	}
	if res, err := many.ApplyReports(nil, t0); err != nil || len(res) != 0 {
		t.Errorf("no reports: %v, %v", res, err)
	}
}

// lastTxID is the id of the last committed write transaction: each commit
// adds one.
func lastTxID(t *testing.T, s *Store) int {
	t.Helper()
	id := 0
	if err := s.db.View(func(tx *bolt.Tx) error { id = tx.ID(); return nil }); err != nil {
		t.Fatal(err)
	}
	return id
}
