package api_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"vigie/gateway/api"
	"vigie/gateway/apitype"
	"vigie/gateway/client"
)

// reportBackend records the query the API made of a request.
type reportBackend struct {
	api.Backend // nil: parts these tests do not call
	got         apitype.ReportQuery
}

func (b *reportBackend) Report(q apitype.ReportQuery) (apitype.Report, error) {
	b.got = q
	return apitype.Report{Station: "CORG 71", From: q.From, To: q.To}, nil
}

func TestReportQueryIsLocalDays(t *testing.T) {
	b := &reportBackend{}
	c := client.New(serve(t, b))
	from := time.Date(2025, 12, 1, 23, 59, 0, 0, time.UTC) // only the date counts
	to := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	r, err := c.Report(context.Background(), from, to, []string{"macon", "charnay"})
	if err != nil {
		t.Fatal(err)
	}
	wantFrom, wantTo := time.Date(2025, 12, 1, 0, 0, 0, 0, time.Local), time.Date(2026, 12, 1, 0, 0, 0, 0, time.Local)
	if !b.got.From.Equal(wantFrom) || !b.got.To.Equal(wantTo) || strings.Join(b.got.Zones, ",") != "macon,charnay" {
		t.Errorf("backend asked %+v, want %v – %v for macon, charnay", b.got, wantFrom, wantTo)
	}
	if r.Station != "CORG 71" || !r.From.Equal(wantFrom) {
		t.Errorf("report %+v", r)
	}
}

func TestReportQueryRefusesBadDates(t *testing.T) {
	path := serve(t, &reportBackend{})
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}}
	for query, want := range map[string]string{
		"from=2025-12-01":               "paramètre to manquant (attendu : AAAA-MM-JJ)",
		"from=01/12/2025&to=2026-12-01": `date invalide pour from : \"01/12/2025\" (attendu : AAAA-MM-JJ)`,
		"from=2025-12-01&to=2026-13-01": `date invalide pour to : \"2026-13-01\"`,
		"to=2026-12-01&zone=macon":      "paramètre from manquant",
	} {
		resp, err := hc.Get("http://vigie/v1/report?" + query)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), want) {
			t.Errorf("?%s: %d %s, want 400 with %q", query, resp.StatusCode, body, want)
		}
	}
}
