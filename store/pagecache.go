package store

import (
	"errors"
	"io/fs"
	"os"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// The kernel writes a dirty page back with the whole folio it belongs to,
// and Linux (ext4 since 6.16) caches a file in large folios when it is
// read ahead or written in large runs: a commit rewriting one 4 KiB page
// in such a folio then writes 16 KiB to 1 MiB to the SD card. Measured on
// this database: the file's first pages, written by bbolt's 16 KiB init or
// read ahead when checkFile reads the meta pages, put each commit's meta
// page in a 16 KiB folio, 3 pages more per commit. So the store reads the
// file without read-ahead and drops the clean pages others cached before
// bbolt maps it; bbolt's own mapping is MADV_RANDOM (a fault reads one
// page) and it writes page by page, so the folios stay page-sized.
// Advice only: an error changes what is written back, not what is stored,
// so it is ignored.

// uncache drops the file's cached pages (folios of any size, cached by a
// copy, a restore or a previous process), written back first (only clean
// pages can be dropped), and turns read-ahead off on f, for the reads that
// follow.
func uncache(f *os.File) {
	_ = f.Sync()
	_ = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
	_ = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_RANDOM)
}

// createFile makes a new database at path (bbolt's init, its four first
// pages written as one 16 KiB run) and drops those pages from the cache,
// before the store opens it: its meta pages are then cached page by page.
// A file already there is left alone.
func createFile(path string, opts bolt.Options) error {
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	db, err := bolt.Open(path, 0o600, &opts)
	if err != nil {
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	uncache(f)
	return f.Close()
}
