package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// A backup taken while the store is open is a bbolt file that opens, passes
// Check and holds the same data; a backup over an older copy replaces it.
func TestBackupFile(t *testing.T) {
	s := newTest(t)
	a := mustCreateAlert(t, s, []string{alice, bob}, t0)
	m := mustClaim(t, s, t0)
	if err := s.MarkSent(m.ID, []int{7}, t0); err != nil {
		t.Fatal(err)
	}
	receive(t, s, carol, "bonjour", t0)

	dir := t.TempDir()
	path := filepath.Join(dir, "copy.db")
	if err := os.WriteFile(path, []byte("an older copy"), 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := s.BackupFile(path)
	if err != nil {
		t.Fatalf("BackupFile: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Size() != n || fi.Mode().Perm() != 0o600 {
		t.Fatalf("copy: %v, %v; want %d bytes, mode 0600", fi, err, n)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	// The original goes on while the copy is open.
	if _, err := s.CreateAlert(testAlert(1), []string{carol}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}

	c := openTest(t, path)
	if err := c.Check(); err != nil {
		t.Errorf("Check of the copy: %v", err)
	}
	got, err := c.Alerts()
	if err != nil || len(got) != 1 || got[0].ID != a.ID || got[0].Rendered != a.Rendered {
		t.Errorf("copy alerts = %+v, %v; want alert %d only", got, err, a.ID)
	}
	msgs, err := c.AlertMessages(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	states := []State{msgs[0].State, msgs[1].State}
	if !slices.Equal(states, []State{StateSent, StateQueued}) || !slices.Equal(msgs[0].Refs, []int{7}) {
		t.Errorf("copy messages = %+v", msgs)
	}
	if in, err := c.Unprocessed(); err != nil || len(in) != 1 || in[0].Text != "bonjour" {
		t.Errorf("copy inbound = %+v, %v", in, err)
	}
}

func TestWriteToStreams(t *testing.T) {
	s := newTest(t)
	mustCreateAlert(t, s, []string{alice}, t0)
	var buf bytes.Buffer
	n, err := s.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) || n == 0 {
		t.Fatalf("WriteTo = %d, %v; buffer %d bytes", n, err, buf.Len())
	}
	// bbolt flattens the writer's error into text.
	if _, err := s.WriteTo(failingWriter{}); err == nil || !strings.Contains(err.Error(), errDiskFull.Error()) {
		t.Errorf("WriteTo a failing writer = %v, want the disk full error", err)
	}
}

func TestBackupFileMissingDirectory(t *testing.T) {
	s := newTest(t)
	if _, err := s.BackupFile(filepath.Join(t.TempDir(), "nowhere", "copy.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("BackupFile into a missing directory = %v, want ErrNotExist", err)
	}
}

var errDiskFull = errors.New("disk full")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errDiskFull }
