package api_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vigie/gateway/api"
	"vigie/gateway/apitype"
	"vigie/gateway/client"
)

// copier is a Backend whose Backup writes data, then fails with err.
type copier struct {
	api.Backend // nil: parts these tests do not call
	data        []byte
	err         error
	author      string
}

func (c *copier) Backup(w io.Writer, author string) (int64, error) {
	c.author = author
	n, err := w.Write(c.data)
	if err == nil {
		err = c.err
	}
	return int64(n), err
}

func TestBackupStreamsToAFile(t *testing.T) {
	data := bytes.Repeat([]byte("page"), 100_000)
	b := &copier{data: data}
	c := client.New(serve(t, b))
	path := filepath.Join(t.TempDir(), "copy.db")
	n, err := c.BackupFile(context.Background(), path)
	if err != nil || n != int64(len(data)) {
		t.Fatalf("BackupFile = %d, %v", n, err)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("file holds %d bytes, %v; want the %d streamed", len(got), err, len(data))
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v; want 0600", fi.Mode(), err)
	}
	if b.author == "" || b.author == "unknown" {
		t.Errorf("author %q, want the caller", b.author)
	}
}

// A failure before the first byte is an ordinary error answer; after it,
// the stream is cut and the client reports it, leaving no file behind.
func TestBackupFailures(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		b    *copier
		want string
	}{
		// The cause is in the journal; the operator reads where to look.
		{"before the first byte", &copier{err: errors.New("disk unreadable")}, "erreur interne du démon (la cause est dans le journal : journalctl -u vigie -e)"},
		{"before the status went out", &copier{data: []byte("a page"), err: errors.New("read error")}, "copie de la base interrompue"},
		{"mid-stream", &copier{data: bytes.Repeat([]byte("page"), 1<<18), err: errors.New("read error")}, "copie de la base interrompue après"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".db")
			_, err := client.New(serve(t, tt.b)).BackupFile(context.Background(), path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("BackupFile = %v, want an error with %q", err, tt.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("files left: %v", entries)
			}
		})
	}
	var ue *apitype.UserError
	_, err := client.New(serve(t, &copier{err: errors.New("x")})).Backup(context.Background(), io.Discard)
	if !errors.As(err, &ue) || ue.Status != 500 {
		t.Errorf("Backup = %v, want a 500", err)
	}
	_, err = client.New(filepath.Join(dir, "absent.sock")).Backup(context.Background(), io.Discard)
	if !errors.Is(err, client.ErrUnreachable) {
		t.Errorf("Backup without a daemon = %v, want ErrUnreachable", err)
	}
}
