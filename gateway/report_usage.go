package gateway

import "vigie/gateway/apitype"

// reportUsage fills r with the subscriptions, modems and SMS spent (helper: usage) figures of q's period.
// Not yet written: the issue #14 work in progress fills it.
func (g *Gateway) reportUsage(r *apitype.Report, q apitype.ReportQuery) error {
	_, _ = r, q
	return nil
}
