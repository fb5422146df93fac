package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// statePrefix keeps the daemon's own small values apart from the store's
// keys (schema version, suppression key) in the meta bucket.
const statePrefix = "state/"

// SaveState keeps a small JSON value of the daemon's own under name (the
// last canary, say) so that it survives a restart.
func (s *Store) SaveState(name string, v any) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketMeta), []byte(statePrefix+name), v)
	})
	if err != nil {
		return fmt.Errorf("store: save state %s: %w", name, err)
	}
	return nil
}

// LoadState reads into v what SaveState kept under name; false if nothing
// was ever saved.
func (s *Store) LoadState(name string, v any) (bool, error) {
	var found bool
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		found, err = getJSON(tx.Bucket(bucketMeta), []byte(statePrefix+name), v)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: load state %s: %w", name, err)
	}
	return found, nil
}
