// Package csvimport reads the subscriber spreadsheet the CCI staff bring
// (SPEC §2, §11): the CSV a French spreadsheet writes, with `;`, `,` or tab
// separators, in UTF-8 (with or without BOM), UTF-16 or Windows-1252, a
// header row in French or English, numbers in any usual form. It is pure:
// bytes in, rows and per-row errors out; zones and trades are resolved by
// functions the caller passes. Broken rows are reported, never fatal.
//
// Only what Vigie keeps is read (SPEC §12): the number, zones and trade. A
// shop name column is recognised and ignored, like any unknown column.
package csvimport

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	xunicode "golang.org/x/text/encoding/unicode"

	"vigie/gateway/fold"
	"vigie/gateway/phone"
)

// File-level errors: nothing in the file can be imported.
var (
	// ErrEmpty: the file holds no row at all.
	ErrEmpty = errors.New("empty file")
	// ErrNoPhoneColumn: the header row names no phone column.
	ErrNoPhoneColumn = errors.New("no phone column in the header row")
	// ErrDefaultZone: the default zone given by the operator is unknown.
	ErrDefaultZone = errors.New("unknown default zone")
)

// Field is what a column holds.
type Field string

// Fields recognised in the header row; FieldNone is an ignored column.
const (
	FieldNone  Field = ""
	FieldPhone Field = "phone"
	FieldZone  Field = "zone"
	FieldTrade Field = "trade"
	// FieldName is a shop name (Row.Name).
	FieldName Field = "name"
)

// headers maps header cells (folded with fold.Key) to their field; it is
// never written after start-up.
var headers = headerFields()

func headerFields() map[string]Field {
	m := map[string]Field{}
	for f, words := range map[Field][]string{
		FieldPhone: {"téléphone", "telephone", "téléphones", "tél", "tel", "tél portable", "téléphone portable",
			"téléphone mobile", "portable", "mobile", "gsm", "numéro", "numero", "numéro de téléphone",
			"numéro de portable", "numéro de mobile", "n° de téléphone", "n° téléphone", "n° tel", "phone",
			"phone number", "mobile phone", "number", "cell"},
		FieldZone:  {"zone", "zones", "secteur", "secteurs", "quartier", "quartiers", "zone d'alerte"},
		FieldTrade: {"métier", "metier", "métiers", "activité", "activite", "activités", "secteur d'activité", "trade", "trades"},
		FieldName:  {"nom", "enseigne", "commerce", "name", "raison sociale", "nom du commerce", "shop"},
	} {
		for _, w := range words {
			m[fold.Key(w)] = f
		}
	}
	return m
}

// Encoding names in Result.Encoding.
const (
	EncodingUTF8        = "utf-8"
	EncodingUTF8BOM     = "utf-8-bom"
	EncodingUTF16       = "utf-16"
	EncodingWindows1252 = "windows-1252"
)

// Options say how to read the cells.
type Options struct {
	// Region parses numbers written without a country code ("" is FR).
	Region string
	// DefaultZone is the zone of rows that name none (a word Zone resolves).
	DefaultZone string
	// Zone resolves a zone word (id, name or alias) to its id; nil takes
	// every word as an id.
	Zone func(word string) (id string, ok bool)
	// Trade resolves a trade word to its id; nil takes every word as an id.
	Trade func(word string) (id string, ok bool)
	// Suggest words the likely zone or trade (FieldZone, FieldTrade) an
	// unknown word stands for, « macon » (Mâcon), or "" when none; nil
	// suggests nothing.
	Suggest func(f Field, word string) string
}

// Column is a header cell and what Parse read in it.
type Column struct {
	Name  string `json:"name"`
	Field Field  `json:"field"` // "" when ignored
}

// Row is a valid row, ready to import.
type Row struct {
	Line  int      // line of the file (the header is usually 1)
	Phone string   // E.164
	Zones []string // ids, sorted, unique
	Trade string   // id; empty when none
	Name  string   // the shop's name as the cell gives it; empty when none
}

// Reason says why a row was rejected; the values are stable.
type Reason string

// Rejection reasons.
const (
	ReasonMalformed    Reason = "malformed"     // the CSV line cannot be read
	ReasonNoPhone      Reason = "missing_phone" // no number in the row
	ReasonInvalidPhone Reason = "invalid_phone"
	ReasonNotMobile    Reason = "not_mobile" // a landline or special number: no SMS
	ReasonNoZone       Reason = "missing_zone"
	ReasonUnknownZone  Reason = "unknown_zone"
	ReasonUnknownTrade Reason = "unknown_trade"
)

// RowError is a rejected row: where, which cell and why.
type RowError struct {
	Line   int
	Column string // header cell of the faulty column; empty for the whole line
	Value  string
	Reason Reason
	// Suggestion is the likely zone or trade of an unknown word, as
	// Options.Suggest words it; "" when none.
	Suggestion string
}

func (e RowError) Error() string {
	return fmt.Sprintf("line %d: %s: %s %q", e.Line, e.Reason, e.Column, e.Value)
}

// Message says in French, for the operator, why the row was rejected.
func (e RowError) Message() string {
	switch e.Reason {
	case ReasonMalformed:
		return "ligne illisible (guillemets mal fermés ?)"
	case ReasonNoPhone:
		return "pas de numéro de téléphone"
	case ReasonInvalidPhone:
		return fmt.Sprintf("numéro invalide : %q", e.Value)
	case ReasonNotMobile:
		return fmt.Sprintf("pas un numéro de mobile (fixe ou spécial) : %q", e.Value)
	case ReasonNoZone:
		return "pas de zone (indiquez-en une dans le fichier ou avec --zone)"
	case ReasonUnknownZone:
		if e.Suggestion != "" {
			return fmt.Sprintf("zone inconnue « %s » ; vouliez-vous dire %s ?", e.Value, e.Suggestion)
		}
		return fmt.Sprintf("zone inconnue « %s » (voir « vigie zones »)", e.Value)
	case ReasonUnknownTrade:
		if e.Suggestion != "" {
			return fmt.Sprintf("métier inconnu « %s » ; vouliez-vous dire %s ?", e.Value, e.Suggestion)
		}
		return fmt.Sprintf("métier inconnu « %s » (voir « vigie zones »)", e.Value)
	}
	return string(e.Reason)
}

// Result is what Parse read.
type Result struct {
	Encoding  string // one of the Encoding* names
	Separator rune
	Columns   []Column
	Rows      []Row
	Rejected  []RowError
}

// Parse reads a subscriber spreadsheet. The first non-empty line is the
// header row; it must name a phone column. Blank rows are skipped; every
// other row ends either in Rows or in Rejected, in file order.
func Parse(data []byte, opts Options) (Result, error) {
	var res Result
	text, enc := decode(data)
	res.Encoding = enc
	// Old Mac spreadsheets end lines with a lone CR.
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
	res.Separator = separator(text)

	var defaultZone string
	if opts.DefaultZone != "" {
		id, ok := resolve(opts.Zone, opts.DefaultZone)
		if !ok {
			return res, fmt.Errorf("%q: %w", opts.DefaultZone, ErrDefaultZone)
		}
		defaultZone = id
	}

	r := csv.NewReader(strings.NewReader(text))
	r.Comma = res.Separator
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.ReuseRecord = false

	var header []string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return res, ErrEmpty
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				continue
			}
			return res, fmt.Errorf("read header: %w", err)
		}
		if !blank(rec) {
			header = rec
			break
		}
	}
	fields := make([]Field, len(header))
	for i, h := range header {
		h = clean(h)
		fields[i] = headers[fold.Key(h)]
		res.Columns = append(res.Columns, Column{Name: h, Field: fields[i]})
	}
	if !slices.Contains(fields, FieldPhone) {
		return res, fmt.Errorf("header %q: %w", strings.Join(header, string(res.Separator)), ErrNoPhoneColumn)
	}

	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return res, fmt.Errorf("read rows: %w", err)
			}
			res.Rejected = append(res.Rejected, RowError{Line: pe.StartLine, Reason: ReasonMalformed})
			continue
		}
		if blank(rec) {
			continue
		}
		line, _ := r.FieldPos(0)
		row, rerr := parseRow(rec, header, fields, defaultZone, opts)
		row.Line, rerr.Line = line, line
		if rerr.Reason != "" {
			res.Rejected = append(res.Rejected, rerr)
			continue
		}
		res.Rows = append(res.Rows, row)
	}
	return res, nil
}

// parseRow reads one record; a non-empty Reason in the RowError rejects it.
func parseRow(rec, header []string, fields []Field, defaultZone string, opts Options) (Row, RowError) {
	var row Row
	cell := func(i int) string {
		if i < len(rec) {
			return clean(rec[i])
		}
		return ""
	}
	// Several phone columns (fixed, mobile…): the first mobile wins.
	var firstErr RowError
	for i, f := range fields {
		if f != FieldPhone || cell(i) == "" {
			continue
		}
		n, reason := parsePhone(cell(i), opts.Region)
		if reason == "" {
			row.Phone = n
			break
		}
		if firstErr.Reason == "" {
			firstErr = RowError{Column: header[i], Value: cell(i), Reason: reason}
		}
	}
	if row.Phone == "" {
		if firstErr.Reason == "" {
			firstErr = RowError{Reason: ReasonNoPhone}
		}
		return row, firstErr
	}
	for i, f := range fields {
		switch f {
		case FieldZone:
			for _, w := range strings.FieldsFunc(cell(i), func(r rune) bool { return strings.ContainsRune(",;|+\n", r) }) {
				w = strings.TrimSpace(w)
				if w == "" {
					continue
				}
				id, ok := resolve(opts.Zone, w)
				if !ok {
					return row, RowError{Column: header[i], Value: w, Reason: ReasonUnknownZone, Suggestion: suggestFor(opts, FieldZone, w)}
				}
				if j, found := slices.BinarySearch(row.Zones, id); !found {
					row.Zones = slices.Insert(row.Zones, j, id)
				}
			}
		case FieldTrade:
			if w := cell(i); w != "" && row.Trade == "" {
				id, ok := resolve(opts.Trade, w)
				if !ok {
					return row, RowError{Column: header[i], Value: w, Reason: ReasonUnknownTrade, Suggestion: suggestFor(opts, FieldTrade, w)}
				}
				row.Trade = id
			}
		case FieldName:
			if w := cell(i); w != "" && row.Name == "" {
				row.Name = unsafeCell(w) // the store trims and bounds it
			}
		}
	}
	if len(row.Zones) == 0 {
		if defaultZone == "" {
			return row, RowError{Reason: ReasonNoZone}
		}
		row.Zones = []string{defaultZone}
	}
	return row, RowError{}
}

// formulaStarts are the first characters that make a spreadsheet read a
// cell as a formula.
const formulaStarts = "=+-@\t\r"

// SafeCell is a text cell a spreadsheet will not run: one that would start
// a formula gets a leading apostrophe, which the spreadsheet hides and the
// import drops again.
func SafeCell(s string) string {
	if s != "" && strings.ContainsRune(formulaStarts, rune(s[0])) {
		return "'" + s
	}
	return s
}

// unsafeCell undoes SafeCell.
func unsafeCell(cell string) string {
	if len(cell) > 1 && cell[0] == '\'' && strings.ContainsRune(formulaStarts, rune(cell[1])) {
		return cell[1:]
	}
	return cell
}

// parsePhone normalises a number as a spreadsheet writes it.
func parsePhone(v, region string) (string, Reason) {
	v = strings.TrimLeft(v, "'=\"")
	v = strings.TrimRight(v, "\"")
	n, err := phone.Normalize(v, region)
	if err == nil {
		return n, ""
	}
	// A number cell drops the + of "+33612345678", and the 0 of
	// "0612345678" (the latter the phone library reads as national).
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, v)
	if errors.Is(err, phone.ErrInvalid) && !strings.HasPrefix(strings.TrimSpace(v), "+") &&
		!strings.HasPrefix(digits, "0") && len(digits) >= 10 && strings.IndexFunc(v, isLetter) < 0 {
		if n, err2 := phone.Normalize("+"+digits, region); err2 == nil {
			return n, ""
		} else if errors.Is(err2, phone.ErrNotMobile) {
			err = err2
		}
	}
	if errors.Is(err, phone.ErrNotMobile) {
		return "", ReasonNotMobile
	}
	return "", ReasonInvalidPhone
}

func isLetter(r rune) bool { return unicode.IsLetter(r) }

// resolve applies a resolver, nil meaning identity.
func resolve(f func(string) (string, bool), w string) (string, bool) {
	if f == nil {
		return w, true
	}
	return f(w)
}

// clean trims a cell, every kind of space (the non-breaking spaces a French
// spreadsheet puts in numbers) made plain.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

func blank(rec []string) bool {
	for _, c := range rec {
		if clean(c) != "" {
			return false
		}
	}
	return true
}

// decode returns the text of data and its encoding: a BOM says UTF-8 or
// UTF-16; otherwise valid UTF-8 is UTF-8 and anything else Windows-1252,
// what a French Excel writes for "CSV (séparateur : point-virgule)".
func decode(data []byte) (string, string) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		return strings.ToValidUTF8(string(data[3:]), "\uFFFD"), EncodingUTF8BOM
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		dec := xunicode.UTF16(xunicode.LittleEndian, xunicode.ExpectBOM).NewDecoder()
		if out, err := dec.Bytes(data); err == nil {
			return strings.ToValidUTF8(string(out), "\uFFFD"), EncodingUTF16
		}
	case utf8.Valid(data):
		return string(data), EncodingUTF8
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(data)
	if err != nil {
		return strings.ToValidUTF8(string(data), "\uFFFD"), EncodingWindows1252
	}
	return string(out), EncodingWindows1252
}

// separator guesses the separator from the first non-empty line: the most
// frequent of `;`, `,` and tab outside quotes; `;`, the French one, on a tie
// or when there is none.
func separator(text string) rune {
	line := text
	for l := range strings.SplitSeq(text, "\n") {
		if strings.TrimSpace(l) != "" {
			line = l
			break
		}
	}
	counts := map[rune]int{}
	quoted := false
	for _, r := range line {
		switch {
		case r == '"':
			quoted = !quoted
		case !quoted && (r == ';' || r == ',' || r == '\t'):
			counts[r]++
		}
	}
	best := ';'
	for _, r := range []rune{',', '\t'} {
		if counts[r] > counts[best] {
			best = r
		}
	}
	return best
}

func suggestFor(opts Options, f Field, word string) string {
	if opts.Suggest == nil {
		return ""
	}
	return opts.Suggest(f, word)
}
