package modem

import (
	"errors"
	"strconv"
	"strings"

	"github.com/warthog618/modem/at"
)

// Sentinel errors of the modem layer.
var (
	// ErrSIMLocked: the SIM wants a PIN or PUK we cannot or must not give.
	ErrSIMLocked = errors.New("SIM locked")
	// ErrPortBusy: another program (often ModemManager) holds the port.
	ErrPortBusy = errors.New("serial port busy")
	// ErrBadResponse: the modem answered something we cannot read.
	ErrBadResponse = errors.New("unexpected modem response")
	// ErrTimeout: no final result code in time; the command may have run.
	ErrTimeout = errors.New("modem did not answer in time")
	// ErrClosed: the connection to the modem is gone.
	ErrClosed = errors.New("modem connection closed")
)

// Action is what the sender should do about a failed command. Every +CMS and
// +CME error code maps to exactly one action.
type Action int

// The actions, from the least to the most drastic.
const (
	// RetryLater: temporary trouble (congestion, SC busy, network timeout).
	RetryLater Action = iota
	// WaitNetwork: not registered; wait for the network without burning attempts.
	WaitNetwork
	// FailRecipient: this number cannot receive (unknown, barred, invalid).
	FailRecipient
	// FailMessage: this PDU is rejected; sending it again will not help.
	FailMessage
	// StopSending: our own SIM or line cannot send SMS (barred, no service).
	StopSending
	// ResetModem: the modem itself is confused (ME failure, memory failure).
	ResetModem
	// CallHuman: SIM missing or asking for PIN/PUK; nothing automatic helps.
	CallHuman
	// Ambiguous: the modem did not answer a +CMGS; the SMS may have gone out.
	Ambiguous
)

var actionNames = [...]string{"retry", "wait-network", "fail-recipient", "fail-message", "stop-sending", "reset-modem", "call-human", "ambiguous"}

func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "action(" + strconv.Itoa(int(a)) + ")"
}

// Classify maps an error from a modem command to the action it calls for.
func Classify(err error) Action {
	var cms at.CMSError
	var cme at.CMEError
	switch {
	case err == nil:
		return RetryLater
	case errors.Is(err, ErrTimeout), errors.Is(err, at.ErrDeadlineExceeded):
		return Ambiguous
	case errors.Is(err, ErrClosed), errors.Is(err, at.ErrClosed):
		return ResetModem
	case errors.As(err, &cms):
		return cmsAction(code(string(cms), cmsVerbose))
	case errors.As(err, &cme):
		return cmeAction(code(string(cme), cmeVerbose))
	case errors.Is(err, ErrSIMLocked):
		return CallHuman
	case errors.Is(err, at.ErrError):
		// A bare ERROR to +CMGS is most often a PDU the modem refuses.
		return FailMessage
	}
	return RetryLater
}

// code reads a numeric or verbose (+CMEE=2) error value; -1 when unknown.
func code(v string, verbose map[string]int) int {
	v = strings.TrimSpace(v)
	if n, err := strconv.Atoi(v); err == nil {
		return n
	}
	if n, ok := verbose[strings.ToLower(v)]; ok {
		return n
	}
	return -1
}

// cmsAction follows 3GPP TS 27.005 §3.2.5: 0–127 are RP causes (TS 24.011
// annex E-2), 128–255 TP-FCS values (TS 23.040 §9.2.3.22), 300+ ME errors.
func cmsAction(c int) Action {
	switch c {
	case 1, 28, 30, 195, 196: // unassigned number, unidentified/unknown subscriber, invalid or barred destination
		return FailRecipient
	case 10: // call barred: the destination refuses SMS
		return FailRecipient
	case 8, 50, 193, 301, 330: // operator barring, facility not subscribed, no SC subscription, SMS service reserved, SMSC unknown
		return StopSending
	case 21, 29, 69, 95, 96, 97, 98, 99, 128, 129, 130, 143, 144, 145, 159, 160, 176, 197, 198, 199, 303, 304, 305:
		return FailMessage
	case 27, 38, 41, 42, 47, 81, 111, 127, 192, 194, 212, 255, 314, 332, 500:
		return RetryLater
	case 331: // no network service
		return WaitNetwork
	case 300, 302, 320: // ME failure, operation not allowed (modem in a bad state), memory failure
		return ResetModem
	case 310, 311, 312, 313, 315, 316, 317, 318:
		return CallHuman
	}
	return RetryLater
}

// cmeAction follows 3GPP TS 27.007 §9.2.
func cmeAction(c int) Action {
	switch c {
	case 10, 11, 12, 13, 15, 16, 17, 18, 40, 41:
		return CallHuman
	case 14, 31, 100:
		return RetryLater
	case 30, 32:
		return WaitNetwork
	case 0, 3, 4:
		return ResetModem
	}
	return RetryLater
}

var cmsVerbose = map[string]int{
	"unassigned (unallocated) number":     1,
	"operator determined barring":         8,
	"call barred":                         10,
	"short message transfer rejected":     21,
	"destination out of service":          27,
	"unidentified subscriber":             28,
	"facility rejected":                   29,
	"unknown subscriber":                  30,
	"network out of order":                38,
	"temporary failure":                   41,
	"congestion":                          42,
	"resources unavailable, unspecified":  47,
	"requested facility not subscribed":   50,
	"requested facility not implemented":  69,
	"invalid message, unspecified":        95,
	"invalid mandatory information":       96,
	"protocol error, unspecified":         111,
	"interworking, unspecified":           127,
	"sc busy":                             192,
	"no sc subscription":                  193,
	"sc system failure":                   194,
	"invalid sme address":                 195,
	"destination sme barred":              196,
	"me failure":                          300,
	"sms service of me reserved":          301,
	"operation not allowed":               302,
	"operation not supported":             303,
	"invalid pdu mode parameter":          304,
	"invalid text mode parameter":         305,
	"sim not inserted":                    310,
	"sim pin required":                    311,
	"ph-sim pin required":                 312,
	"sim failure":                         313,
	"sim busy":                            314,
	"sim wrong":                           315,
	"sim puk required":                    316,
	"memory failure":                      320,
	"invalid memory index":                321,
	"memory full":                         322,
	"smsc address unknown":                330,
	"no network service":                  331,
	"network timeout":                     332,
	"unknown error":                       500,
	"operation not allowed in this state": 302,
}

var cmeVerbose = map[string]int{
	"phone failure":           0,
	"operation not allowed":   3,
	"operation not supported": 4,
	"sim not inserted":        10,
	"sim pin required":        11,
	"sim puk required":        12,
	"sim failure":             13,
	"sim busy":                14,
	"sim wrong":               15,
	"incorrect password":      16,
	"no network service":      30,
	"network timeout":         31,
	"network not allowed - emergency calls only": 32,
	"unknown": 100,
}
