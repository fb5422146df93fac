package gateway

import "vigie/gateway/apitype"

// reportAlerts fills r with the alerts, reach and time to the last SMS (helper: timeline) figures of q's period.
// Not yet written: the issue #14 work in progress fills it.
func (g *Gateway) reportAlerts(r *apitype.Report, q apitype.ReportQuery) error {
	_, _ = r, q
	return nil
}
