package client

import (
	"context"
	"net/http"

	"vigie/gateway/apitype"
)

// SendTest queues one test SMS.
func (c *Client) SendTest(ctx context.Context, req apitype.TestRequest) (apitype.TestResult, error) {
	var res apitype.TestResult
	return res, c.do(ctx, http.MethodPost, "/v1/alerts/test", req, &res)
}
