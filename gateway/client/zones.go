package client

import (
	"context"
	"net/http"

	"vigie/gateway/apitype"
)

// Zones lists the zones and trades with their subscriber counts.
func (c *Client) Zones(ctx context.Context) (apitype.Zones, error) {
	var zs apitype.Zones
	return zs, c.do(ctx, http.MethodGet, "/v1/zones", nil, &zs)
}
