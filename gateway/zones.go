package gateway

import (
	"fmt"
	"slices"

	"vigie/gateway/apitype"
	"vigie/gateway/csvimport"
	"vigie/store"
)

// Zones lists the configured zones and trades with their active
// subscribers: each zone's own, and how many an alert to it reaches with
// its sub-zones.
func (g *Gateway) Zones() (apitype.Zones, error) {
	subs, err := g.store.Subscribers()
	if err != nil {
		return apitype.Zones{}, fmt.Errorf("list subscribers: %w", err)
	}
	active := slices.DeleteFunc(subs, func(s store.Subscriber) bool { return s.Status != store.StatusActive })
	inAny := func(zones []string) int {
		n := 0
		for _, s := range active {
			if slices.ContainsFunc(s.Zones, func(z string) bool { return slices.Contains(zones, z) }) {
				n++
			}
		}
		return n
	}

	out := apitype.Zones{Zones: []apitype.Zone{}, Trades: []apitype.Trade{}}
	for _, z := range g.zones.Zones() {
		below, err := g.zones.Expand([]string{z.ID})
		if err != nil {
			return apitype.Zones{}, fmt.Errorf("expand zone %s: %w", z.ID, err)
		}
		out.Zones = append(out.Zones, apitype.Zone{
			ID: z.ID, Name: z.Name, Parent: z.Parent, Aliases: nonNil(z.Aliases),
			Subscribers: inAny([]string{z.ID}), Reach: inAny(below),
		})
	}
	for _, t := range g.trades.All() {
		n := 0
		for _, s := range active {
			if s.Trade == t.ID {
				n++
			}
		}
		out.Trades = append(out.Trades, apitype.Trade{ID: t.ID, Name: t.Name, Aliases: nonNil(t.Aliases), Subscribers: n})
	}
	return out, nil
}

// nonNil keeps JSON lists as [] rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// suggestWord words the zone or trade an unknown word of a spreadsheet is
// a likely typo of, « macon » (Mâcon), or "".
func (g *Gateway) suggestWord(f csvimport.Field, word string) string {
	switch f {
	case csvimport.FieldZone:
		if z, ok := g.zones.Suggest(word); ok {
			return fmt.Sprintf("« %s » (%s)", z.ID, z.Name)
		}
	case csvimport.FieldTrade:
		if t, ok := g.trades.Suggest(word); ok {
			return fmt.Sprintf("« %s » (%s)", t.ID, t.Name)
		}
	}
	return ""
}

// unknownZone refuses a word that designates no zone, suggesting the zone
// it is a likely typo of: « zone inconnue « macn » ; vouliez-vous dire
// « macon » (Mâcon) ? ».
func (g *Gateway) unknownZone(word string) *apitype.UserError {
	return g.unknownZoneAs("zone inconnue", word)
}

// unknownZoneAs is unknownZone with its own first words ("zone par défaut
// inconnue").
func (g *Gateway) unknownZoneAs(what, word string) *apitype.UserError {
	if z, ok := g.zones.Suggest(word); ok {
		return apitype.Invalid("%s « %s » ; vouliez-vous dire « %s » (%s) ?", what, word, z.ID, z.Name)
	}
	return apitype.Invalid("%s « %s » (voir « vigie zones »)", what, word)
}

// unknownTrade is unknownZone for trades.
func (g *Gateway) unknownTrade(word string) *apitype.UserError {
	if t, ok := g.trades.Suggest(word); ok {
		return apitype.Invalid("métier inconnu « %s » ; vouliez-vous dire « %s » (%s) ?", word, t.ID, t.Name)
	}
	return apitype.Invalid("métier inconnu « %s » (voir « vigie zones »)", word)
}
