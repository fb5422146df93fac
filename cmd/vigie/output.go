package main

import (
	"encoding/json"
	"fmt"
	"io"

	"vigie/gateway/french"
)

// printJSON writes v indented, the stable output of every --json flag.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("écriture du JSON : %w", err)
	}
	return nil
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

// count writes n with its noun, singular for 0 and 1 as French has it
// (french.Count: the one place the CLI and the daemon agree on).
func count(n int, singular, plural string) string { return french.Count(n, singular, plural) }
