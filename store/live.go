package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"

	"vigie/store/atomicfile"
)

// liveDB is the open bbolt file behind a Store. bbolt keeps the pages a
// transaction frees, with their old bytes, until it reuses them, and its
// raw copy (Tx.WriteTo) copies them too: a deleted number would live on in
// the file and in every backup. So an erasure rewrites the file compacted
// (compact), and every copy is a compacted one (copyTo).
//
// Every transaction holds mu's read lock; compact holds the write lock
// while it replaces the file, so no transaction ever runs on a file that is
// being swapped, and callers keep the plain View/Update of bbolt.
type liveDB struct {
	mu   sync.RWMutex
	db   *bolt.DB // guarded by mu; replaced by compact
	path string
	opts bolt.Options
	// views and updates count the transactions run, for Store.TxCounts.
	views, updates atomic.Int64
	// fills is fillPercents (bucketFills), read only.
	fills []bucketFill
}

// bucketFill is a top-level bucket and its fill (fillPercents).
type bucketFill struct {
	name []byte
	fill float64
}

// compactTxMax bounds each transaction of a compaction, so that copying a
// large database does not hold all of it in memory on a Pi: bbolt keeps
// every key and value a transaction writes as a node on the heap until it
// commits, about three times their size. At 4 MiB the nightly backup of
// the bad-year soak's 16 MiB file held 12 MiB of nodes (heap profile of
// the daemon at its fifth month), more than the rest of the daemon; the
// copy is synced once at the end, so more commits cost no fsync.
const compactTxMax = 1 << 20

// keyCompactPending in meta marks a file that still holds freed copies of
// erased data: set in the erasure's transaction, absent from the compacted
// file. Open compacts a file that has it (the daemon stopped between the
// two).
var keyCompactPending = []byte("compact_pending")

// View runs fn in a read transaction.
func (l *liveDB) View(fn func(*bolt.Tx) error) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	l.views.Add(1)
	return l.db.View(fn)
}

// Update runs fn in a read-write transaction, its top-level buckets set
// to their fill (fillPercents) before fn runs.
func (l *liveDB) Update(fn func(*bolt.Tx) error) error {
	l.mu.RLock() // bbolt serialises writers itself
	defer l.mu.RUnlock()
	l.updates.Add(1)
	return l.db.Update(func(tx *bolt.Tx) error {
		setFill(tx, l.fills)
		return fn(tx)
	})
}

// fillPercents is how full bbolt fills a page of each top-level bucket
// when it splits it (bbolt's default is bolt.DefaultFillPercent, half).
// Every bucket the store creates is listed (TestFillPercentsCoverEveryBucket);
// there are no nested buckets.
//
//   - 1: keys written in increasing order (message IDs, times, an alert's
//     messages as queued). A full page is never split again, and the
//     default, half of each page left for inserts that never come, would
//     double these buckets' pages, the database's size and the file-backed
//     memory a walk of it maps. Deletions from the front (the queue,
//     purges) leave pages bbolt merges.
//   - 0.9: keys mostly increasing (NextSequence IDs, days, hours) whose
//     values are rewritten a little larger (an alert, a counter) or that
//     get a few keys behind the last: a little room saves a split of
//     every page a later write touches.
//   - 0.7: the outbox, whose every record grows in ID order as its
//     message is claimed, sent and reported (times, references). At 0.9 a
//     page overflows a few records after it was written and splits off a
//     tail page at a time, each left mostly empty: the bad-year simulation
//     (TestBadYearFileStaysFlat) took 235 outbox pages at 0.9, 154 at 0.7,
//     99 compacted; 0.5, 0.6 and 0.8 did worse than 0.7. And sub_days,
//     where each day adds a key at the end of every zone and trade's run,
//     all over the tree: a year of days took 15 pages at 0.7, 18 at 0.5,
//     19 at 0.9, 10 compacted.
//   - subscribers at 0.9 too, though its keys are phone numbers: a CSV
//     import writes thousands in one transaction, which bbolt splits at
//     the fill whatever their order, and the numbers that join by SMS
//     afterwards are a few a day. 6,000 imported and a year of 3 joins a
//     day took 514 pages at 0.9, 832 at the default, 405 compacted.
//   - bolt.DefaultFillPercent: keys in no order of writing (phone numbers,
//     hashes, modem references), where inserts land anywhere.
func fillPercents() map[string]float64 {
	const (
		appendOnly = 1
		mostly     = 0.9
		growing    = 0.7
		random     = bolt.DefaultFillPercent
	)
	return map[string]float64{
		"audit":               appendOnly,
		"alert_messages":      appendOnly,
		"alert_recipients":    appendOnly,
		"queue":               appendOnly,
		"queue_age":           appendOnly,
		"sent":                appendOnly,
		"report_times":        appendOnly,
		"outbox":              growing,
		"sub_days":            growing,
		"subscribers":         mostly,
		"alerts":              mostly,
		"alert_counters":      mostly,
		"alert_timeline":      mostly,
		"alert_minutes":       mostly,
		"inbound":             mostly,
		"inbox":               mostly,
		"alert_replies":       mostly,
		"alert_reply_counts":  mostly,
		"reply_days":          mostly,
		"forwards":            mostly,
		"parts_per_day":       mostly,
		"reply_parts_per_day": mostly,
		"parts_days":          mostly,
		"modem_days":          mostly,
		"meta":                random,
		"suppressed":          random,
		"suppressed_keyed":    random,
		"suppressed_hashes":   random,
		"sending":             random,
		"counters":            random,
		"unprocessed":         random,
		"parts":               random,
		"seen":                random,
		"report_refs":         random,
		"month_recipients":    random,
		"replies":             random,
		"code_requests":       random,
	}
}

// bucketFills is fillPercents as liveDB keeps it.
func bucketFills() []bucketFill {
	var out []bucketFill
	for name, fill := range fillPercents() {
		out = append(out, bucketFill{[]byte(name), fill})
	}
	return out
}

// setFill sets the fill of tx's top-level buckets. bbolt keeps one handle
// per bucket in a read-write transaction (the root's cache of opened
// buckets), the one tx.Bucket and CreateBucketIfNotExists return all
// along, so setting it first holds for the whole transaction. A bucket
// created within tx keeps bbolt's default until the next one.
func setFill(tx *bolt.Tx, fills []bucketFill) {
	for _, f := range fills {
		if b := tx.Bucket(f.name); b != nil {
			b.FillPercent = f.fill
		}
	}
}

// Close closes the file.
func (l *liveDB) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.db.Close()
}

// compact replaces the file by a compacted copy of itself, with no free
// page: written beside it, synced, renamed over it and the directory
// synced, then opened in its place. A crash leaves either file whole; the
// old one still has keyCompactPending, so Open compacts it again.
func (l *liveDB) compact() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	tmp, err := tempName(l.path, compactPattern(l.path))
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	dst, err := compactInto(l.db, tmp, l.opts)
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("compact: %w", err)
	}
	if err := os.Rename(tmp, l.path); err != nil {
		_ = dst.Close()
		_ = os.Remove(tmp)
		return fmt.Errorf("compact: %w", err)
	}
	// The new file is the database now, whatever follows.
	old := l.db
	l.db = dst
	l.unmapCold()
	if err := errors.Join(atomicfile.SyncDir(filepath.Dir(l.path)), old.Close()); err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	return nil
}

// copyTo writes a compacted copy of the database, as of one read
// transaction, into a new file at path, synced and closed.
func (l *liveDB) copyTo(path string) error {
	err := l.copyLocked(path)
	// The copy read every page through the mapping.
	l.mu.Lock()
	defer l.mu.Unlock()
	l.unmapCold()
	return err
}

func (l *liveDB) copyLocked(path string) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	dst, err := compactInto(l.db, path, bolt.Options{NoSync: true})
	if err != nil {
		return err
	}
	return dst.Close()
}

// unmapCold takes the database's pages out of the process's mapping, with
// l.mu held for writing (no transaction runs, so bbolt cannot remap
// meanwhile). bbolt's freelist rebuild at open and a compacted copy read
// every page of the trees through the mapping, and the kernel maps the
// cached neighbours of each page it faults in: the whole file then counts
// in the daemon's resident memory (4.6 MiB of its 29 MiB with 6,000
// subscribers and 10,000 queued), though a transaction reads a few pages.
// MADV_DONTNEED on bbolt's read-only shared mapping drops only the page
// table entries: the pages stay in the page cache, and the next read of
// one faults it back in from there, never from the card. Advice only: an
// error leaves the pages mapped, as before, and is ignored.
func (l *liveDB) unmapCold() {
	var size int64
	if err := l.db.View(func(tx *bolt.Tx) error { size = tx.Size(); return nil }); err != nil {
		return
	}
	// The pages below the high-water mark are always inside the mapping
	// (bbolt remaps before it allocates past its end); the file may extend
	// beyond the mapping, so its size would not do.
	_, _, _ = unix.Syscall(unix.SYS_MADVISE, l.db.Info().Data, uintptr(size), unix.MADV_DONTNEED)
}

// UnmapCold takes the database's pages out of the process's resident
// memory (they stay in the page cache; see unmapCold): for the daemon once
// its start-up has read what it reads, waiting for running transactions.
func (s *Store) UnmapCold() {
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	s.db.unmapCold()
}

// compactInto copies every bucket of src (one read transaction) into a
// new bbolt file at path, without keyCompactPending, syncs it and returns
// it open with opts: closed and checked first (checkFile), so that its
// pages, written in runs, are cached again page by page (pagecache.go).
func compactInto(src *bolt.DB, path string, opts bolt.Options) (*bolt.DB, error) {
	o := opts
	// One sync at the end, none per growth of the file either: a crash
	// mid-copy leaves a temporary file that Open removes. Mapped as large
	// as the source from the start, the copy is never remapped: each remap
	// copies every node of the transaction in flight to the heap
	// (node.dereference), 8 MiB of the soak's backup.
	o.Timeout, o.NoSync, o.NoGrowSync = openTimeout, true, true
	if info, err := os.Stat(src.Path()); err == nil {
		o.InitialMmapSize = int(info.Size())
	}
	dst, err := openBolt(path, o)
	if err != nil {
		return nil, err
	}
	err = bolt.Compact(dst, src, compactTxMax)
	if err == nil {
		err = dst.Update(func(tx *bolt.Tx) error {
			if meta := tx.Bucket(bucketMeta); meta != nil {
				return meta.Delete(keyCompactPending)
			}
			return nil
		})
	}
	if err == nil {
		err = dst.Sync()
	}
	if err != nil {
		_ = dst.Close()
		return nil, err
	}
	if err := dst.Close(); err != nil {
		return nil, err
	}
	if _, err := checkFile(path); err != nil {
		return nil, err
	}
	o = opts
	o.Timeout = openTimeout
	return openBolt(path, o)
}

// compactPattern names the temporary files of compactions and streamed
// copies beside the database at path, so that Open can remove those a
// crash left behind.
func compactPattern(path string) string {
	return "." + filepath.Base(path) + ".compact-*"
}

// tempName creates an empty file 0600 in path's directory, named after
// pattern, and returns its name.
func tempName(path, pattern string) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), pattern)
	if err != nil {
		return "", err
	}
	name := f.Name()
	if err := f.Close(); err != nil {
		_ = os.Remove(name)
		return "", err
	}
	return name, nil
}

// removeStrayCopies removes the temporary copies a crash left beside the
// database. Called with the file lock held, so no other daemon's copy in
// progress is removed.
func removeStrayCopies(path string) error {
	stray, err := filepath.Glob(filepath.Join(filepath.Dir(path), compactPattern(path)))
	if err != nil {
		return err
	}
	for _, p := range stray {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// compactIfPending compacts the file if an erasure's compaction did not
// finish.
func (s *Store) compactIfPending() error {
	var pending bool
	if err := s.db.View(func(tx *bolt.Tx) error {
		pending = tx.Bucket(bucketMeta).Get(keyCompactPending) != nil
		return nil
	}); err != nil {
		return err
	}
	if !pending {
		return nil
	}
	return s.db.compact()
}

// streamCopy writes a compacted copy to w through a temporary file beside
// the database, removed afterwards: no transaction stays open while a slow
// reader takes the bytes.
func (l *liveDB) streamCopy(w io.Writer) (int64, error) {
	tmp, err := tempName(l.path, compactPattern(l.path))
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp)
	if err := l.copyTo(tmp); err != nil {
		return 0, err
	}
	f, err := os.Open(tmp)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return io.Copy(w, f)
}

// TxCounts says how many read and read-write transactions the store ran
// since it was opened: what a path costs, for tests and the bench.
func (s *Store) TxCounts() (views, updates int64) {
	return s.db.views.Load(), s.db.updates.Load()
}

// Bounded growth (issue #15): bbolt reuses the pages a purge frees but never
// gives them back to the file system, so a file that grew through a first
// year of history keeps that size for good, and every later burst adds to
// it. A file whose free share passes compactFreeShare (and at least
// compactFreeMin bytes) is rewritten compacted, at start-up and after a
// retention purge: rarely enough that the whole-file copy does not wear an
// SD card more than the purge saves, often enough that the file stays
// within twice what it holds.
const (
	compactFreeShare = 0.5
	compactFreeMin   = 1 << 20
)

// Footprint is what the database file holds and what a compaction would
// give back.
type Footprint struct {
	// File is the file's size in bytes.
	File int64 `json:"file"`
	// Used is what the data takes: the pages in use, not those on the
	// freelist.
	Used int64 `json:"used"`
}

// Reclaimable is what a compaction would take off the file: bbolt sizes a
// file below its allocation step (allocStep) to the power of two above its
// data, and a larger one to the data plus up to a step, so the tail it
// grew ahead of need is no gain (it would grow it again at once).
func (f Footprint) Reclaimable() int64 {
	return max(f.File-compactedSize(f.Used), 0)
}

// compactedSize is about the size of a compacted file holding used bytes.
func compactedSize(used int64) int64 {
	if used > allocStep {
		return used + allocStep
	}
	size := int64(32 << 10)
	for size < used {
		size *= 2
	}
	return size
}

// footprint reads the file's size and what its data uses.
func (l *liveDB) footprint() (Footprint, error) {
	var f Footprint
	err := l.db.View(func(tx *bolt.Tx) error {
		info, err := os.Stat(l.path)
		if err != nil {
			return err
		}
		f.File = info.Size()
		f.Used = max(tx.Size()-int64(l.db.Stats().FreeAlloc), 0)
		return nil
	})
	return f, err
}

// Footprint returns the file's size and what its data uses.
func (s *Store) Footprint() (Footprint, error) {
	s.db.mu.RLock()
	defer s.db.mu.RUnlock()
	f, err := s.db.footprint()
	if err != nil {
		return f, fmt.Errorf("store: footprint: %w", err)
	}
	return f, nil
}

// CompactIfSparse rewrites the file compacted when that would take
// compactFreeShare of it off, and returns the footprint before and after
// (equal when nothing was done). Transactions wait while the copy runs, as
// for an erasure; the new file is locked before it replaces the old one,
// so the daemon holds the database throughout, and a crash leaves either
// whole file.
func (s *Store) CompactIfSparse() (before, after Footprint, err error) {
	before, err = s.Footprint()
	if err != nil {
		return before, before, err
	}
	if !sparse(before) {
		return before, before, nil
	}
	if err := s.db.compact(); err != nil {
		return before, before, fmt.Errorf("store: %w", err)
	}
	after, err = s.Footprint()
	return before, after, err
}

// sparse says whether f is worth a compaction.
func sparse(f Footprint) bool {
	gain := f.Reclaimable()
	return gain >= compactFreeMin && float64(gain) >= compactFreeShare*float64(f.File)
}
