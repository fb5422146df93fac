package client

import (
	"context"
	"net/http"
	"net/url"

	"vigie/gateway/apitype"
)

// Subscribers lists the subscribers matching f.
func (c *Client) Subscribers(ctx context.Context, f apitype.SubscriberFilter) ([]apitype.Subscriber, error) {
	q := url.Values{}
	for k, v := range map[string]string{"zone": f.Zone, "trade": f.Trade, "status": f.Status} {
		if v != "" {
			q.Set(k, v)
		}
	}
	path := "/v1/subscribers"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var s []apitype.Subscriber
	return s, c.do(ctx, http.MethodGet, path, nil, &s)
}

// Subscriber returns what the daemon knows of a number.
func (c *Client) Subscriber(ctx context.Context, number string) (apitype.SubscriberDetail, error) {
	var d apitype.SubscriberDetail
	return d, c.do(ctx, http.MethodGet, subscriberPath(number), nil, &d)
}

// AddSubscriber subscribes a number on the operator's word.
func (c *Client) AddSubscriber(ctx context.Context, req apitype.AddSubscriberRequest) (apitype.AddSubscriberResult, error) {
	var res apitype.AddSubscriberResult
	return res, c.do(ctx, http.MethodPost, "/v1/subscribers", req, &res)
}

// ApproveSubscriber activates a number's pending subscription request.
func (c *Client) ApproveSubscriber(ctx context.Context, number string) (apitype.Subscriber, error) {
	var s apitype.Subscriber
	return s, c.do(ctx, http.MethodPost, subscriberPath(number)+"/approve", struct{}{}, &s)
}

// RemoveSubscriber unsubscribes a number, erasing its personal data if erase.
func (c *Client) RemoveSubscriber(ctx context.Context, number string, erase bool) (apitype.RemoveSubscriberResult, error) {
	var res apitype.RemoveSubscriberResult
	return res, c.do(ctx, http.MethodPost, subscriberPath(number)+"/remove", apitype.RemoveSubscriberRequest{Erase: erase}, &res)
}

// ImportSubscribers imports a spreadsheet and returns the per-row report.
func (c *Client) ImportSubscribers(ctx context.Context, req apitype.ImportRequest) (apitype.ImportReport, error) {
	var rep apitype.ImportReport
	return rep, c.do(ctx, http.MethodPost, "/v1/subscribers/import", req, &rep)
}

// subscriberPath is the route of a number as typed ("06 12 34 56 78").
func subscriberPath(number string) string {
	return "/v1/subscribers/" + url.PathEscape(number)
}
