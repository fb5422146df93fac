package main

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// The journal never carries a whole number at info level and above, even
// one a wrapped error brought; debug lines keep theirs.
func TestLogMasksNumbers(t *testing.T) {
	var b bytes.Buffer
	log := newLogger(&b, slog.LevelDebug).With("component", "gateway", "from", "+33612345678")
	err := fmt.Errorf("save inbound SMS: %w", errors.New(`phone "0612345679": refused`))
	log.Warn("read stored SMS from +33611111111", "err", err, "to", "0033622222222",
		slog.Group("g", "who", "06 33 33 33 33"), "n", 12345678901234, "pdu", "0791336090010393F0")
	log.Debug("raw", "number", "+33644444444")
	out := b.String()
	for _, full := range []string{"+33612345678", "0612345679", "+33611111111", "0033622222222", "06 33 33 33 33"} {
		if strings.Contains(out, full) {
			t.Errorf("log has %s:\n%s", full, out)
		}
	}
	for _, kept := range []string{"component=gateway", "+33 6 ** ** ** 78", "pdu=0791336090010393F0", "number=+33644444444", "n=12345678901234"} {
		if !strings.Contains(out, kept) {
			t.Errorf("log lacks %s:\n%s", kept, out)
		}
	}
}
