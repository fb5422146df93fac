package french

import (
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{3*time.Hour + 12*time.Minute, "3 h 12 min"},
		{-3*time.Hour - 12*time.Minute - 20*time.Second, "3 h 12 min"},
		{7*time.Minute + 30*time.Second, "7 min 30 s"},
		{42 * time.Second, "42 s"},
		{24 * time.Hour, "1 jour"},
		{-48 * time.Hour, "2 jours"},
		{49 * time.Hour, "2 jours 1 h"},
		{25*time.Hour + 29*time.Minute, "1 jour 1 h"},
		{3*time.Hour - time.Second, "3 h 00 min"},
		{48*time.Hour - 2*time.Second, "2 jours"},
		{23*time.Hour + 40*time.Minute, "1 jour"},
		{59*time.Minute + 50*time.Second, "1 h 00 min"},
		{59*time.Second + 600*time.Millisecond, "1 min 00 s"},
		{400 * time.Millisecond, "0 s"},
	} {
		if got := Duration(tt.d); got != tt.want {
			t.Errorf("Duration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// TestPlurals: the table of the words the issue found wrong, at 0, 1, 2
// and beyond; French has the singular for 0 and 1.
func TestPlurals(t *testing.T) {
	for _, tt := range []struct {
		n                int
		singular, plural string
		want             string
	}{
		{0, "commerçant", "commerçants", "0 commerçant"},
		{1, "commerçant", "commerçants", "1 commerçant"},
		{2, "commerçant", "commerçants", "2 commerçants"},
		{1, "destinataire", "destinataires", "1 destinataire"},
		{36, "destinataire", "destinataires", "36 destinataires"},
		{1, "SMS reçu", "SMS reçus", "1 SMS reçu"},
		{5, "SMS reçu", "SMS reçus", "5 SMS reçus"},
		{0, "SMS annulé", "SMS annulés", "0 SMS annulé"},
		{1, "essai", "essais", "1 essai"},
		{4, "essai", "essais", "4 essais"},
		{1, "abonné", "abonnés", "1 abonné"},
		{1, "erreur", "erreurs", "1 erreur"},
		{3, "erreur", "erreurs", "3 erreurs"},
		{1, "modem", "modems", "1 modem"},
		{2, "modem", "modems", "2 modems"},
		{-1, "degré", "degrés", "-1 degré"},
		{-2, "degré", "degrés", "-2 degrés"},
		{1000, "abonné", "abonnés", "1000 abonnés"},
	} {
		if got := Count(tt.n, tt.singular, tt.plural); got != tt.want {
			t.Errorf("Count(%d, %q, %q) = %q, want %q", tt.n, tt.singular, tt.plural, got, tt.want)
		}
	}
	// Agreement of a participle with a number said before it.
	for n, want := range map[int]string{
		0: "0 commerçant a été prévenu", 1: "1 commerçant a été prévenu",
		2: "2 commerçants ont été prévenus",
	} {
		got := Count(n, "commerçant", "commerçants") + " " + Plural(n, "a été prévenu", "ont été prévenus")
		if got != want {
			t.Errorf("agreement at %d: %q, want %q", n, got, want)
		}
	}
}

func TestQuoteAndList(t *testing.T) {
	if got := Quote("vigie status"); got != "« vigie status »" {
		t.Errorf("Quote = %q", got)
	}
	if got := SMSQuote("OUI 1234"); got != `"OUI 1234"` {
		t.Errorf("SMSQuote = %q", got)
	}
	for _, tt := range []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"Mâcon"}, "Mâcon"},
		{[]string{"Mâcon", "Charnay"}, "Mâcon et Charnay"},
		{[]string{"a", "b", "c"}, "a, b et c"},
	} {
		if got := List(tt.in); got != tt.want {
			t.Errorf("List(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
