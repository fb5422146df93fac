package gateway

import (
	"testing"
	"time"

	"vigie/gateway/apitype"
	"vigie/modem"
	"vigie/modem/sim"
	"vigie/store"
)

// A sender that is not a phone never acts as one, whatever its digits
// spell; an SMS with parts missing is never a keyword.
func TestSenderGate(t *testing.T) {
	g, _, _ := newGateway(t, "open")
	cases := []struct {
		in      store.Inbound
		kind    string // inbox marking
		outcome string
	}{
		{store.Inbound{From: "0612345679", FromKind: string(modem.SenderAlphanumeric), Text: "STOP"}, apitype.SenderAlphanumeric, "inbox"},
		{store.Inbound{From: "0612345679", FromKind: string(modem.SenderAlphanumeric), Text: "INSCRIPTION macon"}, apitype.SenderAlphanumeric, "inbox"},
		{store.Inbound{From: "+33612345679", FromKind: string(modem.SenderShortCode), Text: "OUI 1234"}, apitype.SenderShortCode, "inbox"},
		{store.Inbound{From: "ORANGE", Text: "STOP"}, apitype.SenderAlphanumeric, "inbox"},
		{store.Inbound{From: "36179", Text: "STOP"}, apitype.SenderShortCode, "inbox"},
		// Digits no mobile has: a landline, a number of no plan.
		{store.Inbound{From: "+33385123456", Text: "STOP"}, apitype.SenderInvalid, "inbox"},
		{store.Inbound{From: "99999999999", Text: "INSCRIPTION macon"}, apitype.SenderInvalid, "inbox"},
		{store.Inbound{From: "ORANGE", Text: "  "}, apitype.SenderAlphanumeric, "empty"},
		// The number itself still acts; its incomplete SMS does not.
		{store.Inbound{From: "0612345679", Text: "STOP"}, "", "stopped"},
		{store.Inbound{From: "+33612345679", Text: "STOP", Missing: []int{2}, Parts: 2}, "", "inbox"},
		{store.Inbound{From: "+33612345679", Text: "", Missing: []int{1}, Parts: 2}, "", "inbox"},
	}
	for _, c := range cases {
		if kind := g.senderKind(c.in.From, c.in.FromKind); kind != c.kind {
			t.Errorf("%q (%q): kind %q, want %q", c.in.From, c.in.FromKind, kind, c.kind)
		}
		e := g.effect(c.in)
		if e.Outcome != c.outcome || e.ToInbox != (c.outcome == "inbox") {
			t.Errorf("%q (%q) %q: effect %+v, want outcome %s", c.in.From, c.in.FromKind, c.in.Text, e, c.outcome)
		}
		if c.outcome != "stopped" && (e.Reply != nil || e.Unsubscribe != "" || e.Subscribe != nil || e.Request != nil || e.Confirm != "") {
			t.Errorf("%q (%q) %q: acted as a phone: %+v", c.in.From, c.in.FromKind, c.in.Text, e)
		}
	}
	if string(modem.SenderAlphanumeric) != apitype.SenderAlphanumeric || string(modem.SenderShortCode) != apitype.SenderShortCode {
		t.Error("modem and apitype name sender kinds differently")
	}
}

// Through the real PDU path: an alphanumeric "0612345679" sending STOP
// leaves the subscribed number 0612345679 subscribed and gets no reply.
func TestAlphanumericSenderSpellingASubscriber(t *testing.T) {
	g, st, dir := newGateway(t, "open")
	phones := run(t, g, dir)
	const shop = "+33612345679"
	if err := phones.Inject(shop, "INSCRIPTION macon"); err != nil {
		t.Fatal(err)
	}
	wait(t, phones, shop, 1)
	if err := phones.Deliver(sim.Delivery{From: "0612345679", Alphanumeric: true, Text: "STOP"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		es, err := st.InboxEntries()
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 1 {
			if e := es[0]; e.From != "0612345679" || e.FromKind != apitype.SenderAlphanumeric || e.Text != "STOP" {
				t.Fatalf("inbox entry %+v", e)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("inbox %+v", es)
		}
		time.Sleep(20 * time.Millisecond)
	}
	sub, found, err := st.Subscriber(shop)
	if err != nil || !found || sub.Status != store.StatusActive {
		t.Errorf("subscriber after a forged STOP: %+v, %v, %v", sub, found, err)
	}
	if got := phones.Received(shop); len(got) != 1 {
		t.Errorf("%d SMS to the shop, want only its subscription reply", len(got))
	}
	if got := phones.Received("0612345679"); len(got) != 0 {
		t.Errorf("replied to an alphanumeric sender: %+v", got)
	}
}
