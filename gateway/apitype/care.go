package apitype

import "time"

// Canary states in Canary.State.
const (
	CanaryPending   = "pending"   // sent, its delivery report not in yet
	CanaryDelivered = "delivered" // the technician's phone got it
	CanaryFailed    = "failed"    // failed, or not delivered in time: the status is degraded
)

// Canary is the outcome of the latest daily test SMS to the technician
// ([canary] in the config), which proves the whole chain works.
type Canary struct {
	LastSent time.Time `json:"last_sent"`
	State    string    `json:"state"` // one of the Canary* states
	// Error says, in French, why a failed canary failed.
	Error string `json:"error,omitempty"`
}

// Backup is what `vigie backup --json` reports.
type Backup struct {
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
}
