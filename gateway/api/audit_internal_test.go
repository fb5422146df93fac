package api

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"vigie/gateway/apitype"
)

func TestMaskPhones(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"phone":"+33612345678"}`, `{"phone":"+33*******78"}`},
		{"06 12 34 56 78", "** ** ** ** 78"},
		{"0033.6.12.34.56.78", "****.*.**.**.**.78"},
		{"+590 690 12 34 56", "+59* *** ** ** 56"},
		{"appelez le 17 ou le 112", "appelez le 17 ou le 112"},
		{"alerte 12, 40 commerçants", "alerte 12, 40 commerçants"},
		{"1234567", "1234567"},
	} {
		if got := maskPhones(tc.in); got != tc.want {
			t.Errorf("maskPhones(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTargetAndLabel(t *testing.T) {
	for _, tc := range []struct{ pattern, path, target, label string }{
		{"POST /v1/alerts", "/v1/alerts", "", "envoi d'alerte"},
		{"POST /v1/alerts/{id}/cancel", "/v1/alerts/12/cancel", "12", "annulation d'alerte"},
		{"POST /v1/subscribers/{phone}/approve", "/v1/subscribers/+33612345678/approve", "+33612345678", "approbation (abonnés)"},
		{"DELETE /v1/subscribers/{phone}", "/v1/subscribers/+33612345678", "+33612345678", "suppression (abonnés)"},
		{"POST /v1/subscribers/import", "/v1/subscribers/import", "", "import (abonnés)"},
		{"POST /v1/subscribers", "/v1/subscribers", "", "création (abonnés)"},
		{"PUT /v1/files/{path...}", "/v1/files/a/b", "a/b", "modification"},
	} {
		if got := target(tc.pattern, tc.path); got != tc.target {
			t.Errorf("target(%q, %q) = %q, want %q", tc.pattern, tc.path, got, tc.target)
		}
		if got := routeLabel(tc.pattern); got != tc.label {
			t.Errorf("routeLabel(%q) = %q, want %q", tc.pattern, got, tc.label)
		}
	}
}

func TestResultSummary(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"cancelled":3}`, "cancelled=3"},
		{`{"id":7,"author":"x","created_at":"2026-01-01T00:00:00Z","text":"long","rendered":"r","recipients":2,"done":true}`, "id=7 recipients=2 done=true"},
		{`{"added":3,"updated":1,"skipped":0,"rejected":2,"rows":[{},{},{},{},{},{}],"dry_run":false}`, "added=3 updated=1 skipped=0 rejected=2 rows=[6] dry_run=false"},
		{`{"phone":"+33612345678","status":"active","zones":["macon"]}`, `phone="+33*******78" status="active" zones=[1]`},
		{`{"counts":{"sent":2,"queued":1,"x":"y"},"nested":{"deep":{"a":1}}}`, "counts.queued=1 counts.sent=2"},
		{`[1,2,3]`, "3 éléments"},
		{`42`, "42"},
		{`{"broken":`, ""},
		{``, ""},
	} {
		if got := resultSummary([]byte(tc.body), false); got != tc.want {
			t.Errorf("resultSummary(%s) = %q, want %q", tc.body, got, tc.want)
		}
	}
}

// capture is a request body as the audit middleware captured it.
func capture(s string, max int) *capped {
	c := &capped{max: max}
	c.Write([]byte(s))
	return c
}

func TestRequestSummary(t *testing.T) {
	long := `{"text":"` + strings.Repeat("é", 3000) + `"}`
	for _, tc := range []struct {
		name, body, ctype, want string
		max                     int
	}{
		{"empty", "", "application/json", "", 100},
		{"empty object", "{}", "application/json", "", 100},
		{"compacted", "{ \"zones\": [\"macon\"] }\n", "application/json", `{"zones":["macon"]}`, 100},
		{"csv", "telephone;zone\n0612345678;macon\n", "text/csv", "text/csv, 32 octets", 100},
		{"truncated capture", `{"text":"0612345678 ...`, "application/json", `{"text":"********78 ...`, 23},
	} {
		if got := requestSummary(capture(tc.body, tc.max), tc.ctype); got != tc.want {
			t.Errorf("%s: requestSummary = %q, want %q", tc.name, got, tc.want)
		}
	}
	got := requestSummary(capture(long, 1<<20), "application/json")
	if len(got) > maxRequestSummary || !strings.HasSuffix(got, "…") || !utf8.ValidString(got) {
		t.Errorf("long body summary: %d bytes, valid UTF-8 %v, ends %q", len(got), utf8.ValidString(got), got[len(got)-8:])
	}
}

func TestInGroup(t *testing.T) {
	for _, tc := range []struct {
		gid     string
		primary int
		ids     []string
		want    bool
	}{
		{"998", 998, nil, true},
		{"998", 1000, []string{"1000", "27", "998"}, true},
		{"998", 1000, []string{"1000", "27"}, false},
		{"998", 1000, nil, false},
	} {
		if got := inGroup(tc.gid, tc.primary, tc.ids); got != tc.want {
			t.Errorf("inGroup(%s, %d, %v) = %v", tc.gid, tc.primary, tc.ids, got)
		}
	}
}

// eightDigits: after masking, no run of 8 digits (a phone number) is left.
var eightDigits = regexp.MustCompile(`[0-9](?:[ .\-]?[0-9]){7}`)

// FuzzSummaries feeds request and answer bodies, which come from outside,
// to the summaries: no panic, valid bounded UTF-8, no phone number left.
func FuzzSummaries(f *testing.F) {
	f.Add([]byte(`{"zones":["macon"],"text":"appelez le 06 12 34 56 78"}`))
	f.Add([]byte(`{"phone":"+33612345678","counts":{"a":1},"rows":[1,2]}`))
	f.Add([]byte(`[{"to":"0033612345678"}]`))
	f.Add([]byte("telephone;zone\n06.12.34.56.78;macon"))
	f.Add([]byte(`{"a":{"b":{"c":1e400}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c := &capped{max: 512}
		c.Write(body)
		for _, s := range []string{
			requestSummary(c, "application/json"),
			resultSummary(body, false),
			maskPhones(string(body)),
		} {
			if len(s) > maxRequestSummary+len("…") {
				t.Fatalf("summary of %d bytes", len(s))
			}
			if utf8.Valid(body) && !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 from valid input: %q", s)
			}
			if eightDigits.MatchString(s) {
				t.Fatalf("phone-like digits left in %q (from %q)", s, body)
			}
		}
	})
}

// countingAudit counts the records appended.
type countingAudit struct {
	Backend
	n int
}

func (c *countingAudit) AppendAudit(r apitype.AuditRecord) (apitype.AuditRecord, error) {
	c.n++
	return r, nil
}

func TestHeldAnswers(t *testing.T) {
	big := strings.Repeat("x", maxHeld+10)
	for _, tc := range []struct {
		name, method string
		handler      func(http.ResponseWriter, *http.Request)
		records      int
		body         string
		status       int
	}{
		{"small answer", "POST", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }, 1, "ok", 200},
		{"big answer goes out", "POST", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, big) }, 1, big, 200},
		{"streamed", "POST", func(w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, "a")
			w.(http.Flusher).Flush()
			io.WriteString(w, "b")
		}, 1, "ab", 200},
		{"refused", "POST", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(409); io.WriteString(w, "non") }, 0, "non", 409},
		{"read", "GET", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "lu") }, 0, "lu", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &countingAudit{}
			s := &Server{backend: b, log: slog.New(slog.DiscardHandler)}
			mux := http.NewServeMux()
			mux.HandleFunc(tc.method+" /v1/x", tc.handler)
			rec := httptest.NewRecorder()
			s.audited(mux).ServeHTTP(rec, httptest.NewRequest(tc.method, "/v1/x", strings.NewReader("{}")))
			if b.n != tc.records || rec.Code != tc.status || rec.Body.String() != tc.body {
				t.Errorf("%d records, answer %d %.20q; want %d records, %d %.20q", b.n, rec.Code, rec.Body.String(), tc.records, tc.status, tc.body)
			}
		})
	}
}

// An imported spreadsheet never lands in the audit log: only its size and
// hash do (the numbers in it could not be erased from there).
func TestRequestSummaryOfAnImportKeepsNoFile(t *testing.T) {
	csv := "telephone;zone\n06 12 34 56 78;macon\n"
	body, err := json.Marshal(map[string]any{"data": []byte(csv), "dry_run": true})
	if err != nil {
		t.Fatal(err)
	}
	got := requestSummary(capture(string(body), 1<<20), "application/json")
	b64 := base64.StdEncoding.EncodeToString([]byte(csv))
	if strings.Contains(got, b64[:12]) || strings.Contains(got, "06 12") || !strings.Contains(got, "fichier de 36 octets") || !strings.Contains(got, `"dry_run":true`) {
		t.Errorf("summary %q: want the file replaced by its size and hash, the options kept", got)
	}
}
