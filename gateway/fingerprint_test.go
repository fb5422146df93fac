package gateway

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"vigie/gateway/apitype"
	"vigie/store"
)

// TestPreviewAndSendScanOnce: the preview and the send of an alert to two
// zones each resolve the recipients in one subscriber scan (one per zone
// and the timeline's reach before), with the same counts as before.
func TestPreviewAndSendScanOnce(t *testing.T) {
	g, st, _ := newGateway(t, "open")
	for _, s := range []store.Subscription{
		{Phone: "+33611111111", Zone: "macon-centre"},
		{Phone: "+33622222222", Zone: "macon"},
		{Phone: "+33633333333", Zone: "charnay"},
	} {
		s.Source = "operator"
		if _, err := st.AddSubscriber(s, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.AddSubscriber(store.Subscription{Phone: "+33622222222", Zone: "charnay", Source: "operator"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	req := apitype.AlertRequest{Zones: []string{"macon", "charnay"}, Text: "faux billets"}
	before := st.TargetScans()
	p, err := g.PreviewAlert(req)
	if err != nil {
		t.Fatal(err)
	}
	if n := st.TargetScans() - before; n != 1 {
		t.Errorf("preview: %d subscriber scans, want 1", n)
	}
	if p.Recipients != 3 || len(p.ByZone) != 2 || p.ByZone[0].Recipients != 2 || p.ByZone[1].Recipients != 2 {
		t.Errorf("preview %d recipients, by zone %+v; want 3, macon 2, charnay 2", p.Recipients, p.ByZone)
	}
	before = st.TargetScans()
	req.Fingerprint, req.Expected = p.Fingerprint, p.Recipients
	a, err := g.SendAlert(context.Background(), req, "test")
	if err != nil || a.Recipients != 3 {
		t.Fatalf("send = %+v, %v", a, err)
	}
	if n := st.TargetScans() - before; n != 1 {
		t.Errorf("send: %d subscriber scans, want 1", n)
	}
	stored, err := st.Alert(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	// macon-centre's shop reaches macon-centre and macon; charnay's two.
	if r := stored.ZoneRecipients; r["macon"] != 2 || r["macon-centre"] != 1 || r["charnay"] != 2 {
		t.Errorf("zone reach %v", r)
	}
}

// TestSendRefusedWhenTheTargetChanged: a subscription between preview and
// confirmation changes the fingerprint; the send carrying the old one is
// refused with a 412 in French saying what changed, and queues nothing.
func TestSendRefusedWhenTheTargetChanged(t *testing.T) {
	g, st, _ := newGateway(t, "open")
	add := func(phone string) {
		t.Helper()
		if _, err := st.AddSubscriber(store.Subscription{Phone: phone, Zone: "macon", Source: "operator"}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	add("+33611111111")
	req := apitype.AlertRequest{Zones: []string{"macon"}, Text: "vol"}
	p, err := g.PreviewAlert(req)
	if err != nil || p.Fingerprint == "" {
		t.Fatalf("preview %+v, %v", p, err)
	}
	again, err := g.PreviewAlert(req)
	if err != nil || again.Fingerprint != p.Fingerprint {
		t.Fatalf("same target, fingerprints %q and %q (%v)", p.Fingerprint, again.Fingerprint, err)
	}
	add("+33622222222")
	req.Fingerprint, req.Expected = p.Fingerprint, p.Recipients
	_, err = g.SendAlert(context.Background(), req, "test")
	var ue *apitype.UserError
	if !errors.As(err, &ue) || ue.Kind != apitype.RefuseTargetChanged ||
		!strings.Contains(ue.Message, "2 destinataires maintenant, 1 à l'aperçu") || !strings.Contains(ue.Message, "confirmez à nouveau") {
		t.Fatalf("send after a change = %v, want a 412 saying 2 now, 1 in the preview", err)
	}
	if as, err := st.Alerts(); err != nil || len(as) != 0 {
		t.Fatalf("alerts after the refusal: %d, %v", len(as), err)
	}
	// Same count, other numbers: said too.
	if _, _, err := st.RemoveSubscriber("+33611111111", time.Now()); err != nil {
		t.Fatal(err)
	}
	add("+33633333333")
	p2, err := g.PreviewAlert(apitype.AlertRequest{Zones: []string{"macon"}, Text: "vol"})
	if err != nil || p2.Recipients != 2 {
		t.Fatalf("preview %+v, %v", p2, err)
	}
	req.Fingerprint, req.Expected = p2.Fingerprint, p2.Recipients
	if _, _, err := st.RemoveSubscriber("+33622222222", time.Now()); err != nil {
		t.Fatal(err)
	}
	add("+33644444444")
	_, err = g.SendAlert(context.Background(), req, "test")
	if !errors.As(err, &ue) || !strings.Contains(ue.Message, "toujours 2 destinataires, mais pas les mêmes numéros") {
		t.Fatalf("send after a swap = %v", err)
	}
	// The new preview's fingerprint is accepted.
	p3, err := g.PreviewAlert(apitype.AlertRequest{Zones: []string{"macon"}, Text: "vol"})
	if err != nil {
		t.Fatal(err)
	}
	req.Fingerprint, req.Expected = p3.Fingerprint, p3.Recipients
	if a, err := g.SendAlert(context.Background(), req, "test"); err != nil || a.Recipients != 2 {
		t.Fatalf("send with the new fingerprint = %+v, %v", a, err)
	}
}
