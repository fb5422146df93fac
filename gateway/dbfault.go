package gateway

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"vigie/store"
)

// writeFault is the database's write health. A write that the disk refused
// (full, read-only, failing) puts the daemon in its fault state — status,
// LED, journal — until a write succeeds again: the inbound retry and the
// sender try again every few seconds, so the state clears by itself soon
// after space comes back.
type writeFault struct {
	mu    sync.Mutex
	since time.Time // zero: writes work
	msg   string    // French, for the status: what failed, what to do
}

// noteWrite records the outcome of a write to the database: nil clears the
// fault, a disk fault sets it. Other errors (the store's rules refusing an
// operation) say nothing about the disk. known is true when err is a disk
// fault already reported: a caller that retries every few seconds then logs
// its own failure at debug level, not one error line per retry.
func (g *Gateway) noteWrite(err error) (known bool) {
	dir := filepath.Dir(g.cfg.Store.Path)
	f := &g.writes
	switch {
	case err == nil:
		f.mu.Lock()
		since := f.since
		f.since, f.msg = time.Time{}, ""
		f.mu.Unlock()
		if !since.IsZero() {
			g.log.Info("database writes work again; fault cleared", "dir", dir, "failed_since", since)
		}
	case store.IsDiskFault(err):
		now := g.now()
		f.mu.Lock()
		first := f.since.IsZero()
		if first {
			f.since, f.msg = now, writeFaultFrench(err, dir, now)
		}
		f.mu.Unlock()
		if first {
			g.log.Error("database write failed: daemon in fault state until writes work again", "dir", dir, "err", err)
		}
		return !first
	}
	return false
}

// writeFaultStatus is the French fault message, "" when writes work.
func (g *Gateway) writeFaultStatus() string {
	g.writes.mu.Lock()
	defer g.writes.mu.Unlock()
	return g.writes.msg
}

// writeFaultFrench says, for the technician, what the disk refused and what
// to do.
func writeFaultFrench(err error, dir string, since time.Time) string {
	at := since.Local().Format("02/01 15:04:05")
	switch {
	case store.DiskFull(err):
		return fmt.Sprintf("écriture impossible depuis le %s : plus de place sur le disque. "+
			"Libérer de la place sur %s (df -h %s) ; les SMS reçus restent dans le modem "+
			"et sont traités dès que la base s'écrit de nouveau.", at, dir, dir)
	case errors.Is(err, syscall.EROFS):
		return fmt.Sprintf("écriture impossible depuis le %s : le système de fichiers de %s est en lecture seule "+
			"(carte SD ou disque en défaut ?). Voir journalctl -k, puis redémarrer la machine.", at, dir)
	}
	return fmt.Sprintf("écriture impossible depuis le %s : erreur du disque de %s (%v). "+
		"Voir journalctl -k ; si le disque est en cause, le remplacer et restaurer une sauvegarde.", at, dir, err)
}
