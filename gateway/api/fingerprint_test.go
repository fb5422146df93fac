package api_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"testing"

	"vigie/gateway/api"
	"vigie/gateway/apitype"
	"vigie/gateway/client"
)

// preconditioned is a Backend whose recipient list has fingerprint fp: a
// send carrying another is refused as the gateway refuses it.
type preconditioned struct {
	api.Backend // nil: parts these tests do not call
	fp          string
	got         []string // the fingerprints sends carried
	summaries   int
}

func (b *preconditioned) PreviewAlert(apitype.AlertRequest) (apitype.Preview, error) {
	return apitype.Preview{Recipients: 2, Fingerprint: b.fp}, nil
}

func (b *preconditioned) SendAlert(_ context.Context, req apitype.AlertRequest, _ string) (apitype.Alert, error) {
	b.got = append(b.got, req.Fingerprint)
	if req.Fingerprint != "" && req.Fingerprint != b.fp {
		return apitype.Alert{}, apitype.TargetChanged("la cible a changé depuis l'aperçu")
	}
	return apitype.Alert{ID: 1}, nil
}

func (b *preconditioned) AlertSummary(id uint64) (apitype.Alert, error) {
	b.summaries++
	return apitype.Alert{ID: id, Counts: map[string]int{"sent": 2}}, nil
}

// TestFingerprintAsETag: the preview's fingerprint is its ETag; a send
// may carry it in If-Match, and a stale one is a 412 with its message.
func TestFingerprintAsETag(t *testing.T) {
	b := &preconditioned{fp: "abc"}
	path := serve(t, b)
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", path)
	}}}
	post := func(url, ifMatch string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, "http://vigie"+url, bytes.NewReader([]byte(`{"zones":["macon"],"text":"x"}`)))
		if ifMatch != "" {
			req.Header.Set("If-Match", ifMatch)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post("/v1/alerts/preview", ""); resp.Header.Get("ETag") != `"abc"` {
		t.Errorf("preview ETag %q, want \"abc\"", resp.Header.Get("ETag"))
	}
	if resp := post("/v1/alerts", `"old"`); resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("stale If-Match: status %d, want 412", resp.StatusCode)
	}
	if resp := post("/v1/alerts", `"abc"`); resp.StatusCode != http.StatusOK {
		t.Errorf("current If-Match: status %d, want 200", resp.StatusCode)
	}
	if len(b.got) != 2 || b.got[0] != "old" || b.got[1] != "abc" {
		t.Errorf("fingerprints carried %q", b.got)
	}
	// Through the client, the body's fingerprint; the 412 comes back typed.
	c := client.New(path)
	_, err := c.SendAlert(context.Background(), apitype.AlertRequest{Zones: []string{"macon"}, Text: "x", Fingerprint: "old"})
	var ue *apitype.UserError
	if !errors.As(err, &ue) || ue.Kind != apitype.RefuseTargetChanged || ue.Message != "la cible a changé depuis l'aperçu" {
		t.Errorf("stale fingerprint: %v", err)
	}
	// Counts only: the summary, not the report.
	if a, err := c.AlertSummary(context.Background(), 5); err != nil || a.ID != 5 || a.Counts["sent"] != 2 || b.summaries != 1 {
		t.Errorf("summary %+v, %v (%d calls)", a, err, b.summaries)
	}
}
