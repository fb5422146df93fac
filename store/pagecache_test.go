package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// writeBytes is this process's write_bytes (/proc/self/io): what it made
// the kernel write back to the disk. No store test runs in parallel, so
// the delta over a call is the store's.
func writeBytes(t *testing.T) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "write_bytes: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no write_bytes in /proc/self/io")
	return 0
}

// A database just rewritten in one large write (a restore, a copy) sits in
// the page cache in large folios: a commit changing a few pages would write
// back the folios around them, the whole file here. After Open, what the
// commits of an SMS write back is what bbolt writes (its pages and the
// meta page), whatever the kernel's folios.
func TestCommitsWriteBackTheirPagesOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigie.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var phones []string
	for i := range 3000 {
		phones = append(phones, fmt.Sprintf("+3361%07d", i))
	}
	mustCreateAlert(t, s, phones, t0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil { // one write: large folios, dirty
		t.Fatal(err)
	}
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 20
	before, stats := writeBytes(t), s.db.db.Stats().TxStats
	for i := range n {
		m := mustClaim(t, s, t0)
		if err := s.MarkSent(m.ID, []int{i}, t0); err != nil {
			t.Fatal(err)
		}
	}
	written := writeBytes(t) - before
	after := s.db.db.Stats().TxStats
	pages := after.GetWrite() - stats.GetWrite() // bbolt's writes, meta pages included; a run of pages is one
	if limit := 2 * pages * int64(os.Getpagesize()); written > limit {
		t.Errorf("%d commits wrote back %d KiB, bbolt wrote %d pages (at most %d KiB expected); file of %d KiB",
			2*n, written>>10, pages, limit>>10, len(data)>>10)
	}
}
