package modem

import (
	"strings"
	"testing"
)

func TestParseListSkipsGarbage(t *testing.T) {
	// A real SMS-DELIVER from +33611111111 saying "STOP", between an
	// unsolicited line, a header without PDU and garbage.
	pdu := "0791336090010393040B913316111111F100006211721100004004D3EA1304" // "STOP"? decoded below
	info := []string{
		"RING",
		"+CMGL: 1,0,,23",
		pdu,
		"+CMGL: 2,0,,23",
		"^RSSI: 12",
		"+CMGL: x,0,,3",
		"ZZ",
	}
	got, errs := parseList(info)
	if len(got) != 1 || got[0].Index != 1 {
		t.Fatalf("entries %+v", got)
	}
	if len(errs) != 2 {
		t.Errorf("errors %v, want 2 (no PDU, bad index)", errs)
	}
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
	f.Add("0791336090010393040B913316111111F100006211721100004004D3EA1304")
	f.Add("07913360900103930006D70B913316111111F1621172110000406211721100004000")
	f.Add("00")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		r := Decode(s)
		if r.Key == "" {
			t.Fatal("no key")
		}
	})
}

func FuzzParseList(f *testing.F) {
	f.Add("+CMGL: 1,0,,23\n0791336090010393040B913316111111F100006211721100004004D3EA1304\nRING")
	f.Add("+CMGL: 1,0,,23\n+CMGL: 2,1,,4\nOK")
	f.Fuzz(func(t *testing.T, s string) {
		got, _ := parseList(strings.Split(s, "\n"))
		for _, r := range got {
			if r.Index < 0 {
				t.Fatalf("negative index %d", r.Index)
			}
		}
	})
}
