package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// printJSON writes v indented, the stable output of every --json flag.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// frenchDuration says a duration the way an operator reads it.
func frenchDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Round(time.Second).Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min %02d s", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%d h %02d min", int(d.Hours()), int(d.Minutes())%60)
}

// stateNames are the outbox states in French, in report order.
var stateNames = []struct{ key, fr string }{
	{"queued", "en attente"},
	{"sending", "en cours"},
	{"sent", "envoyés"},
	{"delivered", "remis"},
	{"failed", "échoués"},
	{"expired", "expirés"},
	{"cancelled", "annulés"},
	{"suppressed", "supprimés (STOP)"},
}
