package suggest

import (
	"testing"
	"unicode/utf8"
)

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"send", "send", 0},
		{"sned", "send", 1}, // adjacent swap
		{"alret", "alert", 1},
		{"macn", "macon", 1},
		{"INSCRIPTON", "INSCRIPTION", 1},
		{"INSRCIPTON", "INSCRIPTION", 2},
		{"kitten", "sitting", 3},
		{"ca", "abc", 3}, // OSA, not full Damerau: no edit of a swapped pair
		{"mâcon", "macon", 1},
	} {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := Distance(tc.b, tc.a); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (symmetry)", tc.b, tc.a, got, tc.want)
		}
	}
}

func TestNearest(t *testing.T) {
	commands := []string{"alert", "subscribers", "status", "inbox", "zones", "config", "serve", "demo", "audit", "alerte", "abonnes"}
	for _, tc := range []struct {
		word       string
		candidates []string
		want       string
		ok         bool
	}{
		{"alret", commands, "alert", true},
		{"statsu", commands, "status", true},
		{"alert", commands, "", false}, // exact: not a suggestion
		{"ALERT", commands, "", false}, // exact once folded
		{"xyz", commands, "", false},   // nothing near
		{"sned", []string{"send", "show", "list", "cancel"}, "send", true},
		{"macn", []string{"macon", "macon-centre", "charnay"}, "macon", true},
		{"Macn", []string{"macon", "Mâcon"}, "macon", true}, // same word folded twice is one candidate
		{"ab", []string{"ac"}, "", false},                   // short words: no typo taken
		{"bat", []string{"bar", "bas"}, "", false},
		{"cate", []string{"cafe", "cale"}, "", false}, // a tie suggests nothing
		{"", commands, "", false},
	} {
		got, ok := Nearest(tc.word, tc.candidates)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Nearest(%q) = %q, %v; want %q, %v", tc.word, got, ok, tc.want, tc.ok)
		}
	}
}

func TestLimit(t *testing.T) {
	for w, want := range map[string]int{"OUI": 0, "STOP": 1, "macon": 1, "alerte": 1, "INSCRIRE": 2, "INSCRIPTION": 2, "été": 0} {
		if got := Limit(w); got != want {
			t.Errorf("Limit(%q) = %d, want %d", w, got, want)
		}
	}
}

// FuzzDistance checks the metric on any input: bounded by the longer
// length, zero only between equal strings, symmetric.
func FuzzDistance(f *testing.F) {
	f.Add("sned", "send")
	f.Add("", "x")
	f.Add("INSCRIPTON", "INSCRIPTION")
	f.Add("mâcon", "macon")
	f.Add("\xff\xfe", "a")
	f.Fuzz(func(t *testing.T, a, b string) {
		if len(a) > 200 || len(b) > 200 {
			return
		}
		d := Distance(a, b)
		la, lb := utf8.RuneCountInString(a), utf8.RuneCountInString(b)
		if d < 0 || d > max(la, lb) {
			t.Fatalf("Distance(%q, %q) = %d out of [0, %d]", a, b, d, max(la, lb))
		}
		if (d == 0) != (string([]rune(a)) == string([]rune(b))) {
			t.Fatalf("Distance(%q, %q) = %d", a, b, d)
		}
		if d2 := Distance(b, a); d2 != d {
			t.Fatalf("Distance not symmetric: %d, %d", d, d2)
		}
		Nearest(a, []string{b, "macon", "alert"})
	})
}

func TestNearestOf(t *testing.T) {
	zones := [][]string{
		{"macon", "Mâcon", "MACON", "71000"},
		{"macon-centre", "Mâcon centre", "CENTRE"},
		{"charnay", "Charnay-lès-Mâcon", "71850"},
	}
	for _, tc := range []struct {
		word string
		want int
		ok   bool
	}{
		{"macn", 0, true},
		{"71001", 0, true}, // a postal code one digit off, of one zone only
		{"centr", 1, true},
		{"charny", 2, true},
		{"71850", 0, false}, // exact
		{"zzz", 0, false},
	} {
		got, ok := NearestOf(tc.word, len(zones), func(i int) []string { return zones[i] })
		if got != tc.want || ok != tc.ok {
			t.Errorf("NearestOf(%q) = %d, %v; want %d, %v", tc.word, got, ok, tc.want, tc.ok)
		}
	}
}
