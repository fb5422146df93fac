package fold

import (
	"testing"
	"unicode/utf8"
)

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"   ", ""},
		{"stop", "STOP"},
		{" Arrêt ", "ARRET"},
		{"ARRÊT", "ARRET"},
		{"arre\u0302t", "ARRET"}, // decomposed input
		{"Désinscription", "DESINSCRIPTION"},
		{"Mâcon centre", "MACON CENTRE"},
		{"Charnay-lès-Mâcon", "CHARNAY-LES-MACON"},
		{"cœur", "COEUR"},
		{"Straße", "STRASSE"},
		{"Ñandú", "NANDU"},
		{"71000", "71000"},
	}
	for _, tt := range tests {
		if got := Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Mâcon centre", "MACONCENTRE"},
		{"MACON-CENTRE", "MACONCENTRE"},
		{"macon_centre", "MACONCENTRE"},
		{" mâcon  centre. ", "MACONCENTRE"},
		{"71 000", "71000"},
		{"l'Île", "LILE"},
		{"--", ""},
	}
	for _, tt := range tests {
		if got := Key(tt.in); got != tt.want {
			t.Errorf("Key(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzFold(f *testing.F) {
	for _, s := range []string{"", "Arrêt", "Mâcon-Centre", "œ ß", "\xff\xfe", "e\u0301"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Fold(s)
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("Fold(%q) = %q: invalid UTF-8", s, got)
		}
		if Fold(got) != got {
			t.Fatalf("Fold not idempotent on %q: %q then %q", s, got, Fold(got))
		}
		k := Key(s)
		if Key(k) != k {
			t.Fatalf("Key not idempotent on %q: %q then %q", s, k, Key(k))
		}
	})
}
