package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
)

// The database file is checked before bbolt sees it. bbolt takes an empty
// file for a new database and writes a fresh one over it (every subscriber
// gone, without a word), and it trusts its meta page: a file truncated
// below the meta page's high-water mark is mapped past its end, and reading
// a page there panics or faults (SIGBUS) instead of returning an error.

// bbolt's on-disk constants (go.etcd.io/bbolt/internal/common): a page
// starts with a 16-byte header; a meta page's body is magic, version, page
// size, flags, root bucket (page, sequence), freelist page, high-water
// mark, transaction id, then an FNV-64a checksum of what precedes it. The
// fields are in the host's byte order: a file moves between machines of
// the same order only (arm64, armv7 and amd64 are all little-endian).
const (
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	boltPageHeader = 16
	boltMetaSum    = 56 // bytes of the meta body covered by the checksum
	boltMetaSize   = boltMetaSum + 8
	boltMinPages   = 4 // two meta pages, a freelist, an empty root leaf
	boltNoFreelist = ^uint64(0)
)

// boltMeta is what checkFile reads of a meta page.
type boltMeta struct {
	pageSize uint32
	root     uint64
	freelist uint64
	pgid     uint64 // high-water mark: pages [0, pgid) are in the file
	txid     uint64
}

// parseMeta decodes and validates the meta page whose body starts at b
// (after the page header).
func parseMeta(b []byte) (boltMeta, error) {
	if len(b) < boltMetaSize {
		return boltMeta{}, fmt.Errorf("meta page cut short (%d bytes)", len(b))
	}
	ord := binary.NativeEndian
	if ord.Uint32(b[0:]) != boltMagic {
		return boltMeta{}, errors.New("meta page without bbolt's magic number")
	}
	if v := ord.Uint32(b[4:]); v != boltVersion {
		return boltMeta{}, fmt.Errorf("meta page of bbolt format version %d, want %d", v, boltVersion)
	}
	h := fnv.New64a()
	h.Write(b[:boltMetaSum])
	if ord.Uint64(b[boltMetaSum:]) != h.Sum64() {
		return boltMeta{}, errors.New("meta page checksum mismatch")
	}
	m := boltMeta{
		pageSize: ord.Uint32(b[8:]),
		root:     ord.Uint64(b[16:]),
		freelist: ord.Uint64(b[32:]),
		pgid:     ord.Uint64(b[40:]),
		txid:     ord.Uint64(b[48:]),
	}
	switch {
	case m.pageSize < 512 || m.pageSize > 1<<16 || m.pageSize&(m.pageSize-1) != 0:
		return boltMeta{}, fmt.Errorf("meta page with page size %d", m.pageSize)
	case m.pgid < boltMinPages || m.root < 2 || m.root >= m.pgid ||
		m.freelist != boltNoFreelist && (m.freelist < 2 || m.freelist >= m.pgid):
		return boltMeta{}, fmt.Errorf("meta page with root page %d, freelist page %d, high-water mark %d", m.root, m.freelist, m.pgid)
	}
	return m, nil
}

// checkImage validates a database image of size bytes read through r: a
// meta page that bbolt would use, and every page it counts present. It
// returns an error wrapping ErrCorrupt.
func checkImage(r io.ReaderAt, size int64) error {
	if size == 0 {
		return fmt.Errorf("empty file (0 bytes), not a database: %w", ErrCorrupt)
	}
	// Meta page 0 says the page size; if it is damaged, bbolt assumes the
	// system's page size for meta page 1, and so does this.
	m0, err0 := parseMeta(metaBody(r, 0))
	pageSize := int64(os.Getpagesize())
	if err0 == nil {
		pageSize = int64(m0.pageSize)
	}
	m1, err1 := parseMeta(metaBody(r, pageSize))
	// As bbolt does: the valid meta page with the higher transaction id.
	var m boltMeta
	switch {
	case err0 != nil && err1 != nil:
		return fmt.Errorf("no valid meta page (page 0: %v; page 1: %v): %w", err0, err1, ErrCorrupt)
	case err0 != nil:
		m = m1
	case err1 != nil || m0.txid >= m1.txid:
		m = m0
	default:
		m = m1
	}
	if pages := uint64(size) / uint64(m.pageSize); pages < m.pgid {
		return fmt.Errorf("file truncated: %d bytes, %d pages of %d bytes where the database counts %d: %w",
			size, pages, m.pageSize, m.pgid, ErrCorrupt)
	}
	if m.freelist == boltNoFreelist {
		readAll(r, int64(m.pgid)*int64(m.pageSize))
		return walkPages(r, m, nil)
	}
	return nil
}

// metaBody reads what would be a meta page's body in the page at off; short
// if the file ends before.
func metaBody(r io.ReaderAt, off int64) []byte {
	b := make([]byte, boltPageHeader+boltMetaSize)
	n, _ := r.ReadAt(b, off)
	if n <= boltPageHeader {
		return nil
	}
	return b[boltPageHeader:n]
}

// checkFile looks at the database file at path before bbolt opens it. A
// missing file is fine: bbolt creates it. An empty, truncated or
// unreadable one is refused with an error wrapping ErrCorrupt. A file
// readable by group or others (restored by hand, 0644) is restricted to
// 0600 — it holds every subscriber's number, and the CLI reads it only
// through the daemon — and its former mode returned, for the caller to say
// so; 0 when it was not changed.
func checkFile(path string) (modeWas fs.FileMode, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("%s is not a regular file (%v): %w", path, fi.Mode().Type(), ErrCorrupt)
	}
	uncache(f) // before reading it: pagecache.go
	if err := checkImage(f, fi.Size()); err != nil {
		return 0, err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			return 0, fmt.Errorf("database file readable by others (mode %04o) and cannot be restricted to 0600: %w", perm, err)
		}
		return perm, nil
	}
	return 0, nil
}

// guard runs fn, turning a panic — and, through SetPanicOnFault, a memory
// fault in a mapped page — into an error wrapping ErrCorrupt: bbolt panics
// on some damaged files rather than returning an error. A panic inside
// bolt.Open leaves its file open and locked: the daemon exits on that
// error, and nothing else in the process opens that path again.
func guard(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("reading the file: %v: %w", r, ErrCorrupt)
		}
	}()
	return fn()
}
