package modem

import (
	"strings"
	"testing"

	"github.com/warthog618/sms"
	"github.com/warthog618/sms/encoding/pdumode"
)

// stopPDU is a real SMS-DELIVER from +33611111111 saying "SUO"; its TPDU is
// 23 octets.
const stopPDU = "0791336090010393040B913316111111F100006211721100004004D3EA1304"

func TestParseList(t *testing.T) {
	cases := []struct {
		name    string
		info    []string
		indexes []int // entries read, in order
		missing []int
		errs    int
	}{
		{"plain", []string{"+CMGL: 1,0,,23", stopPDU}, []int{1}, nil, 0},
		{"no alpha field", []string{"+CMGL: 1,0,23", stopPDU}, []int{1}, nil, 0},
		{"unsolicited between header and PDU", []string{"+CMGL: 1,0,,23", "^RSSI:12", "", "RING", "+CREG: 1", stopPDU, "NO CARRIER"}, []int{1}, nil, 0},
		{"short hex noise before the PDU", []string{"+CMGL: 1,0,,23", "ABCD", stopPDU}, []int{1}, nil, 1},
		{"header without PDU", []string{"+CMGL: 2,0,,23", "^RSSI:12", "+CMGL: 1,0,,23", stopPDU}, []int{1}, []int{2}, 0},
		{"truncated PDU", []string{"+CMGL: 2,0,,23", stopPDU[:40]}, nil, []int{2}, 1},
		{"bad index", []string{"+CMGL: x,0,,3", "+CMGL: -1,0,,3"}, nil, nil, 2},
		{"orphan PDU", []string{"RING", stopPDU}, nil, nil, 1},
		{"no length", []string{"+CMGL: 4", stopPDU}, []int{4}, nil, 0},
		{"garbage only", []string{"ZZ", "^BOOT:1,2,3", "+CEREG: 1,\"1A\",\"2B\",7"}, nil, nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, missing, errs := parseList(c.info)
			var idx []int
			for _, r := range got {
				idx = append(idx, r.Index)
				if r.Err != nil || !strings.HasPrefix(r.Text, "SUO") || r.From != "+33611111111" {
					t.Errorf("entry %+v", r)
				}
			}
			if !equalInts(idx, c.indexes) || !equalInts(missing, c.missing) || len(errs) != c.errs {
				t.Errorf("entries %v missing %v errors %v; want %v, %v, %d errors", idx, missing, errs, c.indexes, c.missing, c.errs)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDecodeNeverFails(t *testing.T) {
	for _, in := range []string{"", "00", "ZZ", "0791336090010393", strings.Repeat("FF", 200)} {
		r := Decode(in)
		if r.Err == nil && r.Report == nil && r.From == "" {
			t.Errorf("Decode(%q) = %+v: no error and no content", in, r)
		}
		if r.Key == "" {
			t.Errorf("Decode(%q): no key", in)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range pduSeeds() {
		f.Add(s)
	}
	f.Add("00")
	f.Add("")
	f.Add("ZZ")
	f.Fuzz(func(t *testing.T, s string) {
		r := Decode(s)
		if r.Key == "" {
			t.Fatal("no key")
		}
		if r.Err == nil && r.Report == nil && r.Total < 1 {
			t.Fatalf("decoded %+v without a part count", r)
		}
	})
}

func FuzzParseList(f *testing.F) {
	f.Add("+CMGL: 1,0,,23\n" + stopPDU + "\nRING")
	f.Add("+CMGL: 1,0,,23\n+CMGL: 2,1,,4\nOK")
	f.Add("+CMGL: 1,0,,23\n^RSSI:3\n" + stopPDU)
	for _, s := range pduSeeds() {
		f.Add("+CMGL: 7,0,,40\n" + s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lines := strings.Split(s, "\n")
		got, missing, errs := parseList(lines)
		headers := 0
		for _, l := range lines {
			if strings.HasPrefix(strings.TrimSpace(l), "+CMGL:") {
				headers++
			}
		}
		for _, r := range got {
			if r.Index < 0 {
				t.Fatalf("negative index %d", r.Index)
			}
		}
		// Every header is read, listed as missing or reported.
		if len(got)+len(missing)+len(errs) < headers {
			t.Fatalf("%d headers, %d entries, %d missing, %d errors", headers, len(got), len(missing), len(errs))
		}
	})
}

// pduSeeds are fuzz seeds: a GSM 7-bit SMS, a UCS-2 one, the parts of a
// concatenated one, a status report and garbage.
func pduSeeds() []string {
	seeds := []string{
		stopPDU,
		"00000b913326222222f2000810101000000000260152007500760072006500200076006f006c00e90065002000ab0020006900630069002000bb",
		"00062a0b913316325476f8101010000000001010100000000000",
		"07913360900103930006D70B913316111111F1621172110000406211721100004000",
		strings.Repeat("FF", 200),
	}
	enc := sms.NewEncoder(sms.AsDeliver, sms.From("+33622222222"))
	tpdus, err := enc.Encode([]byte(strings.Repeat("témoin : voiture grise, ", 10)))
	if err != nil {
		panic(err)
	}
	for _, tp := range tpdus {
		b, err := tp.MarshalBinary()
		if err != nil {
			panic(err)
		}
		s, err := (&pdumode.PDU{TPDU: b}).MarshalHexString()
		if err != nil {
			panic(err)
		}
		seeds = append(seeds, strings.ToUpper(s))
	}
	return seeds
}
