package gateway

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"vigie/gateway/apitype"
	"vigie/gateway/config"
	"vigie/modem/sim"
	"vigie/store"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// newCareGateway builds a gateway (not running) on clock with extra
// config appended to the test config.
func newCareGateway(t *testing.T, clock func() time.Time, extra string) (*Gateway, *store.Store, string) {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Parse(strings.NewReader(fmt.Sprintf(testConfig, dir, "open")+extra), "test.toml")
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	st, err := store.Open(cfg.Store.Path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	g, err := New(cfg, st, Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	return g, st, dir
}

func TestNightlyBackupRotates(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 5, 4, 2, 0, 0, 0, time.UTC)}
	g, st, dir := newCareGateway(t, clock.Now, "\n[backup]\nkeep = 2\nat = \"03:00\"\n")
	backups := filepath.Join(dir, "backups") // the default: next to the database
	if g.cfg.Backup.Dir != backups {
		t.Fatalf("backup dir %s, want %s", g.cfg.Backup.Dir, backups)
	}
	if _, err := st.AddSubscriber(store.Subscription{Phone: "+33611111111", Zone: "macon", Source: "operator"}, clock.Now()); err != nil {
		t.Fatal(err)
	}
	list := func() []string {
		t.Helper()
		entries, _ := os.ReadDir(backups)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}

	clock.Set(time.Date(2026, 5, 4, 2, 59, 59, 0, time.UTC))
	g.backupStep()
	if got := list(); len(got) != 0 {
		t.Fatalf("before 03:00: %v", got)
	}
	clock.Set(time.Date(2026, 5, 4, 3, 0, 0, 0, time.UTC))
	g.backupStep()
	if got := list(); !slices.Equal(got, []string{"vigie-20260504.db"}) {
		t.Fatalf("at 03:00: %v", got)
	}
	copyPath := filepath.Join(backups, "vigie-20260504.db")
	if fi, err := os.Stat(copyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, %v", fi, err)
	}
	// With the live key: opening a copy with none would make one beside it.
	c, err := store.Open(copyPath, store.WithKeyFile(g.cfg.Store.KeyFile))
	if err != nil {
		t.Fatalf("open the backup: %v", err)
	}
	subs, err := c.Subscribers()
	c.Close()
	if err != nil || len(subs) != 1 {
		t.Errorf("backup subscribers = %+v, %v", subs, err)
	}

	// Other files in the directory are never rotated away.
	for _, name := range []string{"notes.txt", "vigie-avant-migration.db"} {
		if err := os.WriteFile(filepath.Join(backups, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	clock.Set(time.Date(2026, 5, 4, 3, 0, 30, 0, time.UTC))
	g.backupStep() // done for today
	for day := 5; day <= 7; day++ {
		clock.Set(time.Date(2026, 5, day, 3, 0, 10, 0, time.UTC))
		g.backupStep()
	}
	want := []string{"notes.txt", "vigie-20260506.db", "vigie-20260507.db", "vigie-avant-migration.db"}
	if got := list(); !slices.Equal(got, want) {
		t.Errorf("after four nights with keep = 2: %v, want %v", got, want)
	}
}

// A nightly backup that fails is in the status until one succeeds.
func TestNightlyBackupFailureShowsInStatus(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 5, 4, 2, 0, 0, 0, time.UTC)}
	g, _, dir := newCareGateway(t, clock.Now, "\n[backup]\nat = \"03:00\"\n")
	backups := filepath.Join(dir, "backups")
	if err := os.WriteFile(backups, []byte("a file where the directory should be"), 0o600); err != nil {
		t.Fatal(err)
	}
	clock.Set(time.Date(2026, 5, 4, 3, 0, 0, 0, time.UTC))
	g.backupStep()
	st, _ := g.Status()
	if !strings.Contains(st.BackupError, "sauvegarde du 04/05 impossible") {
		t.Fatalf("status backup error %q", st.BackupError)
	}
	if err := os.Remove(backups); err != nil {
		t.Fatal(err)
	}
	clock.Set(time.Date(2026, 5, 5, 3, 0, 0, 0, time.UTC))
	g.backupStep()
	if st, _ := g.Status(); st.BackupError != "" {
		t.Errorf("after a good backup, status still says %q", st.BackupError)
	}
}

func TestRetentionStepPurgesOldHistory(t *testing.T) {
	now := time.Date(2027, 6, 1, 12, 0, 0, 0, time.UTC)
	clock := &fakeClock{now: now}
	g, st, _ := newCareGateway(t, clock.Now, "\n[retention]\nmonths = 12\n")
	old := now.AddDate(-1, 0, -1)
	const shop = "+33611111111"
	for i, at := range []time.Time{old, now.Add(-time.Hour)} {
		in, _, err := st.SaveInboundPart(store.InboundPart{Key: fmt.Sprint(i), From: shop, Total: 1, Text: "vu une Clio grise", ReceivedAt: at})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.ApplyInbound(in.ID, store.Effect{Outcome: "inbox", ToInbox: true}, at); err != nil {
			t.Fatal(err)
		}
	}
	for _, at := range []time.Time{old, now.Add(-time.Hour)} {
		if _, err := st.AppendAudit(store.AuditRecord{Time: at, User: "gendarme", Action: "POST /v1/alerts", Label: "alerte"}); err != nil {
			t.Fatal(err)
		}
	}
	g.retentionStep()
	inbox, err := st.Inbox()
	if err != nil || len(inbox) != 1 || !inbox[0].ReceivedAt.Equal(now.Add(-time.Hour)) {
		t.Errorf("inbox after the purge = %+v, %v; want the recent message only", inbox, err)
	}
	// The audit log loses its old record and still verifies, from the next.
	if recs, err := st.Audit(time.Time{}); err != nil || len(recs) != 1 || recs[0].Seq != 2 {
		t.Errorf("audit after the purge = %+v, %v; want record 2 only", recs, err)
	}
	c, err := g.VerifyAudit()
	if err != nil || !c.OK || c.Records != 1 || c.From != 2 || !c.PurgedThrough.Equal(old) {
		t.Errorf("VerifyAudit after the purge = %+v, %v; want intact from 2, purged through %v", c, err, old)
	}
}

// Without a modem to send it, the canary is failed 30 minutes after it
// was queued, and the status turns degraded.
func TestCanaryNotDeliveredInTime(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)}
	g, st, _ := newCareGateway(t, clock.Now, "\n[canary]\nnumber = \"06 99 99 00 00\"\nat = \"09:00\"\n")
	g.canaryStep()
	if s, _ := g.Status(); s.Canary != nil {
		t.Fatalf("canary before 09:00: %+v", s.Canary)
	}
	sent := time.Date(2026, 5, 4, 9, 0, 5, 0, time.UTC)
	clock.Set(sent)
	g.canaryStep()
	s, _ := g.Status()
	if s.Canary == nil || s.Canary.State != apitype.CanaryPending || !s.Canary.LastSent.Equal(sent) {
		t.Fatalf("canary after 09:00: %+v", s.Canary)
	}
	if q, _ := st.QueueCounts(); q[store.StateQueued] != 1 {
		t.Errorf("queue %v, want the canary queued", q)
	}
	clock.Set(sent.Add(29 * time.Minute))
	g.canaryStep()
	if s, _ := g.Status(); s.Canary.State != apitype.CanaryPending {
		t.Errorf("canary after 29 min: %+v", s.Canary)
	}
	clock.Set(sent.Add(30 * time.Minute))
	g.canaryStep()
	s, _ = g.Status()
	if s.Canary.State != apitype.CanaryFailed || !strings.Contains(s.Canary.Error, "non remis après 30 minutes") {
		t.Errorf("canary after 30 min: %+v", s.Canary)
	}
	if s.State != "starting" { // no modem at all: starting wins
		t.Errorf("state %s", s.State)
	}
	// One canary a day: the next is due tomorrow.
	clock.Set(sent.Add(12 * time.Hour))
	g.canaryStep()
	if q, _ := st.QueueCounts(); q[store.StateQueued] != 1 {
		t.Errorf("queue %v, want still one canary", q)
	}

	// A restart (upgrade, watchdog) does not forget the failed canary, nor
	// send another one before tomorrow 09:00.
	again, err := New(g.cfg, st, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	again.canaryStep()
	s, _ = again.Status()
	if s.Canary == nil || s.Canary.State != apitype.CanaryFailed || !s.Canary.LastSent.Equal(sent) {
		t.Errorf("canary after a restart: %+v; want the failed one of %v", s.Canary, sent)
	}
	if q, _ := st.QueueCounts(); q[store.StateQueued] != 1 {
		t.Errorf("queue %v after a restart, want still one canary", q)
	}
}

// Through the simulated modem: the canary's delivery report makes it
// delivered; the next day, a failed report makes it failed and the daemon
// degraded.
func TestCanaryDeliveredThenFailed(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var offset time.Duration
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return time.Now().Add(offset)
	}
	jump := func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		offset += d
	}
	at := time.Now().Add(2 * time.Minute)
	const tech = "+33699990000"
	phones := sim.New(sim.Options{})
	t.Cleanup(func() { phones.Close() })
	r := newRigConfig(t, func(text, _ string) string {
		return text + fmt.Sprintf("\n[canary]\nnumber = %q\nat = \"%02d:%02d\"\n", tech, at.Hour(), at.Minute())
	}, Options{Now: clock}, phones)
	r.waitModem("ready", 10*time.Second, ready)
	r.g.canaryStep()
	if s, _ := r.g.Status(); s.Canary != nil {
		t.Fatalf("canary before its time: %+v", s.Canary)
	}

	waitCanary := func(state string) apitype.Status {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			r.g.canaryStep()
			s, err := r.g.Status()
			if err != nil {
				t.Fatal(err)
			}
			if s.Canary != nil && s.Canary.State == state {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("canary never %s: %+v; modem %+v", state, s.Canary, r.modem())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	jump(3 * time.Minute)
	r.g.canaryStep()
	got := r.waitPhones(tech, 1)
	if !strings.Contains(got[0].Text, "SMS de test quotidien de test") {
		t.Errorf("canary text %q", got[0].Text)
	}
	if s := waitCanary(apitype.CanaryDelivered); s.State != "ready" {
		t.Errorf("state %s after a delivered canary, want ready", s.State)
	}

	phones.SetReportStatus(tech, 0x46) // the network gave up: expired
	jump(24 * time.Hour)
	r.g.canaryStep()
	r.waitPhones(tech, 2)
	s := waitCanary(apitype.CanaryFailed)
	if s.State != "degraded" || !strings.Contains(s.Canary.Error, "SMS de test en échec : ") {
		t.Errorf("after a failed canary: state %s, canary %+v; want degraded", s.State, s.Canary)
	}
}

func TestOverallWithCare(t *testing.T) {
	ready := []apitype.ModemStatus{{State: apitype.ModemReady}}
	tests := []struct {
		name string
		st   apitype.Status
		want string
	}{
		{"sound", apitype.Status{Modems: ready}, "ready"},
		{"database error", apitype.Status{Modems: ready, DatabaseError: "corrompue"}, "fault"},
		{"canary delivered", apitype.Status{Modems: ready, Canary: &apitype.Canary{State: apitype.CanaryDelivered}}, "ready"},
		{"canary pending", apitype.Status{Modems: ready, Canary: &apitype.Canary{State: apitype.CanaryPending}}, "ready"},
		{"canary failed", apitype.Status{Modems: ready, Canary: &apitype.Canary{State: apitype.CanaryFailed}}, "degraded"},
		{"canary failed, database error", apitype.Status{Modems: ready, DatabaseError: "x", Canary: &apitype.Canary{State: apitype.CanaryFailed}}, "fault"},
		{"weak signal", apitype.Status{Modems: []apitype.ModemStatus{{State: apitype.ModemReady, SignalDBm: -109, SignalBars: 1}}}, "degraded"},
		{"good signal", apitype.Status{Modems: []apitype.ModemStatus{{State: apitype.ModemReady, SignalDBm: -73, SignalBars: 4}}}, "ready"},
		{"one of two modems without network", apitype.Status{Modems: []apitype.ModemStatus{{State: apitype.ModemReady}, {State: apitype.ModemNoNetwork}}}, "degraded"},
		{"the only modem locked", apitype.Status{Modems: []apitype.ModemStatus{{State: apitype.ModemSIMLocked}}}, "fault"},
	}
	for _, tt := range tests {
		if got := overall(tt.st, nil); got != tt.want {
			t.Errorf("%s: overall = %s, want %s", tt.name, got, tt.want)
		}
	}
}

// The purge frees a year-old fan-out's pages; the same step gives them back
// to the file system (bbolt alone never would), and the alert stays.
func TestRetentionStepCompactsAPurgedFile(t *testing.T) {
	now := time.Date(2027, 6, 1, 12, 0, 0, 0, time.UTC)
	clock := &fakeClock{now: now}
	g, st, _ := newCareGateway(t, clock.Now, "\n[retention]\nmonths = 12\n")
	old := now.AddDate(-1, 0, -1)
	recipients := make([]string, 20000)
	for i := range recipients {
		recipients[i] = fmt.Sprintf("+3361%07d", i)
	}
	a, err := st.CreateAlert(store.Alert{Author: "gendarme", Zones: []string{"macon"}, Text: "vol", Rendered: "vol",
		Encoding: "GSM7", Parts: 1}, recipients, old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CancelAlert(a.ID, old.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	grown, err := st.Footprint()
	if err != nil {
		t.Fatal(err)
	}
	g.retentionStep()
	after, err := st.Footprint()
	if err != nil {
		t.Fatal(err)
	}
	if after.File >= grown.File/2 {
		t.Errorf("file after the purge %d B, want under half of the %d B it had grown to", after.File, grown.File)
	}
	if got, err := st.Alert(a.ID); err != nil || got.Recipients != len(recipients) {
		t.Errorf("alert after the purge and compaction: %+v, %v", got, err)
	}
}
