package store

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
	"golang.org/x/crypto/argon2"

	"vigie/store/atomicfile"
)

// Errors of the suppression list's key file, to be classified with
// errors.Is.
var (
	// ErrKeyMissing: the database holds erased numbers on its suppression
	// list and the key file is absent; restore it from its own backup.
	ErrKeyMissing = errors.New("suppression key file missing")
	// ErrKeyMismatch: the key file is not the one the database's
	// suppression list was made with.
	ErrKeyMismatch = errors.New("suppression key file does not match the database")
	// ErrKeyFile: the key file is malformed or readable by others.
	ErrKeyFile = errors.New("bad suppression key file")
)

// DefaultKeyFile is the key file's name beside the database, when Open is
// not given one: outside the database, so neither a copy of the file nor a
// backup carries it, and outside the backup directory.
const DefaultKeyFile = "suppression.key"

// The keyed hash of the suppression list is argon2id with the secret key
// as its salt, so that neither the file nor a backup gives the erased
// numbers back without the key file; with it too, each guess costs a few
// milliseconds and 2 MiB: the 2×10⁸ French mobile numbers are some five
// core-days instead of the seconds of a bare HMAC. The cost is bounded by
// importing 6,000 rows in under a minute on a Pi 4: cmd/vigie-bench figure
// (s) measured 2.1 ms a hash here (2026-12, AMD EPYC, 2 shared CPUs; 4 MiB
// took 6 ms, out of the caches), so ≈ 8 ms on a Pi 4 core (×4) and an
// import of 6,000 rows ≈ 13 s on its 4 cores (hashes are computed on every
// CPU before the import's transaction), ≈ 50 s on one. These parameters are
// those of the entries in bucketSuppressedKeyed: changing them needs a new
// bucket.
const (
	argonTime    = 1
	argonMemory  = 2 << 10 // KiB
	argonThreads = 1
	argonLen     = 32
	keyLen       = 32
)

// keyring is the content of the key file.
type keyring struct {
	key []byte // argon2id's secret salt for bucketSuppressedKeyed
	// legacy is the HMAC-SHA256 key of bucketSuppressedHashes, made by
	// earlier versions inside the database and moved out to the key file;
	// nil if there was none. Its entries cannot be re-hashed without the
	// numbers, so they are checked with it until a new consent or an
	// erasure replaces each.
	legacy []byte
	// slow counts the argon2id hashes computed: the tests prove that
	// sending computes none.
	slow atomic.Int64
}

// hash is the keyed hash of phone on the suppression list.
func (k *keyring) hash(phone string) []byte {
	k.slow.Add(1)
	return argon2.IDKey([]byte(phone), k.key, argonTime, argonMemory, argonThreads, argonLen)
}

// legacyHash is the HMAC-SHA256 of phone that earlier versions kept.
func legacyHash(key []byte, phone string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(phone))
	return mac.Sum(nil)
}

// fingerprint identifies key without revealing it: kept in the database so
// that Open knows a key file from another one.
func fingerprint(key []byte) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("vigie suppression key fingerprint"))
	return mac.Sum(nil)
}

// Key file lines: "<name> <64 hex digits>", comments and blank lines.
const (
	keyLineArgon  = "argon2id"
	keyLineLegacy = "hmac-sha256"
)

const keyFileHeader = `# Clé de la liste d'opposition de Vigie (numéros effacés par
# « vigie subscribers remove --erase »). Sans ce fichier, la base ne
# reconnaît plus les numéros effacés : le sauvegarder à part de la base,
# jamais avec ses copies. Mode 0600, propriétaire vigie.
`

// parseKeyFile reads a key file's content.
func parseKeyFile(data []byte) (*keyring, error) {
	k := &keyring{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, _ := strings.Cut(line, " ")
		key, err := hex.DecodeString(strings.TrimSpace(value))
		if err != nil || len(key) != keyLen {
			return nil, fmt.Errorf("line %d: want %q and %d hex digits: %w", i+1, name, 2*keyLen, ErrKeyFile)
		}
		var dst *[]byte
		switch name {
		case keyLineArgon:
			dst = &k.key
		case keyLineLegacy:
			dst = &k.legacy
		default:
			return nil, fmt.Errorf("line %d: unknown key %q: %w", i+1, name, ErrKeyFile)
		}
		if *dst != nil {
			return nil, fmt.Errorf("line %d: %q given twice: %w", i+1, name, ErrKeyFile)
		}
		*dst = key
	}
	if k.key == nil {
		return nil, fmt.Errorf("no %q line: %w", keyLineArgon, ErrKeyFile)
	}
	return k, nil
}

// format is the key file's content.
func (k *keyring) format() []byte {
	var b bytes.Buffer
	b.WriteString(keyFileHeader)
	fmt.Fprintf(&b, "%s %x\n", keyLineArgon, k.key)
	if k.legacy != nil {
		fmt.Fprintf(&b, "%s %x\n", keyLineLegacy, k.legacy)
	}
	return b.Bytes()
}

// readKeyFile reads the key file at path; os.ErrNotExist if absent. A file
// that others than its owner may read is refused: the key is what keeps
// the erased numbers out of reach.
func readKeyFile(path string) (*keyring, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file: %w", path, ErrKeyFile)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%s has mode %04o, others than its owner may read it: %w", path, perm, ErrKeyFile)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	k, err := parseKeyFile(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// writeKeyFile writes k to path, mode 0600, the way BackupFile writes:
// temporary file, sync, rename, directory sync.
func writeKeyFile(path string, k *keyring) error {
	return atomicfile.WriteFile(path, k.format(), 0o600)
}

// newKey returns keyLen random bytes.
func newKey() ([]byte, error) {
	key := make([]byte, keyLen)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("suppression key: %w", err)
	}
	return key, nil
}

// SuppressionHash names the keyed hash and its cost, for the figures.
const SuppressionHash = "argon2id, 1 pass, 2 MiB, 1 lane"

// ErrKeyPresent: ForgetErased was asked while the key file exists.
var ErrKeyPresent = errors.New("suppression key file present: nothing to forget")

// ForgetErased is the way out when the key file is lost for good and Open
// refuses the database with ErrKeyMissing: it drops the suppression list's
// hashes (the erased numbers are no longer recognised: an import could add
// them again) and the traces of the old key, and marks the file for
// compaction; the next Open makes a new key. It returns how many entries it
// dropped, and refuses (ErrKeyPresent) while keyFile exists, or a database
// that does not exist.
func ForgetErased(path, keyFile string) (int, error) {
	if _, err := os.Stat(keyFile); err == nil {
		return 0, fmt.Errorf("store: forget erased: %s: %w", keyFile, ErrKeyPresent)
	} else if !errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("store: forget erased: %w", err)
	}
	if _, err := os.Stat(path); err != nil {
		return 0, fmt.Errorf("store: forget erased: %w", err)
	}
	db, err := openBolt(path, boltOptions(false))
	if errors.Is(err, berrors.ErrTimeout) {
		return 0, fmt.Errorf("store: forget erased: %s: %w (%w)", path, ErrLocked, err)
	}
	if err != nil {
		return 0, fmt.Errorf("store: forget erased: %s: %w", path, err)
	}
	n := 0
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketSuppressedKeyed, bucketSuppressedHashes} {
			if b := tx.Bucket(name); b != nil {
				n += b.Stats().KeyN
				if err := tx.DeleteBucket(name); err != nil {
					return err
				}
			}
		}
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return nil
		}
		for _, k := range [][]byte{keySuppressionKey, keyKeyFingerprint} {
			if err := meta.Delete(k); err != nil {
				return err
			}
		}
		return meta.Put(keyCompactPending, []byte{1})
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("store: forget erased: %w", err)
	}
	return n, nil
}
