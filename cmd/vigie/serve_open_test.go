package main

import (
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"

	"vigie/gateway/config"
	"vigie/store"
)

// Each way the database can fail to open is told in French with the next
// step, the cause kept for errors.Is.
func TestOpenFailureSaysWhatToDo(t *testing.T) {
	cfg := &config.Config{Store: config.Store{Path: "/var/lib/vigie/vigie.db"}, Backup: config.Backup{Dir: "/var/lib/vigie/backups", Keep: 7}}
	for _, tc := range []struct {
		name  string
		cause error
		want  []string
	}{
		{"locked", store.ErrLocked, []string{"déjà ouverte", "systemctl status vigie"}},
		{"empty", fmt.Errorf("store: open x: empty file (0 bytes), not a database: %w", store.ErrCorrupt),
			[]string{"vide ou endommagée", "refuse de démarrer", "restaurer une sauvegarde", "/var/lib/vigie/backups", "« vigie backup »", "install -o vigie -g vigie -m 0600"}},
		{"root's file", fmt.Errorf("store: open x: %w", &fs.PathError{Op: "open", Path: "/var/lib/vigie/vigie.db", Err: os.ErrPermission}),
			[]string{"pas accessible au démon", "chown vigie:vigie /var/lib/vigie/vigie.db", "chmod 0600"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := openFailure(cfg, tc.cause)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
			if !strings.Contains(err.Error(), tc.cause.Error()) {
				t.Errorf("%q does not keep the cause %q", err, tc.cause)
			}
		})
	}
	// Without nightly copies, the message names only vigie backup.
	cfg.Backup.Keep = 0
	if err := openFailure(cfg, store.ErrCorrupt); strings.Contains(err.Error(), "nocturnes") {
		t.Errorf("nightly copies named with keep = 0: %q", err)
	}
}
