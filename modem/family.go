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
