package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// sampleDB writes a database of n subscribers and returns its bytes.
func sampleDB(t testing.TB, n int) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sample.db")
	s, err := open(path, true)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := s.AddSubscriber(Subscription{Phone: fmt.Sprintf("+3361%07d", i), Zone: "macon", Source: SourceOperator}, t0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOpenRefusesEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigie.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if !errors.Is(err, ErrCorrupt) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open(empty file) = %v, want ErrCorrupt", err)
	}
	// Refused, not replaced by a fresh database.
	if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
		t.Errorf("empty file after Open: %v, %v; want it left empty", fi.Size(), err)
	}
}

func TestOpenCreatesMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigie.db")
	s := openTest(t, path)
	if s.ModeFixed() != 0 {
		t.Errorf("ModeFixed on a new file = %v, want 0", s.ModeFixed())
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("new database: %v, %v; want mode 0600", fi.Mode(), err)
	}
}

// A database truncated anywhere is either refused (ErrCorrupt) or, cut
// only in its unused tail, opened whole — never a panic, never a new empty
// database.
func TestOpenTruncatedAtEveryOffset(t *testing.T) {
	const subscribers = 300
	full := sampleDB(t, subscribers)
	dir := t.TempDir()
	refused, opened := 0, 0
	step := len(full)/250 | 1 // odd: cuts inside pages and at many page offsets
	offsets := []int{1, 15, 16, 100, 4095, 4096, 4097, 8191, 8192, 8193, 16384}
	for off := 0; off < len(full); off += step {
		offsets = append(offsets, off)
	}
	for _, off := range offsets {
		if off >= len(full) {
			continue
		}
		path := filepath.Join(dir, fmt.Sprintf("cut-%d.db", off))
		if err := os.WriteFile(path, full[:off], 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := open(path, true)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("cut at %d of %d bytes: %v, want ErrCorrupt", off, len(full), err)
			}
			refused++
			continue
		}
		opened++
		subs, err := s.Subscribers()
		if err != nil || len(subs) != subscribers {
			t.Errorf("cut at %d of %d bytes: opened with %d subscribers (%v), want %d", off, len(full), len(subs), err, subscribers)
		}
		if err := s.Check(); err != nil {
			t.Errorf("cut at %d of %d bytes: opened, but Check: %v", off, len(full), err)
		}
		s.Close()
	}
	if refused == 0 {
		t.Errorf("no truncation refused over %d offsets", len(offsets))
	}
	t.Logf("%d truncations refused, %d (in the unused tail) opened whole", refused, opened)
}

func TestOpenRestrictsAFileReadableByOthers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigie.db")
	if err := os.WriteFile(path, sampleDB(t, 1), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil { // restored by hand with cp
		t.Fatal(err)
	}
	s := openTest(t, path)
	if got := s.ModeFixed(); got != 0o644 {
		t.Errorf("ModeFixed = %04o, want 0644", got)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode after Open = %v (%v), want 0600", fi.Mode(), err)
	}
}

func TestOpenRefusesADirectory(t *testing.T) {
	if _, err := Open(t.TempDir()); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Open(a directory) = %v, want ErrCorrupt", err)
	}
}

// FuzzCheckImage feeds database images, whole, cut and garbled, to the
// check and then to Open: the check never panics, refuses with ErrCorrupt,
// and what it accepts bbolt opens without crashing the process.
func FuzzCheckImage(f *testing.F) {
	full := sampleDB(f, 50)
	f.Add(full)
	f.Add([]byte{})
	f.Add(full[:4096])
	f.Add(full[:8192])
	f.Add(full[:len(full)/2])
	flipped := bytes.Clone(full)
	flipped[4096+20] ^= 0xFF // meta page 1's page size
	f.Add(flipped)
	f.Add(bytes.Repeat([]byte{0xED}, 9000))
	dir := f.TempDir()
	runs := 0
	f.Fuzz(func(t *testing.T, image []byte) {
		runs++
		err := checkImage(bytes.NewReader(image), int64(len(image)))
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("checkImage: %v, want ErrCorrupt", err)
			}
			return
		}
		// A new file each time: bbolt may have panicked (recovered) with
		// the last one still open and locked.
		path := filepath.Join(dir, fmt.Sprintf("fuzz-%d.db", runs))
		defer os.Remove(path)
		if err := os.WriteFile(path, image, 0o600); err != nil {
			t.Fatal(err)
		}
		if s, err := open(path, true); err == nil {
			s.Close()
		}
	})
}
