package sim

import (
	"fmt"
	"strconv"
)

// Personality selects the dialect quirks of a modem family, so that the
// client is exercised against what real modems of each family really say.
type Personality int

const (
	// Generic is a well-behaved 3GPP modem: no vendor URCs, +CREG and
	// +CEREG both tell the truth, +CMMS accepted.
	Generic Personality = iota
	// Huawei is ME909-like: "huawei"/"ME909s-120"; while ^CURC is 1 (its
	// power-up value) it emits ^RSSI:<n>, ^BOOT:... and ^MODE:<m>,<s> lines
	// every Options.URCEvery, even between a command's info lines and its
	// final result; AT^CURC=0 stops them, AT^CURC? reads it; it rejects +CMMS
	// (ERROR).
	Huawei
	// Quectel is EC25-like LTE: "Quectel"/"EC25"; +CREG? answers
	// "+CREG: <n>,0" (no CS registration) while +CEREG? tells the truth;
	// after boot and after AT+CFUN=1,1 it emits "RDY", "+CPIN: READY" and
	// "+QIND: SMS DONE".
	Quectel
)

// String names the personality.
func (p Personality) String() string {
	switch p {
	case Generic:
		return "generic"
	case Huawei:
		return "huawei"
	case Quectel:
		return "quectel"
	}
	return "Personality(" + strconv.Itoa(int(p)) + ")"
}

// identity is what a modem family answers to +CGMI, +CGMM and +CGMR.
type identity struct {
	manufacturer, model, revision string
}

func (p Personality) identity() identity {
	switch p {
	case Huawei:
		return identity{"huawei", "ME909s-120", "11.617.01.00.00"}
	case Quectel:
		return identity{"Quectel", "EC25", "EC25EFAR06A06M4G"}
	}
	return identity{manufacturer, model, revision}
}

// floodLocked returns the Huawei unsolicited lines of flood tick n.
func (m *Modem) floodLocked(n int) []string {
	lines := []string{fmt.Sprintf("^RSSI:%d", m.signal)}
	switch n % 3 {
	case 1:
		lines = append(lines, "^BOOT:20952449,0,0,0,72")
	case 2:
		lines = append(lines, "^MODE:17,17")
	}
	return lines
}

// curc serves Huawei's AT^CURC (unsolicited reports on or off).
func (m *Modem) curc(c call) result {
	switch c.op {
	case opRead:
		return okf("^CURC: %d", m.curcOn)
	case opTest:
		return ok("^CURC: (0-1)")
	}
	return intSetting(c, "^CURC", &m.curcOn, 1, plainErr())
}
