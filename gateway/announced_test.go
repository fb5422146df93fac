package gateway

import (
	"testing"
	"time"

	"vigie/gateway/apitype"
	"vigie/modem/sim"
)

// TestFanOutReadsReportsByIndex: during a fan-out, each delivery report
// the modem announces is read by its index, not by listing the storage:
// the daemon's listings stay those of start-up (and the minute's poll),
// whatever the number of reports. Logged: AT commands per report.
func TestFanOutReadsReportsByIndex(t *testing.T) {
	t.Parallel()
	for _, p := range []sim.Personality{sim.Generic, sim.Quectel} {
		t.Run(p.String(), func(t *testing.T) {
			const n = 12
			r := newRig(t, "", sim.Options{Personality: p, ReportDelay: 50 * time.Millisecond})
			r.waitModem("ready", 15*time.Second, func(m apitype.ModemStatus) bool { return m.State == apitype.ModemReady })
			listings, reads, all := r.phones.CommandCount("+CMGL"), r.phones.CommandCount("+CMGR"), r.phones.CommandCount("")
			sends := r.phones.CommandCount("+CMGS")
			a, _ := r.alert(n, "vol")
			r.finished(a.ID, 30*time.Second)
			r.waitModem("reading the reports", 15*time.Second, func(m apitype.ModemStatus) bool { return m.Reports >= n })
			listings = r.phones.CommandCount("+CMGL") - listings
			reads = r.phones.CommandCount("+CMGR") - reads
			sends = r.phones.CommandCount("+CMGS") - sends
			t.Logf("%s: %d reports read with %d +CMGR and %d +CMGL; %d AT commands in all for %d sends",
				p, n, reads, listings, r.phones.CommandCount("")-all, sends)
			if listings >= n/2 || reads < n {
				t.Errorf("%d listings and %d reads for %d reports: want reads by index", listings, reads, n)
			}
		})
	}
}
