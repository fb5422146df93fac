package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestParseIO(t *testing.T) {
	good := "rchar: 6976\nwchar: 120\nsyscr: 10\nsyscw: 3\nread_bytes: 0\nwrite_bytes: 8192\ncancelled_write_bytes: 4096\n"
	c, err := parseIO(strings.NewReader(good))
	if err != nil || c != (ioCount{WriteBytes: 8192, CancelledWriteBytes: 4096, Wchar: 120, Syscw: 3}) {
		t.Errorf("parseIO = %+v, %v", c, err)
	}
	if d := c.sub(ioCount{WriteBytes: 4096, Wchar: 20}); d.WriteBytes != 4096 || d.Wchar != 100 || d.add(ioCount{WriteBytes: 4096, Wchar: 20}) != c {
		t.Errorf("sub/add: %+v", d)
	}
	for _, bad := range []string{"", "write_bytes: 1\n", "wchar: 1\nsyscw: 1\nwrite_bytes: -1\ncancelled_write_bytes: 0\n", "wchar: x\nsyscw: 1\nwrite_bytes: 1\ncancelled_write_bytes: 0\n"} {
		if c, err := parseIO(strings.NewReader(bad)); err == nil {
			t.Errorf("parseIO(%q) = %+v, want an error", bad, c)
		}
	}
	if runtime.GOOS != "linux" {
		return
	}
	if _, err := os.Stat("/proc/self/io"); err != nil {
		t.Skip("no per-process I/O accounting")
	}
	if c, err := selfIO(); err != nil || c.Wchar < 0 {
		t.Errorf("selfIO = %+v, %v", c, err)
	}
}

// The meta pages read raw say what bbolt itself says: one txid per
// commit, read while the database is open; a damaged meta page is
// refused and the other one used.
func TestReadBoltMeta(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m0, err := readBoltMeta(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("b"))
			if err != nil {
				return err
			}
			return b.Put([]byte{byte(i)}, make([]byte, 3000))
		}); err != nil {
			t.Fatal(err)
		}
	}
	m1, err := readBoltMeta(path)
	if err != nil {
		t.Fatal(err)
	}
	var want uint64
	if err := db.View(func(tx *bolt.Tx) error { want = uint64(tx.ID()); return nil }); err != nil {
		t.Fatal(err)
	}
	if m1.txid != want || m1.txid-m0.txid != 5 || int(m1.pageSize) != db.Info().PageSize || m1.pgid <= m0.pgid {
		t.Errorf("meta %+v then %+v; bbolt says txid %d, page size %d", m0, m1, want, db.Info().PageSize)
	}
	d := diskSnap{meta: m1, size: 2}.since(diskSnap{meta: m0, size: 1})
	if d.commits != 5 || d.fdatasyncs() != 11 {
		t.Errorf("delta %+v: %d fdatasyncs", d, d.fdatasyncs())
	}

	page := make([]byte, 128)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.ReadAt(page, int64(m1.pageSize)*int64(m1.txid%2)); err != nil {
		t.Fatal(err)
	}
	if m, err := parseBoltMeta(page); err != nil || m != m1 {
		t.Errorf("current meta page: %+v, %v; want %+v", m, err, m1)
	}
	for i, damage := range []func([]byte){
		func(p []byte) { p[boltMetaAt] ^= 1 },       // magic
		func(p []byte) { p[boltMetaAt+4] = 9 },      // version
		func(p []byte) { p[boltMetaAt+48] ^= 0x10 }, // txid, so the checksum
	} {
		p := append([]byte(nil), page...)
		damage(p)
		if m, err := parseBoltMeta(p); err == nil {
			t.Errorf("damage %d: parseBoltMeta = %+v, want an error", i, m)
		}
	}
	if m, err := parseBoltMeta(page[:40]); err == nil {
		t.Errorf("short page: %+v", m)
	}
	if m, err := readBoltMeta(filepath.Join(t.TempDir(), "none.db")); err == nil {
		t.Errorf("missing file: %+v", m)
	}
}

func TestBoltUsage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	put := func(bucket string, n int) {
		t.Helper()
		if err := db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte(bucket))
			if err != nil {
				return err
			}
			for i := range n {
				if err := b.Put([]byte{byte(i >> 8), byte(i)}, make([]byte, 100)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	put("small", 1)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := boltUsage(path)
	if err != nil {
		t.Fatal(err)
	}
	if db, err = bolt.Open(path, 0o600, nil); err != nil {
		t.Fatal(err)
	}
	put("big", 200)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	after, err := boltUsage(path)
	if err != nil {
		t.Fatal(err)
	}
	if after.keys["big"] != 200 || after.buckets["big"] < 200*100 || after.inuse <= before.inuse || after.pages <= before.pages {
		t.Errorf("before %+v, after %+v", before, after)
	}
	s := after.perItem(before, 200)
	if !strings.Contains(s, "in use in the B+trees per item (largest: big +1") || !strings.Contains(s, "(+1.00 keys)") || !strings.Contains(s, "small +0 B (+0.00 keys)") {
		t.Errorf("perItem: %s", s)
	}
	if s := after.perItem(before, 0); s != "no items" {
		t.Errorf("perItem over 0: %s", s)
	}
}

// A small fan-out through the real gateway, store and simulated modem
// counts the commits and bytes of its sending (SMS share commits: batches),
// and leaves no goroutine behind.
func TestDiskFanOutSmall(t *testing.T) {
	before := runtime.NumGoroutine()
	var logs strings.Builder
	b := &bench{log: slog.New(slog.DiscardHandler), progress: &logs}
	r, err := b.diskFanOut(context.Background(), 30, 10, func(i int) string {
		if i%3 == 0 {
			return zoneSolo
		}
		return zoneCity
	}, zoneSolo)
	if err != nil {
		t.Fatalf("diskFanOut: %v\n%s", err, logs.String())
	}
	tot := r.total()
	if r.n != 10 || r.delivered != 10 || r.wall <= 0 || r.accept.commits < 1 || r.sending.commits < 1 || tot.commits != r.accept.commits+r.sending.commits {
		t.Errorf("fan-out %+v", r)
	}
	if _, err := os.Stat("/proc/self/io"); err == nil && tot.io.WriteBytes <= 0 {
		t.Errorf("no bytes written: %+v", tot)
	}
	if s := perSMS(tot, r.n); !strings.Contains(s, " commits, ") || strings.Contains(s, "NaN") || strings.Contains(s, "Inf") {
		t.Errorf("perSMS: %s", s)
	}
	waitGoroutines(t, before)
}
