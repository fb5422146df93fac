package store

import (
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Every bucket the store creates has its fill in fillPercents, and an
// Update sees it on the handles fn gets: bbolt's default would leave half
// of every page of the append-only indexes empty.
func TestFillPercentsCoverEveryBucket(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "vigie.db"))
	if _, err := s.AddSubscriber(Subscription{Phone: alice, Zone: "macon", Source: "sms"}, t0); err != nil {
		t.Fatal(err)
	}
	// The first erasure creates suppressed_keyed.
	if _, err := s.EraseSubscriber(alice, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	fills := fillPercents()
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			want, ok := fills[string(name)]
			if !ok {
				t.Errorf("bucket %q has no fill in fillPercents", name)
				return nil
			}
			if got := tx.Bucket(name).FillPercent; got != want {
				t.Errorf("bucket %q: FillPercent %v in an Update, want %v", name, got, want)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"queue", "sent", "audit", "report_times", "alert_messages"} {
		if fills[name] != 1 {
			t.Errorf("append-only bucket %q: fill %v, want 1", name, fills[name])
		}
	}
}
