package store

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// WriteTo writes a consistent copy of the whole database to w, as of one
// read transaction: senders and the API go on meanwhile (bbolt's hot
// backup). The copy is a bbolt file that Open accepts as is. It implements
// io.WriterTo.
func (s *Store) WriteTo(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("store: copy database: %w", err)
	}
	return n, nil
}

// BackupFile writes a consistent copy of the database to path, mode 0600:
// into a temporary file of the same directory, synced, then renamed into
// place and the directory synced, so path is either the previous file or a
// complete copy, never half of one.
func (s *Store) BackupFile(path string) (int64, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return 0, fmt.Errorf("store: backup: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the rename, fails harmlessly
	n, err := s.WriteTo(f)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		return 0, fmt.Errorf("store: backup to %s: %w", path, err)
	}
	return n, nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
