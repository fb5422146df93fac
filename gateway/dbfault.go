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

// writeFaultHold is how long writes must go without a disk failure before
// the fault clears. On a full disk bbolt still commits small transactions
// into pages it freed earlier, while anything that grows the data fails:
// without the hold the state would flap between fault and ready.
const writeFaultHold = 10 * time.Second

// writeFault is the database's write health. A write that the disk refused
// (full, read-only, failing) puts the daemon in its fault state — status,
// LED, one error line in the journal — until writes have succeeded again
// for writeFaultHold: the inbound retry and the sender try again every few
// seconds, so the state clears by itself soon after space comes back.
type writeFault struct {
	mu       sync.Mutex
	since    time.Time     // when the fault began (wall clock, for the message); zero: writes work
	lastFail time.Duration // the last disk failure (monotonic)
	okAfter  bool          // a write succeeded after lastFail
	msg      string        // French, for the status: what failed, what to do
}

// noteWrite records the outcome of a write to the database: a disk fault
// sets the fault state, a success lets it clear. Other errors (the store's
// rules refusing an operation) say nothing about the disk. known is true
// when err is a disk fault during a fault already reported: a caller that
// retries every few seconds then logs its failure at debug level, not one
// error line per retry.
func (g *Gateway) noteWrite(err error) (known bool) {
	f := &g.writes
	switch {
	case err == nil:
		f.mu.Lock()
		f.okAfter = true
		f.mu.Unlock()
		g.settleWrites()
	case store.IsDiskFault(err):
		dir := filepath.Dir(g.cfg.Store.Path)
		f.mu.Lock()
		first := f.since.IsZero()
		if first {
			now := g.now()
			f.since, f.msg = now, writeFaultFrench(err, dir, now)
		}
		f.lastFail, f.okAfter = g.mono(), false
		f.mu.Unlock()
		if first {
			g.log.Error("database write failed: daemon in fault state until writes work again", "dir", dir, "err", err)
		}
		return !first
	}
	return false
}

// settleWrites clears the fault once writes have worked for writeFaultHold
// since the last failure.
func (g *Gateway) settleWrites() {
	f := &g.writes
	f.mu.Lock()
	since := f.since
	clear := !since.IsZero() && f.okAfter && g.mono()-f.lastFail >= writeFaultHold
	if clear {
		f.since, f.msg = time.Time{}, ""
	}
	f.mu.Unlock()
	if clear {
		g.log.Info("database writes work again; fault cleared", "dir", filepath.Dir(g.cfg.Store.Path), "failed_since", since)
	}
}

// writeFaultStatus is the French fault message, "" when writes work. The
// LED loop asks every half second, which clears the fault in time.
func (g *Gateway) writeFaultStatus() string {
	g.settleWrites()
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
