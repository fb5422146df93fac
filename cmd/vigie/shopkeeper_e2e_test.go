//go:build e2e

package main

import (
	"slices"
	"strings"
	"testing"
)

// Issue 13, point 6: the shopkeeper's side. In confirm mode with the
// default replies_per_day (8), the honest conversation — INSCRIPTION, a
// wrong code, the right code, AIDE, STOP, INSCRIPTION again, its code,
// then a second zone — gets every answer, each as the shop reads it:
// GSM-7 as written, one part.
func TestShopkeeperHonestConversation(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{config: func(text string) string {
		return confirmPolicy(text) + `
[[zone]]
id = "charnay"
name = "Charnay-lès-Mâcon"
`
	}})
	const shop = "+33612345678"
	const stop = " Envoyez STOP pour ne plus recevoir d'alertes."
	n := 0
	say := func(text, want string) string {
		t.Helper()
		n++
		got := e.exchange(shop, text, n)
		code := ""
		if m := codeRE.FindStringSubmatch(got.Text); m != nil {
			code = m[1]
		}
		if want = strings.ReplaceAll(want, "{code}", code); got.Text != want {
			t.Errorf("%q answered\n%q\nwant\n%q", text, got.Text, want)
		}
		if got.Parts != 1 || got.Alphabet != "GSM7" {
			t.Errorf("%q answered in %d parts, %s; want one GSM-7 part", text, got.Parts, got.Alphabet)
		}
		return code
	}
	confirm := "Vigilance commerce : pour confirmer l'inscription à la zone %s, répondez OUI {code} (code valable 48 h)."
	code := say("INSCRIPTION macon", strings.Replace(confirm, "%s", "Macon", 1))
	if code == "" {
		t.Fatal("no code in the first reply")
	}
	say("OUI "+wrongCodes(code, 1)[0], "Vigilance commerce : code erroné. Il vous reste 4 essais.")
	say("oui "+code, "Vigilance commerce : inscription enregistrée pour la zone Macon."+stop)
	say("Aide", "Vigilance commerce : INSCRIPTION et votre zone pour recevoir les alertes (ex. : INSCRIPTION macon), STOP pour ne plus les recevoir, ZONES pour la liste.")
	say("STOP", "Vigilance commerce : vous ne recevrez plus d'alertes. Pour vous réinscrire, envoyez INSCRIPTION suivi de votre zone.")
	if d := e.subscriber(shop); d.Status != "stopped" {
		t.Errorf("after STOP: status %q, want stopped", d.Status)
	}
	// Back the same day: the code reaches the number that sent STOP.
	code = say("INSCRIPTION Charnay", strings.Replace(confirm, "%s", "Charnay-lès-Macon", 1))
	say("OUI "+code, "Vigilance commerce : inscription enregistrée pour la zone Charnay-lès-Macon."+stop)
	code = say("inscription 71000", strings.Replace(confirm, "%s", "Macon", 1))
	say("OUI "+code, "Vigilance commerce : inscription enregistrée. Vos zones : Charnay-lès-Macon et Macon."+stop)

	d := e.subscriber(shop)
	if d.Status != "active" || !slices.Equal(d.Zones, []string{"charnay", "macon"}) || d.Pending != nil {
		t.Errorf("subscriber %+v: want active in charnay and macon, nothing pending", d.Subscriber)
	}
}

// A witness's free text is acknowledged honestly, and the few words a
// shop may get wrong get a precise answer with an example.
func TestShopkeeperPreciseAnswers(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{config: confirmPolicy})
	const shop = "+33622222222"
	for i, c := range []struct{ text, want string }{
		{"J'ai vu la Clio grise partir vers la gare", "Vigilance commerce : message transmis à la gendarmerie ; en cas d'urgence, appelez le 17."},
		{"INSCRIPTION", "Vigilance commerce : indiquez votre zone, par exemple INSCRIPTION macon. Zones : macon, macon-centre, macon-nord"},
		{"OUI", "Vigilance commerce : aucune inscription en attente. Envoyez INSCRIPTION suivi de votre zone, par exemple INSCRIPTION macon."},
		{"INSCRIPTION macon-nord fleuriste", "Vigilance commerce : pour confirmer l'inscription à la zone Macon nord, répondez OUI {code} (code valable 48 h). Métier inconnu."},
		// "Oui", not "OUI" again: the same text in the same second would be
		// one SMS read twice.
		{"Oui", "Vigilance commerce : il manque le code. Répondez OUI suivi du code à 4 chiffres de notre SMS, par exemple OUI 1234 si le code est 1234."},
	} {
		got := e.exchange(shop, c.text, i+1)
		want := c.want
		if m := codeRE.FindStringSubmatch(got.Text); m != nil && strings.Contains(want, "{code}") {
			want = strings.ReplaceAll(want, "{code}", m[1])
		}
		if got.Text != want || got.Parts != 1 || got.Alphabet != "GSM7" {
			t.Errorf("%q answered\n%q (%d parts, %s)\nwant\n%q in one GSM-7 part", c.text, got.Text, got.Parts, got.Alphabet, want)
		}
	}
	// OUI alone guessed nothing: it cost no try.
	if d := e.subscriber(shop); d.Pending == nil || d.Pending.WrongCodes != 0 {
		t.Errorf("pending %+v: want the request alive, no wrong code counted", d.Pending)
	}
}
