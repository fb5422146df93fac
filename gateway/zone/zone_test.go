package zone

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"vigie/gateway/config"
)

// reference loads the zones and trades of configs/vigie.toml, plus
// a grandchild zone to exercise deep expansion.
func reference(t *testing.T) (*Tree, *Trades) {
	t.Helper()
	c, err := config.Load("../../configs/vigie.toml")
	if err != nil {
		t.Fatal(err)
	}
	zones := append(c.Zones, config.Zone{ID: "macon-gare", Name: "Mâcon gare", Parent: "macon-centre", Aliases: []string{"GARE"}})
	tree, err := New(zones)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	trades, err := NewTrades(c.Trades)
	if err != nil {
		t.Fatalf("NewTrades: %v", err)
	}
	return tree, trades
}

func TestLookup(t *testing.T) {
	tree, _ := reference(t)
	tests := []struct{ word, want string }{
		{"macon", "macon"},
		{"MACON", "macon"},
		{"Mâcon", "macon"},
		{"71000", "macon"},
		{"71 000", "macon"},
		{"mâcon centre", "macon-centre"},
		{"MACON-CENTRE", "macon-centre"},
		{"Macon_Centre.", "macon-centre"},
		{"centre-ville", "macon-centre"},
		{"centre ville", "macon-centre"},
		{"Charnay-lès-Mâcon", "charnay"},
		{"charnay les macon", "charnay"},
		{"CHARNAY", "charnay"},
		{"71850", "charnay"},
		{"gare", "macon-gare"},
		{"lyon", ""},
		{"", ""},
		{"--", ""},
		{"71", ""},
	}
	for _, tt := range tests {
		z, ok := tree.Lookup(tt.word)
		if ok != (tt.want != "") || z.ID != tt.want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", tt.word, z.ID, ok, tt.want)
		}
	}
}

func TestExpand(t *testing.T) {
	tree, _ := reference(t)
	tests := []struct {
		ids  []string
		want []string
	}{
		{nil, []string{}},
		{[]string{"charnay"}, []string{"charnay"}},
		{[]string{"macon-nord"}, []string{"macon-nord"}},
		{[]string{"macon-centre"}, []string{"macon-centre", "macon-gare"}},
		{[]string{"macon"}, []string{"macon", "macon-centre", "macon-gare", "macon-nord"}},
		{[]string{"macon-gare", "macon", "macon"}, []string{"macon", "macon-centre", "macon-gare", "macon-nord"}},
		{[]string{"charnay", "macon-centre"}, []string{"charnay", "macon-centre", "macon-gare"}},
	}
	for _, tt := range tests {
		got, err := tree.Expand(tt.ids)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("Expand(%q) = %q, %v; want %q", tt.ids, got, err, tt.want)
		}
	}
	_, err := tree.Expand([]string{"macon", "lyon", "Macon"})
	if !errors.Is(err, ErrUnknownZone) || !strings.Contains(err.Error(), `"lyon"`) || !strings.Contains(err.Error(), `"Macon"`) {
		t.Errorf("Expand(unknown) = %v, want ErrUnknownZone naming lyon and Macon", err)
	}
}

func TestZones(t *testing.T) {
	tree, _ := reference(t)
	var ids []string
	for _, z := range tree.Zones() {
		ids = append(ids, z.ID)
	}
	if want := []string{"macon", "macon-centre", "macon-nord", "charnay", "macon-gare"}; !slices.Equal(ids, want) {
		t.Errorf("Zones() = %q, want %q", ids, want)
	}
	z, ok := tree.Zone("macon-centre")
	if !ok || z.Name != "Mâcon centre" || z.Parent != "macon" {
		t.Errorf("Zone(macon-centre) = %+v, %v", z, ok)
	}
	if _, ok := tree.Zone("Macon"); ok {
		t.Errorf("Zone is by exact id only")
	}
	// Callers cannot change the tree through what it returns.
	z.Aliases[0] = "CHANGED"
	tree.Zones()[0].Aliases[0] = "CHANGED"
	if z, _ := tree.Lookup("centre"); z.ID != "macon-centre" || z.Aliases[0] != "CENTRE" {
		t.Errorf("tree was modified through a returned zone: %+v", z)
	}
	want := "macon (Mâcon)\n  macon-centre (Mâcon centre)\n    macon-gare (Mâcon gare)\n  macon-nord (Mâcon nord)\ncharnay (Charnay-lès-Mâcon)\n"
	if got := tree.String(); got != want {
		t.Errorf("String() =\n%s\nwant\n%s", got, want)
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name  string
		zones []config.Zone
		want  []string
	}{
		{"empty id", []config.Zone{{Name: "X"}}, []string{"zone #1: empty id"}},
		{"duplicate", []config.Zone{{ID: "a", Name: "A"}, {ID: "a", Name: "A2"}}, []string{`zone "a": duplicate id`}},
		{"unknown parent", []config.Zone{{ID: "a", Name: "A", Parent: "z"}}, []string{`zone "a": unknown parent "z"`}},
		{"self parent", []config.Zone{{ID: "a", Name: "A", Parent: "a"}}, []string{`zone "a": its parents lead back to it`}},
		{"cycle", []config.Zone{{ID: "a", Name: "A", Parent: "b"}, {ID: "b", Name: "B", Parent: "a"}, {ID: "c", Name: "C", Parent: "a"}},
			[]string{`zone "a": its parents lead back to it`, `zone "b": its parents lead back to it`}},
		{"ambiguous alias", []config.Zone{{ID: "a", Name: "Mâcon"}, {ID: "b", Name: "B", Aliases: []string{"MACON"}}},
			[]string{`zone "b": "MACON" also designates zone "a"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree, err := New(tt.zones)
			if tree != nil || !errors.Is(err, ErrInvalid) {
				t.Fatalf("New = %v, %v; want ErrInvalid", tree, err)
			}
			var got []string
			for _, line := range strings.Split(err.Error(), "\n") {
				got = append(got, strings.TrimSuffix(line, ": "+ErrInvalid.Error()))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("New errors = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTrades(t *testing.T) {
	_, trades := reference(t)
	for word, want := range map[string]string{
		"bijouterie": "bijouterie", "Bijoutier": "bijouterie", "tabac": "tabac-presse",
		"Tabac Presse": "tabac-presse", "buraliste": "tabac-presse", "PHARMACIE": "pharmacie",
		"boulangerie": "", "": "",
	} {
		tr, ok := trades.Lookup(word)
		if ok != (want != "") || tr.ID != want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", word, tr.ID, ok, want)
		}
	}
	if tr, ok := trades.Trade("pharmacie"); !ok || tr.Name != "Pharmacie" {
		t.Errorf("Trade(pharmacie) = %+v, %v", tr, ok)
	}
	if n := len(trades.All()); n != 3 {
		t.Errorf("All() has %d trades, want 3", n)
	}
	_, err := NewTrades([]config.Trade{{ID: "tabac", Name: "Tabac"}, {ID: "presse", Name: "Presse", Aliases: []string{"TABAC"}}, {ID: "presse"}})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `"TABAC" also designates trade "tabac"`) ||
		!strings.Contains(err.Error(), `trade "presse": duplicate id`) {
		t.Errorf("NewTrades(ambiguous) = %v", err)
	}
}

func FuzzLookup(f *testing.F) {
	for _, s := range []string{"mâcon centre", "MACON-CENTRE", "71000", "", "\xff", "lyon"} {
		f.Add(s)
	}
	tree, err := New([]config.Zone{
		{ID: "macon", Name: "Mâcon", Aliases: []string{"MACON", "71000"}},
		{ID: "macon-centre", Name: "Mâcon centre", Parent: "macon", Aliases: []string{"CENTRE"}},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, word string) {
		z, ok := tree.Lookup(word)
		if !ok {
			return
		}
		// What a word finds, its zone's own words find too.
		if again, ok := tree.Lookup(z.ID); !ok || again.ID != z.ID {
			t.Fatalf("Lookup(%q) = %s but Lookup(id) = %s, %v", word, z.ID, again.ID, ok)
		}
	})
}

func TestSuggest(t *testing.T) {
	tree, trades := reference(t)
	for _, tc := range []struct{ word, want string }{
		{"macn", "macon"},
		{"Macpn", "macon"},
		{"71001", "macon"},
		{"charny", "charnay"},
		{"centr", "macon-centre"},
		{"macon", ""},         // known: nothing to suggest
		{"atlantide", ""},     // near nothing
		{"nor", "macon-nord"}, // the alias NORD, one letter short
		{"ab", ""},
	} {
		z, ok := tree.Suggest(tc.word)
		if ok != (tc.want != "") || z.ID != tc.want {
			t.Errorf("Suggest(%q) = %q, %v; want %q", tc.word, z.ID, ok, tc.want)
		}
	}
	for _, tc := range []struct{ word, want string }{
		{"bijouteri", "bijouterie"},
		{"pharmacei", "pharmacie"},
		{"tabak", "tabac-presse"},
		{"boulangerie", ""},
	} {
		tr, ok := trades.Suggest(tc.word)
		if ok != (tc.want != "") || tr.ID != tc.want {
			t.Errorf("Trades.Suggest(%q) = %q, %v; want %q", tc.word, tr.ID, ok, tc.want)
		}
	}
}
