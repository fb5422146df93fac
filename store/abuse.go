package store

import (
	"crypto/subtle"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Anti-abuse (SPEC §3): sender numbers can be forged, so what an SMS can
// make the box do is counted per number, and decided inside the
// transaction that acts on it: two workers handling SMS of the same number
// at once are serialised by bbolt's single writer, and the second sees what
// the first did.

// Outcomes of a code check (CodeResult.Outcome), recorded as the inbound
// SMS's outcome.
const (
	// CodeConfirmed: the code matched; the request is active.
	CodeConfirmed = "subscribed"
	// CodeWrong: a wrong code; CodeResult.Left more wrong codes void the request.
	CodeWrong = "confirm-wrong-code"
	// CodeVoided: this wrong code was the last one allowed: the request is void.
	CodeVoided = "confirm-voided"
	// CodeDead: the request was voided earlier; no code activates it.
	CodeDead = "confirm-dead"
	// CodeNothing: no confirm request pending (none, expired, or approval).
	CodeNothing = "confirm-nothing-pending"
)

// CodeCheck is OUI <Code> from Phone (policy confirm), checked and acted on
// in ApplyInbound's transaction.
type CodeCheck struct {
	Phone, Code string
	// TTL: a request older than this is no longer pending.
	TTL time.Duration
	// MaxWrong wrong codes void the request (at least 1).
	MaxWrong int
	// Reply builds the answer for the result; nil: none.
	Reply func(CodeResult) *Reply
}

// CodeResult is what a code check found and did.
type CodeResult struct {
	Outcome string  // one of the Code* outcomes
	Left    int     // CodeWrong: wrong codes left before the request is void
	Pending Pending // the request checked (zero for CodeNothing)
}

// checkCode compares c.Code with the pending request of c.Phone and, in the
// caller's transaction, activates the request, or counts the wrong code and
// voids the request at the MaxWrong-th.
func checkCode(tx *bolt.Tx, h hashes, c CodeCheck, now time.Time) (CodeResult, error) {
	b := tx.Bucket(bucketSubscribers)
	var cur Subscriber
	found, err := getJSON(b, []byte(c.Phone), &cur)
	if err != nil {
		return CodeResult{}, err
	}
	p := cur.Pending
	if !found || p == nil || p.Policy != PolicyConfirm || now.Sub(p.At) > c.TTL {
		return CodeResult{Outcome: CodeNothing}, nil
	}
	if !p.VoidedAt.IsZero() {
		return CodeResult{Outcome: CodeDead, Pending: *p}, nil
	}
	// Constant time: the comparison must not tell a forger how many digits
	// were right.
	if subtle.ConstantTimeCompare([]byte(c.Code), []byte(p.Code)) == 1 {
		if _, err := confirm(tx, h, c.Phone, now); err != nil {
			return CodeResult{}, err
		}
		return CodeResult{Outcome: CodeConfirmed, Pending: *p}, nil
	}
	p.WrongCodes++
	res := CodeResult{Outcome: CodeWrong, Left: max(c.MaxWrong, 1) - p.WrongCodes}
	if res.Left <= 0 {
		res.Outcome, res.Left = CodeVoided, 0
		p.VoidedAt = now
	}
	res.Pending = *p
	cur.UpdatedAt = now
	return res, putJSON(b, []byte(c.Phone), cur)
}

// Refusals of a code request (Applied.Outcome).
const (
	// RequestLimited: the number had MaxPerDay code requests this local day.
	RequestLimited = "subscribe-limited"
	// RequestVoidedToday: the number's request was voided by wrong codes
	// this local day: no new code before tomorrow.
	RequestVoidedToday = "subscribe-voided-today"
)

// allowRequest says why a new request of r must be refused ("" if it may
// go on) and counts it when it may: a code request (r.MaxPerDay > 0) is
// bounded per number per local day, and none is accepted on the day its
// previous request was voided by wrong codes, else a forger would get a
// fresh set of guesses with every INSCRIPTION.
func allowRequest(tx *bolt.Tx, r Request, now time.Time) (string, error) {
	if r.MaxPerDay <= 0 {
		return "", nil
	}
	var cur Subscriber
	if _, err := getJSON(tx.Bucket(bucketSubscribers), []byte(r.Phone), &cur); err != nil {
		return "", err
	}
	if p := cur.Pending; p != nil && !p.VoidedAt.IsZero() && dayKey(p.VoidedAt.In(now.Location())) == dayKey(now) {
		return RequestVoidedToday, nil
	}
	counts := tx.Bucket(bucketCodeRequests)
	key := append([]byte(dayKey(now)), r.Phone...)
	if getCount(counts, key) >= uint64(r.MaxPerDay) {
		return RequestLimited, nil
	}
	if err := purgeDays(counts, now, purgeBatch); err != nil {
		return "", err
	}
	return "", addCounter(counts, key, 1)
}

// CodeRequestsToday returns how many code requests of phone were accepted
// on the local day of now.
func (s *Store) CodeRequestsToday(phone string, now time.Time) (int, error) {
	var n uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		n = getCount(tx.Bucket(bucketCodeRequests), append([]byte(dayKey(now)), phone...))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: code requests today of %s: %w", phone, err)
	}
	return int(n), nil
}

// StopRepliesPerDay bounds the STOP confirmations one number gets per local
// day, counted apart from replies_per_day so that the honest conversation
// (codes, a typo, AIDE, a new INSCRIPTION) always has room for its STOP:
// one for a STOP, one more if the shop subscribes again and stops again the
// same day.
const StopRepliesPerDay = 2

// stopKey is the replies/ key of phone's STOP confirmations on now's day:
// a phone starts with "+", so it never collides with a plain reply count.
func stopKey(phone string, now time.Time) []byte {
	return append([]byte(dayKey(now)+"stop"), phone...)
}

// stoppedToday reports whether phone sent STOP earlier on the local day of
// now: a STOP flood is answered once.
func stoppedToday(tx *bolt.Tx, phone string, now time.Time) (bool, error) {
	var sup suppression
	found, err := getJSON(tx.Bucket(bucketSuppressed), []byte(phone), &sup)
	if err != nil || !found {
		return false, err
	}
	return dayKey(sup.At.In(now.Location())) == dayKey(now), nil
}
