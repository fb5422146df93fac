package csvimport

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	xunicode "golang.org/x/text/encoding/unicode"

	"vigie/gateway/fold"
)

// zones and trades of a small station, resolved by id, name or alias.
var (
	testZones  = map[string]string{"MACON": "macon", "71000": "macon", "MACONCENTRE": "macon-centre", "CENTRE": "macon-centre", "CLUNY": "cluny"}
	testTrades = map[string]string{"TABAC": "tabac-presse", "TABACPRESSE": "tabac-presse", "BIJOUTERIE": "bijouterie"}
)

func testOptions() Options {
	return Options{
		Region: "FR",
		Zone:   func(w string) (string, bool) { id, ok := testZones[fold.Key(w)]; return id, ok },
		Trade:  func(w string) (string, bool) { id, ok := testTrades[fold.Key(w)]; return id, ok },
	}
}

func win1252(t *testing.T, s string) []byte {
	t.Helper()
	b, err := charmap.Windows1252.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func utf16(t *testing.T, s string) []byte {
	t.Helper()
	b, err := xunicode.UTF16(xunicode.LittleEndian, xunicode.UseBOM).NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseEncodingsAndSeparators(t *testing.T) {
	const french = "Nom;Téléphone;Zone;Métier\r\nCafé Tabac « Le Carnot »;06 12 34 56 78;Mâcon centre;Tabac\r\n"
	want := []Row{{Line: 2, Phone: "+33612345678", Zones: []string{"macon-centre"}, Trade: "tabac-presse"}}
	for _, tc := range []struct {
		name     string
		data     []byte
		encoding string
		sep      rune
	}{
		{"windows-1252 semicolon", win1252(t, french), EncodingWindows1252, ';'},
		{"utf-8 semicolon", []byte(french), EncodingUTF8, ';'},
		{"utf-8 BOM comma", []byte("\uFEFF" + "Phone,Zone,Trade\n+33 6 12 34 56 78,\"Mâcon centre\",tabac\n"), EncodingUTF8BOM, ','},
		{"utf-16 tab", utf16(t, "Téléphone\tZone\tMétier\r\n0612345678\tcentre\ttabac presse\r\n"), EncodingUTF16, '\t'},
		{"old Mac line ends", []byte("telephone;zone;metier\r06.12.34.56.78;CENTRE;TABAC\r"), EncodingUTF8, ';'},
		{"quoted separators in the header", []byte("\"Nom, prénom\";\"Portable\";\"Secteur\";\"Activité\"\n\"Dupont, Jean\";0033612345678;macon-centre;tabac\n"), EncodingUTF8, ';'},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Parse(tc.data, testOptions())
			if err != nil {
				t.Fatal(err)
			}
			if res.Encoding != tc.encoding || res.Separator != tc.sep {
				t.Errorf("encoding %s separator %q, want %s %q", res.Encoding, res.Separator, tc.encoding, tc.sep)
			}
			if !slices.EqualFunc(res.Rows, want, equalRow) || len(res.Rejected) != 0 {
				t.Errorf("rows %+v rejected %+v, want %+v", res.Rows, res.Rejected, want)
			}
		})
	}
}

func TestParseWindows1252Header(t *testing.T) {
	res, err := Parse(win1252(t, "Enseigne;Numéro;Quartier;Activité\nBijouterie Lamartine;0612345678;Cluny;Bijouterie\n"), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	wantCols := []Column{{"Enseigne", FieldName}, {"Numéro", FieldPhone}, {"Quartier", FieldZone}, {"Activité", FieldTrade}}
	if !slices.Equal(res.Columns, wantCols) {
		t.Errorf("columns %+v, want %+v", res.Columns, wantCols)
	}
}

func TestParseNumberForms(t *testing.T) {
	for _, tc := range []struct {
		cell   string
		phone  string
		reason Reason
	}{
		{"06 12 34 56 78", "+33612345678", ""},
		{"06\u00a012\u00a034\u00a056\u00a078", "+33612345678", ""}, // non-breaking spaces
		{"06\u202f12\u202f34\u202f56\u202f78", "+33612345678", ""}, // narrow ones
		{"+33 6 12 34 56 78", "+33612345678", ""},
		{"+33 (0)6 12 34 56 78", "+33612345678", ""},
		{"0033612345678", "+33612345678", ""},
		{"6.12.34.56.78", "+33612345678", ""},
		{"612345678", "+33612345678", ""},   // a number cell dropped the 0
		{"33612345678", "+33612345678", ""}, // and the +
		{"'0761234567", "+33761234567", ""}, // Excel's text mark
		{"06-12-34-56-78", "+33612345678", ""},
		{"0690 12 34 56", "+590690123456", ""}, // Guadeloupe mobile, typed in France
		{"03 85 12 34 56", "", ReasonNotMobile},
		{"0612", "", ReasonInvalidPhone},
		{"appeler le gérant", "", ReasonInvalidPhone},
		{"3,36123E+11", "", ReasonInvalidPhone},
	} {
		t.Run(tc.cell, func(t *testing.T) {
			res, err := Parse([]byte("téléphone;zone\n\""+tc.cell+"\";macon\n"), testOptions())
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.reason == "" && (len(res.Rows) != 1 || res.Rows[0].Phone != tc.phone):
				t.Errorf("rows %+v rejected %+v, want %s", res.Rows, res.Rejected, tc.phone)
			case tc.reason != "" && (len(res.Rejected) != 1 || res.Rejected[0].Reason != tc.reason || res.Rejected[0].Value != tc.cell):
				t.Errorf("rows %+v rejected %+v, want %s", res.Rows, res.Rejected, tc.reason)
			}
		})
	}
}

func TestParseRowReport(t *testing.T) {
	data := strings.Join([]string{
		"Nom;Téléphone;Zone;Métier;Commentaire",
		"A;06 11 11 11 11;macon;tabac;",       // 2 ok
		"B;;macon;;",                          // 3 no number
		"C;06 22 22 22 22;Tournus;;",          // 4 unknown zone
		"D;06 33 33 33 33;;;",                 // 5 no zone: default
		"E;06 44 44 44 44;macon;boulangerie;", // 6 unknown trade
		";;;;",                                // 7 empty row: skipped
		"",                                    // 8 blank line
		"F;06 55 55 55 55;cluny, Mâcon + 71000;;", // 9 several zones
		"G;03 85 00 00 00;macon;;",                // 10 landline
		"H;06 66 66 66 66;\"macon;cluny\";;",      // 11 quoted list
		"I;06 77 77 77 77",                        // 12 short row: default zone
	}, "\n")
	opts := testOptions()
	opts.DefaultZone = "Cluny"
	res, err := Parse([]byte(data), opts)
	if err != nil {
		t.Fatal(err)
	}
	wantRows := []Row{
		{Line: 2, Phone: "+33611111111", Zones: []string{"macon"}, Trade: "tabac-presse"},
		{Line: 5, Phone: "+33633333333", Zones: []string{"cluny"}},
		{Line: 9, Phone: "+33655555555", Zones: []string{"cluny", "macon"}},
		{Line: 11, Phone: "+33666666666", Zones: []string{"cluny", "macon"}},
		{Line: 12, Phone: "+33677777777", Zones: []string{"cluny"}},
	}
	wantRejected := []RowError{
		{Line: 3, Reason: ReasonNoPhone},
		{Line: 4, Column: "Zone", Value: "Tournus", Reason: ReasonUnknownZone},
		{Line: 6, Column: "Métier", Value: "boulangerie", Reason: ReasonUnknownTrade},
		{Line: 10, Column: "Téléphone", Value: "03 85 00 00 00", Reason: ReasonNotMobile},
	}
	if !slices.EqualFunc(res.Rows, wantRows, equalRow) {
		t.Errorf("rows\n%+v\nwant\n%+v", res.Rows, wantRows)
	}
	if !slices.Equal(res.Rejected, wantRejected) {
		t.Errorf("rejected\n%+v\nwant\n%+v", res.Rejected, wantRejected)
	}
	for _, r := range res.Rejected {
		if r.Message() == "" || r.Message() == string(r.Reason) {
			t.Errorf("%v has no French message", r)
		}
	}
}

func TestParseNoDefaultZone(t *testing.T) {
	res, err := Parse([]byte("mobile\n0611111111\n"), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rejected) != 1 || res.Rejected[0].Reason != ReasonNoZone {
		t.Errorf("rejected %+v, want missing zone", res.Rejected)
	}
}

func TestParseSeveralPhoneColumns(t *testing.T) {
	res, err := Parse([]byte("tél;portable;zone\n03 85 00 00 00;06 11 11 11 11;macon\n03 85 00 00 01;;macon\n"), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || res.Rows[0].Phone != "+33611111111" {
		t.Errorf("rows %+v, want the mobile of line 2", res.Rows)
	}
	if len(res.Rejected) != 1 || res.Rejected[0].Reason != ReasonNotMobile || res.Rejected[0].Column != "tél" {
		t.Errorf("rejected %+v, want line 3's landline", res.Rejected)
	}
}

func TestParseFileErrors(t *testing.T) {
	opts := testOptions()
	for _, tc := range []struct {
		name string
		data string
		def  string
		err  error
	}{
		{"empty", "", "", ErrEmpty},
		{"only blank rows", "\n;;\n\n", "", ErrEmpty},
		{"no header", "0612345678;macon\n", "", ErrNoPhoneColumn},
		{"no phone column", "nom;zone\nA;macon\n", "", ErrNoPhoneColumn},
		{"unknown default zone", "phone\n0612345678\n", "atlantide", ErrDefaultZone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := opts
			o.DefaultZone = tc.def
			if _, err := Parse([]byte(tc.data), o); !errors.Is(err, tc.err) {
				t.Errorf("Parse = %v, want %v", err, tc.err)
			}
		})
	}
}

func equalRow(a, b Row) bool {
	return a.Line == b.Line && a.Phone == b.Phone && slices.Equal(a.Zones, b.Zones) && a.Trade == b.Trade
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("Nom;Téléphone;Zone;Métier\r\nA;06 12 34 56 78;Mâcon centre;Tabac\r\n"))
	f.Add([]byte("\xEF\xBB\xBFphone,zone\n+33612345678,\"macon, cluny\"\n"))
	f.Add([]byte("t\xe9l\xe9phone;zone\n06 12 34 56 78;m\xe2con\n"))
	f.Add([]byte("\xFF\xFEt\x00e\x00l\x00\n\x000\x006\x00"))
	f.Add([]byte("tel;zone\n\"0612;macon\n\"\"\";;\n"))
	f.Add([]byte("tel\r\r\r0033612345678\r"))
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := testOptions()
		opts.DefaultZone = "macon"
		res, err := Parse(data, opts)
		if err != nil {
			return
		}
		for _, r := range res.Rows {
			if !strings.HasPrefix(r.Phone, "+") || len(r.Zones) == 0 || r.Line < 1 {
				t.Errorf("bad row %+v", r)
			}
		}
		for _, r := range res.Rejected {
			if r.Reason == "" || r.Message() == "" {
				t.Errorf("rejection without reason %+v", r)
			}
		}
	})
}

// The shop's name column is read (the store trims and bounds it).
func TestParseName(t *testing.T) {
	res, err := Parse([]byte("Enseigne;Portable;Zone\nTabac du Centre;06 12 34 56 78;macon\n;06 22 22 22 22;macon\n'=SOMME(A1);06 33 33 33 33;macon\n'Le Balto;06 44 44 44 44;macon\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// An export's guard against formulas comes off; an apostrophe that is
	// the name's own stays.
	if len(res.Rows) != 4 || res.Rows[0].Name != "Tabac du Centre" || res.Rows[1].Name != "" ||
		res.Rows[2].Name != "=SOMME(A1)" || res.Rows[3].Name != "'Le Balto" {
		t.Errorf("rows = %+v", res.Rows)
	}
	for _, name := range []string{"=1+1", "+33", "-x", "@a", "Tabac", ""} {
		if got := unsafeCell(SafeCell(name)); got != name {
			t.Errorf("SafeCell(%q) reads back %q", name, got)
		}
	}
	if SafeCell("=1+1") != "'=1+1" {
		t.Errorf("SafeCell lets a formula through")
	}
}
