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
		"J'ai vu", "\xff", "e\u0301", "ZONES", "1 stop"} {
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
