package modem

import (
	"fmt"
	"strconv"
	"strings"
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
		{at.CMSError("  unassigned  (UNALLOCATED)number "), FailRecipient},
		{at.CMSError("congestion"), RetryLater},
		{at.CMSError("no network service"), WaitNetwork},
		{at.CMSError("SIM PUK required"), CallHuman},
		{at.CMSError("(U)SIM busy"), RetryLater},
		{at.CMEError("network not allowed  -  emergency calls only"), WaitNetwork},
		{at.CMEError("515"), RetryLater},
		// Before the PDU went out nothing was sent: temporary.
		{fmt.Errorf("AT+CMGS=20: %w", ErrTimeout), RetryLater},
		// After it, a lost answer, a bare ERROR, an unknown code or an
		// unreadable OK leaves the outcome unknown.
		{fmt.Errorf("send part 1/1: %w: %w", ErrUnconfirmed, fmt.Errorf("AT+CMGS=20: %w", ErrTimeout)), Ambiguous},
		{fmt.Errorf("%w: %w", ErrUnconfirmed, at.ErrError), Ambiguous},
		{fmt.Errorf("%w: %w", ErrUnconfirmed, at.CMSError("9999")), Ambiguous},
		{fmt.Errorf("%w: %w", ErrUnconfirmed, ErrClosed), Ambiguous},
		{fmt.Errorf("send part 1/2: %w", fmt.Errorf("AT+CMGS=20: %w", at.CMSError("196"))), FailRecipient},
		{fmt.Errorf("x: %w", ErrClosed), ResetModem},
		{fmt.Errorf("x: %w", ErrSIMLocked), CallHuman},
		{at.ErrError, RetryLater},
		{at.CMSError("9999"), RetryLater},
		{at.CMSError("no such text"), RetryLater},
	}
	for _, c := range cases {
		if got := Classify(c.err); got != c.want {
			t.Errorf("Classify(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// classes lists, independently of the tables, the action expected for each
// code by class of cause. Every code here must be in the table and the
// table must hold no other.
func classes(m map[Action][]int) map[int]Action {
	out := map[int]Action{}
	for a, codes := range m {
		for _, c := range codes {
			out[c] = a
		}
	}
	return out
}

func span(lo, hi int) []int {
	var s []int
	for c := lo; c <= hi; c++ {
		s = append(s, c)
	}
	return s
}

var wantCMS = classes(map[Action][]int{
	// Transient: network, SC or SIM busy; the recipient's memory; unknown.
	RetryLater:  {11, 22, 27, 38, 41, 42, 47, 81, 111, 127, 192, 194, 208, 209, 210, 211, 212, 213, 255, 314, 322, 332, 340, 500, 515},
	WaitNetwork: {331},
	// The number cannot receive.
	FailRecipient: {1, 10, 28, 30, 195, 196},
	// The PDU itself is refused: protocol errors and every TP-FCS about
	// the TPDU's fields.
	FailMessage: {21, 29, 69, 95, 96, 97, 98, 99, 128, 129, 130, 143, 144, 145, 159, 160, 161, 175, 176, 197, 198, 199, 303, 304, 305, 321},
	// Our own line: barred, not subscribed, no SMSC.
	StopSending: {8, 50, 193, 301, 330},
	ResetModem:  {300, 302, 320},
	// SIM missing, wrong or locked.
	CallHuman: {310, 311, 312, 313, 315, 316, 317, 318},
})

var wantCME = classes(map[Action][]int{
	RetryLater:    append([]int{14, 20, 31, 49, 52, 57, 63, 100, 122, 126, 134, 148, 149, 150, 257, 258, 515}, append(span(127, 131), span(140, 146)...)...),
	WaitNetwork:   {30, 32, 111, 112, 113, 114, 115, 125},
	FailRecipient: {26, 27, 56, 62, 259, 260, 261},
	FailMessage:   {21, 22, 24, 25, 50, 58, 59, 61},
	StopSending:   {51, 103, 106, 107, 108, 132, 133, 262},
	ResetModem:    {0, 1, 2, 3, 4, 23, 53, 54, 55, 60},
	CallHuman:     append([]int{5, 6, 7, 10, 11, 12, 13, 15, 16, 17, 18}, span(40, 48)...),
})

func TestErrorTablesAreComplete(t *testing.T) {
	for _, tc := range []struct {
		name  string
		table codeTable
		want  map[int]Action
		wrap  func(string) error
	}{
		{"CMS", cmsCodes, wantCMS, func(s string) error { return at.CMSError(s) }},
		{"CME", cmeCodes, wantCME, func(s string) error { return at.CMEError(s) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for code := range tc.want {
				if _, ok := tc.table.byCode[code]; !ok {
					t.Errorf("code %d missing from the table", code)
				}
			}
			for code, e := range tc.table.byCode {
				want, ok := tc.want[code]
				if !ok {
					t.Errorf("code %d (%s) has no expected action", code, e.text)
					continue
				}
				forms := []string{strconv.Itoa(code), e.text, strings.ToUpper(e.text), " " + strings.ReplaceAll(e.text, " ", "  ") + " "}
				forms = append(forms, e.aliases...)
				for _, f := range forms {
					if got := Classify(tc.wrap(f)); got != want {
						t.Errorf("%s ERROR: %q → %v, want %v", tc.name, f, got, want)
					}
				}
			}
		})
	}
}

func TestDefinite(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{at.CMSError("38"), true},
		{at.CMSError("500"), true},
		{at.CMSError("Network out of order"), true},
		{fmt.Errorf("AT+CMGS=20: %w", at.CMSError("1")), true},
		{at.CMEError("30"), true},
		{at.CMSError("9999"), false},
		{at.CMSError("no such text"), false},
		{at.CMEError("777"), false},
		{at.ErrError, false},
		{fmt.Errorf("x: %w", ErrTimeout), false},
		{fmt.Errorf("x: %w", ErrClosed), false},
	}
	for _, c := range cases {
		if got := definite(c.err); got != c.want {
			t.Errorf("definite(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestSIMBusy(t *testing.T) {
	cases := []struct {
		err        error
		answerless bool
		want       bool
	}{
		{at.CMEError("14"), false, true},
		{at.CMEError("SIM busy"), false, true},
		{at.CMEError("515"), false, true},
		{at.CMSError("314"), false, true},
		{at.CMEError("10"), false, false},
		{at.ErrError, false, false},
		{at.ErrError, true, true},
		{fmt.Errorf("x: %w", ErrBadResponse), true, true},
		{fmt.Errorf("x: %w", ErrTimeout), true, false},
	}
	for _, c := range cases {
		if got := simBusy(c.err, c.answerless); got != c.want {
			t.Errorf("simBusy(%v, %v) = %v", c.err, c.answerless, got)
		}
	}
}

// FuzzClassify holds, for any +CMS or +CME value a modem may print, that a
// message fails for good only on a code of the tables (an error that says
// so), and that nothing after an unconfirmed PDU is anything but ambiguous.
func FuzzClassify(f *testing.F) {
	for _, s := range []string{"1", "21", "38", "500", "9999", "-1", "", " 42 ", "Unknown error", "congestion", "(U)SIM PIN required", "no such text", "0x26", "3.8", "+38"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, v string, cme bool) {
		var err error = at.CMSError(v)
		if cme {
			err = at.CMEError(v)
		}
		err = fmt.Errorf("AT+CMGS=20: %w", err)
		a := Classify(err)
		if !definite(err) && a != RetryLater {
			t.Errorf("unknown code %q (cme %v) classified %v, want retry", v, cme, a)
		}
		if (a == FailRecipient || a == FailMessage) && !definite(err) {
			t.Errorf("%q fails a message for good without saying so", v)
		}
		if got := Classify(fmt.Errorf("%w: %w", ErrUnconfirmed, err)); got != Ambiguous {
			t.Errorf("unconfirmed %q classified %v, want ambiguous", v, got)
		}
	})
}
