package gateway

import (
	"context"
	"errors"
	"slices"
	"testing"

	"vigie/gateway/apitype"
	"vigie/gateway/config"
	"vigie/gateway/keyword"
	"vigie/gateway/render"
	"vigie/gateway/zone"
	"vigie/store"
)

// TestSpellingReplies: a misspelt long keyword is understood; a free text
// that only looks like a keyword is forwarded and its sender told the
// spelling, word for word; every such reply is GSM-7 as written and one
// part long.
func TestSpellingReplies(t *testing.T) {
	g, _, _ := newGateway(t, "confirm")
	const shop = "+33612345678"
	for _, c := range []struct {
		text, outcome, reply string
		inbox                bool
	}{
		{"INSCRIPTON macon", "subscribe-confirm", "", false},
		{"STOPP", "stopped", "", false},
		{"STOPP merci", "inbox", "Vigilance commerce : message transmis à la gendarmerie. Aucune désinscription faite : pour ne plus recevoir d'alertes, écrivez STOP seul.", true},
		{"Zone", "inbox", "Vigilance commerce : message transmis à la gendarmerie. Pour la liste des zones, écrivez ZONES.", true},
		{"aidez", "inbox", "Vigilance commerce : message transmis à la gendarmerie. Pour l'aide, écrivez AIDE.", true},
		{"DSINSCRIPTION macon", "inbox", "Vigilance commerce : message transmis à la gendarmerie. Aucune désinscription faite : pour ne plus recevoir d'alertes, écrivez STOP seul.", true},
		{"Top, merci pour l'info", "inbox", replyForwarded, true},
	} {
		e := g.effect(store.Inbound{From: shop, Text: c.text})
		if e.Outcome != c.outcome || e.ToInbox != c.inbox {
			t.Errorf("%q: outcome %q, inbox %v; want %q, %v", c.text, e.Outcome, e.ToInbox, c.outcome, c.inbox)
		}
		if c.reply != "" && (e.Reply == nil || e.Reply.Text != c.reply) {
			t.Errorf("%q: reply %+v, want %q", c.text, e.Reply, c.reply)
		}
	}
	for _, k := range []keyword.Kind{keyword.Subscribe, keyword.Stop, keyword.Confirm, keyword.Help, keyword.ListZones} {
		text := g.spellingReply(k)
		if render.Transliterate(text) != text || render.Measure(text).Parts != 1 {
			t.Errorf("spelling reply for %v is not GSM-7 as written in one part: %q (%d parts)", k, text, render.Measure(text).Parts)
		}
	}
	if got, want := g.spellingReply(keyword.Subscribe), "Vigilance commerce : message transmis à la gendarmerie. Pour vous inscrire, écrivez INSCRIPTION suivi de la zone, par exemple INSCRIPTION macon."; got != want {
		t.Errorf("subscribe spelling reply %q, want %q", got, want)
	}
	if g.spellingReply(keyword.Empty) != "" || g.spellingReply(keyword.Other) != "" {
		t.Error("a text like no keyword got a spelling reply")
	}
}

// TestUnknownZoneAndTrade pins the operator's refusals of a word that
// designates no zone or trade, with and without a likely one, on the
// reference configuration's zones and trades.
func TestUnknownZoneAndTrade(t *testing.T) {
	cfg, err := config.Load("../configs/vigie.toml")
	if err != nil {
		t.Fatal(err)
	}
	zones, err := zone.New(cfg.Zones)
	if err != nil {
		t.Fatal(err)
	}
	trades, err := zone.NewTrades(cfg.Trades)
	if err != nil {
		t.Fatal(err)
	}
	g := &Gateway{zones: zones, trades: trades}
	for _, c := range []struct{ got, want string }{
		{g.unknownZone("macn").Message, "zone inconnue « macn » ; vouliez-vous dire « macon » (Mâcon) ?"},
		{g.unknownZone("charnai").Message, "zone inconnue « charnai » ; vouliez-vous dire « charnay » (Charnay-lès-Mâcon) ?"},
		{g.unknownZone("tournus").Message, "zone inconnue « tournus » (voir « vigie zones »)"},
		{g.unknownTrade("bijouteri").Message, "métier inconnu « bijouteri » ; vouliez-vous dire « bijouterie » (Bijouterie) ?"},
		{g.unknownTrade("pharmacien").Message, "métier inconnu « pharmacien » (voir « vigie zones »)"}, // known: no suggestion, the caller would not ask
		{g.unknownTrade("boulangerie").Message, "métier inconnu « boulangerie » (voir « vigie zones »)"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	if e := g.unknownZone("x"); e.Kind != apitype.RefuseInvalid {
		t.Errorf("status %d, want 400", e.Status)
	}
}

// TestImportSuggests: a spreadsheet's misspelt zone is rejected with the
// zone it likely meant, an unknown one with where to look.
func TestImportSuggests(t *testing.T) {
	g, _, _ := newGateway(t, "open")
	csv := []byte("Téléphone;Quartier\n06 11 11 11 11;Macn\n06 22 22 22 22;Tournus\n")
	rep, err := g.ImportSubscribers(context.Background(), apitype.ImportRequest{Data: csv, DryRun: true}, "test")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rep.Rows {
		got = append(got, r.Message)
	}
	want := []string{"zone inconnue « Macn » ; vouliez-vous dire « macon » (Mâcon) ?", "zone inconnue « Tournus » (voir « vigie zones »)"}
	if !slices.Equal(got, want) {
		t.Errorf("rejections %q, want %q", got, want)
	}
	_, err = g.ImportSubscribers(context.Background(), apitype.ImportRequest{Data: csv, DryRun: true, DefaultZone: "macn"}, "test")
	var ue *apitype.UserError
	if !errors.As(err, &ue) || ue.Message != "zone par défaut inconnue « macn » ; vouliez-vous dire « macon » (Mâcon) ?" {
		t.Errorf("default zone macn: %v", err)
	}
}
