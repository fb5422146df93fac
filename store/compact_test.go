package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// purgedHistory fills s with a year-old alert to n recipients, cancelled
// (so final) and purged: the file keeps the pages its messages took.
func purgedHistory(t *testing.T, s *Store, n int) Alert {
	t.Helper()
	recipients := make([]string, n)
	for i := range recipients {
		recipients[i] = fmt.Sprintf("+3361%07d", i)
	}
	a := mustCreateAlert(t, s, recipients, t0)
	if _, err := s.CancelAlert(a.ID, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	p, err := s.Purge(t0.Add(24 * time.Hour))
	if err != nil || p.Messages != n {
		t.Fatalf("Purge: %+v, %v; want %d messages", p, err, n)
	}
	return a
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Size()
}

// A purge frees pages that bbolt keeps in the file; CompactIfSparse gives
// them back once they are half of it, and the alert's record and counts
// survive the rewrite.
func TestCompactIfSparseShrinksAPurgedFile(t *testing.T) {
	s := openPurgeTest(t)
	path := s.db.path
	a := purgedHistory(t, s, 20000)
	grown := fileSize(t, path)
	before, after, err := s.CompactIfSparse()
	if err != nil {
		t.Fatal(err)
	}
	if before.File != grown || !sparse(before) {
		t.Fatalf("footprint before %+v, file %d B: want the file's size, sparse", before, grown)
	}
	if after.File >= before.File/2 || after.File != fileSize(t, path) {
		t.Errorf("after compaction %+v (file %d B), want under half of %d B", after, fileSize(t, path), before.File)
	}
	if sparse(after) {
		t.Errorf("still sparse after compaction: %+v", after)
	}
	got, err := s.Alert(a.ID)
	if err != nil || got.Recipients != a.Recipients {
		t.Fatalf("alert after compaction: %+v, %v", got, err)
	}
	counts, err := s.AlertCounts(a.ID)
	if err != nil || counts[StateCancelled] != 20000 {
		t.Errorf("alert counts after compaction: %v, %v; want 20000 cancelled", counts, err)
	}
	// Still the daemon's: a second opener is refused while s is open.
	if s2, err := Open(path); err == nil {
		s2.Close()
		t.Fatal("second Open after the compaction succeeded: the lock was lost")
	}
	// A second call finds nothing to give back.
	if b2, a2, err := s.CompactIfSparse(); err != nil || b2 != a2 {
		t.Errorf("second CompactIfSparse: %+v → %+v, %v; want nothing done", b2, a2, err)
	}
}

// A file that is mostly data is left alone: compaction rewrites the whole
// file, which an SD card pays for.
func TestCompactIfSparseLeavesADenseFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigie.db")
	s := openTest(t, path)
	recipients := make([]string, 20000)
	for i := range recipients {
		recipients[i] = fmt.Sprintf("+3361%07d", i)
	}
	mustCreateAlert(t, s, recipients, t0)
	before, after, err := s.CompactIfSparse()
	if err != nil || before != after || sparse(before) {
		t.Fatalf("dense file: %+v → %+v, %v; want nothing done", before, after, err)
	}
}

// The daemon stopped with a sparse file (killed before the purge's
// compaction): Open compacts it at start-up.
func TestOpenCompactsASparseFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigie.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	a := purgedHistory(t, s, 20000)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	grown := fileSize(t, path)
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("bbolt check: %v", err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := fileSize(t, path); got >= grown/2 {
		t.Errorf("file after Open %d B, want under half of %d B", got, grown)
	}
	if _, err := s.Alert(a.ID); err != nil {
		t.Errorf("alert after the start-up compaction: %v", err)
	}
}

// The tail bbolt grows a file by (allocStep past its data, the power of
// two above it when smaller) is no gain: compacting it would only see it
// grown again.
func TestSparseCountsOnlyWhatStaysReclaimed(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		f    Footprint
		want bool
	}{
		{Footprint{File: 4 * mib, Used: 3 * mib}, false},     // 3.5 MiB compacted: an eighth back
		{Footprint{File: 4 * mib, Used: 2 * mib}, false},     // 2.5 MiB compacted: the step is kept
		{Footprint{File: 4 * mib, Used: 1 * mib}, true},      // 1.5 MiB compacted: 2.5 MiB back
		{Footprint{File: 2 * mib, Used: 1200 << 10}, false},  // 1.7 MiB compacted
		{Footprint{File: 200 * mib, Used: 150 * mib}, false}, // a quarter free
		{Footprint{File: 200 * mib, Used: 60 * mib}, true},   // 60 MiB and a step after
		{Footprint{File: 64 << 10, Used: 4 << 10}, false},    // below compactFreeMin
	} {
		if got := sparse(c.f); got != c.want {
			t.Errorf("sparse(%+v) = %t (reclaimable %d B), want %t", c.f, got, c.f.Reclaimable(), c.want)
		}
	}
}

// Past allocStep the file grows by a step beyond its pages, not to the
// power of two above them: bbolt's default step (16 MiB) made a file of
// 2.3 MiB of pages 4 MiB long.
func TestFileGrowsByAStep(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigie.db")
	s, err := open(path, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	hwm := func() int64 {
		var n int64
		if err := s.db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := 0; hwm() < 2<<20+256<<10; i++ {
		recipients := make([]string, 1000)
		for j := range recipients {
			recipients[j] = fmt.Sprintf("+336%02d%06d", i, j)
		}
		mustCreateAlert(t, s, recipients, t0)
	}
	if size, pages := fileSize(t, path), hwm(); size > pages+allocStep {
		t.Errorf("file %d B for %d B of pages, want at most %d B past them", size, pages, allocStep)
	}
}

// mappedRss is the resident size of the process's mappings of path, from
// /proc/self/smaps.
func mappedRss(t *testing.T, path string) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	var total int64
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case !strings.HasSuffix(f[0], ":"):
			in = len(f) >= 6 && f[5] == path
		case in && f[0] == "Rss:":
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			total += kb << 10
		}
	}
	return total
}

// Open's walks read every page through bbolt's mapping; Open then takes
// them out of the process's resident memory (they stay cached).
func TestOpenLeavesThePagesUnmapped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigie.db")
	s, err := open(path, true)
	if err != nil {
		t.Fatal(err)
	}
	recipients := make([]string, 8000)
	for j := range recipients {
		recipients[j] = fmt.Sprintf("+3361%07d", j)
	}
	mustCreateAlert(t, s, recipients, t0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = open(path, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	size := fileSize(t, path)
	if rss := mappedRss(t, path); rss > size/8 {
		t.Errorf("%d B of the %d B file resident after Open, want at most an eighth", rss, size)
	}
}
