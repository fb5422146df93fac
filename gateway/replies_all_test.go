package gateway

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"vigie/gateway/config"
	"vigie/gateway/render"
	"vigie/store"
)

// refGateway is a gateway on the reference config (its zones and trades,
// the policy given) over a real store in a temp dir; nothing runs.
func refGateway(t *testing.T, policy string) (*Gateway, *store.Store) {
	t.Helper()
	cfg, err := config.Load("../configs/vigie.toml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store.Path = t.TempDir() + "/vigie.db"
	cfg.Keywords.Subscription = policy
	st, err := store.Open(cfg.Store.Path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	g, err := New(cfg, st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return g, st
}

// shop plays one phone against g: say sends an SMS through the real
// inbound path (store, effect, ApplyInbound) and returns the reply queued
// for it, "" if none.
type shop struct {
	t      *testing.T
	g      *Gateway
	st     *store.Store
	number string
	n      int
}

func (s *shop) say(text string) string {
	s.t.Helper()
	s.n++
	in, _, err := s.st.SaveInboundPart(store.InboundPart{Key: fmt.Sprintf("%s-%d", s.number, s.n), From: s.number, Total: 1,
		Text: text, ReceivedAt: s.g.now()})
	if err != nil {
		s.t.Fatal(err)
	}
	if err := s.g.handleInbound(*in); err != nil {
		s.t.Fatal(err)
	}
	m, ok, err := s.st.Claim("m1", s.g.now())
	if err != nil {
		s.t.Fatal(err)
	}
	if !ok {
		return ""
	}
	if err := s.st.MarkSent(m.ID, []int{s.n}, s.g.now()); err != nil {
		s.t.Fatal(err)
	}
	return m.Text
}

// code is the code pending for the shop, "" if none.
func (s *shop) code() string {
	sub, _, err := s.st.Subscriber(s.number)
	if err != nil || sub.Pending == nil {
		return ""
	}
	return sub.Pending.Code
}

// wrong is a code that is not the pending one.
func (s *shop) wrong() string {
	if s.code() == "0000" {
		return "1111"
	}
	return "0000"
}

// TestEveryReply pins, as the shop reads it, every reply of every keyword
// and outcome, driven through the real inbound path on the reference
// config's zones and trades; each is GSM-7 as written (the
// transliteration changes nothing) and one part.
func TestEveryReply(t *testing.T) {
	type step struct {
		text string // sent; "{code}" is the pending code, "{wrong}" another
		want string // the reply; "{code}" the code it carries; "" none
	}
	const (
		stop    = " Envoyez STOP pour ne plus recevoir d'alertes."
		zoneIDs = "macon, macon-centre, macon-nord, charnay"
	)
	cases := []struct {
		name, policy string
		steps        []step
	}{
		{"confirm, a typo, OUI alone, a second zone", "confirm", []step{
			{"INSCRIPTION macon", "Vigilance commerce : pour confirmer l'inscription à la zone Macon, répondez OUI {code} (code valable 48 h)."},
			{"OUI {wrong}", "Vigilance commerce : code erroné. Il vous reste 4 essais."},
			{"OUI", "Vigilance commerce : il manque le code. Répondez OUI suivi du code à 4 chiffres de notre SMS, par exemple OUI 1234 si le code est 1234."},
			{"oui {code}", "Vigilance commerce : inscription enregistrée pour la zone Macon." + stop},
			{"INSCRIPTION 71000", "Vigilance commerce : ce numéro est déjà inscrit pour la zone Macon." + stop},
			{"INSCRIPTION charnay", "Vigilance commerce : pour confirmer l'inscription à la zone Charnay-lès-Macon, répondez OUI {code} (code valable 48 h)."},
			{"OUI {code}", "Vigilance commerce : inscription enregistrée. Vos zones : Charnay-lès-Macon et Macon." + stop},
			{"INSCRIPTION macon", "Vigilance commerce : ce numéro est déjà inscrit. Vos zones : Charnay-lès-Macon et Macon." + stop},
		}},
		{"confirm with a trade, known or not", "confirm", []step{
			{"INSCRIPTION macon centre tabac", "Vigilance commerce : pour confirmer l'inscription à la zone Macon centre (Tabac-presse), répondez OUI {code} (code valable 48 h)."},
			{"INSCRIPTION charnay fleuriste", "Vigilance commerce : pour confirmer l'inscription à la zone Charnay-lès-Macon, répondez OUI {code} (code valable 48 h). Métier inconnu."},
		}},
		{"confirm, codes exhausted", "confirm", []step{
			{"INSCRIPTION macon", "Vigilance commerce : pour confirmer l'inscription à la zone Macon, répondez OUI {code} (code valable 48 h)."},
			{"OUI {wrong}", "Vigilance commerce : code erroné. Il vous reste 4 essais."},
			{"OUI {wrong}", "Vigilance commerce : code erroné. Il vous reste 3 essais."},
			{"OUI {wrong}", "Vigilance commerce : code erroné. Il vous reste 2 essais."},
			{"OUI {wrong}", "Vigilance commerce : code erroné. Il vous reste 1 essai."},
			{"OUI {wrong}", "Vigilance commerce : demande annulée après 5 codes erronés. Renvoyez INSCRIPTION suivi de votre zone demain."},
			{"OUI 4242", "Vigilance commerce : demande annulée après 5 codes erronés. Renvoyez INSCRIPTION suivi de votre zone demain."},
			{"INSCRIPTION macon", "Vigilance commerce : demande annulée après 5 codes erronés. Renvoyez INSCRIPTION suivi de votre zone demain."},
		}},
		{"confirm, too many codes", "confirm", []step{
			{"INSCRIPTION macon", "Vigilance commerce : pour confirmer l'inscription à la zone Macon, répondez OUI {code} (code valable 48 h)."},
			{"INSCRIPTION macon-nord", "Vigilance commerce : pour confirmer l'inscription à la zone Macon nord, répondez OUI {code} (code valable 48 h)."},
			{"INSCRIPTION charnay", "Vigilance commerce : pour confirmer l'inscription à la zone Charnay-lès-Macon, répondez OUI {code} (code valable 48 h)."},
			{"INSCRIPTION macon", "Vigilance commerce : trop de demandes de code aujourd'hui. Utilisez le dernier code envoyé ou renvoyez INSCRIPTION demain."},
		}},
		{"keywords without a subscription", "confirm", []step{
			{"OUI 1234", "Vigilance commerce : aucune inscription en attente. Envoyez INSCRIPTION suivi de votre zone, par exemple INSCRIPTION macon."},
			{"OUI", "Vigilance commerce : aucune inscription en attente. Envoyez INSCRIPTION suivi de votre zone, par exemple INSCRIPTION macon."},
			{"INSCRIPTION", "Vigilance commerce : indiquez votre zone, par exemple INSCRIPTION macon. Zones : " + zoneIDs},
			{"INSCRIPTION atlantide", "Vigilance commerce : zone inconnue. Exemple : INSCRIPTION macon. Zones : " + zoneIDs},
			{"INSCRIPTION macn", "Vigilance commerce : zone inconnue. Vouliez-vous dire Macon ? Envoyez INSCRIPTION macon."},
			{"AIDE", "Vigilance commerce : INSCRIPTION et votre zone pour recevoir les alertes (ex. : INSCRIPTION macon), STOP pour ne plus les recevoir, ZONES pour la liste."},
			{"zones", "Vigilance commerce, zones : " + zoneIDs},
			{"J'ai vu la voiture, une Clio grise", "Vigilance commerce : message transmis à la gendarmerie ; en cas d'urgence, appelez le 17."},
		}},
		{"stop", "confirm", []step{
			{"STOP", "Vigilance commerce : vous ne recevrez plus d'alertes. Pour vous réinscrire, envoyez INSCRIPTION suivi de votre zone."},
			{"STOP", ""}, // already stopped today: no second confirmation
		}},
		{"open", "open", []step{
			{"INSCRIPTION macon-nord", "Vigilance commerce : inscription enregistrée pour la zone Macon nord." + stop},
			{"INSCRIPTION charnay pharmacie", "Vigilance commerce : inscription enregistrée. Vos zones : Charnay-lès-Macon et Macon nord." + stop},
			{"INSCRIPTION macon-nord", "Vigilance commerce : ce numéro est déjà inscrit. Vos zones : Charnay-lès-Macon et Macon nord." + stop},
			{"INSCRIPTION macon bijoutier", "Vigilance commerce : inscription enregistrée. Vos zones : Charnay-lès-Macon, Macon et Macon nord." + stop},
		}},
		{"open, one zone with its trade", "open", []step{
			{"INSCRIPTION charnay tabac-presse", "Vigilance commerce : inscription enregistrée pour la zone Charnay-lès-Macon (Tabac-presse)." + stop},
			{"INSCRIPTION charnay fleuriste", "Vigilance commerce : ce numéro est déjà inscrit pour la zone Charnay-lès-Macon (Tabac-presse)." + stop + " Métier inconnu."},
		}},
		{"approval", "approval", []step{
			{"INSCRIPTION macon centre pharmacie", "Vigilance commerce : demande d'inscription pour la zone Macon centre (Pharmacie) enregistrée, en attente de validation par la gendarmerie."},
		}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, st := refGateway(t, c.policy)
			s := &shop{t: t, g: g, st: st, number: fmt.Sprintf("+336123456%02d", i)}
			for _, step := range c.steps {
				code := s.code()
				text := strings.NewReplacer("{code}", code, "{wrong}", s.wrong()).Replace(step.text)
				got := s.say(text)
				want := strings.ReplaceAll(step.want, "{code}", s.code())
				if got != want {
					t.Errorf("%q answered\n%q\nwant\n%q", text, got, want)
				}
				if got == "" {
					continue
				}
				if m := render.Measure(got); m.Encoding != render.GSM7 || m.Parts != 1 || render.Transliterate(got) != got {
					t.Errorf("%q: %s in %d parts, want GSM-7 as written, one part", got, m.Encoding, m.Parts)
				}
			}
		})
	}
}

// TestEveryReplyFitsEveryName: every reply that carries a name, with
// every zone and trade of the reference config and the longest code and
// counts, is GSM-7 as written and one part, and so are the fixed ones.
func TestEveryReplyFitsEveryName(t *testing.T) {
	g, _ := refGateway(t, "confirm")
	var texts []string
	zones := g.zones.Zones()
	all := make([]string, 0, len(zones))
	for _, z := range zones {
		all = append(all, z.ID)
		// A known trade is named; an unknown one is said (no trade then),
		// except to a shop already in the zone with its trade.
		noTrade := g.smsWhere(z.ID, "")
		for _, format := range []string{replySubscribed, replyAlready, replyPending} {
			texts = append(texts, fmt.Sprintf(format, noTrade)+replyUnknownTrade)
		}
		texts = append(texts, fmt.Sprintf(replyConfirm, noTrade, "9999")+replyUnknownTrade)
		for _, tr := range g.trades.All() {
			where := g.smsWhere(z.ID, tr.ID)
			for _, format := range []string{replySubscribed, replyPending} {
				texts = append(texts, fmt.Sprintf(format, where))
			}
			texts = append(texts, fmt.Sprintf(replyAlready, where)+replyUnknownTrade, fmt.Sprintf(replyConfirm, where, "9999"))
		}
		texts = append(texts, fmt.Sprintf(replyHelp, z.ID), fmt.Sprintf(replyNothingPending, z.ID),
			zoneList(fmt.Sprintf(replyNoZone, z.ID), zones), zoneList(fmt.Sprintf(replyUnknownZone, z.ID), zones))
	}
	texts = append(texts,
		g.subscribedReply(replySubscribed, replySubscribedZones, "", "", all, replyUnknownTrade),
		g.subscribedReply(replyAlready, replyAlreadyZones, "", "", all, replyUnknownTrade),
		zoneList(replyZones, zones), replyStopped, replyForwarded, replyNoCode, replyLimited,
		fmt.Sprintf(replyVoided, maxWrongCodes),
		// The daily test SMS is a fixed text too; the station's name is
		// the technician's (transliterated where GSM-7 lacks a letter).
		fmt.Sprintf(canaryText, smsName(g.cfg.Station.Name)))
	for n := 0; n <= maxWrongCodes; n++ {
		texts = append(texts, fmt.Sprintf(replyWrongCode, fmt.Sprint(n)+" essais"))
	}
	for _, text := range texts {
		if m := render.Measure(text); m.Encoding != render.GSM7 || m.Parts != 1 || render.Transliterate(text) != text {
			t.Errorf("%q: %s in %d parts (%d characters), want GSM-7 as written, one part", text, m.Encoding, m.Parts, m.Chars)
		}
		if strings.Contains(text, "%!") || strings.Contains(text, "(s)") {
			t.Errorf("%q: a formatting slip", text)
		}
	}
}

// A name list too long for one part is cut with "...", never split.
func TestFitNamesCutsToOnePart(t *testing.T) {
	names := make([]string, 30)
	for i := range names {
		names[i] = fmt.Sprintf("Zone numéro %d", i)
	}
	got := fitNames(replySubscribedZones, names)
	if render.Measure(got).Parts != 1 || !strings.Contains(got, "...") || !strings.HasPrefix(got, "Vigilance commerce : inscription enregistrée. Vos zones : Zone numéro 0, Zone numéro 1") {
		t.Errorf("fitNames = %q", got)
	}
}

// TestHonestConversationCompletesInADay: in confirm mode with the default
// replies_per_day (8), a shop that subscribes, mistypes its code, confirms,
// asks AIDE, STOPs, subscribes again and confirms gets every answer, and
// so does a clumsier one (OUI alone, two typos); a flood after it is
// answered no more: the cap still holds.
func TestHonestConversationCompletesInADay(t *testing.T) {
	if config.DefaultRepliesPerDay != 8 {
		t.Fatalf("default replies_per_day %d: this conversation was counted against 8", config.DefaultRepliesPerDay)
	}
	for _, conv := range []struct {
		name  string
		steps []string // "{code}" the pending code, "{wrong}" another
	}{
		{"as the SPEC tells it", []string{"INSCRIPTION macon", "OUI {wrong}", "OUI {code}", "AIDE", "STOP", "INSCRIPTION macon", "OUI {code}"}},
		{"clumsier", []string{"INSCRIPTION macon", "OUI", "OUI {wrong}", "OUI {wrong}", "OUI {code}", "AIDE", "STOP", "INSCRIPTION charnay", "OUI {code}"}},
	} {
		t.Run(conv.name, func(t *testing.T) {
			g, st := refGateway(t, "confirm")
			g.cfg.Keywords.RepliesPerDay = config.DefaultRepliesPerDay
			s := &shop{t: t, g: g, st: st, number: "+33612345678"}
			for _, step := range conv.steps {
				text := strings.NewReplacer("{code}", s.code(), "{wrong}", s.wrong()).Replace(step)
				if got := s.say(text); got == "" {
					t.Fatalf("%q got no reply: the honest conversation was cut", text)
				}
			}
			if sub, _, _ := st.Subscriber(s.number); sub.Status != store.StatusActive || sub.Pending != nil {
				t.Fatalf("subscriber %+v: want active again, nothing pending", sub)
			}
			n, err := st.RepliesToday(s.number, g.now())
			if err != nil {
				t.Fatal(err)
			}
			if want := len(conv.steps) - 1; n != want { // the STOP is counted apart
				t.Errorf("%d replies counted, want %d", n, want)
			}
			// A flood: answered up to the cap, then nothing.
			answered := 0
			for i := range 20 {
				if s.say(fmt.Sprintf("AIDE %d", i)) != "" {
					answered++
				}
			}
			if want := config.DefaultRepliesPerDay - n; answered != want {
				t.Errorf("flood of 20 AIDE: %d answered, want %d (the cap of %d)", answered, want, config.DefaultRepliesPerDay)
			}
		})
	}
}

// TestApprovalReplyListsEveryZone: an operator's approval of a second zone
// tells the shop both, GSM-7 as written.
func TestApprovalReplyListsEveryZone(t *testing.T) {
	g, st := refGateway(t, "approval")
	s := &shop{t: t, g: g, st: st, number: "+33612345678"}
	if _, err := st.AddSubscriber(store.Subscription{Phone: s.number, Zone: "macon", Source: "operator"}, g.now()); err != nil {
		t.Fatal(err)
	}
	if got := s.say("INSCRIPTION charnay"); !strings.Contains(got, "en attente de validation") {
		t.Fatalf("request answered %q", got)
	}
	if _, err := g.ApproveSubscriber(context.Background(), s.number, "test"); err != nil {
		t.Fatal(err)
	}
	m, ok, err := st.Claim("m1", g.now())
	if err != nil || !ok {
		t.Fatalf("no reply queued by the approval (%v)", err)
	}
	want := "Vigilance commerce : inscription enregistrée. Vos zones : Charnay-lès-Macon et Macon. Envoyez STOP pour ne plus recevoir d'alertes."
	if m.Text != want || render.Measure(m.Text).Encoding != render.GSM7 || m.Parts != 1 {
		t.Errorf("approval reply %q (%d parts), want %q in one GSM-7 part", m.Text, m.Parts, want)
	}
}

// TestNoCodeRequestBeyondTheReplyCap: once a number had its replies of the
// day, an INSCRIPTION makes no request: its code could not be sent, and
// the operator would see a request waiting for a code nobody got.
func TestNoCodeRequestBeyondTheReplyCap(t *testing.T) {
	g, st := refGateway(t, "confirm")
	g.cfg.Keywords.RepliesPerDay = 2
	s := &shop{t: t, g: g, st: st, number: "+33612345678"}
	for _, text := range []string{"AIDE", "ZONES"} {
		if s.say(text) == "" {
			t.Fatalf("%q: no reply within the cap", text)
		}
	}
	if got := s.say("INSCRIPTION macon"); got != "" {
		t.Errorf("beyond the cap, INSCRIPTION answered %q", got)
	}
	if sub, found, _ := st.Subscriber(s.number); found && sub.Pending != nil {
		t.Errorf("pending %+v: no request without its code", sub.Pending)
	}
	if n, _ := st.CodeRequestsToday(s.number, g.now()); n != 0 {
		t.Errorf("%d code requests counted, want 0", n)
	}
}
