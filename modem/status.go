package modem

import (
	"fmt"
	"strconv"
	"strings"
)

// Registration is the network registration state (+CREG/+CEREG <stat>).
type Registration int

// Registration states from 3GPP TS 27.007 §7.2.
const (
	NotRegistered Registration = 0
	Home          Registration = 1
	Searching     Registration = 2
	Denied        Registration = 3
	Unknown       Registration = 4
	Roaming       Registration = 5
)

// Registered reports whether SMS can go out.
func (r Registration) Registered() bool { return r == Home || r == Roaming }

func (r Registration) String() string {
	switch r {
	case NotRegistered:
		return "not-registered"
	case Home:
		return "home"
	case Searching:
		return "searching"
	case Denied:
		return "denied"
	case Roaming:
		return "roaming"
	}
	return "unknown"
}

// Signal is the received signal strength from +CSQ.
type Signal struct {
	RSSI int `json:"rssi"` // 0–31, 99 unknown
	DBm  int `json:"dbm"`  // -113 to -51; 0 when unknown
	Bars int `json:"bars"` // 0–5, for people
}

// Signal asks +CSQ.
func (m *Modem) Signal() (Signal, error) {
	f, err := m.query("+CSQ", "+CSQ:", leadingInts(2))
	if err != nil {
		return Signal{}, err
	}
	rssi, _ := strconv.Atoi(f[0])
	return signalFromRSSI(rssi), nil
}

func signalFromRSSI(rssi int) Signal {
	if rssi < 0 || rssi > 31 {
		return Signal{RSSI: 99}
	}
	s := Signal{RSSI: rssi, DBm: -113 + 2*rssi}
	switch {
	case rssi >= 20:
		s.Bars = 5
	case rssi >= 15:
		s.Bars = 4
	case rssi >= 10:
		s.Bars = 3
	case rssi >= 5:
		s.Bars = 2
	case rssi >= 2:
		s.Bars = 1
	}
	return s
}

// Registration asks +CEREG? (LTE) and +CREG? (2G/3G) and returns the best
// of the two: an LTE-only modem answers only the first, an old one only the
// second.
func (m *Modem) Registration() (Registration, error) {
	best := Registration(-1)
	var lastErr error
	for _, q := range []string{"+CEREG", "+CREG"} {
		// "+CREG: <n>,<stat>[,…]": two integers first, unlike the
		// "+CREG: <stat>" or "+CREG: <stat>,"<lac>",…" unsolicited codes.
		f, err := m.query(q+"?", q+":", leadingInts(2))
		if err != nil {
			lastErr = err
			continue
		}
		st, _ := strconv.Atoi(f[1])
		r := Registration(st)
		if r.Registered() || best < 0 {
			best = r
		}
		if r.Registered() {
			break
		}
	}
	if best < 0 {
		if lastErr == nil {
			lastErr = fmt.Errorf("registration: %w", ErrBadResponse)
		}
		return Unknown, lastErr
	}
	return best, nil
}

// Operator asks +COPS? for the network name.
func (m *Modem) Operator() (string, error) {
	f, err := m.query("+COPS?", "+COPS:", leadingInts(1))
	if err != nil {
		return "", err
	}
	if len(f) < 3 {
		return "", nil // not registered: "+COPS: 0"
	}
	return unquote(f[2]), nil
}

// Storage is the use of the modem's SMS storage (the first +CPMS memory,
// where received SMS are read from). A full storage refuses new SMS.
type Storage struct {
	Mem   string `json:"mem"`
	Used  int    `json:"used"`
	Total int    `json:"total"`
}

// Full reports a storage that can take no more SMS.
func (s Storage) Full() bool { return s.Total > 0 && s.Used >= s.Total }

// Storage asks +CPMS? how full the SMS storage is.
func (m *Modem) Storage() (Storage, error) {
	f, err := m.query("+CPMS?", "+CPMS:", func(f []string) bool {
		return len(f) >= 3 && isQuoted(f[0]) && isInt(f[1]) && isInt(f[2])
	})
	if err != nil {
		return Storage{}, err
	}
	// The memory chosen at start-up, wherever it stands in the answer:
	// mem1 may be "SR" for a while, left there by ReceiveAnnounced.
	at := 0
	for i := 0; i+2 < len(f); i += 3 {
		if m.mem.read != "" && strings.EqualFold(unquote(f[i]), m.mem.read) && isInt(f[i+1]) && isInt(f[i+2]) {
			at = i
			break
		}
	}
	used, _ := strconv.Atoi(f[at+1])
	total, _ := strconv.Atoi(f[at+2])
	return Storage{Mem: unquote(f[at]), Used: used, Total: total}, nil
}
