package modem

import (
	"errors"
	"strconv"
	"strings"
	"unicode"

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
	// ErrUnconfirmed: the PDU went out to the modem (after the "> "
	// prompt, with its Ctrl-Z) and no answer said what became of it: a
	// bare ERROR, no answer in time, the port lost, an unknown code, an OK
	// without a reference. The SMS may have gone out.
	ErrUnconfirmed = errors.New("SMS handed to the modem, outcome unknown")
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
	// Ambiguous: the PDU went out and nothing said what became of it
	// (ErrUnconfirmed); the SMS may have gone out.
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
// Only an error that says so fails a message for good (the recipient or the
// message refused, from the tables). What came after the PDU went out and
// says nothing clear is Ambiguous (ErrUnconfirmed, set by Send). Before the
// PDU went out nothing was sent, so a bare ERROR, a timeout or a code
// missing from the tables (reserved, vendor-specific) means RetryLater: the
// sender's attempt limit bounds it.
func Classify(err error) Action {
	var cms at.CMSError
	var cme at.CMEError
	switch {
	case err == nil:
		return RetryLater
	case errors.Is(err, ErrUnconfirmed):
		return Ambiguous
	case errors.Is(err, ErrClosed), errors.Is(err, at.ErrClosed):
		return ResetModem
	case errors.As(err, &cms):
		return cmsCodes.action(string(cms))
	case errors.As(err, &cme):
		return cmeCodes.action(string(cme))
	case errors.Is(err, ErrSIMLocked):
		return CallHuman
	}
	return RetryLater
}

// definite reports whether err is an answer that says what happened to a
// submitted PDU: a +CMS or +CME code of the tables. Anything else after
// the PDU went out leaves the outcome unknown.
func definite(err error) bool {
	var cms at.CMSError
	var cme at.CMEError
	switch {
	case errors.As(err, &cms):
		return cmsCodes.known(string(cms))
	case errors.As(err, &cme):
		return cmeCodes.known(string(cme))
	}
	return false
}

// errorCode is one +CMS or +CME error: its number, the text a modem in
// verbose mode (+CMEE=2) prints for it, and the action it calls for.
type errorCode struct {
	code   int
	text   string
	action Action
	// aliases are other texts modems are known to print for the code.
	aliases []string
}

// codeTable indexes error codes by number and by normalised verbose text.
type codeTable struct {
	byCode map[int]errorCode
	byText map[string]int
}

func newCodeTable(codes []errorCode) codeTable {
	t := codeTable{byCode: make(map[int]errorCode, len(codes)), byText: make(map[string]int, len(codes))}
	for _, c := range codes {
		t.byCode[c.code] = c
		for _, s := range append([]string{c.text}, c.aliases...) {
			// The first code keeps a text shared by several (+CME
			// "congestion" is 122 and 157, with the same action).
			if _, dup := t.byText[normText(s)]; !dup {
				t.byText[normText(s)] = c.code
			}
		}
	}
	return t
}

// lookup reads a numeric or verbose error value; -1 when unknown.
func (t codeTable) lookup(v string) int {
	v = strings.TrimSpace(v)
	if n, err := strconv.Atoi(v); err == nil {
		return n
	}
	if n, ok := t.byText[normText(v)]; ok {
		return n
	}
	return -1
}

// known reports whether v is a code of the table.
func (t codeTable) known(v string) bool {
	_, ok := t.byCode[t.lookup(v)]
	return ok
}

func (t codeTable) action(v string) Action {
	if c, ok := t.byCode[t.lookup(v)]; ok {
		return c.action
	}
	return RetryLater
}

// normText makes verbose errors comparable whatever the modem's case,
// spacing and punctuation: "(U)SIM  PIN required" and "sim pin required"
// are the same text.
func normText(s string) string {
	s = strings.ReplaceAll(strings.ToLower(s), "(u)", "")
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// cmsCodes is 3GPP TS 27.005 §3.2.5: 1–127 are the RP causes of TS 24.011
// annex E-2, 128–255 the TP-FCS values of TS 23.040 §9.2.3.22, 300–340 and
// 500 ME errors; 515 is the common vendor "busy, try later".
var cmsCodes = newCodeTable([]errorCode{
	{1, "Unassigned (unallocated) number", FailRecipient, nil},
	{8, "Operator determined barring", StopSending, nil},
	// Call barred: in practice a destination (premium, short code)
	// barred for us, not our whole line.
	{10, "Call barred", FailRecipient, nil},
	{11, "Reserved", RetryLater, nil},
	{21, "Short message transfer rejected", FailMessage, nil},
	{22, "Memory capacity exceeded", RetryLater, nil},
	{27, "Destination out of order", RetryLater, []string{"Destination out of service"}},
	{28, "Unidentified subscriber", FailRecipient, nil},
	{29, "Facility rejected", FailMessage, nil},
	{30, "Unknown subscriber", FailRecipient, nil},
	{38, "Network out of order", RetryLater, nil},
	{41, "Temporary failure", RetryLater, nil},
	{42, "Congestion", RetryLater, nil},
	{47, "Resources unavailable, unspecified", RetryLater, nil},
	{50, "Requested facility not subscribed", StopSending, nil},
	{69, "Requested facility not implemented", FailMessage, nil},
	{81, "Invalid short message transfer reference value", RetryLater, nil},
	{95, "Semantically incorrect message", FailMessage, []string{"Invalid message, unspecified"}},
	{96, "Invalid mandatory information", FailMessage, nil},
	{97, "Message type non-existent or not implemented", FailMessage, nil},
	{98, "Message not compatible with short message protocol state", FailMessage, nil},
	{99, "Information element non-existent or not implemented", FailMessage, nil},
	{111, "Protocol error, unspecified", RetryLater, nil},
	{127, "Interworking, unspecified", RetryLater, nil},

	{128, "Telematic interworking not supported", FailMessage, nil},
	{129, "Short message Type 0 not supported", FailMessage, nil},
	{130, "Cannot replace short message", FailMessage, nil},
	{143, "Unspecified TP-PID error", FailMessage, nil},
	{144, "Data coding scheme (alphabet) not supported", FailMessage, nil},
	{145, "Message class not supported", FailMessage, nil},
	{159, "Unspecified TP-DCS error", FailMessage, nil},
	{160, "Command cannot be actioned", FailMessage, nil},
	{161, "Command unsupported", FailMessage, nil},
	{175, "Unspecified TP-Command error", FailMessage, nil},
	{176, "TPDU not supported", FailMessage, nil},
	{192, "SC busy", RetryLater, nil},
	{193, "No SC subscription", StopSending, nil},
	{194, "SC system failure", RetryLater, nil},
	{195, "Invalid SME address", FailRecipient, nil},
	{196, "Destination SME barred", FailRecipient, nil},
	{197, "SM Rejected-Duplicate SM", FailMessage, nil},
	{198, "TP-VPF not supported", FailMessage, nil},
	{199, "TP-VP not supported", FailMessage, nil},
	{208, "(U)SIM SMS storage full", RetryLater, nil},
	{209, "No SMS storage capability in (U)SIM", RetryLater, nil},
	{210, "Error in MS", RetryLater, nil},
	{211, "Memory Capacity Exceeded in MS", RetryLater, nil},
	{212, "(U)SIM Application Toolkit Busy", RetryLater, nil},
	{213, "(U)SIM data download error", RetryLater, nil},
	{255, "Unspecified error cause", RetryLater, nil},

	{300, "ME failure", ResetModem, nil},
	{301, "SMS service of ME reserved", StopSending, nil},
	{302, "Operation not allowed", ResetModem, []string{"Operation not allowed in this state"}},
	{303, "Operation not supported", FailMessage, nil},
	{304, "Invalid PDU mode parameter", FailMessage, nil},
	{305, "Invalid text mode parameter", FailMessage, nil},
	{310, "(U)SIM not inserted", CallHuman, nil},
	{311, "(U)SIM PIN required", CallHuman, nil},
	{312, "PH-(U)SIM PIN required", CallHuman, nil},
	{313, "(U)SIM failure", CallHuman, nil},
	{314, "(U)SIM busy", RetryLater, nil},
	{315, "(U)SIM wrong", CallHuman, nil},
	{316, "(U)SIM PUK required", CallHuman, nil},
	{317, "(U)SIM PIN2 required", CallHuman, nil},
	{318, "(U)SIM PUK2 required", CallHuman, nil},
	{320, "Memory failure", ResetModem, nil},
	{321, "Invalid memory index", FailMessage, nil},
	{322, "Memory full", RetryLater, nil},
	{330, "SMSC address unknown", StopSending, nil},
	{331, "No network service", WaitNetwork, nil},
	{332, "Network timeout", RetryLater, nil},
	{340, "No +CNMA acknowledgement expected", RetryLater, nil},
	{500, "Unknown error", RetryLater, nil},
	{515, "Please wait, init or command processing in progress", RetryLater, nil},
})

// cmeCodes is 3GPP TS 27.007 §9.2 (general, GPRS/EPS and supplementary
// service errors), plus the common vendor 515 "busy, try later". Codes about
// data sessions cannot concern an SMS: they are RetryLater.
var cmeCodes = newCodeTable([]errorCode{
	{0, "phone failure", ResetModem, nil},
	{1, "no connection to phone", ResetModem, nil},
	{2, "phone-adaptor link reserved", ResetModem, nil},
	{3, "operation not allowed", ResetModem, nil},
	{4, "operation not supported", ResetModem, nil},
	{5, "PH-SIM PIN required", CallHuman, nil},
	{6, "PH-FSIM PIN required", CallHuman, nil},
	{7, "PH-FSIM PUK required", CallHuman, nil},
	{10, "SIM not inserted", CallHuman, nil},
	{11, "SIM PIN required", CallHuman, nil},
	{12, "SIM PUK required", CallHuman, nil},
	{13, "SIM failure", CallHuman, nil},
	{14, "SIM busy", RetryLater, nil},
	{15, "SIM wrong", CallHuman, nil},
	{16, "incorrect password", CallHuman, nil},
	{17, "SIM PIN2 required", CallHuman, nil},
	{18, "SIM PUK2 required", CallHuman, nil},
	{20, "memory full", RetryLater, nil},
	{21, "invalid index", FailMessage, nil},
	{22, "not found", FailMessage, nil},
	{23, "memory failure", ResetModem, nil},
	{24, "text string too long", FailMessage, nil},
	{25, "invalid characters in text string", FailMessage, nil},
	{26, "dial string too long", FailRecipient, nil},
	{27, "invalid characters in dial string", FailRecipient, nil},
	{30, "no network service", WaitNetwork, nil},
	{31, "network timeout", RetryLater, nil},
	{32, "network not allowed - emergency calls only", WaitNetwork, nil},
	{40, "network personalization PIN required", CallHuman, nil},
	{41, "network personalization PUK required", CallHuman, nil},
	{42, "network subset personalization PIN required", CallHuman, nil},
	{43, "network subset personalization PUK required", CallHuman, nil},
	{44, "service provider personalization PIN required", CallHuman, nil},
	{45, "service provider personalization PUK required", CallHuman, nil},
	{46, "corporate personalization PIN required", CallHuman, nil},
	{47, "corporate personalization PUK required", CallHuman, nil},
	{48, "hidden key required", CallHuman, nil},
	{49, "EAP method not supported", RetryLater, nil},
	{50, "Incorrect parameters", FailMessage, nil},
	{51, "command implemented but currently disabled", StopSending, nil},
	{52, "command aborted by user", RetryLater, nil},
	{53, "not attached to network due to MT functionality restrictions", ResetModem, nil},
	{54, "modem not allowed - MT restricted to emergency calls only", ResetModem, nil},
	{55, "operation not allowed because of MT functionality restrictions", ResetModem, nil},
	{56, "fixed dial number only allowed - called number is not a fixed dial number", FailRecipient, nil},
	{57, "temporarily out of service due to other MT usage", RetryLater, nil},
	{58, "language/alphabet not supported", FailMessage, nil},
	{59, "unexpected data value", FailMessage, nil},
	{60, "system failure", ResetModem, nil},
	{61, "data missing", FailMessage, nil},
	{62, "call barred", FailRecipient, nil},
	{63, "message waiting indication subscription failure", RetryLater, nil},
	{100, "unknown", RetryLater, nil},

	{103, "Illegal MS", StopSending, nil},
	{106, "Illegal ME", StopSending, nil},
	{107, "GPRS services not allowed", StopSending, nil},
	{108, "GPRS services and non-GPRS services not allowed", StopSending, nil},
	{111, "PLMN not allowed", WaitNetwork, nil},
	{112, "Location area not allowed", WaitNetwork, nil},
	{113, "Roaming not allowed in this location area", WaitNetwork, nil},
	{114, "GPRS services not allowed in this PLMN", WaitNetwork, nil},
	{115, "No Suitable Cells In Location Area", WaitNetwork, nil},
	{122, "Congestion", RetryLater, nil},
	{125, "Not authorized for this CSG", WaitNetwork, nil},
	{126, "insufficient resources", RetryLater, nil},
	{127, "missing or unknown APN", RetryLater, nil},
	{128, "unknown PDP address or PDP type", RetryLater, nil},
	{129, "user authentication failed", RetryLater, nil},
	{130, "activation rejected by GGSN, Serving GW or PDN GW", RetryLater, nil},
	{131, "activation rejected, unspecified", RetryLater, nil},
	{132, "service option not supported", StopSending, nil},
	{133, "requested service option not subscribed", StopSending, nil},
	{134, "service option temporarily out of order", RetryLater, nil},
	{140, "feature not supported", RetryLater, nil},
	{141, "semantic error in the TFT operation", RetryLater, nil},
	{142, "syntactical error in the TFT operation", RetryLater, nil},
	{143, "unknown PDP context", RetryLater, nil},
	{144, "semantic errors in packet filters", RetryLater, nil},
	{145, "syntactical errors in packet filters", RetryLater, nil},
	{146, "PDP context without TFT already activated", RetryLater, nil},
	{148, "unspecified GPRS error", RetryLater, nil},
	{149, "PDP authentication failure", RetryLater, nil},
	{150, "invalid mobile class", RetryLater, nil},

	{257, "network rejected request", RetryLater, nil},
	{258, "retry operation", RetryLater, nil},
	{259, "invalid deflected to number", FailRecipient, nil},
	{260, "deflected to own number", FailRecipient, nil},
	{261, "unknown subscriber", FailRecipient, nil},
	{262, "service not available", StopSending, nil},

	{515, "Please wait, init or command processing in progress", RetryLater, nil},
})

// IsCode reports whether err carries a +CMS or +CME error code: an answer
// of the modem or the network, rather than a broken link.
func IsCode(err error) bool {
	var cms at.CMSError
	var cme at.CMEError
	return errors.As(err, &cms) || errors.As(err, &cme)
}

// IsClosed reports whether err says the connection to the modem is gone
// (ours or the AT layer's).
func IsClosed(err error) bool {
	return errors.Is(err, ErrClosed) || errors.Is(err, at.ErrClosed)
}
