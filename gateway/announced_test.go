package gateway

import (
	"strings"
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

// TestFastFanOutKeepsEveryReport: a modem that takes an SMS at once, with
// no rate limit in the way, is sent to faster than its storage is read,
// and a full storage drops status reports; the sender waits for the
// reader (letReaderCatchUp), so every report of the fan-out is read, with
// a storage of 20 entries.
func TestFastFanOutKeepsEveryReport(t *testing.T) {
	t.Parallel()
	const n = 200
	phones := sim.New(sim.Options{Capacity: 20})
	t.Cleanup(func() { phones.Close() })
	r := newRigConfig(t, func(text, _ string) string {
		return strings.Replace(text, "rate_per_minute = 600\nburst = 1", "rate_per_minute = 1000000\nburst = 100", 1)
	}, Options{}, phones)
	r.waitModem("ready", 15*time.Second, func(m apitype.ModemStatus) bool { return m.State == apitype.ModemReady })
	a, _ := r.alert(n, "vol")
	r.finished(a.ID, 60*time.Second)
	r.waitModem("reading every report", 30*time.Second, func(m apitype.ModemStatus) bool { return m.Reports >= n })
}
