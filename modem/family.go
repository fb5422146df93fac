package modem

import (
	"strings"
	"time"
)

// family is what one maker's modems need beyond the standard, as data: the
// driver applies it, it does not branch on makers (real-modems.md; every
// field cites the rows of its table it comes from). What all modems may do
// (NULs, COMMAND NOT SUPPORT, a busy SMS service after boot, status
// reports in "SR", CNMI from +CNMI=?) is handled for every family alike.
type family struct {
	// Name is the family as the probe reports it.
	Name string
	// match holds lower-case words of +CGMI/+CGMM that identify it.
	match []string
	// setup runs after identification, before the SIM: unsolicited codes
	// off (Huawei ^CURC=0, rows 1–2) or floods stopped (ZTE +ZUSIMR
	// until +CPMS?, row 24). A refusal is only logged.
	setup []string
	// pinSettle is the pause after a PIN was accepted, before any other
	// command: Huawei firmware may reboot otherwise (row 9), ZTE answers
	// SIM busy for a while (row 24).
	pinSettle time.Duration
	// cpinNoOK: +CPIN? is answered with no final OK (rows 36, 40).
	cpinNoOK bool
}

// defaultPINSettle is the pause after a PIN for a family that names none:
// most SIMs are busy for a moment after their PIN.
const defaultPINSettle = time.Second

// families are the makers whose deviations real-modems.md lists.
var families = []family{
	{Name: "Quectel", match: []string{"quectel"}},
	{Name: "SIMCom", match: []string{"simcom"}},
	{Name: "Huawei", match: []string{"huawei"}, setup: []string{"^CURC=0"}, pinSettle: 3 * time.Second},
	{Name: "ZTE", match: []string{"zte"}, setup: []string{"+CPMS?"}, pinSettle: 2 * time.Second},
	{Name: "Cinterion", match: []string{"cinterion", "siemens", "gemalto", "thales"}},
	{Name: "Sierra Wireless", match: []string{"sierra"}, cpinNoOK: true},
	{Name: "Wavecom", match: []string{"wavecom"}, cpinNoOK: true},
	{Name: "Sony Ericsson", match: []string{"sony ericsson", "ericsson"}, cpinNoOK: true},
	{Name: "u-blox", match: []string{"u-blox", "ublox"}},
}

// genericFamily is a modem the table does not know: the standard, plus
// what every family gets.
var genericFamily = family{Name: "generic"}

// identify finds the family of a modem from what it says about itself.
func identify(id Identity) family {
	s := strings.ToLower(id.Manufacturer + " " + id.Model)
	for _, f := range families {
		for _, w := range f.match {
			if strings.Contains(s, w) {
				return f
			}
		}
	}
	return genericFamily
}

func (f family) settle() time.Duration {
	if f.pinSettle > 0 {
		return f.pinSettle
	}
	return defaultPINSettle
}

// Quirk is one thing done for a modem beyond the standard, as the probe
// reports it: a stable code, and what it concerned (a command, a time, a
// count).
type Quirk struct {
	Code   QuirkCode `json:"code"`
	Detail string    `json:"detail,omitempty"`
}

// QuirkCode names a quirk; the CLI words each for people.
type QuirkCode string

// The quirks init and the line filter may apply.
const (
	QuirkSetupCommand QuirkCode = "setup-command" // a family's own command sent (Detail: the command)
	QuirkCPINNoOK     QuirkCode = "cpin-no-ok"    // +CPIN? answered without OK, completed at once
	QuirkSIMWait      QuirkCode = "sim-wait"      // the SIM was busy: waited (Detail: seconds)
	QuirkPINSettle    QuirkCode = "pin-settle"    // paused after the PIN (Detail: seconds)
	QuirkSMSWait      QuirkCode = "sms-wait"      // the SMS service was not ready: waited (Detail: seconds)
	QuirkStorageKept  QuirkCode = "storage-kept"  // +CPMS refused: the modem's own storage kept
	QuirkReportsSR    QuirkCode = "reports-sr"    // status reports also read from "SR"
	QuirkCNMI         QuirkCode = "cnmi"          // +CNMI other than 2,1,0,2,0, from +CNMI=? (Detail: the setting)
	QuirkNUL          QuirkCode = "nul"           // NUL bytes dropped (Detail: how many)
	QuirkNotSupported QuirkCode = "not-supported" // COMMAND NOT SUPPORT read as ERROR (Detail: how many)
	QuirkNA           QuirkCode = "na"            // NA read as ERROR (Detail: how many)
	QuirkCPINDone     QuirkCode = "cpin-done"     // +CPIN: answers completed with OK (Detail: how many)
	QuirkLateOK       QuirkCode = "late-ok"       // a late OK after a completed +CPIN: dropped (Detail: how many)
)
