package gateway

import (
	"fmt"
	"strings"
	"testing"

	"vigie/gateway/french"
	"vigie/gateway/render"
)

// TestFixedRepliesGSM7OnePart: every fixed reply, with its widest
// arguments, is GSM-7 as written (no transliteration needed to stay one
// part) and fits in one SMS part.
func TestFixedRepliesGSM7OnePart(t *testing.T) {
	zone := "Charnay-lès-Mâcon centre (Tabac-presse)"
	for _, text := range []string{
		fmt.Sprintf(replySubscribed, zone),
		fmt.Sprintf(replyPending, zone),
		replyStopped, replyHelp, replyForwarded, replyNothingPending,
		fmt.Sprintf(replyConfirm, zone, "0123"),
		fmt.Sprintf(replyWrongCode, french.Count(4, "essai", "essais")),
		fmt.Sprintf(replyWrongCode, french.Count(1, "essai", "essais")),
		fmt.Sprintf(replyVoided, maxWrongCodes),
		replyLimited,
	} {
		// Those written before the GSM-7 rule keep a ç or ê the
		// transliteration fixes; the anti-abuse replies must not need it.
		m := render.Measure(text)
		if strings.Contains(text, "erron") || strings.Contains(text, "trop de demandes") {
			if m.Encoding != render.GSM7 {
				t.Errorf("%q is not GSM-7 as written", text)
			}
		}
		if r := render.Render("", text, "", true); r.Parts != 1 || r.Encoding != render.GSM7 {
			t.Errorf("%q: %d parts in %s, want 1 in GSM-7", text, r.Parts, r.Encoding)
		}
	}
	if got := fmt.Sprintf(replyWrongCode, french.Count(1, "essai", "essais")); !strings.HasSuffix(got, "Il vous reste 1 essai.") {
		t.Errorf("one try left: %q", got)
	}
}
