package store

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// purgeAuditBefore purges what retention would with records dated before
// before, and checks how many audit records went.
func purgeAuditBefore(t *testing.T, s *Store, before time.Time, want int) {
	t.Helper()
	p, err := s.Purge(before)
	if err != nil || p.Audit != want {
		t.Fatalf("Purge(%v) = %+v, %v; want %d audit records", before, p, err, want)
	}
}

// Retention removes the oldest records and leaves an anchor: the chain
// verifies from the first record kept, records appended later chain on,
// and a log purged whole goes on from the anchor.
func TestPurgeAuditKeepsTheChainVerifiable(t *testing.T) {
	s := openPurgeTest(t)
	recs := appendAudits(t, s, 5)
	purgeAuditBefore(t, s, t0.Add(150*time.Second), 3) // records 1 to 3
	c, err := s.VerifyAudit()
	if err != nil || !c.OK() || c.Records != 2 || c.From != 4 || !c.PurgedThrough.Equal(recs[2].Time) {
		t.Fatalf("VerifyAudit after the purge = %+v, %v; want intact, records 4 and 5, purged through %v", c, err, recs[2].Time)
	}
	if got, err := s.Audit(time.Time{}); err != nil || len(got) != 2 || got[0].Seq != 4 {
		t.Fatalf("Audit after the purge = %+v, %v; want records 4 and 5", got, err)
	}
	// A second purge with the same date finds nothing more.
	purgeAuditBefore(t, s, t0.Add(150*time.Second), 0)
	appendAudits(t, s, 1)
	if c, err := s.VerifyAudit(); err != nil || !c.OK() || c.Records != 3 || c.From != 4 {
		t.Errorf("VerifyAudit after one more append = %+v, %v; want intact, 3 records from 4", c, err)
	}
	// Everything purged: the next record chains on the anchor.
	purgeAuditBefore(t, s, t0.Add(time.Hour), 3)
	if c, err := s.VerifyAudit(); err != nil || !c.OK() || c.Records != 0 || c.From != 7 {
		t.Errorf("VerifyAudit of a log purged whole = %+v, %v; want intact, from 7", c, err)
	}
	r, err := s.AppendAudit(AuditRecord{Time: t0.Add(2 * time.Hour), User: "gendarme", Action: "POST /v1/alerts", Label: "alerte"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Seq != 7 {
		t.Errorf("record after a whole purge: seq %d, want 7", r.Seq)
	}
	if c, err := s.VerifyAudit(); err != nil || !c.OK() || c.Records != 1 || c.From != 7 {
		t.Errorf("VerifyAudit after the whole purge and an append = %+v, %v; want intact, 1 record from 7", c, err)
	}
}

// After a purge, a record edited, removed or rewritten with its own hash
// is still found, and so is a purge that left no anchor.
func TestPurgeAuditStillDetectsTampering(t *testing.T) {
	rewrite := func(seq uint64) func(tx *bolt.Tx) error {
		return func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketAudit)
			r, _, err := decodeAudit(b.Get(u64(seq)))
			if err != nil {
				return err
			}
			r.User = "quelquun"
			body, _ := json.Marshal(r)
			return b.Put(u64(seq), fmtEntry(auditHash(body), body))
		}
	}
	for _, tc := range []struct {
		name   string
		tamper func(tx *bolt.Tx) error
		broken uint64
		reason string
	}{
		{"first kept edited", func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketAudit)
			return b.Put(u64(4), bytes.Replace(bytes.Clone(b.Get(u64(4))), []byte("gendarme"), []byte("gendarmf"), 1))
		}, 4, AuditEdited},
		{"first kept rewritten with a new hash", rewrite(4), 4, AuditEdited},
		{"second kept rewritten with a new hash", rewrite(5), 5, AuditEdited},
		{"first kept removed", func(tx *bolt.Tx) error { return tx.Bucket(bucketAudit).Delete(u64(4)) }, 4, AuditMissing},
		{"anchor removed", func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyAuditAnchor) }, 1, AuditMissing},
		{"anchor moved on", func(tx *bolt.Tx) error {
			return putJSON(tx.Bucket(bucketMeta), keyAuditAnchor, auditAnchor{Seq: 4, Hash: AuditGenesis, Time: t0})
		}, 4, AuditEdited}, // record 4 is there, below the anchor
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openPurgeTest(t)
			appendAudits(t, s, 6)
			purgeAuditBefore(t, s, t0.Add(150*time.Second), 3)
			if err := s.db.Update(tc.tamper); err != nil {
				t.Fatal(err)
			}
			c, err := s.VerifyAudit()
			if err != nil {
				t.Fatal(err)
			}
			if c.OK() || c.Broken != tc.broken || c.Reason != tc.reason {
				t.Errorf("VerifyAudit = %+v, want record %d %s", c, tc.broken, tc.reason)
			}
		})
	}
}

// Retention stops at a record that does not verify: the evidence stays
// for vigie audit verify to name, and what came before it goes.
func TestPurgeAuditKeepsATamperedRecord(t *testing.T) {
	s := openPurgeTest(t)
	appendAudits(t, s, 4)
	if err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		return b.Put(u64(2), bytes.Replace(bytes.Clone(b.Get(u64(2))), []byte("gendarme"), []byte("gendarmf"), 1))
	}); err != nil {
		t.Fatal(err)
	}
	purgeAuditBefore(t, s, t0.Add(time.Hour), 1)
	if c, err := s.VerifyAudit(); err != nil || c.Broken != 2 || c.Reason != AuditEdited || c.From != 2 {
		t.Errorf("VerifyAudit = %+v, %v; want record 2 edited, checked from 2", c, err)
	}
}

// A purge removes at most retentionBatch records a transaction and goes on
// until every old one is gone.
func TestPurgeAuditInBatches(t *testing.T) {
	s := openPurgeTest(t)
	if err := s.db.Update(func(tx *bolt.Tx) error {
		for i := range retentionBatch + 10 {
			if _, err := appendAudit(tx, AuditRecord{Time: t0.Add(time.Duration(i) * time.Second), User: "gendarme", Action: "POST /v1/alerts"}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	purgeAuditBefore(t, s, t0.Add(time.Hour), retentionBatch+10)
	if c, err := s.VerifyAudit(); err != nil || !c.OK() || c.From != retentionBatch+11 {
		t.Errorf("VerifyAudit = %+v, %v; want intact from %d", c, err, retentionBatch+11)
	}
}
