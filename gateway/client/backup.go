package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"vigie/gateway/apitype"
)

// Backup streams a consistent copy of the daemon's database into w and
// returns its size. A copy cut short (the daemon stopped, a read error) is
// an error, never a short success.
func (c *Client) Backup(ctx context.Context, w io.Writer) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://vigie/v1/backup", nil)
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	// No request timeout here: a large database may take a while to stream.
	resp, err := c.roundTrip(req)
	var refused *PermissionError
	var userErr *apitype.UserError
	switch {
	case err == nil:
	case errors.Is(err, ErrUnreachable), errors.As(err, &refused), errors.As(err, &userErr):
		return 0, err
	default: // the daemon went away before its first byte
		return 0, fmt.Errorf("copie de la base interrompue : %w", err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("copie de la base interrompue après %d octets : %w", n, err)
	}
	return n, nil
}

// BackupFile writes a copy of the daemon's database to path, mode 0600:
// into a temporary file beside it, synced, then renamed into place, so
// path is never a partial copy.
func (c *Client) BackupFile(ctx context.Context, path string) (int64, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return 0, fmt.Errorf("copie vers %s : %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the rename, fails harmlessly
	n, err := c.Backup(ctx, f)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("copie vers %s : %w", path, cerr)
	}
	if err != nil {
		return 0, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return 0, fmt.Errorf("copie vers %s : %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return 0, fmt.Errorf("copie vers %s : %w", path, err)
		}
	}
	return n, nil
}
