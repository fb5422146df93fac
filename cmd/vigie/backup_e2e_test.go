//go:build e2e

package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vigie/gateway/apitype"
	"vigie/store"
)

// `vigie backup FILE` copies the database of a running daemon: the copy
// opens, passes the integrity check and holds what the daemon recorded.
func TestBackupOfARunningDaemon(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{transliterate: true})
	const alice = "+33611111111"
	e.exchange(alice, "INSCRIPTION macon", 1)
	a := e.sendAlert("--zone", "macon", "vol à l'étalage")
	e.waitAlert(a.ID)

	path := filepath.Join(t.TempDir(), "copie.db")
	var res apitype.Backup
	if err := json.Unmarshal(e.mustVigie("backup", "--json", path), &res); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || res.Path != path || res.Bytes != fi.Size() || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup = %+v; file %v, %v; want the whole copy, mode 0600", res, fi, err)
	}
	st, err := store.Open(path)
	if err != nil {
		t.Fatalf("open the copy: %v", err)
	}
	defer st.Close()
	if err := st.Check(); err != nil {
		t.Errorf("check of the copy: %v", err)
	}
	if subs, err := st.Subscribers(); err != nil || len(subs) != 1 || subs[0].Phone != alice {
		t.Errorf("copy subscribers = %+v, %v", subs, err)
	}
	if alerts, err := st.Alerts(); err != nil || len(alerts) != 1 || alerts[0].ID != a.ID {
		t.Errorf("copy alerts = %+v, %v", alerts, err)
	}

	// The human output, and a directory that does not exist.
	again := filepath.Join(t.TempDir(), "b.db")
	if out := e.mustVigie("backup", again); !strings.Contains(string(out), "Copie de la base écrite dans "+again) {
		t.Errorf("backup output %q", out)
	}
	if _, errb, code := e.vigie("backup", filepath.Join(t.TempDir(), "absent", "c.db")); code != 1 || len(errb) == 0 {
		t.Errorf("backup into a missing directory: exit %d, stderr %q; want 1", code, errb)
	}
	if _, _, code := e.vigie("backup"); code != 2 {
		t.Errorf("backup without a file: exit %d, want 2", code)
	}

	// The status of a sound database shows no database error.
	var status apitype.Status
	if err := json.Unmarshal(e.mustVigie("status", "--json"), &status); err != nil {
		t.Fatal(err)
	}
	if status.DatabaseError != "" || status.State == "fault" {
		t.Errorf("status %s, database error %q", status.State, status.DatabaseError)
	}
}

// A second daemon on the same database gives up within the lock timeout
// and says why.
func TestSecondServeFailsFast(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, vigieBin, "serve", "--config", filepath.Join(e.dir, "vigie.toml"))
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("second serve still running after 30 s: %s", out)
	}
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "déjà ouverte par un autre démon vigie") {
		t.Errorf("second serve: %v\n%s\nwant exit 1 saying another daemon holds the database", err, out)
	}
}
