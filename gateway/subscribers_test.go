package gateway

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"vigie/gateway/apitype"
	"vigie/store"
)

// userKind is the kind of the UserError err is, "" for none.
func userKind(err error) apitype.Refusal {
	var ue *apitype.UserError
	if errors.As(err, &ue) {
		return ue.Kind
	}
	return ""
}

// inbound receives text from number and handles it, as the modem worker does.
func inbound(t *testing.T, g *Gateway, st *store.Store, number, text string) {
	t.Helper()
	in, _, err := st.SaveInboundPart(store.InboundPart{Key: number + text, From: number, Total: 1, Text: text, ReceivedAt: g.now()})
	if err != nil || in == nil {
		t.Fatalf("save inbound: %v", err)
	}
	g.handleInbound(*in)
}

func TestAddSubscriber(t *testing.T) {
	g, st, _ := newGateway(t, "open")
	const shop = "+33612345678"
	for _, tc := range []struct {
		name    string
		req     apitype.AddSubscriberRequest
		outcome string
		zones   []string
		status  apitype.Refusal // of the UserError; "" for success
	}{
		{"national form, zone by name", apitype.AddSubscriberRequest{Phone: "06 12 34 56 78", Zones: []string{"Mâcon centre"}}, "added", []string{"macon-centre"}, ""},
		{"same again, international", apitype.AddSubscriberRequest{Phone: "+33 6 12 34 56 78", Zones: []string{"macon-centre"}}, "skipped", []string{"macon-centre"}, ""},
		{"a zone more by alias", apitype.AddSubscriberRequest{Phone: "0033612345678", Zones: []string{"71000"}}, "updated", []string{"macon", "macon-centre"}, ""},
		{"unknown zone", apitype.AddSubscriberRequest{Phone: shop, Zones: []string{"atlantide"}}, "", nil, apitype.RefuseInvalid},
		{"no zone", apitype.AddSubscriberRequest{Phone: shop}, "", nil, apitype.RefuseInvalid},
		{"landline", apitype.AddSubscriberRequest{Phone: "03 85 12 34 56", Zones: []string{"macon"}}, "", nil, apitype.RefuseInvalid},
		{"unknown trade", apitype.AddSubscriberRequest{Phone: shop, Zones: []string{"macon"}, Trade: "forgeron"}, "", nil, apitype.RefuseInvalid},
	} {
		res, err := g.AddSubscriber(context.Background(), tc.req, "gendarme")
		if userKind(err) != tc.status || (tc.status == "" && err != nil) {
			t.Errorf("%s: err %v, want kind %q", tc.name, err, tc.status)
			continue
		}
		if tc.status == "" && (res.Outcome != tc.outcome || res.Subscriber.Phone != shop || !slices.Equal(res.Subscriber.Zones, tc.zones)) {
			t.Errorf("%s: %+v, want %s with zones %v", tc.name, res, tc.outcome, tc.zones)
		}
	}

	// A number that sent STOP is refused unless forced.
	const stopped = "+33622222222"
	inbound(t, g, st, stopped, "STOP")
	_, err := g.AddSubscriber(context.Background(), apitype.AddSubscriberRequest{Phone: stopped, Zones: []string{"macon"}}, "gendarme")
	if userKind(err) != apitype.RefuseConflict || !strings.Contains(err.Error(), "--force") {
		t.Errorf("add after STOP = %v, want a 409 mentioning --force", err)
	}
	res, err := g.AddSubscriber(context.Background(), apitype.AddSubscriberRequest{Phone: stopped, Zones: []string{"macon"}, Force: true}, "gendarme")
	if err != nil || res.Subscriber.Status != "active" {
		t.Errorf("forced add = %+v, %v", res, err)
	}
}

func TestListAndShowSubscribers(t *testing.T) {
	g, st, _ := newGateway(t, "approval")
	add := func(number string, zones ...string) {
		if _, err := g.AddSubscriber(context.Background(), apitype.AddSubscriberRequest{Phone: number, Zones: zones}, "gendarme"); err != nil {
			t.Fatal(err)
		}
	}
	add("0611111111", "macon-centre")
	add("0622222222", "charnay")
	inbound(t, g, st, "+33633333333", "INSCRIPTION macon") // pending approval
	inbound(t, g, st, "+33644444444", "STOP")              // suppressed, no record

	for _, tc := range []struct {
		f    apitype.SubscriberFilter
		want []string
	}{
		{apitype.SubscriberFilter{}, []string{"+33611111111", "+33622222222", "+33633333333"}},
		{apitype.SubscriberFilter{Zone: "Mâcon"}, []string{"+33611111111"}}, // with its sub-zones
		{apitype.SubscriberFilter{Status: "pending"}, []string{"+33633333333"}},
		{apitype.SubscriberFilter{Status: "active", Zone: "charnay"}, []string{"+33622222222"}},
	} {
		subs, err := g.ListSubscribers(tc.f)
		var got []string
		for _, s := range subs {
			got = append(got, s.Phone)
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("list %+v = %v, %v; want %v", tc.f, got, err, tc.want)
		}
	}
	for _, f := range []apitype.SubscriberFilter{{Zone: "atlantide"}, {Trade: "forgeron"}, {Status: "asleep"}} {
		if _, err := g.ListSubscribers(f); userKind(err) != apitype.RefuseInvalid {
			t.Errorf("list %+v = %v, want 400", f, err)
		}
	}

	d, err := g.ShowSubscriber("06 33 33 33 33")
	if err != nil || d.Status != "pending" || d.Pending == nil || d.Pending.Zone != "macon" || d.Suppressed {
		t.Errorf("show pending = %+v, %v", d, err)
	}
	d, err = g.ShowSubscriber("0644444444")
	if err != nil || d.Status != "" || !d.Suppressed {
		t.Errorf("show STOPped = %+v, %v; want no record, suppressed", d, err)
	}
	if _, err := g.ShowSubscriber("0655555555"); userKind(err) != apitype.RefuseNotFound {
		t.Errorf("show unknown = %v, want 404", err)
	}
}

func TestApproveSubscriberReplies(t *testing.T) {
	g, st, _ := newGateway(t, "approval")
	const shop = "+33612345678"
	inbound(t, g, st, shop, "INSCRIPTION Mâcon centre")
	pendingReply, _, _ := st.Claim("m1", g.now())
	sub, err := g.ApproveSubscriber(context.Background(), "06 12 34 56 78", "gendarme")
	if err != nil || sub.Status != "active" || !slices.Equal(sub.Zones, []string{"macon-centre"}) {
		t.Fatalf("approve = %+v, %v", sub, err)
	}
	m, ok, err := st.Claim("m1", g.now())
	if err != nil || !ok || m.To != shop || m.ID == pendingReply.ID || !strings.Contains(m.Text, "inscription enregistrée pour la zone Macon centre") || m.Parts != 1 {
		t.Errorf("reply after approval = %+v, %v, %v", m, ok, err)
	}
	if _, err := g.ApproveSubscriber(context.Background(), shop, "gendarme"); userKind(err) != apitype.RefuseInvalid {
		t.Errorf("approve twice = %v, want 400", err)
	}
	if _, err := g.ApproveSubscriber(context.Background(), "0699999999", "gendarme"); userKind(err) != apitype.RefuseNotFound {
		t.Errorf("approve unknown = %v, want 404", err)
	}
}

func TestRemoveAndEraseSubscriber(t *testing.T) {
	g, st, _ := newGateway(t, "open")
	inbound(t, g, st, "+33611111111", "INSCRIPTION macon")
	inbound(t, g, st, "+33622222222", "INSCRIPTION macon")

	res, err := g.RemoveSubscriber(context.Background(), "06 11 11 11 11", false, "gendarme")
	if err != nil || res.Erased {
		t.Fatalf("remove = %+v, %v", res, err)
	}
	if d, _ := g.ShowSubscriber("0611111111"); d.Status != "stopped" || d.Suppressed {
		t.Errorf("after remove: %+v, want stopped, not suppressed", d)
	}

	inbound(t, g, st, "+33622222222", "STOP")
	res, err = g.RemoveSubscriber(context.Background(), "0622222222", true, "gendarme")
	if err != nil || !res.Erased || res.Inbound != 2 {
		t.Fatalf("erase = %+v, %v; want 2 inbound SMS erased", res, err)
	}
	if d, err := g.ShowSubscriber("0622222222"); err != nil || d.Status != "" || !d.Suppressed {
		t.Errorf("after erase: %+v, %v; want no record, suppressed", d, err)
	}
	rep, err := g.ImportSubscribers(context.Background(), apitype.ImportRequest{Data: []byte("tel;zone\n0622222222;macon\n0611111111;macon\n")}, "cci")
	if err != nil || rep.Skipped != 1 || rep.Updated != 1 || rep.Rows[0].Reason != "suppressed" {
		t.Errorf("import after erase = %+v, %v; want the erased number skipped, the removed one back", rep, err)
	}
	if _, err := g.RemoveSubscriber(context.Background(), "0699999999", false, "gendarme"); userKind(err) != apitype.RefuseNotFound {
		t.Errorf("remove unknown = %v, want 404", err)
	}
}

func TestImportSubscribers(t *testing.T) {
	g, st, _ := newGateway(t, "open")
	inbound(t, g, st, "+33699999999", "STOP")
	file := []byte("\xEF\xBB\xBFNom,Portable,Secteur\n" +
		"Tabac du centre,06 11 11 11 11,Mâcon centre\n" +
		"Bijouterie,+33 6 22 22 22 22,\n" +
		"Boulangerie,03 85 00 00 00,macon\n" +
		"Pharmacie,06 99 99 99 99,macon\n" +
		"Fleuriste,06 33 33 33 33,Tournus\n")
	want := []apitype.ImportRow{
		{Line: 2, Phone: "+33611111111", Zones: []string{"macon-centre"}, Outcome: "added"},
		{Line: 3, Phone: "+33622222222", Zones: []string{"charnay"}, Outcome: "added"},
		{Line: 4, Outcome: "rejected", Reason: "not_mobile", Column: "Portable", Value: "03 85 00 00 00"},
		{Line: 5, Phone: "+33699999999", Zones: []string{"macon"}, Outcome: "skipped", Reason: "suppressed"},
		{Line: 6, Outcome: "rejected", Reason: "unknown_zone", Column: "Secteur", Value: "Tournus"},
	}
	check := func(when string, rep apitype.ImportReport, err error, want []apitype.ImportRow, counts [4]int) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		if got := [4]int{rep.Added, rep.Updated, rep.Skipped, rep.Rejected}; got != counts {
			t.Errorf("%s: added, updated, skipped, rejected = %v, want %v", when, got, counts)
		}
		if rep.Encoding != "utf-8-bom" || rep.Separator != "," || len(rep.Rows) != len(want) {
			t.Fatalf("%s: %+v", when, rep)
		}
		for i, r := range rep.Rows {
			w := want[i]
			if r.Line != w.Line || r.Phone != w.Phone || !slices.Equal(r.Zones, w.Zones) || r.Outcome != w.Outcome ||
				r.Reason != w.Reason || r.Column != w.Column || r.Value != w.Value {
				t.Errorf("%s: row %+v, want %+v", when, r, w)
			}
		}
	}
	req := apitype.ImportRequest{Data: file, DefaultZone: "Charnay-lès-Mâcon", DryRun: true}
	rep, err := g.ImportSubscribers(context.Background(), req, "cci")
	check("dry run", rep, err, want, [4]int{2, 0, 1, 2})
	if subs, _ := g.ListSubscribers(apitype.SubscriberFilter{Status: "active"}); len(subs) != 0 {
		t.Errorf("dry run subscribed %+v", subs)
	}
	req.DryRun = false
	rep, err = g.ImportSubscribers(context.Background(), req, "cci")
	check("import", rep, err, want, [4]int{2, 0, 1, 2})

	// The same file again changes nothing.
	before, _ := g.ListSubscribers(apitype.SubscriberFilter{})
	again := slices.Clone(want)
	again[0].Outcome, again[0].Reason = "skipped", "unchanged"
	again[1].Outcome, again[1].Reason = "skipped", "unchanged"
	rep, err = g.ImportSubscribers(context.Background(), req, "cci")
	check("again", rep, err, again, [4]int{0, 0, 3, 2})
	after, _ := g.ListSubscribers(apitype.SubscriberFilter{})
	if !slices.EqualFunc(before, after, func(a, b apitype.Subscriber) bool {
		return a.Phone == b.Phone && a.UpdatedAt.Equal(b.UpdatedAt) && slices.Equal(a.Zones, b.Zones)
	}) {
		t.Errorf("second import changed subscribers:\n%+v\n%+v", before, after)
	}

	for _, tc := range []struct {
		name string
		req  apitype.ImportRequest
		msg  string
	}{
		{"empty", apitype.ImportRequest{}, "vide"},
		{"no phone column", apitype.ImportRequest{Data: []byte("nom;zone\nA;macon\n")}, "colonne de téléphone"},
		{"unknown default zone", apitype.ImportRequest{Data: file, DefaultZone: "atlantide"}, "zone par défaut inconnue"},
	} {
		if _, err := g.ImportSubscribers(context.Background(), tc.req, "cci"); userKind(err) != apitype.RefuseInvalid || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want 400 %q", tc.name, err, tc.msg)
		}
	}
}
