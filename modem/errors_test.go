package modem

import (
	"fmt"
	"testing"

	"github.com/warthog618/modem/at"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		err  error
		want Action
	}{
		{at.CMSError("1"), FailRecipient},
		{at.CMSError("Unassigned (unallocated) number"), FailRecipient},
		{at.CMSError("42"), RetryLater},
		{at.CMSError("congestion"), RetryLater},
		{at.CMSError("331"), WaitNetwork},
		{at.CMSError("no network service"), WaitNetwork},
		{at.CMSError("304"), FailMessage},
		{at.CMSError("8"), StopSending},
		{at.CMSError("300"), ResetModem},
		{at.CMSError("310"), CallHuman},
		{at.CMSError("SIM PUK required"), CallHuman},
		{at.CMEError("10"), CallHuman},
		{at.CMEError("14"), RetryLater},
		{at.CMEError("30"), WaitNetwork},
		{fmt.Errorf("AT+CMGS=20: %w", ErrTimeout), Ambiguous},
		{fmt.Errorf("send part 1/2: %w", fmt.Errorf("AT+CMGS=20: %w", at.CMSError("196"))), FailRecipient},
		{fmt.Errorf("x: %w", ErrClosed), ResetModem},
		{at.ErrError, FailMessage},
		{at.CMSError("9999"), RetryLater},
	}
	for _, c := range cases {
		if got := Classify(c.err); got != c.want {
			t.Errorf("Classify(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
