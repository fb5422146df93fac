package keyword

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		kind Kind
		args []string
	}{
		{"", Empty, nil},
		{"   \t\n", Empty, nil},
		{" ... !", Empty, nil},
		{"?", Help, nil},
		{" ?? ", Help, nil},
		{"¿", Help, nil},
		{"? zones", Help, []string{"zones"}},
		{"STOP", Stop, nil},
		{"  Stop. ", Stop, nil},
		{"stop!", Stop, nil},
		{"STOP,merci", Stop, []string{"merci"}},
		{"arrêt", Stop, nil},
		{"ARRÊT", Stop, nil},
		{"arre\u0302t", Stop, nil}, // decomposed accent
		{"Arret", Stop, nil},
		{"désinscription", Stop, nil},
		{"DESABONNEMENT svp", Stop, []string{"svp"}},
		{"Désabonnement", Stop, nil},
		{"Inscription Mâcon-Centre", Subscribe, []string{"Mâcon-Centre"}},
		{"inscrire macon bijouterie.", Subscribe, []string{"macon", "bijouterie"}},
		{"ABONNEMENT  71000 ", Subscribe, []string{"71000"}},
		{"start", Subscribe, nil},
		{"«Inscription» « Charnay »", Subscribe, []string{"Charnay"}},
		{"Oui 4821", Confirm, []string{"4821"}},
		{"oui", Confirm, nil},
		{"OUI4821", Confirm, []string{"4821"}},
		{"aide", Help, nil},
		{"Info", Help, nil},
		{"HELP me", Help, []string{"me"}},
		{"zones", ListZones, nil},
		{"Zones ?", ListZones, nil},
		{"Stopper", Other, nil},
		{"J'ai vu la voiture, immatriculation AB-123-CD", Other, nil},
		{"1 stop", Other, nil},
		{"4821", Other, nil},
		{"oui-da", Confirm, []string{"da"}},
		{"\u00a0Stop\u00a0", Stop, nil}, // non-breaking spaces
	}
	for _, tt := range tests {
		got := Parse(tt.in)
		if got.Kind != tt.kind || !slices.Equal(got.Args, tt.args) {
			t.Errorf("Parse(%q) = %v %q, want %v %q", tt.in, got.Kind, got.Args, tt.kind, tt.args)
		}
		if want := strings.TrimSpace(tt.in); got.Text != want && tt.in != "arre\u0302t" {
			t.Errorf("Parse(%q).Text = %q, want %q", tt.in, got.Text, want)
		}
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Empty: "empty", Other: "other", Subscribe: "subscribe",
		Confirm: "confirm", Stop: "stop", Help: "help", ListZones: "zones", Kind(42): "Kind(42)", Kind(-1): "Kind(-1)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "?", "  Stop. ", "arrêt", "Inscription Mâcon-Centre", "OUI 1234",
		"J'ai vu", "\xff", "e\u0301", "ZONES", "1 stop", "INSCRIPTON macon", "STOPP", "Top, merci", "Zone"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := Parse(s)
		if c.Kind < Empty || c.Kind > ListZones {
			t.Fatalf("Parse(%q): kind %d out of range", s, c.Kind)
		}
		if (c.Kind == Other || c.Kind == Empty) && c.Args != nil {
			t.Fatalf("Parse(%q): %v with args %q", s, c.Kind, c.Args)
		}
		// A STOP read from a typo is a lone word, one edit from STOP or
		// ARRET, or two from a long keyword of its own.
		if c.Kind == Stop && c.Typo != "" && len(c.Args) > 0 && utf8.RuneCountInString(c.Typo) < minTypoLen {
			t.Fatalf("Parse(%q): a STOP from the typo %q with more words %q", s, c.Typo, c.Args)
		}
		if c.Near != Empty && c.Kind != Other {
			t.Fatalf("Parse(%q): %v but near %v", s, c.Kind, c.Near)
		}
		for _, a := range c.Args {
			if a == "" || strings.TrimSpace(a) != a {
				t.Fatalf("Parse(%q): bad arg %q", s, a)
			}
		}
		if utf8.ValidString(s) {
			if c.Text != strings.TrimSpace(c.Text) {
				t.Fatalf("Parse(%q): Text %q not trimmed", s, c.Text)
			}
			// Parsing is stable on its own output.
			if again := Parse(c.Text); again.Kind != c.Kind || !slices.Equal(again.Args, c.Args) {
				t.Fatalf("Parse(%q) = %v %q but Parse(Text) = %v %q", s, c.Kind, c.Args, again.Kind, again.Args)
			}
		}
	})
}

// TestMisspelt pins which typos are understood and which only draw the
// right spelling: a long keyword's typo is understood when no keyword of
// another kind is near; a STOP only when the lone word is one edit off
// and long enough; a witness's text never becomes a command.
func TestMisspelt(t *testing.T) {
	tests := []struct {
		in   string
		kind Kind
		typo string
		near Kind
		args []string
	}{
		{"INSCRIPTON macon", Subscribe, "INSCRIPTION", Empty, []string{"macon"}},
		{"inscriptoin Mâcon bijouterie", Subscribe, "INSCRIPTION", Empty, []string{"Mâcon", "bijouterie"}},
		{"Insription 71000", Subscribe, "INSCRIPTION", Empty, []string{"71000"}},
		{"INSRCIPTON macon", Subscribe, "INSCRIPTION", Empty, []string{"macon"}}, // two edits on a long word
		{"Inscrir macon", Subscribe, "INSCRIRE", Empty, []string{"macon"}},
		{"abonement macon", Subscribe, "ABONNEMENT", Empty, []string{"macon"}},
		{"désinscripton", Stop, "DESINSCRIPTION", Empty, nil},
		{"desabonement svp", Stop, "DESABONNEMENT", Empty, []string{"svp"}},
		{"STOPP", Stop, "STOP", Empty, nil},
		{"Sotp.", Stop, "STOP", Empty, nil},
		{"aret", Stop, "ARRET", Empty, nil},
		{"arrête", Stop, "ARRET", Empty, nil},
		// A typo between subscribing and stopping is no guess.
		{"DSINSCRIPTION macon", Other, "", Stop, nil},
		{"ESINSCRIPTION", Other, "", Stop, nil},
		// STOP-like words in a text, or too short, are never a STOP.
		{"STOPP merci", Other, "", Stop, nil},
		{"Top", Other, "", Stop, nil},
		{"Top, merci pour l'info", Other, "", Empty, nil},
		{"Stp rappelez-moi", Other, "", Empty, nil},
		{"Stopper", Other, "", Empty, nil},
		{"Shop fermé rue Carnot", Other, "", Stop, nil}, // spelt back, nothing done
		{"Step", Stop, "STOP", Empty, nil},
		// Short keywords are never taken from a typo, only spelt back.
		{"Zone", Other, "", ListZones, nil},
		{"Zone nord, un homme en scooter", Other, "", Empty, nil},
		{"aidez", Other, "", Help, nil},
		{"Aidez-moi, on m'a volé", Other, "", Empty, nil},
		{"Ouii 4821", Other, "", Empty, nil},
		{"Inscriptions macon", Subscribe, "INSCRIPTION", Empty, []string{"macon"}},
		{"Bonjour", Other, "", Empty, nil},
	}
	for _, tt := range tests {
		got := Parse(tt.in)
		if got.Kind != tt.kind || got.Typo != tt.typo || got.Near != tt.near || !slices.Equal(got.Args, tt.args) {
			t.Errorf("Parse(%q) = %v typo %q near %v %q; want %v typo %q near %v %q",
				tt.in, got.Kind, got.Typo, got.Near, got.Args, tt.kind, tt.typo, tt.near, tt.args)
		}
	}
}
