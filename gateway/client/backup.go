package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
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
	resp, err := c.http.Do(req)
	if err != nil {
		if op := (*net.OpError)(nil); errors.As(err, &op) && op.Op == "dial" {
			// Dial again through do, for the same typed answer as every
			// other call (permission, unreachable); should the daemon
			// answer this time, decoding into nil still fails.
			return 0, c.do(ctx, http.MethodGet, "/v1/backup", nil, nil)
		}
		return 0, fmt.Errorf("copie de la base interrompue : %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e apitype.Error
		_ = json.NewDecoder(resp.Body).Decode(&e)
		if e.Error == "" {
			e.Error = resp.Status
		}
		if resp.StatusCode == http.StatusForbidden {
			return 0, &PermissionError{Message: e.Error}
		}
		return 0, &apitype.UserError{Status: resp.StatusCode, Message: e.Error}
	}
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
