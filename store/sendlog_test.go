package store

import (
	"errors"
	"os"
	"reflect"
	"testing"
	"time"
)

// claimBatchTest claims n messages of a fresh alert to n numbers for m1:
// the first begun by the claim, the others claimed ahead.
func claimBatchTest(t *testing.T, s *Store, n int) []Message {
	t.Helper()
	var phones []string
	for i := range n {
		phones = append(phones, "+3361000000"+string(rune('0'+i)))
	}
	if _, err := s.CreateAlert(Alert{Rendered: "x", Parts: 1}, phones, t0); err != nil {
		t.Fatal(err)
	}
	r := claimTest(t0)
	r.Batch = n
	res, err := s.ClaimNext(r)
	if err != nil || !res.OK || len(res.More) != n-1 {
		t.Fatalf("batch claim: %+v, %v; want %d messages", res, err, n)
	}
	msgs := append([]Message{res.Msg}, res.More...)
	for i, m := range msgs {
		if m.State != StateSending || m.Ahead != (i > 0) {
			t.Fatalf("message %d of the batch: %s, ahead %v", i, m.State, m.Ahead)
		}
	}
	return msgs
}

// TestRecoverSendingReadsSendLog: after a kill, a message the send log
// holds as sent is recorded sent (not sent again), one begun is sent again
// marked uncertain with its attempt counted, one claimed ahead and never
// begun goes back unmarked; the log is removed once applied.
func TestRecoverSendingReadsSendLog(t *testing.T) {
	s := newTest(t)
	msgs := claimBatchTest(t, s, 4)
	l := openSendLogTest(t, s)
	at := t0.Add(time.Second)
	if err := l.Begun(msgs[1]); err != nil {
		t.Fatal(err)
	}
	if err := l.Sent(msgs[1], []int{5}, at); err != nil {
		t.Fatal(err)
	}
	if err := l.Begun(msgs[2]); err != nil {
		t.Fatal(err)
	}
	l.Close() // the process is killed: nothing more is written
	n, err := s.RecoverSending(t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("RecoverSending marked %d, want 2 (the one begun by its claim, the one begun in the log)", n)
	}
	want := []struct {
		state     State
		uncertain bool
		attempts  int
	}{
		{StateQueued, true, 1}, // begun by the claim: as before send logs
		{StateSent, false, 1},  // sent: recorded, not sent again
		{StateQueued, true, 1}, // begun: may be out
		{StateQueued, false, 0},
	}
	for i, w := range want {
		m, err := s.Message(msgs[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		if m.State != w.state || m.Uncertain != w.uncertain || m.Attempts != w.attempts || m.Ahead {
			t.Errorf("message %d: %s, uncertain %v, %d attempts, ahead %v; want %s, uncertain %v, %d attempts",
				i, m.State, m.Uncertain, m.Attempts, m.Ahead, w.state, w.uncertain, w.attempts)
		}
	}
	if m, _ := s.Message(msgs[1].ID); !reflect.DeepEqual(m.Refs, []int{5}) || !m.SentAt.Equal(at) {
		t.Errorf("message sent: refs %v at %v, want [5] at %v", m.Refs, m.SentAt, at)
	}
	if _, err := os.Stat(sendLogPath(s.db.path, "m1")); !os.IsNotExist(err) {
		t.Errorf("send log still there after recovery: %v", err)
	}
}

// TestRecoverSendingDistrustsAnotherBoot: a log written before a power cut
// (another boot) may have lost its last records: every message its sender
// held is sent again marked uncertain, the SMS it says sent included.
func TestRecoverSendingDistrustsAnotherBoot(t *testing.T) {
	s := newTest(t)
	msgs := claimBatchTest(t, s, 3)
	l := openSendLogTest(t, s)
	l.boot = "another-boot"
	l.mu.Lock()
	err := l.rewriteLocked(nil)
	l.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Begun(msgs[1]); err != nil {
		t.Fatal(err)
	}
	if err := l.Sent(msgs[1], []int{5}, t0); err != nil {
		t.Fatal(err)
	}
	l.Close()
	n, err := s.RecoverSending(t0.Add(time.Minute))
	if err != nil || n != 3 {
		t.Fatalf("RecoverSending = %d, %v; want all 3 marked", n, err)
	}
	for _, m := range msgs {
		got, _ := s.Message(m.ID)
		if got.State != StateQueued || !got.Uncertain {
			t.Errorf("message %d: %s, uncertain %v; want queued, uncertain", m.ID, got.State, got.Uncertain)
		}
	}
}

// TestCancelSparesBegunMessages: cancelling an alert takes back what is
// claimed ahead, but not a message whose send the log holds as begun: it
// may be out, and is recorded sent with the batch.
func TestCancelSparesBegunMessages(t *testing.T) {
	s := newTest(t)
	msgs := claimBatchTest(t, s, 3)
	l := openSendLogTest(t, s)
	defer l.Close()
	if err := l.Begun(msgs[1]); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.MaySend(msgs[1]); err != nil || !ok {
		t.Fatalf("MaySend before the cancellation = %v, %v", ok, err)
	}
	n, err := s.CancelAlert(msgs[0].AlertID, t0)
	if err != nil || n != 1 {
		t.Fatalf("CancelAlert = %d, %v; want the one claimed ahead, not begun", n, err)
	}
	if ok, _ := s.MaySend(msgs[2]); ok {
		t.Error("MaySend of a cancelled message = true")
	}
	res, err := s.Advance(Step{Sents: []Sent{{ID: msgs[1].ID, Refs: []int{9}, At: t0}, {ID: msgs[2].ID, Refs: []int{10}, At: t0}}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Unrecorded, []uint64{msgs[2].ID}) {
		t.Errorf("unrecorded %v, want the cancelled message %d", res.Unrecorded, msgs[2].ID)
	}
	if m, _ := s.Message(msgs[1].ID); m.State != StateSent || m.Attempts != 1 {
		t.Errorf("begun message: %s after %d attempts, want sent after 1", m.State, m.Attempts)
	}
	if err := l.Settled(func(id uint64) bool { return id == msgs[1].ID }); err != nil {
		t.Fatal(err)
	}
	if s.isBegun(msgs[1].ID) {
		t.Error("settled message still held as begun")
	}
}

// TestClaimBatchShare: a batch takes no more than its share of the queue,
// so that the other modems are not left idle at a fan-out's tail.
func TestClaimBatchShare(t *testing.T) {
	s := newTest(t)
	var phones []string
	for i := range 10 {
		phones = append(phones, "+3361000001"+string(rune('0'+i)))
	}
	if _, err := s.CreateAlert(Alert{Rendered: "x", Parts: 1}, phones, t0); err != nil {
		t.Fatal(err)
	}
	r := claimTest(t0)
	r.Batch, r.Share = 32, 2
	res, err := s.ClaimNext(r)
	if err != nil || !res.OK {
		t.Fatal(res, err)
	}
	if got := 1 + len(res.More); got != 6 {
		t.Errorf("claimed %d of 10 with 2 modems, want 6 (the first, then half of the 9 left, rounded up)", got)
	}
	r.DailyCap = 8 // 6 in flight: 2 more at most
	r.Pending = 6
	res, err = s.ClaimNext(r)
	if err != nil || !res.OK || len(res.More) != 1 {
		t.Errorf("claim under the cap: %d more, %v; want 1 more (2 in all)", len(res.More), err)
	}
}

// TestSendLogSlots: records read back as written; a slot of another
// generation, or damaged, ends the reading.
func TestSendLogSlots(t *testing.T) {
	recs := []sendRecord{
		{kind: recordBegun, id: 7, claim: 123},
		{kind: recordSent, id: 7, claim: 123, at: 456, refs: []int{1, 255}},
		{kind: recordBegun, id: 8, claim: 124},
	}
	data := encodeSendLogHeader(nil, 3, "boot")
	for _, r := range recs {
		data = encodeSendRecord(data, 3, r)
	}
	stale := encodeSendRecord(nil, 2, sendRecord{kind: recordBegun, id: 9, claim: 1})
	boot, got, ok := parseSendLog(append(data, stale...))
	if !ok || boot != "boot" {
		t.Fatalf("parse: boot %q, ok %v", boot, ok)
	}
	want := map[uint64]sendRecord{7: recs[1], 8: recs[2]}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("records %+v, want %+v", got, want)
	}
	data[sendLogSlot+20] ^= 1 // damage the first record
	if _, got, _ := parseSendLog(data); len(got) != 0 {
		t.Errorf("a damaged first slot still gave %+v", got)
	}
	if _, _, ok := parseSendLog(data[:10]); ok {
		t.Error("a truncated header parsed")
	}
}

// FuzzParseSendLog: whatever a send log file holds (a torn write, another
// program's file), reading it never panics, and what it gives back was
// written whole.
func FuzzParseSendLog(f *testing.F) {
	seed := encodeSendLogHeader(nil, 1, "b")
	seed = encodeSendRecord(seed, 1, sendRecord{kind: recordSent, id: 1, claim: 2, at: 3, refs: []int{4}})
	f.Add(seed)
	f.Add([]byte{})
	f.Add(seed[:sendLogSlot+10])
	f.Fuzz(func(t *testing.T, data []byte) {
		_, recs, ok := parseSendLog(data)
		if !ok && recs != nil {
			t.Fatal("records from an unreadable header")
		}
		for id, r := range recs {
			if id == 0 || r.id != id || len(r.refs) > sendLogMaxRefs || (r.kind != recordBegun && r.kind != recordSent) {
				t.Fatalf("record %+v under id %d", r, id)
			}
		}
	})
}

// TestMaySendIsAboutThisClaim: MaySend reads the stored message, not only
// its ID in the sending index: a message taken back and claimed again
// (another claim of the same ID), begun by a commit meanwhile, or whose
// number was erased (blanked, and off the clear suppression list) is not
// to be sent on the strength of the old claim.
func TestMaySendIsAboutThisClaim(t *testing.T) {
	s := newTest(t)
	msgs := claimBatchTest(t, s, 4)
	for i, m := range msgs[1:] {
		if ok, err := s.MaySend(m); err != nil || !ok {
			t.Fatalf("MaySend of message %d as claimed = %v, %v; want true", i+1, ok, err)
		}
	}

	// Taken back, then claimed ahead again, later: the ID is sending and
	// ahead again, but this is not the claim the sender holds.
	if err := s.ReleaseAhead(msgs[1].ID, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	r := claimTest(t0.Add(2 * time.Second))
	r.Ahead = true
	again, err := s.ClaimNext(r)
	if err != nil || !again.OK || again.Msg.ID != msgs[1].ID || !again.Msg.Ahead {
		t.Fatalf("claim again: %+v, %v; want message %d claimed ahead", again, err, msgs[1].ID)
	}
	if ok, err := s.MaySend(msgs[1]); err != nil || ok {
		t.Errorf("MaySend of a claim taken back (the ID claimed again since) = %v, %v; want false", ok, err)
	}
	if ok, err := s.MaySend(again.Msg); err != nil || !ok {
		t.Errorf("MaySend of the new claim = %v, %v; want true", ok, err)
	}

	// Begun by a commit: no longer claimed ahead.
	if _, err := s.Advance(Step{Go: msgs[2].ID, Now: t0.Add(3 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.MaySend(msgs[2]); err != nil || ok {
		t.Errorf("MaySend of a message begun by a commit = %v, %v; want false", ok, err)
	}

	// Erased: the stored number is blanked and the clear list no longer
	// has it (only its keyed hash).
	if _, err := s.EraseSubscriber(msgs[3].To, t0.Add(4*time.Second)); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.MaySend(msgs[3]); err != nil || ok {
		t.Errorf("MaySend of a message whose number was erased = %v, %v; want false", ok, err)
	}
}

// TestCancelExcludesBegun: a send begun while a cancellation has decided
// to take its message back, and not yet committed, is refused: otherwise
// MaySend, reading before the commit, lets out a message the commit then
// records cancelled. Once the cancellation has ended, Begun works again
// (and MaySend says no).
func TestCancelExcludesBegun(t *testing.T) {
	s := newTest(t)
	msgs := claimBatchTest(t, s, 3)
	l := openSendLogTest(t, s)
	defer l.Close()
	var beginErr error
	var maySend bool
	n, _, err := s.CancelAlertAudited(msgs[0].AlertID, t0, func(int) *AuditRecord {
		// Inside the cancellation's transaction, its decisions made.
		if beginErr = l.Begun(msgs[1]); beginErr == nil {
			var merr error
			if maySend, merr = s.MaySend(msgs[1]); merr != nil {
				t.Error(merr)
			}
		}
		return nil
	})
	if err != nil || n != 2 {
		t.Fatalf("CancelAlertAudited = %d, %v; want the 2 claimed ahead", n, err)
	}
	if beginErr == nil && maySend {
		t.Error("a message being cancelled was begun in the send log and said sendable: it goes out cancelled")
	}
	if beginErr != nil && !errors.Is(beginErr, ErrWithdrawn) {
		t.Errorf("Begun during the cancellation: %v, want ErrWithdrawn", beginErr)
	}
	if m, _ := s.Message(msgs[1].ID); m.State != StateCancelled {
		t.Errorf("message %d: %s, want cancelled", m.ID, m.State)
	}
	// The cancellation over, a late Begun is recorded, and MaySend says no.
	if err := l.Begun(msgs[2]); err != nil {
		t.Fatalf("Begun after the cancellation: %v", err)
	}
	if ok, err := s.MaySend(msgs[2]); err != nil || ok {
		t.Errorf("MaySend after the cancellation = %v, %v; want false", ok, err)
	}
}

// faultyFile is a send log's file whose next write fails, after writing
// its first partial bytes (0: none).
type faultyFile struct {
	sendLogFile
	fail    bool
	partial int
}

func (f *faultyFile) WriteAt(b []byte, off int64) (int, error) {
	if !f.fail {
		return f.sendLogFile.WriteAt(b, off)
	}
	f.fail = false
	n, err := f.sendLogFile.WriteAt(b[:min(f.partial, len(b))], off)
	if err != nil {
		return n, err
	}
	return n, errors.New("injected write failure")
}

// recoverOne runs RecoverSending and returns message id as it left it.
func recoverOne(t *testing.T, s *Store, id uint64) Message {
	t.Helper()
	if _, err := s.RecoverSending(t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	m, err := s.Message(id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSendLogTornRewrite: a rewrite that wrote its new header and not the
// records after it must not leave a log whose header is trusted: the
// message begun it dropped would be requeued as never begun, and sent
// again unmarked. The log is broken from then on: no more records.
func TestSendLogTornRewrite(t *testing.T) {
	s := newTest(t)
	msgs := claimBatchTest(t, s, 3)
	l := openSendLogTest(t, s)
	for _, m := range msgs[1:] {
		if err := l.Begun(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Sent(msgs[1], []int{3}, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Advance(Step{Sents: []Sent{{ID: msgs[1].ID, Refs: []int{3}, At: t0}}, Now: t0}); err != nil {
		t.Fatal(err)
	}
	f := &faultyFile{sendLogFile: l.f, fail: true, partial: sendLogSlot} // the header only
	l.f = f
	if err := l.Settled(func(id uint64) bool { return id == msgs[1].ID }); !errors.Is(err, ErrSendLogBroken) {
		t.Errorf("Settled with its rewrite torn: %v, want ErrSendLogBroken", err)
	}
	if err := l.Begun(msgs[2]); !errors.Is(err, ErrSendLogBroken) {
		t.Errorf("Begun on a broken log: %v, want ErrSendLogBroken", err)
	}
	l.Close() // killed
	if m := recoverOne(t, s, msgs[2].ID); m.State != StateQueued || !m.Uncertain {
		t.Errorf("message begun, its record lost to the torn rewrite: %s, uncertain %v; want queued, uncertain", m.State, m.Uncertain)
	}
}

// TestSendLogFailedRewriteKeepsGeneration: a rewrite whose write failed
// must not leave the log writing records of a generation its header does
// not have (a reader would never see them): Begun then fails, and the
// sender begins the message by a commit.
func TestSendLogFailedRewriteKeepsGeneration(t *testing.T) {
	s := newTest(t)
	msgs := claimBatchTest(t, s, 3)
	l := openSendLogTest(t, s)
	if err := l.Begun(msgs[1]); err != nil {
		t.Fatal(err)
	}
	l.f = &faultyFile{sendLogFile: l.f, fail: true}
	if err := l.Settled(func(uint64) bool { return false }); err == nil {
		t.Error("Settled with its write failed: no error")
	}
	if !l.Broken() {
		t.Error("log not broken after a failed rewrite")
	}
	if err := l.Begun(msgs[2]); err == nil {
		// A sender would send it now, on the strength of this record.
		l.Close()
		if m := recoverOne(t, s, msgs[2].ID); !m.Uncertain {
			t.Errorf("Begun accepted after a failed rewrite, and its record was lost: %s, uncertain %v", m.State, m.Uncertain)
		}
		return
	}
	l.Close()
	if m := recoverOne(t, s, msgs[1].ID); m.State != StateQueued || !m.Uncertain {
		t.Errorf("message begun before the failure: %s, uncertain %v; want queued, uncertain", m.State, m.Uncertain)
	}
}

// TestSettledAfterCloseUnmarks: a message settled after its log closed (or
// broke) is no longer held as begun: its alert's cancellation takes it.
func TestSettledAfterCloseUnmarks(t *testing.T) {
	for _, broken := range []bool{false, true} {
		s := newTest(t)
		msgs := claimBatchTest(t, s, 2)
		l, err := s.OpenSendLog("m1")
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Begun(msgs[1]); err != nil {
			t.Fatal(err)
		}
		if broken {
			l.f = &faultyFile{sendLogFile: l.f, fail: true}
			if err := l.Settled(func(uint64) bool { return false }); err == nil {
				t.Fatal("rewrite failure not reported")
			}
		} else {
			l.Close()
		}
		// Its send did not happen after all: released by a commit.
		if err := s.ReleaseAhead(msgs[1].ID, t0); err != nil {
			t.Fatal(err)
		}
		if err := l.Settled(func(id uint64) bool { return id == msgs[1].ID }); err != nil {
			t.Errorf("broken %v: Settled: %v", broken, err)
		}
		// Claimed ahead again, never begun: a cancellation takes it back.
		r := claimTest(t0.Add(time.Second))
		r.Ahead = true
		if res, err := s.ClaimNext(r); err != nil || res.Msg.ID != msgs[1].ID {
			t.Fatalf("claim again: %+v, %v", res, err)
		}
		if _, err := s.CancelAlert(msgs[1].AlertID, t0.Add(2*time.Second)); err != nil {
			t.Fatal(err)
		}
		if m, _ := s.Message(msgs[1].ID); m.State != StateCancelled {
			t.Errorf("broken %v: message claimed again after its settling: %s after the cancellation, want cancelled (still held as begun?)", broken, m.State)
		}
		l.Close()
	}
}

// openSendLogTest opens modem m1's send log of s.
func openSendLogTest(t *testing.T, s *Store) *SendLog {
	t.Helper()
	l, err := s.OpenSendLog("m1")
	if err != nil {
		t.Fatal(err)
	}
	return l
}
