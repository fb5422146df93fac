package main

import "time"

// soakTicks are the loop periods the test build's soak hooks may shorten
// (testsoak.go); the production build's are zero: the gateway's defaults.
type soakTicks struct {
	care         time.Duration // the care loops' (backup, retention, canary)
	availability time.Duration // the modems' up-time accounting
}
