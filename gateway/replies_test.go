package gateway

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"vigie/gateway/apitype"
	"vigie/gateway/config"
	"vigie/store"
)

// TestRepliesWaitBeyondTheirShare: with daily_cap = 10 and reply_share =
// 0.2, replies get 2 parts a day on the modem. A third reply stays queued
// while an alert goes, though replies go ahead of alerts otherwise.
func TestRepliesWaitBeyondTheirShare(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	text := fmt.Sprintf(testConfig, dir, "open")
	text = strings.Replace(text, "burst = 1\n", "burst = 1\ndaily_cap = 10\n", 1)
	text = strings.Replace(text, "[keywords]\n", "[keywords]\nreply_share = 0.2\n", 1)
	cfg, err := config.Parse(strings.NewReader(text), "test.toml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(cfg.Store.Path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	g, err := New(cfg, st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const shop, asker = "+33612345678", "+33698765432"
	if _, err := st.AddSubscriber(store.Subscription{Phone: shop, Zone: "macon"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	phones := run(t, g, dir)
	for _, text := range []string{"AIDE", "aide", "Aide ?"} { // distinct: not one SMS read thrice
		if err := phones.Inject(asker, text); err != nil {
			t.Fatal(err)
		}
	}
	wait(t, phones, asker, 2)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, _ := st.QueueCounts(); c[store.StateQueued] == 1 {
			break // the third reply, handled and held back
		}
		if time.Now().After(deadline) {
			t.Fatal("the third reply was never queued")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := g.SendAlert(context.Background(), apitype.AlertRequest{Zones: []string{"macon"}, Text: "vol"}, "test"); err != nil {
		t.Fatal(err)
	}
	wait(t, phones, shop, 1)
	if got := phones.Received(asker); len(got) != 2 {
		t.Errorf("asker got %d replies, want 2 (the share of daily_cap)", len(got))
	}
	if c, _ := st.QueueCounts(); c[store.StateQueued] != 1 {
		t.Errorf("queue %v: the held reply must stay queued, not dropped", c)
	}
	if n, _ := st.ReplyPartsSent("m1", time.Now()); n != 2 {
		t.Errorf("ReplyPartsSent = %d, want 2", n)
	}
}

// TestReplyRateShareOnlyAgainstAlerts: the replies' share of the rate
// holds them back only while an alert is due; an idle modem answers at
// its full rate. The claim decides it in its transaction.
func TestReplyRateShareOnlyAgainstAlerts(t *testing.T) {
	g, st, _ := newGateway(t, "open")
	w := g.workers[0]
	w.replies.Reserve() // the reply bucket is empty: its burst is spent
	if _, err := st.EnqueueReply(store.KindReply, "+33612345679", "r1", 1, false, g.now()); err != nil {
		t.Fatal(err)
	}
	res, err := st.ClaimNext(*w.claimRequest(nil))
	if err != nil || !res.OK || res.Msg.Kind != store.KindReply || res.Compete {
		t.Fatalf("no alert due: claimed %+v (ok %v, compete %v, %v); want the reply, free", res.Msg, res.OK, res.Compete, err)
	}
	if _, err := st.EnqueueReply(store.KindReply, "+33612345679", "r2", 1, false, g.now()); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateAlert(store.Alert{Category: "vol", Zones: []string{"macon"}, Text: "x", Rendered: "x", Encoding: "GSM7", Parts: 1},
		[]string{"+33612345678", "+33612345670"}, g.now()); err != nil {
		t.Fatal(err)
	}
	res, err = st.ClaimNext(*w.claimRequest(nil))
	if err != nil || !res.OK || res.Msg.Kind != store.KindAlert || !res.Compete {
		t.Fatalf("alert due, reply bucket empty: claimed %+v (ok %v, compete %v, %v); want the alert, the reply held", res.Msg, res.OK, res.Compete, err)
	}
	res, err = st.ClaimNext(*w.claimRequest(nil))
	if err != nil || !res.OK || res.Msg.Kind != store.KindAlert {
		t.Errorf("an alert still due: claimed %+v (ok %v, %v); want the second alert message, the reply still held", res.Msg, res.OK, err)
	}
}

// TestCodeRequestsLimitedPerDay: the fourth INSCRIPTION of a day gets no
// new code, and its reply says what to do; the third code still works.
func TestCodeRequestsLimitedPerDay(t *testing.T) {
	g, st, _ := newGateway(t, "confirm")
	const shop = "+33612345678"
	var texts []string
	for i := range codeRequestsPerDay + 1 {
		in, _, err := st.SaveInboundPart(store.InboundPart{Key: fmt.Sprint(i), From: shop, Total: 1,
			Text: "INSCRIPTION macon", ReceivedAt: g.now()})
		if err != nil {
			t.Fatal(err)
		}
		g.handleInbound(*in)
		m, ok, err := st.Claim("m1", g.now())
		if err != nil || !ok {
			t.Fatalf("request %d: no reply queued (%v)", i+1, err)
		}
		texts = append(texts, m.Text)
	}
	for i, text := range texts[:codeRequestsPerDay] {
		if !strings.Contains(text, "OUI ") {
			t.Errorf("request %d answered %q, want a code", i+1, text)
		}
	}
	if last := texts[codeRequestsPerDay]; strings.Contains(last, "OUI ") || !strings.Contains(last, "trop de demandes de code aujourd'hui") {
		t.Errorf("request %d answered %q, want no code and what to do", codeRequestsPerDay+1, last)
	}
	sub, _, _ := st.Subscriber(shop)
	if sub.Pending == nil || !strings.Contains(texts[codeRequestsPerDay-1], "OUI "+sub.Pending.Code) {
		t.Errorf("pending %+v: want the last code sent", sub.Pending)
	}
}
