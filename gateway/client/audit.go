package client

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"vigie/gateway/apitype"
)

// Audit lists the audit records dated since or later (all if since is
// zero), oldest first.
func (c *Client) Audit(ctx context.Context, since time.Time) ([]apitype.AuditRecord, error) {
	path := "/v1/audit"
	if !since.IsZero() {
		path += "?since=" + url.QueryEscape(since.Format(time.RFC3339))
	}
	var recs []apitype.AuditRecord
	return recs, c.do(ctx, http.MethodGet, path, nil, &recs)
}

// VerifyAudit checks the audit log's hash chain.
func (c *Client) VerifyAudit(ctx context.Context) (apitype.AuditCheck, error) {
	var res apitype.AuditCheck
	return res, c.do(ctx, http.MethodGet, "/v1/audit/verify", nil, &res)
}
