package modem

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// memories is the +CPMS selection: mem1 (read, list, delete), mem2 (write,
// send) and mem3 (where received SMS are stored), TS 27.005 §3.2.2.
type memories struct {
	read, write, receive string
}

func (s memories) command(read string) string {
	return fmt.Sprintf(`+CPMS="%s","%s","%s"`, read, s.write, s.receive)
}

// memoryChoice reads a +CPMS=? answer — `("SM","ME","SR"),("SM","ME"),("SM","ME")`,
// also unparenthesised or with spaces (real-modems.md rows 31, 32) — and
// picks the SIM for every role where it is offered, else the first memory
// offered. It also says whether "SR" (status reports) can be read.
func memoryChoice(f []string) (memories, bool, bool) {
	lists := make([][]string, 0, 3)
	for _, field := range f {
		lists = append(lists, memoryList(field))
	}
	for len(lists) < 3 {
		if len(lists) == 0 || len(lists[len(lists)-1]) == 0 {
			return memories{}, false, false
		}
		lists = append(lists, lists[len(lists)-1])
	}
	pick := func(l []string) string {
		for _, want := range []string{"SM", "MT", "ME"} {
			if slices.Contains(l, want) {
				return want
			}
		}
		if len(l) > 0 {
			return l[0]
		}
		return ""
	}
	m := memories{read: pick(lists[0]), write: pick(lists[1]), receive: pick(lists[2])}
	if m.read == "" || m.write == "" || m.receive == "" {
		return memories{}, false, false
	}
	return m, slices.Contains(lists[0], "SR"), true
}

// memoryList reads `("SM","ME")`, `("SM", "ME")` or `"SM"` as names.
func memoryList(field string) []string {
	field = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(field), "("), ")")
	var out []string
	for _, name := range strings.Split(field, ",") {
		name = strings.ToUpper(unquote(strings.TrimSpace(name)))
		if name != "" && len(name) <= 8 {
			out = append(out, name)
		}
	}
	return out
}

// announcedMemory reads the <mem> of "+CMTI: "SM",3" or "+CDSI: "SR",8";
// empty when the line has none.
func announcedMemory(line string) string {
	_, v, ok := strings.Cut(line, ":")
	if !ok {
		return ""
	}
	f := splitFields(v)
	if len(f) < 2 || !isQuoted(f[0]) || !isInt(f[1]) {
		return ""
	}
	mem := strings.ToUpper(unquote(f[0]))
	if mem == "" || len(mem) > 8 {
		return ""
	}
	return mem
}

// announcedSlot is an entry a +CMTI or +CDSI named: its memory ("" when
// the line gave none) and index; report says +CDSI (a status report).
type announcedSlot struct {
	mem    string
	index  int
	report bool
}

// announcedEntry reads "+CMTI: "SM",3" or "+CDSI: "SR",8" (also without a
// memory: "+CDSI: 8"); false when the line names no index.
func announcedEntry(line string) (announcedSlot, bool) {
	head, v, ok := strings.Cut(line, ":")
	if !ok {
		return announcedSlot{}, false
	}
	s := announcedSlot{report: strings.EqualFold(strings.TrimSpace(head), "+CDSI")}
	f := splitFields(v)
	switch {
	case len(f) == 1 && isInt(f[0]):
		s.index, _ = strconv.Atoi(f[0])
	case len(f) >= 2 && isQuoted(f[0]) && isInt(f[1]):
		s.mem = announcedMemory(line)
		s.index, _ = strconv.Atoi(f[1])
		if s.mem == "" {
			return announcedSlot{}, false
		}
	default:
		return announcedSlot{}, false
	}
	if s.index < 0 || s.index >= 1<<16 {
		return announcedSlot{}, false
	}
	return s, true
}

// cnmiChoices builds the +CNMI settings to try, best first, from a
// +CNMI=? answer (real-modems.md rows 27–29): store-then-notify for SMS
// (mt 1), status reports stored and announced (ds 2) where offered, no
// broadcast, the first of mode 2/1 and bfr 0/1 the modem offers (Cinterion
// only takes bfr 1). Without a readable answer, the usual settings.
func cnmiChoices(f []string) []string {
	fallback := []string{"2,1,0,2,0", "2,1,0,2,1", "2,1,0,0,0", "2,1,0,0,1", "1,1,0,0,0", "1,1,0,0,1"}
	if len(f) < 2 || !inRange(f[1], 1) {
		return fallback
	}
	first := func(field string, prefs ...int) (int, bool) {
		for _, p := range prefs {
			if inRange(field, p) {
				return p, true
			}
		}
		return 0, false
	}
	mode, ok := first(f[0], 2, 1)
	if !ok {
		return fallback
	}
	bm, ds, bfr := 0, 0, 0
	dsOffered := false
	if len(f) > 2 {
		if v, ok := first(f[2], 0); ok {
			bm = v
		}
	}
	if len(f) > 3 {
		dsOffered = inRange(f[3], 2)
	}
	if len(f) > 4 {
		if v, ok := first(f[4], 0, 1); ok {
			bfr = v
		}
	}
	var out []string
	add := func(ds int) {
		out = append(out, strconv.Itoa(mode)+",1,"+strconv.Itoa(bm)+","+strconv.Itoa(ds)+","+strconv.Itoa(bfr))
	}
	if dsOffered {
		add(2)
	}
	add(ds)
	for _, c := range fallback {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}
