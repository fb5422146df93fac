package gateway

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"vigie/gateway/apitype"
	"vigie/store"
)

// receiveSMS saves and handles an inbound SMS as the modem worker would.
func receiveSMS(t *testing.T, g *Gateway, st *store.Store, from, text string) uint64 {
	t.Helper()
	in, _, err := st.SaveInboundPart(store.InboundPart{
		Key: fmt.Sprintf("%s|%s|%d", from, text, time.Now().UnixNano()), From: from, Total: 1, Seq: 1,
		Text: text, ReceivedAt: time.Now(),
	})
	if err != nil || in == nil {
		t.Fatalf("save inbound %q: %+v, %v", text, in, err)
	}
	g.handleInbound(*in)
	return in.ID
}

func TestInboxHoldsTextsAndApprovalRequests(t *testing.T) {
	g, st, _ := newGateway(t, "approval")
	const witness, shop = "+33611111111", "+33622222222"
	said := receiveSMS(t, g, st, witness, "Je l'ai vu partir vers la gare")
	asked := receiveSMS(t, g, st, shop, "INSCRIPTION macon")
	receiveSMS(t, g, st, shop, "AIDE") // answered, not for the inbox

	in, err := g.Inbox()
	if err != nil {
		t.Fatal(err)
	}
	if len(in) != 2 || in[0].ID != asked || in[1].ID != said {
		t.Fatalf("inbox = %+v; want the request then the witness's text", in)
	}
	if in[0].Outcome != apitype.OutcomeSubscribePending || in[1].Outcome != apitype.OutcomeInbox || in[1].From != witness || in[1].Read {
		t.Errorf("inbox = %+v", in)
	}

	m, err := g.MarkRead(context.Background(), said, "gendarme")
	if err != nil || !m.Read || m.ReadAt.IsZero() {
		t.Fatalf("MarkRead = %+v, %v", m, err)
	}
	if m, err := g.InboxMessage(said); err != nil || !m.Read || m.Text != "Je l'ai vu partir vers la gare" {
		t.Errorf("InboxMessage = %+v, %v", m, err)
	}
	var ue *apitype.UserError
	if _, err := g.InboxMessage(999); !errors.As(err, &ue) || ue.Kind != apitype.RefuseNotFound {
		t.Errorf("InboxMessage(999): %v, want a 404 UserError", err)
	}
	if _, err := g.MarkRead(context.Background(), 999, "gendarme"); !errors.As(err, &ue) || ue.Kind != apitype.RefuseNotFound {
		t.Errorf("MarkRead(999): %v, want a 404 UserError", err)
	}
}

func TestZonesCountActiveSubscribers(t *testing.T) {
	g, st, _ := newGateway(t, "open")
	receiveSMS(t, g, st, "+33611111111", "INSCRIPTION macon")
	receiveSMS(t, g, st, "+33622222222", "INSCRIPTION macon-centre")
	receiveSMS(t, g, st, "+33633333333", "INSCRIPTION macon-centre")
	receiveSMS(t, g, st, "+33633333333", "STOP")
	receiveSMS(t, g, st, "+33644444444", "INSCRIPTION charnay")

	zs, err := g.Zones()
	if err != nil {
		t.Fatal(err)
	}
	want := []apitype.Zone{
		{ID: "macon", Name: "Mâcon", Aliases: []string{"71000"}, Subscribers: 1, Reach: 2},
		{ID: "macon-centre", Name: "Mâcon centre", Parent: "macon", Aliases: []string{}, Subscribers: 1, Reach: 1},
		{ID: "charnay", Name: "Charnay-lès-Mâcon", Aliases: []string{}, Subscribers: 1, Reach: 1},
	}
	if fmt.Sprint(zs.Zones) != fmt.Sprint(want) {
		t.Errorf("zones =\n%+v\nwant\n%+v", zs.Zones, want)
	}
	if zs.Trades == nil || len(zs.Trades) != 0 {
		t.Errorf("trades = %#v, want an empty list", zs.Trades)
	}
}

func TestSendTest(t *testing.T) {
	g, st, dir := newGateway(t, "open")
	receiveSMS(t, g, st, "+33655555555", "STOP")
	var ue *apitype.UserError
	for _, c := range []struct{ to, want string }{
		{"pas un numéro", "numéro invalide"},
		{"06 55 55 55 55", "STOP"},
	} {
		if _, err := g.SendTest(context.Background(), apitype.TestRequest{To: c.to}, "gendarme"); !errors.As(err, &ue) || ue.Kind != apitype.RefuseInvalid {
			t.Errorf("SendTest(%q): %v, want a 400 saying %q", c.to, err, c.want)
		} else if !strings.Contains(ue.Message, c.want) {
			t.Errorf("SendTest(%q): %q, want %q in it", c.to, ue.Message, c.want)
		}
	}

	res, err := g.SendTest(context.Background(), apitype.TestRequest{To: "06 12 34 56 78", Text: "Essai de la ligne"}, "gendarme")
	if err != nil {
		t.Fatal(err)
	}
	if res.To != "+33612345678" || res.State != "queued" || res.Text != "Essai de la ligne" || res.Parts != 1 || res.Encoding != "GSM7" {
		t.Errorf("SendTest = %+v", res)
	}
	phones := run(t, g, dir)
	if got := wait(t, phones, "+33612345678", 1); got[0].Text != "Essai de la ligne" {
		t.Errorf("phone got %q", got[0].Text)
	}
}
