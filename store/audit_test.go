package store

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// appendAudits appends n records, one minute apart from t0.
func appendAudits(t *testing.T, s *Store, n int) []AuditRecord {
	t.Helper()
	var out []AuditRecord
	for i := range n {
		r, err := s.AppendAudit(AuditRecord{
			Time: t0.Add(time.Duration(i) * time.Minute), User: "gendarme", UID: 1001,
			Action: "POST /v1/alerts/{id}/cancel", Label: "annulation d'alerte", Target: "12",
			Request: `{}`, Result: `cancelled=3`,
		})
		if err != nil {
			t.Fatalf("AppendAudit #%d: %v", i+1, err)
		}
		out = append(out, r)
	}
	return out
}

func TestAppendAuditChains(t *testing.T) {
	s := newTest(t)
	if c, err := s.VerifyAudit(); err != nil || !c.OK() || c.Records != 0 {
		t.Fatalf("empty log: %+v, %v; want intact with 0 records", c, err)
	}
	recs := appendAudits(t, s, 3)
	prev := AuditGenesis
	for i, r := range recs {
		if r.Seq != uint64(i+1) || r.Prev != prev || len(r.Hash) != 64 || r.Hash == r.Prev {
			t.Errorf("record %d: seq %d prev %s hash %s; want seq %d chained to %s", i, r.Seq, r.Prev, r.Hash, i+1, prev)
		}
		prev = r.Hash
	}
	got, err := s.Audit(time.Time{})
	if err != nil || len(got) != 3 {
		t.Fatalf("Audit = %d records, %v", len(got), err)
	}
	for i := range got {
		if !got[i].Time.Equal(recs[i].Time) {
			t.Errorf("record %d time %v, want %v", i, got[i].Time, recs[i].Time)
		}
		got[i].Time = recs[i].Time // location differs after JSON
		if got[i] != recs[i] {
			t.Errorf("record %d read back as %+v, want %+v", i, got[i], recs[i])
		}
	}
	if got, err := s.Audit(t0.Add(time.Minute)); err != nil || len(got) != 2 || got[0].Seq != 2 {
		t.Errorf("Audit(since second) = %+v, %v; want records 2 and 3", got, err)
	}
	if c, err := s.VerifyAudit(); err != nil || !c.OK() || c.Records != 3 {
		t.Errorf("VerifyAudit = %+v, %v; want intact with 3 records", c, err)
	}
}

func TestVerifyAuditDetectsTampering(t *testing.T) {
	// Each case tampers with the raw bbolt bucket of a 4-record log.
	edit := func(seq uint64, f func(v []byte) []byte) func(*bolt.Bucket) error {
		return func(b *bolt.Bucket) error {
			v := bytes.Clone(b.Get(u64(seq)))
			return b.Put(u64(seq), f(v))
		}
	}
	// rewrite changes a record's body and recomputes its own hash: only the
	// next record's Prev tells.
	rewrite := func(seq uint64) func(*bolt.Bucket) error {
		return func(b *bolt.Bucket) error {
			r, _, err := decodeAudit(b.Get(u64(seq)))
			if err != nil {
				return err
			}
			r.User = "quelquun"
			body, _ := json.Marshal(r)
			return b.Put(u64(seq), fmtEntry(auditHash(body), body))
		}
	}
	del := func(seq uint64) func(*bolt.Bucket) error {
		return func(b *bolt.Bucket) error { return b.Delete(u64(seq)) }
	}
	for _, tc := range []struct {
		name   string
		tamper func(*bolt.Bucket) error
		broken uint64
		reason string
	}{
		{"user edited", edit(2, func(v []byte) []byte { return bytes.Replace(v, []byte("gendarme"), []byte("gendarmf"), 1) }), 2, AuditEdited},
		{"last record edited", edit(4, func(v []byte) []byte { return bytes.Replace(v, []byte("cancelled=3"), []byte("cancelled=0"), 1) }), 4, AuditEdited},
		{"hash edited", edit(3, func(v []byte) []byte {
			i := bytes.Index(v, []byte(`"hash":"`)) + len(`"hash":"`)
			v[i] = "01"[(v[i]-'0'+1)%2] // a hex digit that differs
			return v
		}), 3, AuditEdited},
		{"rewritten with a new hash", rewrite(2), 2, AuditEdited},
		{"first rewritten with a new hash", rewrite(1), 1, AuditEdited},
		{"garbage", edit(3, func([]byte) []byte { return []byte("{") }), 3, AuditUnreadable},
		{"middle removed", del(2), 2, AuditMissing},
		{"first removed", del(1), 1, AuditMissing},
		{"last removed", del(4), 4, AuditMissing},
		{"two removed", func(b *bolt.Bucket) error { _ = del(2)(b); return del(3)(b) }, 2, AuditMissing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTest(t)
			appendAudits(t, s, 4)
			if err := s.db.Update(func(tx *bolt.Tx) error { return tc.tamper(tx.Bucket(bucketAudit)) }); err != nil {
				t.Fatal(err)
			}
			c, err := s.VerifyAudit()
			if err != nil {
				t.Fatal(err)
			}
			if c.OK() || c.Broken != tc.broken || c.Reason != tc.reason {
				t.Errorf("VerifyAudit = %+v, want record %d %s", c, tc.broken, tc.reason)
			}
			// Appending after the damage does not hide it.
			appendAudits(t, s, 1)
			if c2, _ := s.VerifyAudit(); c2.Broken != tc.broken {
				t.Errorf("after one more append: %+v, want still record %d", c2, tc.broken)
			}
		})
	}
}

func fmtEntry(hash string, body []byte) []byte {
	return []byte(`{"hash":"` + hash + `","body":` + string(body) + `}`)
}
