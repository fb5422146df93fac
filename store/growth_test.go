package store

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// growthMonth is what a simulated month leaves once retention purged and
// the file was compacted if sparse.
type growthMonth struct {
	file, used  int64
	bucketPages int
}

// bucketPages counts the pages of every top-level bucket (branch, leaf
// and overflow; an inline bucket takes none).
func bucketPages(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(_ []byte, b *bolt.Bucket) error {
			st := b.Stats()
			n += st.BranchPageN + st.BranchOverflowN + st.LeafPageN + st.LeafOverflowN
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// simulateMonth runs a month of the soak's traffic at a small scale: alert
// fan-outs claimed, sent and reported one message per transaction as the
// daemon does, automatic replies, and the audit records of the operators'
// changes.
func simulateMonth(t *testing.T, s *Store, start time.Time, recipients []string) {
	t.Helper()
	ref := 0
	for day := range 10 {
		now := start.Add(time.Duration(day*3) * 24 * time.Hour)
		a, err := s.CreateAlert(testAlert(1), recipients, now)
		if err != nil {
			t.Fatal(err)
		}
		for range 20 {
			if _, err := s.AppendAudit(AuditRecord{
				Time: now, User: "gendarme", UID: 1000, Action: "POST /v1/subscribers", Label: "Abonnement ajouté",
				Target: recipients[ref%len(recipients)], Request: strings.Repeat("zones=macon,tournus ", 10), Result: "201",
			}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.EnqueueReply(KindReply, recipients[day], "Merci, votre message est transmis.", 1, false, now); err != nil {
			t.Fatal(err)
		}
		for {
			now = now.Add(time.Second)
			m, ok, err := s.Claim("m1", now)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			ref = (ref + 1) % 256
			if err := s.MarkSent(m.ID, []int{ref}, now); err != nil {
				t.Fatal(err)
			}
			if _, matched, err := s.ApplyReport(Report{Modem: "m1", Ref: ref, Recipient: m.To, SCTS: now, Discharge: now}, now); err != nil || !matched {
				t.Fatalf("ApplyReport: matched %t, %v", matched, err)
			}
		}
		if got, err := s.AlertCounts(a.ID); err != nil || got[StateDelivered] != len(recipients) {
			t.Fatalf("alert %d counts %v, %v; want %d delivered", a.ID, got, err, len(recipients))
		}
	}
}

// simulateYear runs months of simulated traffic with a retention of three
// months, purged and compacted at each month's end as the daemon's
// retention loop does, and returns what each month left.
func simulateYear(t *testing.T, months int) (_ []growthMonth, compacted int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vigie.db")
	s, err := open(path, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	recipients := make([]string, 60)
	for i := range recipients {
		recipients[i] = fmt.Sprintf("+3361%07d", i)
	}
	var out []growthMonth
	start := t0
	for range months {
		simulateMonth(t, s, start, recipients)
		start = start.AddDate(0, 1, 0)
		if _, err := s.Purge(start.AddDate(0, -3, 0)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CompactIfSparse(); err != nil {
			t.Fatal(err)
		}
		f, err := s.Footprint()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, growthMonth{file: f.File, used: f.Used, bucketPages: bucketPages(t, s)})
	}
	if err := s.db.compact(); err != nil {
		t.Fatal(err)
	}
	return out, bucketPages(t, s)
}

// Once the retention period has passed, each month purges about what it
// adds: the pages in use stop growing (issue 15: the soak's file grew
// month after month, the audit log never purged and pages split half
// empty).
func TestBadYearFileStaysFlat(t *testing.T) {
	months, compacted := simulateYear(t, 10)
	for i, m := range months {
		t.Logf("month %2d: file %7d B, used %7d B, %4d bucket pages", i+1, m.file, m.used, m.bucketPages)
	}
	last := months[len(months)-1]
	t.Logf("compacted: %d bucket pages", compacted)
	// bbolt's compaction fills every page whole: the live file's pages,
	// split as fillPercents says, come within 30 % of it (bbolt's
	// default half-full split would leave about half of them empty).
	if last.bucketPages > compacted*130/100 {
		t.Errorf("%d bucket pages in the live file, %d compacted: want at most 30 %% more", last.bucketPages, compacted)
	}
	// Month 4 is the first whose purge removes a whole month: from then on
	// a month adds what alerts keep for good (their records, counts and
	// timelines), a small share of what a month of history takes.
	month := months[1].bucketPages - months[0].bucketPages
	settled := months[3]
	if grown := last.bucketPages - settled.bucketPages; grown*10 > month*(len(months)-4) {
		t.Errorf("bucket pages %d at month 4, %d at month %d: %d more, want under a tenth of a month's history (%d pages) a month",
			settled.bucketPages, last.bucketPages, len(months), grown, month)
	}
	if grown := last.used - settled.used; grown*10 > (months[1].used-months[0].used)*int64(len(months)-4) {
		t.Errorf("used %d B at month 4, %d B at month %d: want under a tenth of a month's history a month", settled.used, last.used, len(months))
	}
}
