//go:build e2e

package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"vigie/gateway/apitype"
	"vigie/store"
)

// semiOctets is digits as a PDU carries an address: swapped nibbles, F
// filling an odd count.
func semiOctets(digits string) []byte {
	if len(digits)%2 == 1 {
		digits += "F"
	}
	nib := func(c byte) byte {
		if c == 'F' {
			return 0xF
		}
		return c - '0'
	}
	out := make([]byte, len(digits)/2)
	for i := 0; i < len(digits); i += 2 {
		out[i/2] = nib(digits[i+1])<<4 | nib(digits[i])
	}
	return out
}

// numberForms are the ways a French E.164 number could stand in a file:
// digits with or without country code, spaced or dotted, and a PDU's
// semi-octets, raw and in hex of either case.
func numberForms(e164 string) map[string][]byte {
	intl := strings.TrimPrefix(e164, "+")
	nsn := strings.TrimPrefix(intl, "33")
	national := "0" + nsn
	pairs := func(s string) string {
		var p []string
		for i := 0; i < len(s); i += 2 {
			p = append(p, s[i:i+2])
		}
		return strings.Join(p, " ")
	}
	forms := map[string][]byte{
		"E.164":                []byte(e164),
		"international digits": []byte(intl),
		"national":             []byte(national),
		"national significant": []byte(nsn),
		"spaced national":      []byte(pairs(national)),
		"spaced international": []byte("+33 " + nsn[:1] + " " + pairs(nsn[1:])),
		"dotted national":      []byte(strings.ReplaceAll(pairs(national), " ", ".")),
	}
	for name, digits := range map[string]string{"international": intl, "national": national} {
		so := semiOctets(digits)
		forms["semi-octets "+name] = so
		forms["semi-octets hex "+name] = []byte(strings.ToUpper(hex.EncodeToString(so)))
		forms["semi-octets hex lower "+name] = []byte(hex.EncodeToString(so))
	}
	return forms
}

// formsIn names the forms of e164 found in the file at path.
func formsIn(t *testing.T, path, e164 string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for name, f := range numberForms(e164) {
		if bytes.Contains(data, f) {
			found = append(found, name)
		}
	}
	return found
}

// A number that subscribed, got an alert and wrote to the box is, once
// erased, in no form in the raw bytes of the live database nor of a backup
// taken afterwards; an import still cannot add it back; the key that
// recognises it is a 0600 file of its own, in neither file, and without it
// the backup no longer knows the number.
func TestHostileEraseLeavesNoCopy(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{transliterate: true})
	const dave = "+33687654321"
	const witness = "voleur parti vers la gare"
	dbPath, keyPath := filepath.Join(e.dir, "vigie.db"), filepath.Join(e.dir, "suppression.key")

	// Enough other shops that the database spans many pages: the freed
	// ones that held the number are not all reused by the next writes.
	var others strings.Builder
	others.WriteString("Téléphone\n")
	for i := range 1500 {
		fmt.Fprintf(&others, "06 10 %02d %02d %02d\n", i/10000, i/100%100, i%100)
	}
	othersCSV := filepath.Join(t.TempDir(), "autres.csv")
	if err := os.WriteFile(othersCSV, []byte(others.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var added apitype.ImportReport
	if err := json.Unmarshal(e.mustVigie("subscribers", "import", othersCSV, "--zone", "macon-nord", "--json"), &added); err != nil || len(added.Rows) != 1500 || added.Rows[1499].Outcome != "added" {
		t.Fatalf("import of the other shops: %d rows, %v", len(added.Rows), err)
	}
	e.exchange(dave, "INSCRIPTION macon-centre", 1)
	a := e.sendAlert("--zone", "macon-centre", "vol à l'étalage rue Carnot")
	e.waitSMS(dave, 2)
	e.waitAlert(a.ID)
	e.exchange(dave, "J'ai vu le "+witness, 3) // to the inbox, acknowledged
	if found := formsIn(t, dbPath, dave); len(found) == 0 {
		t.Fatal("the number is not in the database before the erasure: the search finds nothing")
	}

	var rm apitype.RemoveSubscriberResult
	if err := json.Unmarshal(e.mustVigie("subscribers", "remove", "--erase", "--yes", "06 87 65 43 21", "--json"), &rm); err != nil || !rm.Erased || rm.Inbound < 2 || rm.Messages < 3 {
		t.Fatalf("remove --erase: %+v, %v", rm, err)
	}
	backup := filepath.Join(t.TempDir(), "apres.db")
	e.mustVigie("backup", backup)

	for _, p := range []string{dbPath, backup} {
		if found := formsIn(t, p, dave); len(found) != 0 {
			t.Errorf("%s holds the erased number as %v", p, found)
		}
		if data, _ := os.ReadFile(p); bytes.Contains(data, []byte(witness)) {
			t.Errorf("%s holds the erased number's SMS text", p)
		}
	}

	// The suppression list still knows the number.
	csv := filepath.Join(t.TempDir(), "adherents.csv")
	if err := os.WriteFile(csv, []byte("Téléphone\n06 87 65 43 21\n06 55 55 55 55\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var rep apitype.ImportReport
	if err := json.Unmarshal(e.mustVigie("subscribers", "import", csv, "--zone", "macon", "--json"), &rep); err != nil {
		t.Fatal(err)
	}
	if got := importOutcomes(rep); len(got) != 2 || got[0] != "2:skipped:suppressed" || got[1] != "3:added" {
		t.Errorf("import after erase = %v, want the erased number skipped as suppressed", got)
	}

	// The key: its own file, 0600, in neither database file.
	fi, err := os.Stat(keyPath)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v; want mode 0600", fi, err)
	}
	keyData, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	var key []byte
	for line := range strings.Lines(string(keyData)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "argon2id "); ok {
			key, _ = hex.DecodeString(v)
		}
	}
	if len(key) != 32 {
		t.Fatalf("key file holds no argon2id key:\n%s", keyData)
	}
	for _, p := range []string{dbPath, backup} {
		data, _ := os.ReadFile(p)
		if bytes.Contains(data, key) || bytes.Contains(data, []byte(hex.EncodeToString(key))) {
			t.Errorf("%s holds the suppression key", p)
		}
	}

	// The backup knows the erased number with the key, and is refused
	// without it.
	st, err := store.Open(backup, store.WithKeyFile(keyPath))
	if err != nil {
		t.Fatalf("open the backup with the key: %v", err)
	}
	if sup, err := st.Suppressed(dave); err != nil || !sup {
		t.Errorf("backup: erased number suppressed = %v, %v", sup, err)
	}
	st.Close()
	if _, err := store.Open(backup); !errors.Is(err, store.ErrKeyMissing) {
		t.Errorf("open the backup without the key = %v, want ErrKeyMissing", err)
	}

	// Restored without its key, the backup is refused by the daemon in
	// French, saying what to do; with a key others may read, too.
	restored := t.TempDir()
	data, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restored, "vigie.db"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(restored, "vigie.toml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(e2eConfig, restored, 600, true)), 0o600); err != nil {
		t.Fatal(err)
	}
	serve := func() (string, int) {
		out, err := exec.Command(vigieBin, "serve", "--config", cfg).CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("serve of the restored copy: %v\n%s", err, out)
		}
		return string(out), ee.ExitCode()
	}
	if out, code := serve(); code != 1 || !strings.Contains(out, "la clé de la liste d'opposition") || !strings.Contains(out, "restaurez le fichier depuis sa sauvegarde") {
		t.Errorf("serve without the key: exit %d\n%s\nwant 1 and what to do", code, out)
	}
	if _, err := os.Stat(filepath.Join(restored, "suppression.key")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("serve made a new key while erased numbers need the old one: %v", err)
	}
	if err := os.WriteFile(filepath.Join(restored, "suppression.key"), keyData, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := serve(); code != 1 || !strings.Contains(out, "chmod 600") {
		t.Errorf("serve with a key readable by all: exit %d\n%s\nwant 1 and chmod 600", code, out)
	}

	// The help says what erasure covers and what older backups keep.
	help := string(e.mustVigie("subscribers", "remove", "--help"))
	for _, w := range []string{"aucune copie du numéro n'y reste", "sauvegardes prises avant l'effacement gardent le numéro"} {
		if !strings.Contains(help, w) {
			t.Errorf("remove --help lacks %q", w)
		}
	}
}
