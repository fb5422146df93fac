package store

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"vigie/store/atomicfile"
)

// WriteTo writes a consistent copy of the whole database to w, as of one
// read transaction: senders and the API go on meanwhile. The copy is
// compacted (written key by key into a new file, never bbolt's raw pages),
// so the freed pages of the live file, with what was deleted or erased in
// them, are not in it; it is a bbolt file that Open accepts as is. It
// implements io.WriterTo.
func (s *Store) WriteTo(w io.Writer) (int64, error) {
	n, err := s.db.streamCopy(w)
	if err != nil {
		return n, fmt.Errorf("store: copy database: %w", err)
	}
	return n, nil
}

// BackupFile writes a consistent, compacted copy of the database (see
// WriteTo) to path, mode 0600: into a temporary file of the same
// directory, synced, then renamed into place and the directory synced, so
// path is either the previous file or a complete copy, never half of one.
// The suppression list's key file is not in the copy: it is backed up
// apart.
func (s *Store) BackupFile(path string) (int64, error) {
	tmp, err := tempName(path, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return 0, fmt.Errorf("store: backup: %w", err)
	}
	defer os.Remove(tmp) // after the rename, fails harmlessly
	err = s.db.copyTo(tmp)
	if err == nil {
		err = os.Chmod(tmp, 0o600)
	}
	var fi os.FileInfo
	if err == nil {
		fi, err = os.Stat(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = atomicfile.SyncDir(filepath.Dir(path))
	}
	if err != nil {
		return 0, fmt.Errorf("store: backup to %s: %w", path, err)
	}
	return fi.Size(), nil
}
