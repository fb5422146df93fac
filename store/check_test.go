package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestCheckSoundDatabase(t *testing.T) {
	s := newTest(t)
	if err := s.Check(); err != nil {
		t.Errorf("Check of a new database: %v", err)
	}
	mustCreateAlert(t, s, []string{alice, bob, carol}, t0)
	mustClaim(t, s, t0)
	if err := s.Check(); err != nil {
		t.Errorf("Check with queued and sending messages: %v", err)
	}
}

// A page of messages overwritten with garbage is refused: by Open's walk
// of the pages when the file has no freelist (NoFreelistSync, as Vigie
// writes it: bbolt's own walk would panic out of reach), and by bbolt's
// check once a freelist was written back (an opener without
// NoFreelistSync).
func TestCheckDetectsGarbage(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "vigie.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var phones []string
	for i := range 300 {
		phones = append(phones, fmt.Sprintf("+3361000%04d", i))
	}
	a := mustCreateAlert(t, s, phones, t0)
	if _, err := s.CancelAlert(a.ID, t0); err != nil { // final: nothing in the queue
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	unlisted, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := messagesPage(t, unlisted, path) // opens it without NoFreelistSync
	listed, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	spoil := func(data []byte, name string) string {
		rng := rand.New(rand.NewPCG(1, 2))
		for i := page + 8; i < page+pageSizeOf(data); i++ { // keep the page id
			data[i] = byte(rng.Uint32())
		}
		binary.LittleEndian.PutUint32(data[page+12:], 0) // no overflow: the check stays bounded
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}

	if c, err := Open(spoil(unlisted, "unlisted.db")); !errors.Is(err, ErrCorrupt) {
		if err == nil {
			c.Close()
		}
		t.Fatalf("Open of the corrupt copy without a freelist = %v, want ErrCorrupt", err)
	} else {
		t.Logf("Open: %v", err)
	}

	c, err := Open(spoil(listed, "listed.db"))
	if err != nil {
		t.Fatalf("Open of the corrupt copy with a freelist: %v", err)
	}
	defer c.Close()
	err = c.Check()
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Check = %v, want ErrCorrupt", err)
	}
	t.Logf("Check: %v", err)
}

// An index naming a message in another state is found by the store's own
// checks.
func TestCheckDetectsBrokenIndex(t *testing.T) {
	s := newTest(t)
	a := mustCreateAlert(t, s, []string{alice, bob}, t0)
	if _, err := s.CancelAlert(a.ID, t0); err != nil {
		t.Fatal(err)
	}
	m := &Message{ID: 1, Kind: KindAlert, NotBefore: t0}
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketQueue).Put(queueKey(m), nil) }); err != nil {
		t.Fatal(err)
	}
	err := s.Check()
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "queue index: message 1 is cancelled") ||
		!strings.Contains(err.Error(), "counter queued is 0, queue index holds 1") {
		t.Errorf("Check = %v", err)
	}
	// Put it right, so the cleanup's own verification passes.
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketQueue).Delete(queueKey(m)) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(); err != nil {
		t.Errorf("Check after repair: %v", err)
	}
}

// pageSizeOf reads the page size from a bbolt file's first meta page
// (page header 16 bytes, then magic, version, page size; native order).
func pageSizeOf(data []byte) int {
	return int(binary.LittleEndian.Uint32(data[24:28]))
}

// messagesPage returns the offset of a leaf page in use (not a free page
// left by copy-on-write, per the database at path) holding outbox
// messages: its first element has an 8-byte key and a Message as value.
func messagesPage(t *testing.T, data []byte, path string) int {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	free := func(id int) bool {
		var typ string
		if err := db.Update(func(tx *bolt.Tx) error {
			info, err := tx.Page(id)
			if err == nil && info != nil {
				typ = info.Type
			}
			return err
		}); err != nil || typ == "" {
			t.Fatalf("page %d: type %q, %v", id, typ, err)
		}
		return typ == "free"
	}
	size := pageSizeOf(data)
	const leaf, header, element = 0x02, 16, 16
	for off := 2 * size; off+size <= len(data); off += size {
		p := data[off : off+size]
		if binary.LittleEndian.Uint16(p[8:]) != leaf || binary.LittleEndian.Uint16(p[10:]) < 2 {
			continue
		}
		pos := int(binary.LittleEndian.Uint32(p[header+4:]))
		ksize := int(binary.LittleEndian.Uint32(p[header+8:]))
		vsize := int(binary.LittleEndian.Uint32(p[header+12:]))
		start := header + pos
		if ksize != 8 || start+ksize+vsize > size {
			continue
		}
		if v := string(p[start+ksize : start+ksize+vsize]); len(v) > 0 && v[0] == msgV1 && strings.Contains(v, "+3361000") && !free(off/size) {
			return off
		}
	}
	t.Fatal("no leaf page of messages found")
	return 0
}
