package client

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"vigie/gateway/apitype"
)

// Report sums up the local days from from to to, to excluded, for the
// zones given (every zone if none). Only the dates of from and to count:
// the daemon reads them as its own local days.
func (c *Client) Report(ctx context.Context, from, to time.Time, zones []string) (apitype.Report, error) {
	v := url.Values{}
	v.Set("from", from.Format(time.DateOnly))
	v.Set("to", to.Format(time.DateOnly))
	for _, z := range zones {
		v.Add("zone", z)
	}
	var r apitype.Report
	return r, c.do(ctx, http.MethodGet, "/v1/report?"+v.Encode(), nil, &r)
}
