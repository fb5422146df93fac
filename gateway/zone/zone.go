// Package zone owns the resolution of zones and trades (SPEC §4): which zone
// or trade a word in an SMS designates ("mâcon centre", "MACON-CENTRE",
// "71000"), and which zones an alert to a zone reaches (the zone and all its
// descendants). It works on the zones and trades of the configuration.
package zone

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"vigie/gateway/config"
	"vigie/gateway/fold"
	"vigie/gateway/suggest"
)

var (
	// ErrUnknownZone is returned, wrapped with the id, for a zone id that
	// is not in the tree.
	ErrUnknownZone = errors.New("unknown zone")
	// ErrInvalid is returned, wrapped with details, by New and NewTrades for
	// zones or trades that cannot be resolved unambiguously.
	ErrInvalid = errors.New("invalid zones or trades")
)

// Tree is the set of zones with their parent links. It is immutable and safe
// for concurrent use.
type Tree struct {
	zones    []config.Zone
	byID     map[string]int
	words    words
	children map[string][]string // id → ids of direct children, config order
}

// New builds the tree of zones. It fails, wrapping ErrInvalid, on an empty
// or duplicate id, an unknown parent, a cycle of parents, or a word (id,
// name or alias, folded) that designates two zones.
func New(zones []config.Zone) (*Tree, error) {
	t := &Tree{
		zones:    cloneZones(zones),
		byID:     make(map[string]int, len(zones)),
		children: map[string][]string{},
	}
	var errs []error
	for i, z := range t.zones {
		if z.ID == "" {
			errs = append(errs, fmt.Errorf("zone #%d: empty id: %w", i+1, ErrInvalid))
			continue
		}
		if _, dup := t.byID[z.ID]; dup {
			errs = append(errs, fmt.Errorf("zone %q: duplicate id: %w", z.ID, ErrInvalid))
			continue
		}
		t.byID[z.ID] = i
	}
	for _, z := range t.zones {
		if z.Parent == "" {
			continue
		}
		if _, ok := t.byID[z.Parent]; !ok {
			errs = append(errs, fmt.Errorf("zone %q: unknown parent %q: %w", z.ID, z.Parent, ErrInvalid))
			continue
		}
		t.children[z.Parent] = append(t.children[z.Parent], z.ID)
	}
	for _, z := range t.zones {
		if t.inCycle(z.ID) {
			errs = append(errs, fmt.Errorf("zone %q: its parents lead back to it: %w", z.ID, ErrInvalid))
		}
	}
	w, err := indexWords("zone", len(t.zones), func(i int) (string, string, []string) {
		return t.zones[i].ID, t.zones[i].Name, t.zones[i].Aliases
	})
	if err != nil {
		errs = append(errs, err)
	}
	t.words = w
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return t, nil
}

// inCycle reports whether following the parents of id leads back to it.
func (t *Tree) inCycle(id string) bool {
	cur := id
	for range t.zones {
		i, ok := t.byID[cur]
		if !ok || t.zones[i].Parent == "" {
			return false
		}
		cur = t.zones[i].Parent
		if cur == id {
			return true
		}
	}
	return false
}

// Lookup returns the zone a word designates: its id, name or one of its
// aliases, compared without regard to case, accents, spaces or punctuation.
func (t *Tree) Lookup(word string) (config.Zone, bool) {
	i, ok := t.words.lookup(word)
	if !ok {
		return config.Zone{}, false
	}
	return cloneZone(t.zones[i]), true
}

// Suggest returns the zone an unknown word is a likely typo of (by id, name
// or alias, suggest.NearestOf): "macn" gives Mâcon. No zone when the word is
// known, near nothing, or as near two zones.
func (t *Tree) Suggest(word string) (config.Zone, bool) {
	i, ok := suggest.NearestOf(word, len(t.zones), func(i int) []string {
		return append([]string{t.zones[i].ID, t.zones[i].Name}, t.zones[i].Aliases...)
	})
	if !ok {
		return config.Zone{}, false
	}
	return cloneZone(t.zones[i]), true
}

// Expand returns the given zone ids and all their descendants, sorted and
// without duplicates: the zones an alert to ids reaches. Unknown ids are an
// error wrapping ErrUnknownZone that names them all.
func (t *Tree) Expand(ids []string) ([]string, error) {
	seen := map[string]bool{}
	var errs []error
	var walk func(id string)
	walk = func(id string) {
		if seen[id] {
			return
		}
		seen[id] = true
		for _, c := range t.children[id] {
			walk(c)
		}
	}
	for _, id := range ids {
		if _, ok := t.byID[id]; !ok {
			errs = append(errs, fmt.Errorf("zone %q: %w", id, ErrUnknownZone))
			continue
		}
		walk(id)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	slices.Sort(out)
	return out, nil
}

// Zones returns all zones in config order.
func (t *Tree) Zones() []config.Zone { return cloneZones(t.zones) }

// Zone returns the zone with the given id.
func (t *Tree) Zone(id string) (config.Zone, bool) {
	i, ok := t.byID[id]
	if !ok {
		return config.Zone{}, false
	}
	return cloneZone(t.zones[i]), true
}

// Trades is the set of trades. It is immutable and safe for concurrent use.
type Trades struct {
	trades []config.Trade
	byID   map[string]int
	words  words
}

// NewTrades indexes trades. It fails, wrapping ErrInvalid, on an empty or
// duplicate id or a word (id, name or alias, folded) that designates two
// trades.
func NewTrades(trades []config.Trade) (*Trades, error) {
	t := &Trades{trades: make([]config.Trade, len(trades)), byID: make(map[string]int, len(trades))}
	var errs []error
	for i, tr := range trades {
		tr.Aliases = slices.Clone(tr.Aliases)
		t.trades[i] = tr
		if tr.ID == "" {
			errs = append(errs, fmt.Errorf("trade #%d: empty id: %w", i+1, ErrInvalid))
			continue
		}
		if _, dup := t.byID[tr.ID]; dup {
			errs = append(errs, fmt.Errorf("trade %q: duplicate id: %w", tr.ID, ErrInvalid))
			continue
		}
		t.byID[tr.ID] = i
	}
	w, err := indexWords("trade", len(t.trades), func(i int) (string, string, []string) {
		return t.trades[i].ID, t.trades[i].Name, t.trades[i].Aliases
	})
	if err != nil {
		errs = append(errs, err)
	}
	t.words = w
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return t, nil
}

// Lookup returns the trade a word designates, as Tree.Lookup does for zones.
func (t *Trades) Lookup(word string) (config.Trade, bool) {
	i, ok := t.words.lookup(word)
	if !ok {
		return config.Trade{}, false
	}
	return cloneTrade(t.trades[i]), true
}

// Suggest returns the trade an unknown word is a likely typo of, as
// Tree.Suggest does for zones.
func (t *Trades) Suggest(word string) (config.Trade, bool) {
	i, ok := suggest.NearestOf(word, len(t.trades), func(i int) []string {
		return append([]string{t.trades[i].ID, t.trades[i].Name}, t.trades[i].Aliases...)
	})
	if !ok {
		return config.Trade{}, false
	}
	return cloneTrade(t.trades[i]), true
}

// Trade returns the trade with the given id.
func (t *Trades) Trade(id string) (config.Trade, bool) {
	i, ok := t.byID[id]
	if !ok {
		return config.Trade{}, false
	}
	return cloneTrade(t.trades[i]), true
}

// All returns all trades in config order.
func (t *Trades) All() []config.Trade {
	out := make([]config.Trade, len(t.trades))
	for i, tr := range t.trades {
		out[i] = cloneTrade(tr)
	}
	return out
}

// words maps folded words (fold.Key) to an index.
type words map[string]int

func (w words) lookup(word string) (int, bool) {
	k := fold.Key(word)
	if k == "" {
		return 0, false
	}
	i, ok := w[k]
	return i, ok
}

// indexWords indexes the id, name and aliases of n items, failing when a
// word designates two of them.
func indexWords(kind string, n int, item func(int) (id, name string, aliases []string)) (words, error) {
	w := words{}
	var errs []error
	for i := range n {
		id, name, aliases := item(i)
		for _, word := range append([]string{id, name}, aliases...) {
			k := fold.Key(word)
			if k == "" {
				continue
			}
			if j, ok := w[k]; ok && j != i {
				other, _, _ := item(j)
				if other == id {
					continue // a duplicate id, reported by the caller
				}
				errs = append(errs, fmt.Errorf("%s %q: %q also designates %s %q: %w", kind, id, word, kind, other, ErrInvalid))
				continue
			}
			w[k] = i
		}
	}
	return w, errors.Join(errs...)
}

func cloneZone(z config.Zone) config.Zone {
	z.Aliases = slices.Clone(z.Aliases)
	return z
}

func cloneZones(zs []config.Zone) []config.Zone {
	out := make([]config.Zone, len(zs))
	for i, z := range zs {
		out[i] = cloneZone(z)
	}
	return out
}

func cloneTrade(t config.Trade) config.Trade {
	t.Aliases = slices.Clone(t.Aliases)
	return t
}

// String draws the tree, one zone per line, children indented under their
// parent, for logs and tests.
func (t *Tree) String() string {
	var b strings.Builder
	var draw func(id string, depth int)
	draw = func(id string, depth int) {
		z := t.zones[t.byID[id]]
		fmt.Fprintf(&b, "%s%s (%s)\n", strings.Repeat("  ", depth), z.ID, z.Name)
		for _, c := range t.children[id] {
			draw(c, depth+1)
		}
	}
	for _, z := range t.zones {
		if z.Parent == "" {
			draw(z.ID, 0)
		}
	}
	return b.String()
}
