package store

import (
	"errors"
	"fmt"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// opRecord is the record an operator's change appends, with result.
func opRecord(action, result string) *AuditRecord {
	return &AuditRecord{Time: t0, User: "gendarme", UID: 1001, Action: action, Label: action, Result: result}
}

func auditLen(t *testing.T, s *Store) int {
	t.Helper()
	recs, err := s.Audit(t0.AddDate(-1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

// An operator's change and its audit record commit in one transaction:
// both or neither, whichever fails.
func TestOperatorChangeAndItsRecordCommitTogether(t *testing.T) {
	s := newTest(t)
	shop, other := "+33611111111", "+33622222222"

	// A change that commits: its record is there, built inside the
	// transaction from what the change did.
	a, rec, err := s.CreateAlertAudited(Alert{Text: "vol", Rendered: "vol", Parts: 1}, []string{shop, other, shop}, t0,
		func(a Alert, counts map[State]int) *AuditRecord {
			return opRecord("alert", fmt.Sprintf("id=%d recipients=%d counts.queued=%d", a.ID, a.Recipients, counts[StateQueued]))
		})
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("id=%d recipients=2 counts.queued=2", a.ID); rec.Seq != 1 || rec.Result != want || rec.Prev != AuditGenesis || rec.Hash == "" {
		t.Fatalf("alert's record = %+v; want #1 with %q", rec, want)
	}
	if got, err := s.Audit(t0); err != nil || len(got) != 1 || got[0].Hash != rec.Hash {
		t.Fatalf("audit log = %+v, %v; want the alert's record", got, err)
	}

	// A change that fails writes no record: its builder is not even asked.
	called := false
	build := func(string) *AuditRecord { called = true; return opRecord("x", "") }
	if _, _, _, err := s.RemoveSubscriberAudited("+33699999999", t0, func(Subscriber, int) *AuditRecord { return build("") }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("remove of an unknown number: %v, want ErrNotFound", err)
	}
	if _, rec, err := s.EraseSubscriberAudited(shop, t0, func(e Erasure) *AuditRecord {
		return opRecord("erase", fmt.Sprintf("cancelled=%d", e.Cancelled))
	}); err != nil || rec.Seq != 2 || rec.Result != "cancelled=1" {
		t.Fatalf("erase = %+v, %v; want record #2 with one message cancelled", rec, err)
	}
	if _, _, _, err := s.EnrolAudited(Enrolment{Phone: shop, Zones: []string{"macon"}}, t0,
		func(Subscriber, Outcome) *AuditRecord { return build("") }); !errors.Is(err, ErrSuppressed) {
		t.Fatalf("enrol of an erased number: %v, want ErrSuppressed", err)
	}
	if called || auditLen(t, s) != 2 {
		t.Fatalf("failed changes: builder called %v, %d records; want not called, 2", called, auditLen(t, s))
	}

	// The transaction fails after the record was appended (a dry run rolls
	// back): neither the change nor the record is left, and the chain goes
	// on from the last committed record.
	outs, rec, err := s.ImportAudited([]Enrolment{{Phone: "+33633333333", Zones: []string{"macon"}}}, true, t0,
		func(o []Outcome) *AuditRecord { return opRecord("import", fmt.Sprintf("rows=[%d]", len(o))) })
	if err != nil || len(outs) != 1 || outs[0] != OutcomeAdded || rec.Seq != 0 {
		t.Fatalf("dry run = %v, %+v, %v; want one row added and no record", outs, rec, err)
	}
	if _, found, _ := s.Subscriber("+33633333333"); found || auditLen(t, s) != 2 {
		t.Fatalf("after a dry run: subscriber found %v, %d records; want neither", found, auditLen(t, s))
	}
	if _, rec, err := s.MarkReadAudited(1, t0, nil); !errors.Is(err, ErrNotFound) || rec.Seq != 0 {
		t.Fatalf("mark read of a missing entry = %+v, %v", rec, err)
	}
	n, rec, err := s.CancelAlertAudited(a.ID, t0, func(n int) *AuditRecord { return opRecord("cancel", fmt.Sprintf("cancelled=%d", n)) })
	if err != nil || n != 1 || rec.Seq != 3 || rec.Result != "cancelled=1" {
		t.Fatalf("cancel = %d, %+v, %v; want one cancelled, record #3", n, rec, err)
	}
	if c, err := s.VerifyAudit(); err != nil || !c.OK() || c.Records != 3 {
		t.Fatalf("VerifyAudit = %+v, %v; want intact with 3 records", c, err)
	}

	// A record that cannot be appended undoes its change: the key of the
	// next record is taken by a bucket, where no record can be put.
	if err := s.db.Update(func(tx *bolt.Tx) error {
		_, err := tx.Bucket(bucketAudit).CreateBucket(u64(4))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := s.EnrolAudited(Enrolment{Phone: other, Zones: []string{"macon"}}, t0,
		func(Subscriber, Outcome) *AuditRecord { return opRecord("add", "") }); err == nil {
		t.Fatal("enrol succeeded although its record could not be appended")
	}
	if _, found, _ := s.Subscriber(other); found {
		t.Error("the enrolment was committed without its record")
	}
	// Without a record to write (not an operator's change), it goes on.
	if _, _, rec, err := s.EnrolAudited(Enrolment{Phone: other, Zones: []string{"macon"}}, t0, nil); err != nil || rec.Seq != 0 {
		t.Errorf("enrol with no record: %+v, %v", rec, err)
	}
}

// A damaged last record does not block the changes recorded after it (an
// alert must go out), and the check still names it.
func TestDamagedLastAuditRecordBlocksNoChange(t *testing.T) {
	s := newTest(t)
	appendAudits(t, s, 2)
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketAudit).Put(u64(2), []byte("garbage")) }); err != nil {
		t.Fatal(err)
	}
	a, rec, err := s.CreateAlertAudited(Alert{Text: "vol", Rendered: "vol", Parts: 1}, []string{"+33611111111"}, t0,
		func(Alert, map[State]int) *AuditRecord { return opRecord("alert", "") })
	if err != nil || a.ID == 0 || rec.Seq != 3 || rec.Prev != auditHash([]byte("garbage")) {
		t.Fatalf("alert after a damaged record = %+v, %+v, %v; want it queued, record #3 chained to the damaged bytes", a, rec, err)
	}
	if c, err := s.VerifyAudit(); err != nil || c.OK() || c.Broken != 2 || c.Reason != AuditUnreadable {
		t.Errorf("VerifyAudit = %+v, %v; want record 2 unreadable", c, err)
	}
}
