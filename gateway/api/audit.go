package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"vigie/gateway/apitype"
	"vigie/gateway/french"
	"vigie/gateway/phone"
)

// AuditBackend keeps the audit log: every change made through the API,
// with who made it (SPEC §9).
type AuditBackend interface {
	// AppendAudit dates r, chains it to the log and stores it.
	AppendAudit(r apitype.AuditRecord) (apitype.AuditRecord, error)
	Audit(since time.Time) ([]apitype.AuditRecord, error)
	VerifyAudit() (apitype.AuditCheck, error)
}

func (s *Server) auditRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/audit", s.listAudit)
	mux.HandleFunc("GET /v1/audit/verify", s.verifyAudit)
}

// listAudit answers the records since ?since= (RFC 3339), or all.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	var since time.Time
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			s.reply(w, nil, apitype.Invalid("date invalide : %q (attendu : RFC 3339)", v))
			return
		}
		since = t
	}
	recs, err := s.backend.Audit(since)
	if recs == nil && err == nil {
		recs = []apitype.AuditRecord{}
	}
	s.reply(w, recs, err)
}

func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request) {
	c, err := s.backend.VerifyAudit()
	s.reply(w, c, err)
}

// Limits of what a record keeps of a request and of its answer.
const (
	maxRequestSummary = 4 << 10
	maxResultSummary  = 1 << 10
	// maxCapture is how much of a response is read to summarise it.
	maxCapture = 256 << 10
	// maxHeld is how much of an answer is held until its record is
	// written; a bigger one goes out before.
	maxHeld = 1 << 20
)

// unaudited are the routes that change nothing although they are not GETs.
var unaudited = map[string]bool{
	"POST /v1/alerts/preview":               true,
	"POST /v1/alerts/{id}/followup/preview": true,
}

// labels say each change in French; other routes get one built from their
// method and path (routeLabel).
var labels = map[string]string{
	"POST /v1/alerts":               "envoi d'alerte",
	"POST /v1/alerts/{id}/cancel":   "annulation d'alerte",
	"POST /v1/alerts/{id}/followup": "suite d'alerte",
	"POST /v1/alerts/test":          "SMS de test",
	"POST /v1/inbox/{id}/read":      "message marqué lu",
}

// audited records every successful change in the audit log: a request that
// is not a GET, HEAD or OPTIONS, to a route not in unaudited, answered 2xx.
//
// The record is drafted before the handler runs (who, which route, its
// target) and handed to the backend in the request's context
// (apitype.AuditDraft). A backend whose change is one store transaction
// appends the finished record in that transaction: the change and its
// record commit together, and a crash or a disk fault cannot leave one
// without the other. For a route whose backend did not, the record is
// appended here, after the change: the answer is held until it is written,
// so an operator who was told "done" finds it in `vigie audit` (unless the
// handler streams or the answer is big: then the record is written when
// the handler ends). That change is already committed: a failure to append
// is logged as an error, and the operator still gets the answer.
func (s *Server) audited(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pattern := mux.Handler(r)
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			pattern = ""
		}
		if pattern == "" || unaudited[pattern] {
			mux.ServeHTTP(w, r)
			return
		}
		req := &capped{max: maxCapture}
		if r.Body != nil {
			r.Body = teeBody{ReadCloser: r.Body, w: req}
		}
		draft := s.draftAudit(r, pattern, req)
		r = r.WithContext(apitype.WithAuditDraft(r.Context(), draft))
		bw := &heldWriter{ResponseWriter: w, body: capped{max: maxCapture}}
		mux.ServeHTTP(bw, r)
		if st := bw.statusCode(); st >= 200 && st < 300 {
			if rec, ok := draft.Stored(); ok {
				s.log.Info("audit", "seq", rec.Seq, "action", pattern, "target", rec.Target, "user", rec.User, "with_change", true)
			} else {
				s.appendAudit(draft.Record(nil), bw)
			}
		}
		bw.release()
	})
}

// draftAudit drafts the record of the change r asks for. Its request
// summary is read from req when the record is finished, after the handler
// read the body; its result is the summary of the answer, encoded as the
// handler sends it.
func (s *Server) draftAudit(r *http.Request, pattern string, req *capped) *apitype.AuditDraft {
	p, _ := peerOf(r)
	contentType := r.Header.Get("Content-Type")
	return apitype.NewAuditDraft(apitype.AuditRecord{
		User: author(r), UID: p.uid,
		Action: pattern, Label: routeLabel(pattern),
		Target: maskPhones(target(pattern, r.URL.Path)),
	}, func() string {
		return requestSummary(req, contentType)
	}, func(answer any) string {
		b, err := json.Marshal(answer)
		if err != nil {
			return ""
		}
		return resultSummary(b, false)
	})
}

// appendAudit writes rec, the record of one change already made, with the
// summary of the answer bw holds. A backend that panics (a test fake
// without an audit log) loses the record, never the answer.
func (s *Server) appendAudit(rec apitype.AuditRecord, bw *heldWriter) {
	rec.Result = resultSummary(bw.body.Bytes(), bw.body.truncated)
	err := func() (err error) {
		defer func() {
			if v := recover(); v != nil {
				err = fmt.Errorf("audit backend panicked: %v", v)
			}
		}()
		rec, err = s.backend.AppendAudit(rec)
		return err
	}()
	if err != nil {
		s.log.Error("change made but NOT recorded in the audit log", "action", rec.Action, "target", rec.Target,
			"user", rec.User, "uid", rec.UID, "err", err)
		return
	}
	s.log.Info("audit", "seq", rec.Seq, "action", rec.Action, "target", rec.Target, "user", rec.User)
}

// routeLabel says pattern in French.
func routeLabel(pattern string) string {
	if l, ok := labels[pattern]; ok {
		return l
	}
	method, path, _ := strings.Cut(pattern, " ")
	nouns := map[string]string{"alerts": "alertes", "subscribers": "abonnés", "inbox": "messages", "zones": "zones"}
	verbs := map[string]string{
		"approve": "approbation", "import": "import", "erase": "effacement", "export": "export",
		"cancel": "annulation", "read": "lecture", "remove": "retrait",
	}
	var noun, verb string
	for _, seg := range strings.Split(strings.Trim(path, "/"), "/") {
		if n, ok := nouns[seg]; ok && noun == "" {
			noun = n
		}
		if v, ok := verbs[seg]; ok {
			verb = v
		}
	}
	if verb == "" {
		verb = map[string]string{
			http.MethodPost: "création", http.MethodPut: "modification",
			http.MethodPatch: "modification", http.MethodDelete: "suppression",
		}[method]
	}
	if verb == "" {
		verb = strings.ToLower(method)
	}
	if noun == "" {
		return verb
	}
	return verb + " (" + noun + ")"
}

// target returns the values of pattern's wildcards in path, space separated.
func target(pattern, path string) string {
	_, pat, _ := strings.Cut(pattern, " ")
	ps := strings.Split(strings.Trim(pat, "/"), "/")
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var vals []string
	for i, p := range ps {
		if !strings.HasPrefix(p, "{") || i >= len(segs) {
			continue
		}
		if strings.HasSuffix(p, "...}") {
			vals = append(vals, strings.Join(segs[i:], "/"))
			break
		}
		if p != "{$}" {
			vals = append(vals, segs[i])
		}
	}
	return strings.Join(vals, " ")
}

// phoneLike finds runs of 8 digits or more, with the separators people
// write in phone numbers.
var phoneLike = regexp.MustCompile(`\+?[0-9](?:[ .\-]?[0-9]){7,}`)

// maskPhones hides all digits of phone numbers in s but a country code and
// the last two, as the logs do: the audit log cannot be erased, so it must
// not keep the numbers that a subscriber's erasure deletes.
func maskPhones(s string) string {
	return phoneLike.ReplaceAllStringFunc(s, func(m string) string {
		keep := 0 // leading digits kept: the country code of +CC…
		if m[0] == '+' {
			keep = 2
		}
		return phone.MaskDigits(m, keep)
	})
}

// requestSummary is the request's body as the record keeps it: compact
// JSON with phone numbers masked, truncated; other bodies by type and size.
func requestSummary(c *capped, contentType string) string {
	body := bytes.TrimSpace(c.Bytes())
	if c.n == 0 || len(body) == 0 {
		return ""
	}
	if !c.truncated && json.Valid(body) {
		body = withoutFiles(body)
		var buf bytes.Buffer
		if json.Compact(&buf, body) == nil {
			body = buf.Bytes()
		}
		if string(body) == "{}" {
			return ""
		}
		return truncate(maskPhones(string(body)), maxRequestSummary)
	}
	if strings.HasPrefix(contentType, "application/json") {
		return truncate(maskPhones(string(body)), maxRequestSummary)
	}
	if contentType == "" {
		contentType = "corps"
	}
	return fmt.Sprintf("%s, %s", contentType, french.Count(int(c.n), "octet", "octets"))
}

// withoutFiles replaces a file carried in a JSON request (the "data" of an
// import: a spreadsheet, base64) by its size and SHA-256. The audit log
// cannot be erased, and the numbers inside base64 could not be masked: a
// later `remove --erase` would leave them there.
func withoutFiles(body []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	raw, ok := m["data"]
	if !ok {
		return body
	}
	var data []byte
	if json.Unmarshal(raw, &data) != nil {
		return body
	}
	sum := sha256.Sum256(data)
	m["data"], _ = json.Marshal(fmt.Sprintf("fichier de %s, sha256 %x", french.Count(len(data), "octet", "octets"), sum[:8]))
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return out
}

// resultSummary keeps of a JSON answer its identifiers and counts: the
// top-level numbers, booleans and short strings, one level of nested
// numbers ("counts.queued=3"), the length of arrays ("rows=[12]"); times,
// texts and authors are left out. Phone numbers are masked.
func resultSummary(body []byte, truncated bool) string {
	if truncated || !json.Valid(body) {
		return ""
	}
	var fields []string
	var top any
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return ""
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		if err := json.Unmarshal(body, &top); err == nil {
			if a, ok := top.([]any); ok {
				return french.Count(len(a), "élément", "éléments")
			}
			return truncate(maskPhones(strings.TrimSpace(string(body))), maxResultSummary)
		}
		return ""
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			break
		}
		key, _ := kt.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			break
		}
		if key == "author" || key == "text" || key == "rendered" || strings.HasSuffix(key, "_at") {
			continue
		}
		fields = append(fields, summarise(key, raw, true)...)
	}
	return truncate(maskPhones(strings.Join(fields, " ")), maxResultSummary)
}

// summarise renders one field of an answer for resultSummary.
func summarise(key string, raw json.RawMessage, nest bool) []string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil
	}
	switch v := v.(type) {
	case float64:
		return []string{key + "=" + strings.TrimSpace(string(raw))}
	case bool:
		return []string{key + "=" + strconv.FormatBool(v)}
	case string:
		if v != "" && utf8.RuneCountInString(v) <= 32 {
			return []string{key + "=" + strconv.Quote(v)}
		}
	case []any:
		return []string{fmt.Sprintf("%s=[%d]", key, len(v))}
	case map[string]any:
		if !nest {
			return nil
		}
		var m map[string]json.RawMessage
		_ = json.Unmarshal(raw, &m)
		var out []string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if _, isNum := v[k].(float64); isNum {
				out = append(out, summarise(key+"."+k, m[k], false)...)
			}
		}
		return out
	}
	return nil
}

// truncate cuts s to at most max bytes on a rune boundary, marking the cut.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// capped keeps the first max bytes written to it and counts them all.
type capped struct {
	buf       bytes.Buffer
	max       int
	n         int64
	truncated bool
}

func (c *capped) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	if room := c.max - c.buf.Len(); room < len(p) {
		c.truncated = true
		p = p[:max(room, 0)]
	}
	c.buf.Write(p)
	return len(p), nil
}

// Bytes returns what was kept.
func (c *capped) Bytes() []byte { return c.buf.Bytes() }

// teeBody copies what the handler reads of the request body to w.
type teeBody struct {
	io.ReadCloser
	w io.Writer
}

func (t teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if n > 0 {
		_, _ = t.w.Write(p[:n])
	}
	return n, err
}

// heldWriter holds a handler's answer until release, keeping a copy of its
// start to summarise. A handler that flushes (streams) or writes more than
// maxHeld is passed through from then on.
type heldWriter struct {
	http.ResponseWriter
	status  int
	held    bytes.Buffer
	body    capped
	through bool // flushed: writes go straight out
}

func (h *heldWriter) WriteHeader(code int) {
	if h.status == 0 {
		h.status = code
	}
}

func (h *heldWriter) Write(p []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	_, _ = h.body.Write(p)
	if !h.through && h.held.Len()+len(p) > maxHeld {
		h.release() // a big answer is not held in memory
	}
	if h.through {
		return h.ResponseWriter.Write(p)
	}
	return h.held.Write(p)
}

// Flush sends what is held and lets the rest through.
func (h *heldWriter) Flush() {
	h.release()
	h.through = true
	if f, ok := h.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (h *heldWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

func (h *heldWriter) statusCode() int {
	if h.status == 0 {
		return http.StatusOK
	}
	return h.status
}

// release writes the held status and body out, once.
func (h *heldWriter) release() {
	if h.through {
		return
	}
	h.through = true
	h.ResponseWriter.WriteHeader(h.statusCode())
	_, _ = h.ResponseWriter.Write(h.held.Bytes())
	h.held.Reset()
}
