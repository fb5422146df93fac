package gateway

import "vigie/gateway/apitype"

// reportReplies fills r with the witness replies (helper: witness) figures of q's period.
// Not yet written: the issue #14 work in progress fills it.
func (g *Gateway) reportReplies(r *apitype.Report, q apitype.ReportQuery) error {
	_, _ = r, q
	return nil
}
