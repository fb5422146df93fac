package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// What a figure writes to disk, read from outside the store (which exposes
// no counters): the kernel's per-process I/O accounting, and the bbolt
// file's own meta pages, whose transaction id counts the commits.

// ioCount is what /proc/<pid>/io says, in bytes or calls.
type ioCount struct {
	WriteBytes, CancelledWriteBytes int64 // write_bytes, cancelled_write_bytes: page-cache pages the process dirtied (or truncated dirty)
	Wchar, Syscw                    int64 // wchar, syscw: bytes passed to write syscalls and their number, ttys included
}

func (c ioCount) add(o ioCount) ioCount {
	return ioCount{c.WriteBytes + o.WriteBytes, c.CancelledWriteBytes + o.CancelledWriteBytes, c.Wchar + o.Wchar, c.Syscw + o.Syscw}
}

func (c ioCount) sub(o ioCount) ioCount {
	return ioCount{c.WriteBytes - o.WriteBytes, c.CancelledWriteBytes - o.CancelledWriteBytes, c.Wchar - o.Wchar, c.Syscw - o.Syscw}
}

// parseIO reads a /proc/<pid>/io file.
func parseIO(r io.Reader) (ioCount, error) {
	var c ioCount
	fields := map[string]*int64{"write_bytes": &c.WriteBytes, "cancelled_write_bytes": &c.CancelledWriteBytes, "wchar": &c.Wchar, "syscw": &c.Syscw}
	err := readProcFields(r, fields, func(value string) (int64, bool) {
		v, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
		return v, err == nil && v >= 0
	})
	if err != nil {
		return ioCount{}, fmt.Errorf("io: %w", err)
	}
	if len(fields) > 0 {
		var missing []string
		for name := range fields {
			missing = append(missing, name)
		}
		slices.Sort(missing)
		return ioCount{}, fmt.Errorf("io: no %s line", strings.Join(missing, ", "))
	}
	return c, nil
}

// readProcFields reads the "name: value" lines of a /proc file into
// fields, each value through parse, and deletes from fields the names it
// found: what is left was missing.
func readProcFields(r io.Reader, fields map[string]*int64, parse func(value string) (int64, bool)) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		dst := fields[name]
		if !ok || dst == nil {
			continue
		}
		v, ok := parse(value)
		if !ok {
			return fmt.Errorf("%s: unexpected value %q", name, value)
		}
		*dst = v
		delete(fields, name)
	}
	return sc.Err()
}

// selfIO is this process's I/O so far (every thread, those ended included).
func selfIO() (ioCount, error) {
	f, err := os.Open("/proc/self/io")
	if err != nil {
		return ioCount{}, fmt.Errorf("per-process I/O accounting: %w", err)
	}
	defer f.Close()
	return parseIO(f)
}

// boltMeta is what a bbolt (v1.5, format 2) meta page says.
type boltMeta struct {
	pageSize uint32
	pgid     uint64 // high-water mark: pages in use or free, the rest of the file is slack
	txid     uint64 // the last committed write transaction; +1 per commit
}

// The meta page's layout in go.etcd.io/bbolt v1.5.0 (internal/common):
// a 16-byte page header (id, flags, count, overflow), then magic,
// version, pageSize, flags (uint32), root bucket (root, sequence: uint64),
// freelist, pgid, txid, checksum (uint64), in the machine's byte order;
// the checksum is FNV-64a of the meta up to itself.
const (
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	boltMetaAt     = 16
	boltChecksumAt = boltMetaAt + 56
)

// parseBoltMeta reads a meta page (at least its first 80 bytes).
func parseBoltMeta(p []byte) (boltMeta, error) {
	if len(p) < boltChecksumAt+8 {
		return boltMeta{}, errors.New("bbolt meta: short page")
	}
	le := binary.NativeEndian
	m := p[boltMetaAt:]
	if le.Uint32(m[0:]) != boltMagic {
		return boltMeta{}, errors.New("bbolt meta: bad magic")
	}
	if v := le.Uint32(m[4:]); v != boltVersion {
		return boltMeta{}, fmt.Errorf("bbolt meta: version %d", v)
	}
	h := fnv.New64a()
	h.Write(p[boltMetaAt:boltChecksumAt])
	if h.Sum64() != le.Uint64(p[boltChecksumAt:]) {
		return boltMeta{}, errors.New("bbolt meta: bad checksum")
	}
	return boltMeta{pageSize: le.Uint32(m[8:]), pgid: le.Uint64(m[40:]), txid: le.Uint64(m[48:])}, nil
}

// readBoltMeta reads the current meta of the bbolt file at path, as bbolt
// does: of its two meta pages, the valid one with the higher txid. It reads
// with an ordinary file descriptor, so a process may hold the file open
// and locked meanwhile (the page cache is the same).
func readBoltMeta(path string) (boltMeta, error) {
	f, err := os.Open(path)
	if err != nil {
		return boltMeta{}, err
	}
	defer f.Close()
	buf := make([]byte, 128)
	if _, err := f.ReadAt(buf, 0); err != nil {
		return boltMeta{}, fmt.Errorf("bbolt meta 0: %w", err)
	}
	m0, err0 := parseBoltMeta(buf)
	pageSize := int64(m0.pageSize)
	if err0 != nil {
		pageSize = int64(os.Getpagesize())
	}
	if _, err := f.ReadAt(buf, pageSize); err != nil {
		return boltMeta{}, fmt.Errorf("bbolt meta 1: %w", err)
	}
	m1, err1 := parseBoltMeta(buf)
	switch {
	case err0 != nil && err1 != nil:
		return boltMeta{}, fmt.Errorf("%s: %w", path, errors.Join(err0, err1))
	case err1 != nil || (err0 == nil && m0.txid > m1.txid):
		return m0, nil
	default:
		return m1, nil
	}
}

// diskSnap is the disk side of a figure at one moment.
type diskSnap struct {
	io   ioCount
	meta boltMeta
	size int64 // the database file's size
}

func snapDisk(dbPath string) (diskSnap, error) {
	c, err := selfIO()
	if err != nil {
		return diskSnap{}, err
	}
	m, err := readBoltMeta(dbPath)
	if err != nil {
		return diskSnap{}, err
	}
	fi, err := os.Stat(dbPath)
	if err != nil {
		return diskSnap{}, err
	}
	return diskSnap{io: c, meta: m, size: fi.Size()}, nil
}

// diskDelta is what was written between two snapshots.
type diskDelta struct {
	io               ioCount
	commits          uint64 // bbolt write transactions committed
	sizeFrom, sizeTo int64
}

func (s diskSnap) since(o diskSnap) diskDelta {
	return diskDelta{io: s.io.sub(o.io), commits: s.meta.txid - o.meta.txid, sizeFrom: o.size, sizeTo: s.size}
}

// fdatasyncs is how many fdatasync calls bbolt v1.5.0 made for the delta:
// two per commit (tx.write after the dirty pages, writeMeta after the meta
// page), and one per growth of the file (db.grow truncates and syncs it),
// counted as one when the file grew at all: it grows by doubling up to
// 16 MiB, then by 16 MiB, so seldom more than once in a figure.
func (d diskDelta) fdatasyncs() uint64 {
	n := 2 * d.commits
	if d.sizeTo > d.sizeFrom {
		n++
	}
	return n
}

// usage is how the pages of a bbolt file are used, summed over its
// top-level buckets (each bucket's Stats include its nested buckets).
type usage struct {
	size     int64            // file size
	pages    int64            // high-water mark, in pages
	pageSize int64            //
	free     int64            // free and pending pages
	open     time.Duration    // time to open the store on the file (prepareQueue's after only)
	inuse    int64            // bytes holding keys, values and page headers
	alloc    int64            // bytes of the pages allocated to the buckets
	buckets  map[string]int64 // in-use bytes per top-level bucket
	keys     map[string]int   // keys per top-level bucket, nested included
}

// boltUsage opens the bbolt file at path read-only (no process may hold it)
// and sums its buckets' statistics.
func boltUsage(path string) (usage, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return usage{}, err
	}
	// PreLoadFreelist: a read-only open reads no freelist otherwise, and
	// free pages would count as used.
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, PreLoadFreelist: true, Timeout: 2 * time.Second})
	if err != nil {
		return usage{}, fmt.Errorf("open %s read-only: %w", path, err)
	}
	defer db.Close()
	u := usage{size: fi.Size(), pageSize: int64(db.Info().PageSize), buckets: map[string]int64{}, keys: map[string]int{}}
	err = db.View(func(tx *bolt.Tx) error {
		u.pages = int64(tx.Size()) / u.pageSize
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			s := b.Stats()
			in := int64(s.BranchInuse + s.LeafInuse)
			u.inuse += in
			u.alloc += int64(s.BranchAlloc + s.LeafAlloc)
			u.buckets[string(name)] = in
			u.keys[string(name)] = s.KeyN
			return nil
		})
	})
	if err != nil {
		return usage{}, err
	}
	st := db.Stats()
	u.free = int64(st.FreePageN + st.PendingPageN)
	return u, nil
}

// perItem is a usage delta divided over n items (queued messages): the
// file, the used pages (high-water mark less free pages), the B+trees' used
// bytes, and the three buckets that grew most.
func (u usage) perItem(before usage, n int) string {
	if n <= 0 {
		return "no items"
	}
	used := func(x usage) int64 { return (x.pages - x.free) * x.pageSize }
	type grew struct {
		name  string
		bytes int64
		keys  int
	}
	var gs []grew
	for name, in := range u.buckets {
		gs = append(gs, grew{name, in - before.buckets[name], u.keys[name] - before.keys[name]})
	}
	slices.SortFunc(gs, func(a, b grew) int {
		if a.bytes != b.bytes {
			return int(b.bytes - a.bytes)
		}
		return strings.Compare(a.name, b.name)
	})
	var top []string
	for _, g := range gs[:min(3, len(gs))] {
		top = append(top, fmt.Sprintf("%s %+d B (%+.2f keys)", g.name, g.bytes/int64(n), float64(g.keys)/float64(n)))
	}
	return fmt.Sprintf("%d B of file, %d B of used pages, %d B in use in the B+trees per item (largest: %s)",
		(u.size-before.size)/int64(n), (used(u)-used(before))/int64(n), (u.inuse-before.inuse)/int64(n), strings.Join(top, ", "))
}

func kib(n int64) string { return fmt.Sprintf("%.1f KiB", float64(n)/1024) }
