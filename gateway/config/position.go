package config

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// The TOML decoder keeps the line of every key to itself, so the lines that
// errors name are found here by a light scan of the text, which the decoder
// has already accepted as valid TOML. Keys are written as paths with array
// indexes, "modem[1].baud", the same way Error.Key names them.

// positions maps key paths to the line that defines them.
type positions struct {
	line   map[string]int // path → line
	atLine map[int]string // line → path of the key defined there
}

// lineOf returns the line of path, or of its closest enclosing key or
// table, or 0.
func (p positions) lineOf(path string) int {
	for path != "" {
		if l, ok := p.line[path]; ok {
			return l
		}
		if strings.HasSuffix(path, "]") {
			path = path[:strings.LastIndexByte(path, '[')]
		} else if i := strings.LastIndexByte(path, '.'); i >= 0 {
			path = path[:i]
		} else {
			path = ""
		}
	}
	return 0
}

// pather turns TOML keys into paths, numbering array-of-tables elements as
// they appear in the document.
type pather map[string]int // unindexed key → elements seen so far

// arrayElement records one more element of the array of tables at key.
func (pt pather) arrayElement(key []string) { pt[strings.Join(key, "\x00")]++ }

// path returns the path of key, each array of tables in it indexed by its
// latest element.
func (pt pather) path(key []string) string {
	var b strings.Builder
	for i, part := range key {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(quoteKey(part))
		if n := pt[strings.Join(key[:i+1], "\x00")]; n > 0 {
			b.WriteString("[" + strconv.Itoa(n-1) + "]")
		}
	}
	return b.String()
}

var bareKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func quoteKey(k string) string {
	if bareKey.MatchString(k) {
		return k
	}
	return strconv.Quote(k)
}

var arrayIndex = regexp.MustCompile(`\[\d+\]`)

// unindexed drops the array indexes of a path, giving the decoder's name.
func unindexed(path string) string { return arrayIndex.ReplaceAllString(path, "") }

// undecodedPaths returns the paths of the keys the raw struct has no field
// for, in document order, leaving out those inside an unknown table.
func undecodedPaths(md toml.MetaData) []string {
	unknown := map[string]bool{}
	for _, k := range md.Undecoded() {
		unknown[k.String()] = true
	}
	pt := pather{}
	var out []string
	for _, k := range md.Keys() {
		if md.Type(k...) == "ArrayHash" {
			pt.arrayElement(k)
		}
		if !unknown[k.String()] {
			continue
		}
		if len(k) > 1 && unknown[toml.Key(k[:len(k)-1]).String()] {
			continue
		}
		out = append(out, pt.path(k))
	}
	return out
}

// scanPositions finds the line of every table header and key of doc.
func scanPositions(doc string) positions {
	p := positions{line: map[string]int{}, atLine: map[int]string{}}
	pt := pather{}
	var (
		table []string // current table
		v     valueScanner
	)
	for i, text := range strings.Split(doc, "\n") {
		n := i + 1
		if v.open() {
			v.scan(text)
			continue
		}
		s := strings.TrimSpace(text)
		switch {
		case s == "" || s[0] == '#':
		case strings.HasPrefix(s, "[["):
			table, _ = parseKey(s[2:])
			pt.arrayElement(table)
			p.set(pt.path(table), n)
		case s[0] == '[':
			table, _ = parseKey(s[1:])
			p.set(pt.path(table), n)
		default:
			key, rest := parseKey(s)
			if len(key) == 0 || !strings.HasPrefix(rest, "=") {
				continue
			}
			path := pt.path(append(table[:len(table):len(table)], key...))
			p.set(path, n)
			p.atLine[n] = path
			v.scan(rest[1:])
		}
	}
	return p
}

func (p positions) set(path string, line int) {
	if _, ok := p.line[path]; !ok {
		p.line[path] = line
	}
}

// parseKey reads a dotted key at the start of s and returns its parts and
// what follows it, white space trimmed.
func parseKey(s string) (parts []string, rest string) {
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return parts, s
		}
		var part string
		switch s[0] {
		case '"':
			end := closingQuote(s, '"')
			if end < 0 {
				return parts, ""
			}
			part = s[:end+1]
			if u, err := strconv.Unquote(part); err == nil {
				part = u
			} else {
				part = part[1 : len(part)-1]
			}
			s = s[end+1:]
		case '\'':
			end := strings.IndexByte(s[1:], '\'')
			if end < 0 {
				return parts, ""
			}
			part, s = s[1:end+1], s[end+2:]
		default:
			end := strings.IndexFunc(s, func(r rune) bool {
				return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
			})
			if end < 0 {
				end = len(s)
			}
			if end == 0 {
				return parts, s
			}
			part, s = s[:end], s[end:]
		}
		parts = append(parts, part)
		s = strings.TrimLeft(s, " \t")
		if !strings.HasPrefix(s, ".") {
			return parts, s
		}
		s = s[1:]
	}
}

// closingQuote returns the index of the quote closing the basic string that
// s starts with, or -1.
func closingQuote(s string, q byte) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case q:
			return i
		}
	}
	return -1
}

// valueScanner follows a value across lines: multi-line strings, and arrays
// or inline tables left open at the end of a line.
type valueScanner struct {
	multi string // closing delimiter of the open multi-line string
	depth int    // open brackets and braces
}

func (v *valueScanner) open() bool { return v.multi != "" || v.depth > 0 }

func (v *valueScanner) scan(s string) {
	for len(s) > 0 {
		if v.multi != "" {
			end := strings.Index(s, v.multi)
			if v.multi == `"""` {
				end = indexUnescaped(s, v.multi)
			}
			if end < 0 {
				return
			}
			s = s[end+3:]
			// A closing delimiter may be followed by up to two more quotes
			// that belong to the string.
			s = strings.TrimLeft(s, v.multi[:1])
			v.multi = ""
			continue
		}
		switch {
		case strings.HasPrefix(s, `"""`), strings.HasPrefix(s, `'''`):
			v.multi, s = s[:3], s[3:]
		case s[0] == '"':
			end := closingQuote(s, '"')
			if end < 0 {
				return
			}
			s = s[end+1:]
		case s[0] == '\'':
			end := strings.IndexByte(s[1:], '\'')
			if end < 0 {
				return
			}
			s = s[end+2:]
		case s[0] == '#':
			return
		case s[0] == '[' || s[0] == '{':
			v.depth++
			s = s[1:]
		case s[0] == ']' || s[0] == '}':
			v.depth--
			s = s[1:]
		default:
			s = s[1:]
		}
	}
}

// indexUnescaped returns the index of the first sep in s not preceded by a
// backslash escape, or -1.
func indexUnescaped(s, sep string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if strings.HasPrefix(s[i:], sep) {
			return i
		}
	}
	return -1
}
