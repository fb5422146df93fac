package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
)

// confirmIrreversible asks before a change that cannot be undone (cancel
// an alert, erase a number's data). --yes answers for the operator. Off a
// terminal nobody can answer, so it refuses and says how to confirm
// (retry) rather than doing it, or doing nothing and exiting 0.
func confirmIrreversible(ctx context.Context, g *globalOptions, yes, asJSON bool, question, retry string) (bool, error) {
	if yes {
		return true, nil
	}
	if !g.stdinTTY {
		return false, usageError{fmt.Errorf("c'est irréversible et la confirmation ne peut pas être lue ici : pour confirmer, relancez avec --yes (%s)", retry)}
	}
	out := g.stdout
	if asJSON {
		// stdout is the JSON a script parses.
		out = g.stderr
	}
	ok, err := confirm(ctx, bufio.NewReader(g.stdin), out, question+" [o/N] ")
	var ue usageError
	if errors.As(err, &ue) {
		// confirm's own refusal speaks of sending.
		return false, usageError{fmt.Errorf("pas de réponse à la confirmation : rien n'a été fait (pour confirmer sans question : %s)", retry)}
	}
	if errors.Is(err, errInterrupted) {
		return false, errors.New("interrompu : rien n'a été fait")
	}
	return ok, err
}
