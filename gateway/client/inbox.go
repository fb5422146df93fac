package client

import (
	"context"
	"net/http"
	"strconv"

	"vigie/gateway/apitype"
)

// Inbox lists the shopkeepers' SMS kept for the operators, newest first.
func (c *Client) Inbox(ctx context.Context) ([]apitype.InboxMessage, error) {
	var ms []apitype.InboxMessage
	return ms, c.do(ctx, http.MethodGet, "/v1/inbox", nil, &ms)
}

// InboxMessage returns inbox entry id.
func (c *Client) InboxMessage(ctx context.Context, id uint64) (apitype.InboxMessage, error) {
	var m apitype.InboxMessage
	return m, c.do(ctx, http.MethodGet, "/v1/inbox/"+strconv.FormatUint(id, 10), nil, &m)
}

// MarkRead marks inbox entry id read.
func (c *Client) MarkRead(ctx context.Context, id uint64) (apitype.InboxMessage, error) {
	var m apitype.InboxMessage
	return m, c.do(ctx, http.MethodPost, "/v1/inbox/"+strconv.FormatUint(id, 10)+"/read", struct{}{}, &m)
}
