package store

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// dave's number has no digit run in common with the other test numbers.
const dave = "+33687654321"

// semiOctets is digits as a PDU carries an address: swapped nibbles, F
// filling an odd count.
func semiOctets(digits string) []byte {
	if len(digits)%2 == 1 {
		digits += "F"
	}
	out := make([]byte, len(digits)/2)
	for i := 0; i < len(digits); i += 2 {
		lo, hi := digits[i], digits[i+1]
		out[i/2] = nibble(hi)<<4 | nibble(lo)
	}
	return out
}

func nibble(c byte) byte {
	if c == 'F' {
		return 0xF
	}
	return c - '0'
}

// numberForms returns every way a French E.164 number could stand in the
// bytes of the file: digits with or without country code, spaced, and the
// PDU's semi-octets, in hex either case and raw.
func numberForms(e164 string) map[string][]byte {
	intl := strings.TrimPrefix(e164, "+")
	nsn := strings.TrimPrefix(intl, "33")
	national := "0" + nsn
	spaced := func(s string, first int) string {
		var b strings.Builder
		b.WriteString(s[:first])
		for i := first; i < len(s); i += 2 {
			b.WriteString(" " + s[i:i+2])
		}
		return b.String()
	}
	forms := map[string][]byte{
		"E.164":                []byte(e164),
		"international digits": []byte(intl),
		"national":             []byte(national),
		"national significant": []byte(nsn),
		"spaced national":      []byte(spaced(national, 2)),
		"spaced international": []byte("+33 " + spaced(nsn, 1)),
		"dotted national":      []byte(strings.ReplaceAll(spaced(national, 2), " ", ".")),
	}
	for name, digits := range map[string]string{"international": intl, "national": national} {
		so := semiOctets(digits)
		forms["semi-octets "+name] = so
		forms["semi-octets hex "+name] = []byte(strings.ToUpper(hex.EncodeToString(so)))
		forms["semi-octets hex lower "+name] = []byte(hex.EncodeToString(so))
	}
	return forms
}

// formsIn names the forms of e164 found in data.
func formsIn(data []byte, e164 string) []string {
	var found []string
	for name, f := range numberForms(e164) {
		if bytes.Contains(data, f) {
			found = append(found, name)
		}
	}
	return found
}

func TestSemiOctets(t *testing.T) {
	if got := hex.EncodeToString(semiOctets("33687654321")); got != "3386674523f1" {
		t.Errorf("semiOctets = %s", got)
	}
}

func readRaw(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// daveLife gives dave a subscription, an alert sent, an SMS to the inbox
// with its reply, and a STOP; bob an alert too.
func daveLife(t *testing.T, s *Store) {
	t.Helper()
	mustEnrol(t, s, Enrolment{Phone: dave, Zones: []string{"macon"}, Trade: "tabac"}, t0)
	mustEnrol(t, s, Enrolment{Phone: bob, Zones: []string{"macon"}}, t0)
	mustCreateAlert(t, s, []string{dave, bob}, t0)
	for range 2 {
		m := mustClaim(t, s, t0)
		if err := s.MarkSent(m.ID, []int{int(m.ID)}, t0); err != nil {
			t.Fatal(err)
		}
	}
	in := receiveHashed(t, s, "0687654321", "vu rue Carnot", t0)
	if _, err := s.ApplyInbound(in.ID, Effect{Outcome: "inbox", ToInbox: true, ReplyCap: 5,
		Reply: &Reply{To: dave, Text: "message transmis", Parts: 1}}, t0); err != nil {
		t.Fatal(err)
	}
	m := mustClaim(t, s, t0)
	if err := s.MarkSent(m.ID, []int{9}, t0); err != nil {
		t.Fatal(err)
	}
}

// After an erasure the number is nowhere in the bytes of the live file, nor
// in a backup or a streamed copy, while everything else stays and the
// store goes on.
func TestEraseLeavesNoCopyInTheFile(t *testing.T) {
	s := newTest(t)
	path := s.db.path
	daveLife(t, s)
	if found := formsIn(readRaw(t, path), dave); len(found) == 0 {
		t.Fatal("the number is not in the file before the erasure: the search finds nothing")
	}
	seq, _ := s.Alerts()

	if _, err := s.EraseSubscriber(dave, t0.Add(time.Hour)); err != nil {
		t.Fatalf("EraseSubscriber: %v", err)
	}
	if found := formsIn(readRaw(t, path), dave); len(found) != 0 {
		t.Errorf("the live file still holds the erased number as %v", found)
	}
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	if _, err := s.BackupFile(copyPath); err != nil {
		t.Fatal(err)
	}
	if found := formsIn(readRaw(t, copyPath), dave); len(found) != 0 {
		t.Errorf("a backup taken after the erasure holds the number as %v", found)
	}
	var buf bytes.Buffer
	if _, err := s.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if found := formsIn(buf.Bytes(), dave); len(found) != 0 {
		t.Errorf("a streamed copy holds the number as %v", found)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// The rest is whole, sequences included, and the store goes on.
	if err := s.Check(); err != nil {
		t.Errorf("Check after compaction: %v", err)
	}
	if sub, found, _ := s.Subscriber(bob); !found || sub.Status != StatusActive {
		t.Errorf("bob after erasure: %+v, %v", sub, found)
	}
	a := mustCreateAlert(t, s, []string{bob}, t0.Add(2*time.Hour))
	if a.ID <= seq[len(seq)-1].ID {
		t.Errorf("alert ID %d after compaction, not after %d: sequences lost", a.ID, seq[len(seq)-1].ID)
	}
	if sup, _ := s.Suppressed(dave); !sup {
		t.Error("erased number not suppressed")
	}
	if outs, _ := s.Import([]Enrolment{{Phone: dave, Zones: []string{"macon"}}}, false, t0); outs[0] != OutcomeSuppressed {
		t.Errorf("import after erase: %v", outs)
	}
}

// An erasure whose compaction never ran (the daemon stopped between the
// two) is compacted by the next Open.
func TestOpenFinishesAnInterruptedCompaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigie.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	mustEnrol(t, s, Enrolment{Phone: dave, Zones: []string{"macon"}}, t0)
	if err := s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketSubscribers).Delete([]byte(dave)); err != nil {
			return err
		}
		// The raw deletion stands for an erasure: its active count goes too,
		// or the invariants check would see a shop counted that is not there.
		if err := tx.DeleteBucket(bucketSubDays); err != nil {
			return err
		}
		if _, err := tx.CreateBucket(bucketSubDays); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keyCompactPending, []byte{1})
	}); err != nil {
		t.Fatal(err)
	}
	// A crash also leaves a half-written copy beside the file.
	stray := filepath.Join(filepath.Dir(path), ".vigie.db.compact-123")
	if err := os.WriteFile(stray, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if found := formsIn(readRaw(t, path), dave); len(found) == 0 {
		t.Fatal("precondition: bbolt's freed page no longer holds the deleted number")
	}

	s = openTest(t, path)
	if found := formsIn(readRaw(t, path), dave); len(found) != 0 {
		t.Errorf("after Open the file still holds the number as %v", found)
	}
	if _, err := os.Stat(stray); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stray copy left: %v", err)
	}
	_ = s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta).Get(keyCompactPending) != nil {
			t.Error("compaction still marked pending")
		}
		return nil
	})
}

// The key file is made 0600 at the first Open, is not in the database,
// and is required (the same one) once a number was erased.
func TestSuppressionKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "vigie.db")
	keyPath := filepath.Join(dir, DefaultKeyFile)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(keyPath)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v; want mode 0600", fi, err)
	}
	if _, err := s.EraseSubscriber(dave, t0); err != nil {
		t.Fatal(err)
	}
	key := s.keys.key
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	raw := readRaw(t, path)
	if bytes.Contains(raw, key) || bytes.Contains(raw, []byte(hex.EncodeToString(key))) {
		t.Error("the key is in the database file")
	}
	keyData := readRaw(t, keyPath)
	if !strings.HasPrefix(string(keyData), "# Clé de la liste d'opposition") {
		t.Errorf("key file does not say what it is:\n%s", keyData)
	}

	reopen := func(opts ...Option) error {
		s, err := Open(path, opts...)
		if err == nil {
			defer s.Close()
			if sup, _ := s.Suppressed(dave); !sup {
				t.Error("erased number not suppressed after reopening")
			}
		}
		return err
	}
	if err := reopen(); err != nil {
		t.Fatalf("reopen with the key: %v", err)
	}
	// Elsewhere, named by the option.
	moved := filepath.Join(t.TempDir(), "cle")
	if err := os.Rename(keyPath, moved); err != nil {
		t.Fatal(err)
	}
	if err := reopen(WithKeyFile(moved)); err != nil {
		t.Errorf("reopen with the key elsewhere: %v", err)
	}
	if err := reopen(); !errors.Is(err, ErrKeyMissing) {
		t.Errorf("open without the key = %v, want ErrKeyMissing", err)
	}
	if _, err := os.Stat(keyPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a new key was made while erased numbers need the old one: %v", err)
	}
	other, _ := newKey()
	if err := writeKeyFile(keyPath, &keyring{key: other}); err != nil {
		t.Fatal(err)
	}
	if err := reopen(); !errors.Is(err, ErrKeyMismatch) {
		t.Errorf("open with another key = %v, want ErrKeyMismatch", err)
	}
	if err := os.Rename(moved, keyPath); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(keyPath, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := reopen(); !errors.Is(err, ErrKeyFile) || !strings.Contains(err.Error(), "0644") {
		t.Errorf("open with a key readable by all = %v, want ErrKeyFile", err)
	}
}

// An earlier version's entries (HMAC, key inside the database) keep
// suppressing their numbers; the key moves out of the file at Open.
func TestEarlierHMACEntriesMoveTheirKeyOut(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "vigie.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, DefaultKeyFile)); err != nil {
		t.Fatal(err)
	}
	legacy := bytes.Repeat([]byte{0x5a}, 32)
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketMeta).Delete(keyKeyFingerprint); err != nil {
			return err
		}
		if err := tx.Bucket(bucketMeta).Put(keySuppressionKey, legacy); err != nil {
			return err
		}
		b, err := tx.CreateBucket(bucketSuppressedHashes)
		if err != nil {
			return err
		}
		return putJSON(b, legacyHash(legacy, dave), suppression{At: t0})
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTest(t, path)
	if bytes.Contains(readRaw(t, path), legacy) {
		t.Error("the earlier key is still in the database file")
	}
	k, err := readKeyFile(filepath.Join(dir, DefaultKeyFile))
	if err != nil || !bytes.Equal(k.legacy, legacy) {
		t.Fatalf("key file = %+v, %v; want the earlier key in it", k, err)
	}
	if sup, _ := s.Suppressed(dave); !sup {
		t.Error("an earlier erasure no longer suppresses")
	}
	if _, _, err := s.Enrol(Enrolment{Phone: dave, Zones: []string{"macon"}}, t0); !errors.Is(err, ErrSuppressed) {
		t.Errorf("add after an earlier erasure = %v, want ErrSuppressed", err)
	}
	if _, err := apply(t, s, dave, Effect{Subscribe: &Subscription{Phone: dave, Zone: "macon", Source: SourceSMS}}, t0); err != nil {
		t.Fatal(err)
	}
	if sup, _ := s.Suppressed(dave); sup {
		t.Error("an SMS subscription left the earlier entry")
	}
}

// Sending, choosing recipients and applying replies never compute the
// slow hash; an import computes one per distinct row, and none before any
// erasure.
func TestOnlySubscriptionAndImportHash(t *testing.T) {
	s := newTest(t)
	var rows []Enrolment
	for i := range 20 {
		rows = append(rows, Enrolment{Phone: fmt.Sprintf("+336100000%02d", i), Zones: []string{"macon"}})
	}
	if _, err := s.Import(rows, false, t0); err != nil {
		t.Fatal(err)
	}
	if n := s.keys.slow.Load(); n != 0 {
		t.Errorf("%d hashes before any erasure, want 0", n)
	}
	if _, err := s.EraseSubscriber(carol, t0); err != nil {
		t.Fatal(err)
	}
	before := s.keys.slow.Load()

	recipients, err := s.ActiveRecipients([]string{"macon"}, nil, false)
	if err != nil || len(recipients) != 20 {
		t.Fatalf("ActiveRecipients = %d, %v", len(recipients), err)
	}
	mustCreateAlert(t, s, recipients, t0)
	if _, err := s.EnqueueReply(KindReply, carol, "aide", 1, false, t0); err != nil {
		t.Fatal(err)
	}
	in := receive(t, s, bob, "bonjour", t0)
	if _, err := s.ApplyInbound(in.ID, Effect{Outcome: "inbox", ToInbox: true, ReplyCap: 5,
		Reply: &Reply{To: bob, Text: "message transmis", Parts: 1}}, t0); err != nil {
		t.Fatal(err)
	}
	for range 22 {
		m := mustClaim(t, s, t0)
		if err := s.MarkSent(m.ID, []int{1}, t0); err != nil {
			t.Fatal(err)
		}
	}
	claimNone(t, s, t0)
	if n := s.keys.slow.Load() - before; n != 0 {
		t.Errorf("the send path computed %d slow hashes, want 0", n)
	}

	rows = append(rows, rows[0], Enrolment{Phone: carol, Zones: []string{"macon"}})
	outs, err := s.Import(rows, true, t0)
	if err != nil || outs[len(outs)-1] != OutcomeSuppressed {
		t.Fatalf("Import = %v, %v", outs, err)
	}
	if n := s.keys.slow.Load() - before; n != 21 {
		t.Errorf("an import of 21 distinct numbers computed %d hashes", n)
	}
}

// Erasures compact the file while senders, readers and writers go on:
// none of them fails or sees a closed file (run with -race).
func TestEraseWhileBusy(t *testing.T) {
	s := newTest(t)
	mustEnrol(t, s, Enrolment{Phone: bob, Zones: []string{"macon"}}, t0)
	stop := make(chan struct{})
	errs := make(chan error, 3)
	var wg sync.WaitGroup
	for _, work := range []func() error{
		func() error { _, err := s.Subscribers(); return err },
		func() error { _, err := s.EnqueueReply(KindTest, bob, "test", 1, false, t0); return err },
		func() error { _, _, err := s.Claim("m1", t0); return err },
	} {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := work(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range 5 {
		if _, err := s.EraseSubscriber(fmt.Sprintf("+3369900000%d", i), t0); err != nil {
			t.Errorf("EraseSubscriber: %v", err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent call during compaction: %v", err)
	}
}

func FuzzParseKeyFile(f *testing.F) {
	k := &keyring{key: bytes.Repeat([]byte{1}, keyLen), legacy: bytes.Repeat([]byte{2}, keyLen)}
	f.Add(k.format())
	f.Add([]byte("argon2id " + strings.Repeat("ab", keyLen)))
	f.Add([]byte("# only a comment\n"))
	f.Add([]byte("argon2id zz\n"))
	f.Add([]byte("hmac-sha256 " + strings.Repeat("00", keyLen) + "\n"))
	f.Add([]byte("argon2id " + strings.Repeat("ab", keyLen) + "\nargon2id " + strings.Repeat("cd", keyLen)))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := parseKeyFile(data)
		if err != nil {
			if !errors.Is(err, ErrKeyFile) {
				t.Fatalf("error %v does not wrap ErrKeyFile", err)
			}
			return
		}
		if len(k.key) != keyLen || (k.legacy != nil && len(k.legacy) != keyLen) {
			t.Fatalf("parsed %+v", k)
		}
		again, err := parseKeyFile(k.format())
		if err != nil || !bytes.Equal(again.key, k.key) || !bytes.Equal(again.legacy, k.legacy) {
			t.Fatalf("format does not round-trip: %+v, %v", again, err)
		}
	})
}

// An erasure whose compaction cannot run (here the directory is gone, so
// no copy can be written beside the file) stands, says so with
// ErrNotCompacted, and the store goes on.
func TestEraseNotCompacted(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sub")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	s, err := Open(filepath.Join(dir, "vigie.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustEnrol(t, s, Enrolment{Phone: dave, Zones: []string{"macon"}}, t0)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	got, err := s.EraseSubscriber(dave, t0)
	if !errors.Is(err, ErrNotCompacted) || !got.Subscriber {
		t.Fatalf("EraseSubscriber = %+v, %v; want the erasure done and ErrNotCompacted", got, err)
	}
	if sup, err := s.Suppressed(dave); err != nil || !sup {
		t.Errorf("after an uncompacted erasure: suppressed %v, %v", sup, err)
	}
	if _, found, err := s.Subscriber(dave); err != nil || found {
		t.Errorf("subscriber still found: %v, %v", found, err)
	}
	_ = s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta).Get(keyCompactPending) == nil {
			t.Error("the compaction is not left pending for the next Open")
		}
		return nil
	})
}

// With the key lost for good, ForgetErased drops the hashes so that the
// database opens again, with a new key; it refuses while the key exists.
func TestForgetErasedWhenTheKeyIsLost(t *testing.T) {
	dir := t.TempDir()
	path, keyPath := filepath.Join(dir, "vigie.db"), filepath.Join(dir, DefaultKeyFile)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	mustEnrol(t, s, Enrolment{Phone: bob, Zones: []string{"macon"}}, t0)
	for _, p := range []string{dave, carol} {
		if _, err := s.EraseSubscriber(p, t0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := ForgetErased(path, keyPath); !errors.Is(err, ErrKeyPresent) {
		t.Errorf("ForgetErased with the key present = %v, want ErrKeyPresent", err)
	}
	if _, err := ForgetErased(filepath.Join(dir, "absent.db"), filepath.Join(dir, "k")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ForgetErased of no database = %v, want ErrNotExist", err)
	}
	if err := os.Remove(keyPath); err != nil {
		t.Fatal(err)
	}
	if n, err := ForgetErased(path, keyPath); err != nil || n != 2 {
		t.Fatalf("ForgetErased = %d, %v; want 2", n, err)
	}
	s = openTest(t, path)
	if _, err := os.Stat(keyPath); err != nil {
		t.Errorf("no new key: %v", err)
	}
	if sup, _ := s.Suppressed(dave); sup {
		t.Error("a forgotten number is still suppressed")
	}
	if sub, found, _ := s.Subscriber(bob); !found || sub.Status != StatusActive {
		t.Errorf("bob after ForgetErased: %+v, %v", sub, found)
	}
}
