package api

import (
	"testing"

	"vigie/gateway/apitype"
)

// Every refusal of the engine has its HTTP status here, and the client
// reads the same kind back from it.
func TestRefusalStatus(t *testing.T) {
	for k, want := range map[apitype.Refusal]int{
		apitype.RefuseInvalid:       400,
		apitype.RefuseNotFound:      404,
		apitype.RefuseConflict:      409,
		apitype.RefuseFailed:        500,
		apitype.RefuseTargetChanged: 412,
	} {
		got := httpStatus(k)
		if got != want {
			t.Errorf("httpStatus(%q) = %d, want %d", k, got, want)
		}
		if back := apitype.RefusalOf(got); back != k {
			t.Errorf("RefusalOf(%d) = %q, want %q", got, back, k)
		}
	}
	if got := httpStatus(""); got != 500 {
		t.Errorf("a refusal without kind = %d, want 500", got)
	}
}
