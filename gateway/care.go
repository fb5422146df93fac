package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"time"

	"vigie/gateway/apitype"
	"vigie/gateway/phone"
	"vigie/gateway/render"
	"vigie/store"
)

// Database care and the canary (issue #6): the integrity check at
// start-up, the nightly backup, the retention purge and the daily test SMS
// to a technician. The loops wake every careTick and act when the clock
// (Options.Now) says a task is due, so that tests drive them with an
// injected clock through their step methods.

const (
	// careTick is how often the care loops look at the clock.
	careTick = 30 * time.Second
	// retentionEvery is how often the retention purge runs.
	retentionEvery = 6 * time.Hour
	// canaryTimeout: a canary not delivered within this is failed.
	canaryTimeout = 30 * time.Minute
	// canaryText is the test SMS; the station's name follows.
	canaryText = "Vigie : SMS de test quotidien de %s. Aucune réponse nécessaire."
)

// backupName matches the nightly copies in [backup] dir, so rotation never
// removes another file.
var backupName = regexp.MustCompile(`^vigie-[0-9]{8}\.db$`)

// care is the state of the care tasks: what the status shows and when each
// task is due next. Zero times are set from the start time on first use.
type care struct {
	mu            sync.Mutex
	dbError       string
	backupNext    time.Time
	retentionNext time.Time
	canaryNext    time.Time
	canaryID      uint64 // the latest canary's message; 0 before the first
	canary        apitype.Canary
	canaryLoaded  bool   // the last canary of a previous run was looked up
	backupError   string // the last nightly backup's failure, in French; "" once one succeeds
}

// careStatus adds the database and canary state to st.
func (g *Gateway) careStatus(st *apitype.Status) {
	g.care.mu.Lock()
	defer g.care.mu.Unlock()
	st.DatabaseError = g.care.dbError
	st.BackupError = g.care.backupError
	if g.care.canaryID != 0 {
		c := g.care.canary
		st.Canary = &c
	}
}

// checkDatabase runs the store's integrity check; a problem is logged and
// makes the status (and the LED) fault until the daemon restarts.
func (g *Gateway) checkDatabase() {
	start := g.mono()
	err := g.store.Check()
	if err == nil {
		g.log.Debug("database check passed", "took", (g.mono() - start).Round(time.Millisecond))
		return
	}
	msg := "erreur de lecture de la base : " + err.Error()
	if errors.Is(err, store.ErrCorrupt) {
		msg = "base de données corrompue, restaurer une sauvegarde : " + err.Error()
	}
	g.log.Error("database check failed: restore a backup", "err", err)
	g.care.mu.Lock()
	g.care.dbError = msg
	g.care.mu.Unlock()
}

// Backup streams a consistent copy of the database to w, while everything
// goes on; author is logged (the copy holds every subscriber's number).
func (g *Gateway) Backup(w io.Writer, author string) (int64, error) {
	n, err := g.store.WriteTo(w)
	if err != nil {
		return n, fmt.Errorf("backup for %s: %w", author, err)
	}
	g.log.Info("database copied through the API", "author", author, "bytes", n)
	return n, nil
}

// every calls step now and every careTick until ctx ends.
func (g *Gateway) every(ctx context.Context, name string, step func()) {
	t := time.NewTicker(g.careTick)
	defer t.Stop()
	beat := g.loops[name]
	defer beat.park()
	for {
		beat.stamp(g.mono())
		step()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// backupLoop takes the nightly backup ([backup] at) unless keep is 0.
func (g *Gateway) backupLoop(ctx context.Context) {
	if g.cfg.Backup.Keep > 0 {
		g.every(ctx, "backup", g.backupStep)
	}
}

// backupStep takes the backup if it is due.
func (g *Gateway) backupStep() {
	now := g.now()
	g.care.mu.Lock()
	if g.care.backupNext.IsZero() {
		g.care.backupNext = g.cfg.Backup.At.Next(g.startedAt())
	}
	due := !now.Before(g.care.backupNext)
	if due {
		g.care.backupNext = g.cfg.Backup.At.Next(now)
	}
	g.care.mu.Unlock()
	if !due {
		return
	}
	err := g.nightlyBackup(now)
	if err != nil {
		g.log.Error("nightly backup failed", "dir", g.cfg.Backup.Dir, "err", err)
	}
	g.care.mu.Lock()
	defer g.care.mu.Unlock()
	g.care.backupError = ""
	if err != nil {
		// Shown by vigie status until a later backup succeeds: a failure
		// at 03:00 must not wait for someone to read the journal.
		g.care.backupError = fmt.Sprintf("sauvegarde du %s impossible : %v", now.Format("02/01"), err)
	}
}

// nightlyBackup writes vigie-YYYYMMDD.db (the local day of now) into
// [backup] dir and removes the oldest copies beyond keep.
func (g *Gateway) nightlyBackup(now time.Time) error {
	dir := g.cfg.Backup.Dir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("backup directory: %w", err)
	}
	path := filepath.Join(dir, "vigie-"+now.Format("20060102")+".db")
	n, err := g.store.BackupFile(path)
	if err != nil {
		return err
	}
	g.log.Info("nightly backup written", "path", path, "bytes", n)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list backups: %w", err)
	}
	var copies []string
	for _, e := range entries {
		if e.Type().IsRegular() && backupName.MatchString(e.Name()) {
			copies = append(copies, e.Name())
		}
	}
	slices.Sort(copies) // oldest first: the names sort as dates
	for len(copies) > g.cfg.Backup.Keep {
		old := filepath.Join(dir, copies[0])
		if err := os.Remove(old); err != nil {
			return fmt.Errorf("remove old backup: %w", err)
		}
		g.log.Info("old backup removed", "path", old)
		copies = copies[1:]
	}
	return nil
}

// retentionLoop purges old history ([retention] months) at start-up and
// every retentionEvery, unless months is 0.
func (g *Gateway) retentionLoop(ctx context.Context) {
	if g.cfg.Retention.Months > 0 {
		g.every(ctx, "retention", g.retentionStep)
	}
}

// retentionStep runs the purge if it is due.
func (g *Gateway) retentionStep() {
	now := g.now()
	g.care.mu.Lock()
	due := !now.Before(g.care.retentionNext)
	if due {
		g.care.retentionNext = now.Add(retentionEvery)
	}
	g.care.mu.Unlock()
	if !due {
		return
	}
	before := now.AddDate(0, -g.cfg.Retention.Months, 0)
	p, err := g.store.Purge(before)
	switch {
	case err != nil:
		g.log.Error("retention purge failed", "err", err)
	case p != (store.Purged{}):
		g.log.Info("old history purged", "before", before.Format(time.DateOnly),
			"messages", p.Messages, "inbound", p.Inbound, "audit", p.Audit, "other", p.Other)
		g.compactAfterPurge()
	}
}

// compactAfterPurge gives the file back what a purge freed once that is
// half of it (store.CompactIfSparse): bbolt never shrinks a file, so
// without it the file keeps the size of its largest history for good.
func (g *Gateway) compactAfterPurge() {
	start := time.Now()
	before, after, err := g.store.CompactIfSparse()
	switch {
	case err != nil:
		g.log.Error("database compaction after the purge failed", "err", err)
	case after != before:
		g.log.Info("database compacted after the purge", "bytes_before", before.File,
			"bytes_after", after.File, "took", time.Since(start).Round(time.Millisecond))
	}
}

// canaryLoop sends the daily test SMS to [canary] number and follows its
// delivery.
func (g *Gateway) canaryLoop(ctx context.Context) {
	if g.cfg.Canary.Number != "" {
		g.every(ctx, "canary", g.canaryStep)
	}
}

// canaryStep settles the pending canary from its message's state, then
// sends the next one if it is due.
func (g *Gateway) canaryStep() {
	now := g.now()
	g.care.mu.Lock()
	defer g.care.mu.Unlock()
	if !g.care.canaryLoaded {
		g.care.canaryLoaded = true
		g.loadCanary()
	}
	if g.care.canaryID != 0 && g.care.canary.State == apitype.CanaryPending {
		g.settleCanary(now)
	}
	if g.care.canaryNext.IsZero() {
		g.care.canaryNext = g.cfg.Canary.At.Next(g.startedAt())
	}
	if now.Before(g.care.canaryNext) {
		return
	}
	g.care.canaryNext = g.cfg.Canary.At.Next(now)
	to := g.cfg.Canary.Number
	r := render.Render("", fmt.Sprintf(canaryText, g.cfg.Station.Name), "", true)
	// Sent even to a number that sent STOP: the technician asked for it
	// in the config.
	m, err := g.store.EnqueueReply(store.KindTest, to, r.Body, r.Parts, true, now)
	if err != nil {
		g.log.Error("canary not queued", "err", err)
		g.care.canary = apitype.Canary{LastSent: now, State: apitype.CanaryFailed, Error: "SMS de test non mis en file : " + err.Error()}
		return
	}
	g.care.canaryID = m.ID
	g.care.canary = apitype.Canary{LastSent: now, State: apitype.CanaryPending}
	g.log.Info("canary queued", "id", m.ID, "to", phone.Mask(to))
	if err := g.store.SaveState(canaryState, savedCanary{ID: m.ID, Sent: now}); err != nil {
		g.log.Error("remember the canary", "err", err)
	}
	g.wake()
}

// canaryState names the last canary in the store, so that a restart (an
// upgrade, the watchdog) does not forget a failed one until the next day.
const canaryState = "canary"

type savedCanary struct {
	ID   uint64    `json:"id"`
	Sent time.Time `json:"sent"`
}

// loadCanary takes up the last canary of a previous run; its state is
// derived again from its message. g.care.mu is held.
func (g *Gateway) loadCanary() {
	var c savedCanary
	found, err := g.store.LoadState(canaryState, &c)
	if err != nil {
		g.log.Error("read the last canary", "err", err)
		return
	}
	if !found || c.ID == 0 {
		return
	}
	g.care.canaryID = c.ID
	g.care.canary = apitype.Canary{LastSent: c.Sent, State: apitype.CanaryPending}
	g.settleCanary(g.now())
}

// canaryStateFrench says the canary message's state in the technician's
// status, which is French end to end.
var canaryStateFrench = map[store.State]string{
	store.StateQueued:     "encore en file",
	store.StateSending:    "en cours d'envoi",
	store.StateSent:       "envoyé, sans accusé de réception",
	store.StateDelivered:  "remis",
	store.StateFailed:     "en échec",
	store.StateExpired:    "expiré",
	store.StateCancelled:  "annulé",
	store.StateSuppressed: "non envoyé (STOP)",
}

// settleCanary decides the pending canary from its message; g.care.mu is
// held.
func (g *Gateway) settleCanary(now time.Time) {
	c := &g.care.canary
	m, err := g.store.Message(g.care.canaryID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		c.State, c.Error = apitype.CanaryFailed, "SMS de test introuvable"
	case err != nil:
		g.log.Error("read the canary", "id", g.care.canaryID, "err", err)
		return
	case m.State == store.StateDelivered:
		c.State = apitype.CanaryDelivered
		g.log.Info("canary delivered", "id", m.ID, "after", now.Sub(c.LastSent).Round(time.Second))
		return
	case m.State == store.StateFailed || m.State == store.StateExpired ||
		m.State == store.StateCancelled || m.State == store.StateSuppressed:
		c.State, c.Error = apitype.CanaryFailed, "SMS de test "+canaryStateFrench[m.State]
		if m.LastError != "" {
			c.Error += " : " + m.LastError
		}
	case now.Sub(c.LastSent) >= canaryTimeout:
		c.State, c.Error = apitype.CanaryFailed, fmt.Sprintf("SMS de test non remis après %d minutes (%s)", int(canaryTimeout.Minutes()), canaryStateFrench[m.State])
	default:
		return
	}
	g.log.Error("canary failed: check the modem, the SIM and the line", "id", g.care.canaryID, "reason", c.Error)
}
