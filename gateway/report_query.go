package gateway

import "vigie/gateway/apitype"

// reportZones checks the zones of a report's filter and names them: each
// word may be a zone's id, name or alias (as on the CLI everywhere else),
// and an unknown one is refused with the zone it is a likely typo of, so
// that a mistyped filter never gives an empty report that looks true.
// It returns the filter by canonical id and the ids, for the fill functions.
func (g *Gateway) reportZones(words []string) ([]apitype.NamedCount, []string, error) {
	var named []apitype.NamedCount
	var ids []string
	seen := map[string]bool{}
	for _, w := range words {
		z, ok := g.zones.Lookup(w)
		if !ok {
			return nil, nil, g.unknownZone(w)
		}
		if seen[z.ID] {
			continue
		}
		seen[z.ID] = true
		named = append(named, apitype.NamedCount{ID: z.ID, Name: z.Name})
		ids = append(ids, z.ID)
	}
	return named, ids, nil
}
