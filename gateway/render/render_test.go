package render

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/warthog618/sms"
	"github.com/warthog618/sms/encoding/tpdu"
)

// library returns how github.com/warthog618/sms encodes s: the number of
// PDUs and the alphabet of the first.
func library(t *testing.T, s string) (int, Encoding) {
	t.Helper()
	pdus, err := sms.Encode([]byte(s))
	if err != nil {
		t.Fatalf("sms.Encode(%q): %v", s, err)
	}
	if len(pdus) == 0 {
		return 0, GSM7
	}
	alpha, err := pdus[0].DCS.Alphabet()
	if err != nil {
		t.Fatalf("sms.Encode(%q): DCS: %v", s, err)
	}
	switch alpha {
	case tpdu.Alpha7Bit:
		return len(pdus), GSM7
	case tpdu.AlphaUCS2:
		return len(pdus), UCS2
	}
	t.Fatalf("sms.Encode(%q): unexpected alphabet %v", s, alpha)
	return 0, ""
}

func TestMeasure(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		enc   Encoding
		chars int
		parts int
	}{
		{"empty", "", GSM7, 0, 0},
		{"short", "Bonjour", GSM7, 7, 1},
		{"gsm accents", "éèàùìòÉÇÄÖÑÜäöñüß", GSM7, 17, 1},
		{"extension costs two", "{}€", GSM7, 6, 1},
		{"160 fits one", strings.Repeat("a", 160), GSM7, 160, 1},
		{"161 needs two", strings.Repeat("a", 161), GSM7, 161, 2},
		{"306 fits two", strings.Repeat("a", 306), GSM7, 306, 2},
		{"307 needs three", strings.Repeat("a", 307), GSM7, 307, 3},
		{"159 + euro", strings.Repeat("a", 159) + "€", GSM7, 161, 2},
		// The escape would end part one at septet 153: it moves to part two.
		{"escape not split", strings.Repeat("a", 152) + "€" + strings.Repeat("a", 153), GSM7, 307, 3},
		{"escape at boundary ok", strings.Repeat("a", 151) + "€" + strings.Repeat("a", 154), GSM7, 307, 3},
		{"literal ESC", strings.Repeat("a", 152) + "\x1b" + strings.Repeat("b", 160), GSM7, 313, 3},
		{"ucs2 short", "être", UCS2, 4, 1},
		{"ucs2 70", strings.Repeat("ê", 70), UCS2, 70, 1},
		{"ucs2 71", strings.Repeat("ê", 71), UCS2, 71, 2},
		{"ucs2 134", strings.Repeat("ê", 134), UCS2, 134, 2},
		{"ucs2 135", strings.Repeat("ê", 135), UCS2, 135, 3},
		{"emoji is two units", "🚨", UCS2, 2, 1},
		// The surrogate pair would straddle units 67/68: it moves to part two.
		{"surrogate not split", strings.Repeat("ê", 66) + "🚨" + strings.Repeat("ê", 67), UCS2, 135, 3},
		{"invalid utf8", "\xff", UCS2, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Measure(tt.in)
			if got.Body != tt.in || got.Encoding != tt.enc || got.Chars != tt.chars || got.Parts != tt.parts {
				t.Errorf("Measure = %s chars=%d parts=%d, want %s chars=%d parts=%d",
					got.Encoding, got.Chars, got.Parts, tt.enc, tt.chars, tt.parts)
			}
			parts, enc := library(t, tt.in)
			if parts != got.Parts || enc != got.Encoding {
				t.Errorf("sms library: %s in %d parts, Measure: %s in %d parts", enc, parts, got.Encoding, got.Parts)
			}
		})
	}
}

func TestTransliterate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Vol à l'étalage, rue Carnot", "Vol à l'étalage, rue Carnot"},
		{"fenêtre, reçu, Noël, maïs, où, île, hôtel, août", "fenetre, recu, Noel, mais, où, ile, hotel, aout"},
		{"l’homme", "l'homme"},
		{"« Attention »", "\" Attention \""},
		{"«\u00a0Attention\u00a0»", "\" Attention \""},
		{"“cité”", "\"cité\""},
		{"cœur, Œuvre", "coeur, OEuvre"},
		{"Et puis…", "Et puis..."},
		{"10\u202f€", "10 €"},
		{"18h–19h — ici", "18h-19h - ici"},
		{"ÂÊÎÔÛËÏŸ ÀÈÙ", "AEIOUEIY AEU"},
		{"é è à ù ì ò É Ç Ä Ö Ñ Ü ä ö ñ ü ß", "é è à ù ì ò É Ç Ä Ö Ñ Ü ä ö ñ ü ß"},
		{"Å å Ø ø Æ æ", "Å å Ø ø Æ æ"},
		{"e\u0301te\u0301", "été"}, // decomposed input is composed first
		{"n° 12", "no 12"},
		{"ﬁn ½", "fin 1/2"},
		{"a\tb\x00c\x1bd\fe", "a bcde"},
		{"ligne 1\nligne 2\r\n", "ligne 1\nligne 2\r\n"},
		{"zéro\u200blargeur\u00ad", "zérolargeur"},
		{"x\u0303", "x"},
		{"🚨 Алексей", "🚨 Алексей"}, // no GSM form: kept
		{"{[~]}|^\\€", "{[~]}|^\\€"},
	}
	for _, tt := range tests {
		if got := Transliterate(tt.in); got != tt.want {
			t.Errorf("Transliterate(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRender(t *testing.T) {
	const (
		prefix = "Vigilance commerce 71 : "
		sig    = " Gendarmerie. STOP pour ne plus recevoir."
	)
	tests := []struct {
		name     string
		text     string
		translit bool
		body     string
		enc      Encoding
		parts    int
	}{
		{"plain", "  Faux billets de 50 €.\n", true,
			prefix + "Faux billets de 50 €." + sig, GSM7, 1},
		{"transliterated", "Escroquerie à la fausse carte bancaire : l’individu, très poli, parle français.", true,
			prefix + "Escroquerie à la fausse carte bancaire : l'individu, très poli, parle francais." + sig, GSM7, 1},
		{"kept as is", "l’individu", false,
			prefix + "l’individu." + sig, UCS2, 2},
		{"long", strings.Repeat("Vol. ", 40), true,
			prefix + strings.TrimSpace(strings.Repeat("Vol. ", 40)) + sig, GSM7, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Render(prefix, tt.text, sig, tt.translit)
			if got.Body != tt.body || got.Encoding != tt.enc || got.Parts != tt.parts {
				t.Errorf("Render = %q %s %d parts, want %q %s %d parts", got.Body, got.Encoding, got.Parts, tt.body, tt.enc, tt.parts)
			}
			if got != Measure(got.Body) {
				t.Errorf("Render = %+v, Measure(Body) = %+v", got, Measure(got.Body))
			}
		})
	}
}

// TestMeasureMatchesLibrary compares Measure with the sms library on random
// texts long enough to need several parts, mixing every kind of character
// that changes the count.
func TestMeasureMatchesLibrary(t *testing.T) {
	pieces := []string{"a", "b", " ", "é", "€", "{", "\x1b", "\n", "ê", "🚨", "’"}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		var b strings.Builder
		gsmOnly := i%2 == 0
		for range 100 + rng.IntN(400) {
			p := pieces[rng.IntN(len(pieces))]
			if gsmOnly && !isGSM([]rune(p)[0]) && p != "\x1b" {
				continue
			}
			b.WriteString(p)
		}
		s := b.String()
		m := Measure(s)
		parts, enc := library(t, s)
		if parts != m.Parts || enc != m.Encoding {
			t.Fatalf("Measure(%q) = %s in %d parts; sms library: %s in %d parts", s, m.Encoding, m.Parts, enc, parts)
		}
	}
}

func FuzzMeasure(f *testing.F) {
	for _, s := range []string{"", "Bonjour", "€", "être", "🚨", "\x1b", "\xff",
		strings.Repeat("a", 152) + "€" + strings.Repeat("a", 153),
		strings.Repeat("ê", 66) + "🚨" + strings.Repeat("ê", 67),
		strings.Repeat("\x1b", 155) + "€"} {
		f.Add(s, uint8(0))
	}
	f.Add("ab€", uint8(60))
	f.Add("x🚨", uint8(40))
	f.Fuzz(func(t *testing.T, s string, repeat uint8) {
		// Repeating reaches the part boundaries that short inputs miss.
		s = strings.Repeat(s, 1+int(repeat)%100)
		m := Measure(s)
		parts, enc := library(t, s)
		if parts != m.Parts || (parts > 0 && enc != m.Encoding) {
			t.Fatalf("Measure(%q) = %s in %d parts; sms library: %s in %d parts", s, m.Encoding, m.Parts, enc, parts)
		}
	})
}

func FuzzTransliterate(f *testing.F) {
	for _, s := range []string{"", "« Mâcon » l’été… cœur", "10\u202f€", "🚨", "\xff", "e\u0301", "½ ﬁ ™"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Transliterate(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Transliterate(%q) = %q: invalid UTF-8", s, got)
		}
		if again := Transliterate(got); again != got {
			t.Fatalf("Transliterate not idempotent: %q → %q → %q", s, got, again)
		}
		// What has a GSM form must end up GSM-only.
		if m := Measure(got); m.Encoding == UCS2 {
			for _, r := range got {
				if isGSM(r) {
					continue
				}
				if _, ok := replacements[r]; ok {
					t.Fatalf("Transliterate(%q) kept %q which has a replacement", s, r)
				}
			}
		}
		r := Render("P: ", s, " S.", true)
		parts, enc := library(t, r.Body)
		if parts != r.Parts || enc != r.Encoding {
			t.Fatalf("Render(%q) = %s in %d parts; sms library: %s in %d parts", s, r.Encoding, r.Parts, enc, parts)
		}
	})
}

// TestJoinPunctuatesBeforeTheSignature: the signature starts a sentence,
// so the text ends one, once, whatever it ends with.
func TestJoinPunctuatesBeforeTheSignature(t *testing.T) {
	const (
		prefix = "Vigilance commerce 71 : "
		sig    = " Gendarmerie. STOP pour ne plus recevoir."
	)
	for _, tt := range []struct{ text, sig, want string }{
		{"Vol rue Carnot", sig, prefix + "Vol rue Carnot." + sig},
		{"Vol rue Carnot.", sig, prefix + "Vol rue Carnot." + sig},
		{"  Vol rue Carnot.  \n", sig, prefix + "Vol rue Carnot." + sig},
		{"Au voleur !", sig, prefix + "Au voleur !" + sig},
		{"Qui l'a vu ?", sig, prefix + "Qui l'a vu ?" + sig},
		{"À suivre…", sig, prefix + "À suivre…" + sig},
		{"À suivre...", sig, prefix + "À suivre..." + sig},
		{"Il a crié « Au voleur ! »", sig, prefix + "Il a crié « Au voleur ! »" + sig},
		{"Escroquerie « au faux policier »", sig, prefix + "Escroquerie « au faux policier »." + sig},
		{"(voir la photo)", sig, prefix + "(voir la photo)." + sig},
		{"Signalement :", sig, prefix + "Signalement." + sig},
		{"Veste bleue,", sig, prefix + "Veste bleue." + sig},
		{"Faux billets de 50 €", sig, prefix + "Faux billets de 50 €." + sig},
		{"Vol rue Carnot", " STOP pour ne plus recevoir.", prefix + "Vol rue Carnot. STOP pour ne plus recevoir."},
		// A signature that brings its own separation, or none at all.
		{"Vol rue Carnot", "\nGendarmerie", prefix + "Vol rue Carnot\nGendarmerie"},
		{"Vol rue Carnot", " - Gendarmerie", prefix + "Vol rue Carnot - Gendarmerie"},
		{"Vol rue Carnot", "", prefix + "Vol rue Carnot"},
		{"   ", sig, prefix + sig},
	} {
		if got := Join(prefix, tt.text, tt.sig); got != tt.want {
			t.Errorf("Join(%q, %q) = %q, want %q", tt.text, tt.sig, got, tt.want)
		}
		if got := Render(prefix, tt.text, tt.sig, false).Body; got != tt.want {
			t.Errorf("Render(%q, %q).Body = %q, want %q", tt.text, tt.sig, got, tt.want)
		}
	}
}

// FuzzJoin: the operator's text is kept word for word, and the signature
// is never preceded by two sentence ends.
func FuzzJoin(f *testing.F) {
	for _, s := range []string{"Vol rue Carnot", "Au voleur !", "Signalement :", "« x »", "", "…", "a,;:", " \u00a0."} {
		f.Add(s)
	}
	const sig = " Gendarmerie."
	f.Fuzz(func(t *testing.T, text string) {
		got := Join("P : ", text, sig)
		body := strings.TrimSuffix(strings.TrimPrefix(got, "P : "), sig)
		core := strings.TrimRight(strings.TrimSpace(text), ",;: \u00a0\u202f")
		if !strings.HasPrefix(body, core) {
			t.Fatalf("Join(%q) = %q: the text is lost", text, got)
		}
		if strings.HasSuffix(body, "..") && !strings.HasSuffix(core, "..") {
			t.Fatalf("Join(%q) = %q: a doubled full stop", text, got)
		}
	})
}
