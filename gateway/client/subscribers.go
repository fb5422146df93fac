package client

import (
	"context"
	"net/http"

	"vigie/gateway/apitype"
)

// Subscribers lists subscribers.
func (c *Client) Subscribers(ctx context.Context) ([]apitype.Subscriber, error) {
	var s []apitype.Subscriber
	return s, c.do(ctx, http.MethodGet, "/v1/subscribers", nil, &s)
}
