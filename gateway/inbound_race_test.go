package gateway

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"vigie/gateway/config"
	"vigie/store"
)

// Two modem workers rescan the unprocessed SMS at the same minute: each SMS
// is handled by one of them, and the other does nothing — no second reply,
// no second audit record, no second "handled" line.
func TestTwoWorkersHandleEachSMSOnce(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Parse(strings.NewReader(fmt.Sprintf(testConfig, dir, "open")), "test.toml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(cfg.Store.Path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	logs := &syncBuffer{}
	g, err := New(cfg, st, Options{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	const n = 30
	for i := range n {
		from := fmt.Sprintf("+336120000%02d", i)
		if _, _, err := st.SaveInboundPart(store.InboundPart{Key: from, From: from, Total: 1, Text: "INSCRIPTION macon", ReceivedAt: g.now()}); err != nil {
			t.Fatal(err)
		}
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			<-start
			if left, err := g.processUnhandled(); left != 0 || err != nil {
				t.Errorf("processUnhandled: %d left, %v", left, err)
			}
		})
	}
	close(start)
	wg.Wait()

	counts, err := st.QueueCounts()
	if err != nil {
		t.Fatal(err)
	}
	if counts[store.StateQueued] != n {
		t.Errorf("%d replies queued, want %d", counts[store.StateQueued], n)
	}
	recs, err := st.Audit(time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	audited := 0
	for _, r := range recs {
		if r.Action == "SMS subscribed" {
			audited++
		}
	}
	if audited != n {
		t.Errorf("%d audit records of SMS subscriptions, want %d", audited, n)
	}
	out := logs.String()
	if got := strings.Count(out, `msg="inbound SMS handled"`); got != n {
		t.Errorf("%d lines \"inbound SMS handled\", want %d", got, n)
	}
	if strings.Contains(out, "level=ERROR") || strings.Contains(out, "level=WARN") {
		t.Errorf("the worker that lost a race logged:\n%s", out)
	}
}
