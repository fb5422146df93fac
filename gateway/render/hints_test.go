package render

import (
	"strings"
	"testing"
)

func TestNonGSM(t *testing.T) {
	cases := []struct {
		in   string
		want string
	}{
		{"Vol rue Carnot, à 15h : appelez le 17 €", ""},
		{"Fenêtre forcée, garçon âgé", "êçâ"},
		{"« ô » ô", "«ô»"},
	}
	for _, c := range cases {
		if got := string(NonGSM(c.in)); got != c.want {
			t.Errorf("NonGSM(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCutToFit(t *testing.T) {
	cases := []struct {
		name  string
		s     string
		parts int
		want  int
	}{
		{"fits", strings.Repeat("a", 160), 1, 0},
		{"one over a single GSM SMS", strings.Repeat("a", 161), 1, 1},
		{"two parts to one", strings.Repeat("a", 306), 1, 146},
		{"three parts to two", strings.Repeat("a", 307), 2, 1},
		{"UCS-2 stays UCS-2", "ê" + strings.Repeat("a", 70), 1, 1},
		{"extension characters count two septets", strings.Repeat("€", 81), 1, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := CutToFit(c.s, c.parts)
			if got != c.want {
				t.Fatalf("CutToFit = %d, want %d", got, c.want)
			}
			// Cutting that many from the end is enough, one fewer is not.
			rs := []rune(c.s)
			if got > 0 {
				if p := Measure(string(rs[:len(rs)-got])).Parts; p > c.parts {
					t.Errorf("after the cut: %d parts, want at most %d", p, c.parts)
				}
				if p := Measure(string(rs[:len(rs)-got+1])).Parts; p <= c.parts {
					t.Errorf("one character less would do: %d parts", p)
				}
			}
		})
	}
}

// Whatever the text, the cut is a length within the text, and cutting it
// leaves at most the parts asked (in the text's encoding).
func FuzzCutToFit(f *testing.F) {
	f.Add(strings.Repeat("a", 400), 2)
	f.Add("ê"+strings.Repeat("€", 200), 1)
	f.Add("", 0)
	f.Fuzz(func(t *testing.T, s string, parts int) {
		if parts > 10 || len(s) > 4000 {
			return
		}
		n := CutToFit(s, parts)
		rs := []rune(s)
		if n < 0 || n > len(rs) {
			t.Fatalf("CutToFit = %d for %d runes", n, len(rs))
		}
		if n > 0 && Measure(s).Encoding == GSM7 {
			if p := Measure(string(rs[:len(rs)-n])).Parts; p > max(parts, 1) {
				t.Errorf("after cutting %d: %d parts > %d", n, p, parts)
			}
		}
	})
}
