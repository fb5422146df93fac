package store

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The audit log records who changed what through the local API (SPEC §9).
// It is append-only and hash-chained:
//
//	audit/                                    (NextSequence gives record numbers)
//	  <seq u64>                               → {"hash": hex SHA-256 of body, "body": AuditRecord JSON}
//
// A record's hash is the SHA-256 of its body exactly as stored (the
// canonical bytes: never re-encoded, so a newer build verifies old records),
// and each body holds the hash of the previous record (AuditGenesis for the
// first). An edited record no longer matches its own hash or the one its
// successor recorded; a removed one leaves a gap in the numbers, or below
// the bucket's sequence if it was the last.
//
// Retention (purgeAudit) removes the oldest records, from the first on, and
// writes in the same transaction the anchor meta/audit_anchor: the number,
// hash and date of the last record it removed. The chain is then verified
// from the anchor: the first record kept must vouch for the anchor's hash,
// and records missing with no anchor are still a removal.

// bucketAudit holds the audit records; see above.
var bucketAudit = []byte("audit")

// keyAuditAnchor in meta is the auditAnchor of the last purged record.
var keyAuditAnchor = []byte("audit_anchor")

// auditAnchor is the last record retention removed: the chain goes on
// from its hash.
type auditAnchor struct {
	Seq  uint64    `json:"seq"`
	Hash string    `json:"hash"`
	Time time.Time `json:"time"`
}

// readAuditAnchor returns the anchor, false if nothing was purged.
func readAuditAnchor(tx *bolt.Tx) (auditAnchor, bool, error) {
	var a auditAnchor
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return a, false, nil
	}
	ok, err := getJSON(meta, keyAuditAnchor, &a)
	if err != nil {
		return a, false, fmt.Errorf("audit anchor: %w", err)
	}
	return a, ok, nil
}

// auditChainFrom is where the chain goes on: the hash its next record
// vouches for and that record's number, after the anchor if retention
// left one (purged), from the genesis otherwise.
func auditChainFrom(anchor auditAnchor, purged bool) (prev string, want uint64) {
	if purged {
		return anchor.Hash, anchor.Seq + 1
	}
	return AuditGenesis, 1
}

// AuditGenesis is the previous hash of the first record of every audit log.
const AuditGenesis = "0000000000000000000000000000000000000000000000000000000000000000"

// AuditRecord is one change made through the API: who, when, what.
type AuditRecord struct {
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	// User is the Unix user behind the request (its name, or "uid:N"), UID its id.
	User string `json:"user"`
	UID  int    `json:"uid"`
	// Action is the API route ("POST /v1/alerts/{id}/cancel"), Label says it
	// in French for the operator, Target is the identifier in the path.
	Action string `json:"action"`
	Label  string `json:"label"`
	Target string `json:"target,omitempty"`
	// Request and Result summarise the request's body and the answer.
	Request string `json:"request,omitempty"`
	Result  string `json:"result,omitempty"`
	// Prev is the hash of the previous record (AuditGenesis for the first).
	Prev string `json:"prev"`
	// Hash is this record's own hash, set by the store; it is not part of
	// the hashed body.
	Hash string `json:"-"`
}

// auditEntry is the stored value of a record.
type auditEntry struct {
	Hash string          `json:"hash"`
	Body json.RawMessage `json:"body"`
}

// Reasons a record fails VerifyAudit.
const (
	// AuditEdited: the record's bytes no longer match its hash, or the hash
	// its successor recorded.
	AuditEdited = "edited"
	// AuditMissing: the record was removed.
	AuditMissing = "missing"
	// AuditUnreadable: the stored value is not a record.
	AuditUnreadable = "unreadable"
)

// AuditCheck is the outcome of VerifyAudit.
type AuditCheck struct {
	// Records is the number of records read.
	Records int
	// From is the number of the first record checked: 1, or the one after
	// the last that retention purged.
	From uint64
	// PurgedThrough is the date of the last record retention purged (zero:
	// none was).
	PurgedThrough time.Time
	// Broken is the number of the first record that fails (0: the log is
	// intact), Reason one of the Audit* reasons.
	Broken uint64
	Reason string
}

// OK says whether the whole chain verified.
func (c AuditCheck) OK() bool { return c.Broken == 0 }

// AppendAudit appends r to the audit log, numbering and chaining it in the
// same transaction, and returns it as stored (Seq, Prev and Hash set). The
// caller sets every other field, the time included.
func (s *Store) AppendAudit(r AuditRecord) (AuditRecord, error) {
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		r, err = appendAudit(tx, r)
		return err
	})
	if err != nil {
		return AuditRecord{}, fmt.Errorf("store: append audit record: %w", err)
	}
	return r, nil
}

// appendAudit is AppendAudit in the caller's transaction: a change and the
// record of it commit together, or neither does.
func appendAudit(tx *bolt.Tx, r AuditRecord) (AuditRecord, error) {
	b, err := tx.CreateBucketIfNotExists(bucketAudit)
	if err != nil {
		return AuditRecord{}, err
	}
	r.Prev = AuditGenesis
	k, v := b.Cursor().Last()
	if k == nil {
		// Retention may have purged every record: the chain goes on from
		// the last one. A damaged anchor must not block the change either
		// (see below): VerifyAudit reports it.
		if anchor, ok, err := readAuditAnchor(tx); err == nil && ok {
			r.Prev = anchor.Hash
		}
	} else {
		var last auditEntry
		if err := json.Unmarshal(v, &last); err == nil && len(last.Hash) == len(AuditGenesis) {
			r.Prev = last.Hash
		} else {
			// A damaged last record must not block every change recorded
			// with it (an alert, a STOP): the new one vouches for the
			// damaged bytes as they are, and VerifyAudit still names the
			// damaged record.
			r.Prev = auditHash(v)
		}
	}
	if r.Seq, err = b.NextSequence(); err != nil {
		return AuditRecord{}, err
	}
	body, err := json.Marshal(r)
	if err != nil {
		return AuditRecord{}, fmt.Errorf("encode audit record: %w", err)
	}
	r.Hash = auditHash(body)
	// Written by hand so that the stored body is exactly the hashed bytes.
	rec := fmt.Appendf(nil, `{"hash":%q,"body":%s}`, r.Hash, body)
	return r, b.Put(u64(r.Seq), rec)
}

// Audit returns the records dated since or later (all if since is zero),
// oldest first. An unreadable record is an error: VerifyAudit says which.
func (s *Store) Audit(since time.Time) ([]AuditRecord, error) {
	var out []AuditRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			r, _, err := decodeAudit(v)
			if err != nil {
				return fmt.Errorf("audit record %x: %w (vigie audit verify)", k, err)
			}
			if !r.Time.Before(since) {
				out = append(out, r)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: audit: %w", err)
	}
	return out, nil
}

// VerifyAudit walks the chain and reports the first record that was edited
// or removed. An error means the database could not be read, not that the
// log is broken.
func (s *Store) VerifyAudit() (AuditCheck, error) {
	var c AuditCheck
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		c, err = verifyAudit(tx)
		return err
	})
	if err != nil {
		return AuditCheck{}, fmt.Errorf("store: verify audit: %w", err)
	}
	return c, nil
}

// verifyAudit walks the chain from the anchor retention left, if any. An
// error is an unreadable anchor (meta/audit_anchor), which tells neither
// where the chain starts nor from which hash.
func verifyAudit(tx *bolt.Tx) (AuditCheck, error) {
	c := AuditCheck{From: 1}
	anchor, ok, err := readAuditAnchor(tx)
	if err != nil {
		return c, err
	}
	prev, want := auditChainFrom(anchor, ok)
	if ok {
		c.From, c.PurgedThrough = want, anchor.Time
	}
	b := tx.Bucket(bucketAudit)
	if b == nil {
		return c, nil
	}
	return walkAudit(b.Cursor(), c, prev, want), nil
}

// walkAudit checks the records from cur's first on, chained to prev and
// numbered from want.
func walkAudit(cur *bolt.Cursor, c AuditCheck, prev string, want uint64) AuditCheck {
	first := want
	b := cur.Bucket()
	broken := func(seq uint64, reason string) AuditCheck {
		c.Broken, c.Reason = seq, reason
		return c
	}
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		if len(k) != 8 {
			return broken(want, AuditUnreadable)
		}
		seq := binary.BigEndian.Uint64(k)
		if seq > want {
			return broken(want, AuditMissing)
		}
		if seq < want {
			// Below the anchor: retention removed it, or should have.
			return broken(seq, AuditEdited)
		}
		c.Records++
		r, body, err := decodeAudit(v)
		switch {
		case err != nil:
			return broken(seq, AuditUnreadable)
		case r.Hash != auditHash(body) || r.Seq != seq:
			return broken(seq, AuditEdited)
		case r.Prev != prev:
			// This record vouches for a previous one that is no longer
			// what it was (rewritten along with its own hash).
			if seq == first {
				// The first record after the anchor (or the genesis)
				// was rewritten, or the anchor was.
				return broken(seq, AuditEdited)
			}
			return broken(seq-1, AuditEdited)
		}
		prev, want = r.Hash, seq+1
	}
	if b.Sequence() >= want {
		return broken(want, AuditMissing)
	}
	return c
}

// decodeAudit reads a stored record and its body's bytes as stored; it
// checks nothing but their shape.
func decodeAudit(v []byte) (AuditRecord, []byte, error) {
	var e auditEntry
	if err := json.Unmarshal(v, &e); err != nil {
		return AuditRecord{}, nil, err
	}
	var r AuditRecord
	if err := json.Unmarshal(e.Body, &r); err != nil {
		return AuditRecord{}, nil, err
	}
	r.Hash = e.Hash
	return r, e.Body, nil
}

func auditHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// appendChange appends r, the record of an operator's change, in the
// change's own transaction tx, and returns it as stored; nil appends
// nothing and returns the zero record. The *Audited methods use it: a
// record written after the commit is lost to a crash or a disk fault in
// between, leaving a change that nobody made.
func appendChange(tx *bolt.Tx, r *AuditRecord) (AuditRecord, error) {
	if r == nil {
		return AuditRecord{}, nil
	}
	rec, err := appendAudit(tx, *r)
	if err != nil {
		return AuditRecord{}, fmt.Errorf("audit record: %w", err)
	}
	return rec, nil
}
