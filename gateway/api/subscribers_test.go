package api_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"vigie/gateway/api"
	"vigie/gateway/apitype"
	"vigie/gateway/client"
)

// subscriberFake records the subscriber calls that reach the backend.
type subscriberFake struct {
	api.Backend // nil: parts these tests do not call
	calls       []string
	filter      apitype.SubscriberFilter
	add         apitype.AddSubscriberRequest
	importReq   apitype.ImportRequest
	author      string
}

func (f *subscriberFake) ListSubscribers(flt apitype.SubscriberFilter) ([]apitype.Subscriber, error) {
	f.filter = flt
	return []apitype.Subscriber{{Phone: "+33611111111", Zones: []string{"macon"}}}, nil
}

func (f *subscriberFake) ShowSubscriber(number string) (apitype.SubscriberDetail, error) {
	f.calls = append(f.calls, "show "+number)
	return apitype.SubscriberDetail{}, apitype.NotFound("%s n'est pas abonné", number)
}

func (f *subscriberFake) AddSubscriber(_ context.Context, req apitype.AddSubscriberRequest, author string) (apitype.AddSubscriberResult, error) {
	f.add, f.author = req, author
	if !req.Force {
		return apitype.AddSubscriberResult{}, &apitype.UserError{Kind: apitype.RefuseConflict, Message: "a envoyé STOP"}
	}
	return apitype.AddSubscriberResult{Outcome: apitype.OutcomeAdded}, nil
}

func (f *subscriberFake) ApproveSubscriber(_ context.Context, number, author string) (apitype.Subscriber, error) {
	f.calls, f.author = append(f.calls, "approve "+number), author
	return apitype.Subscriber{Phone: number, Status: "active"}, nil
}

func (f *subscriberFake) RemoveSubscriber(_ context.Context, number string, erase bool, author string) (apitype.RemoveSubscriberResult, error) {
	f.calls, f.author = append(f.calls, "remove "+number), author
	return apitype.RemoveSubscriberResult{Phone: number, Erased: erase}, nil
}

func (f *subscriberFake) ImportSubscribers(_ context.Context, req apitype.ImportRequest, author string) (apitype.ImportReport, error) {
	f.importReq, f.author = req, author
	return apitype.ImportReport{DryRun: req.DryRun, Added: 1}, nil
}

func TestSubscriberRoutes(t *testing.T) {
	ctx := context.Background()
	f := &subscriberFake{}
	c := client.New(serve(t, f))

	subs, err := c.Subscribers(ctx, apitype.SubscriberFilter{Zone: "Mâcon centre", Status: "active"})
	if err != nil || len(subs) != 1 || f.filter != (apitype.SubscriberFilter{Zone: "Mâcon centre", Status: "active"}) {
		t.Errorf("list = %+v, %v; filter reached %+v", subs, err, f.filter)
	}

	// Numbers as typed, spaces, + and slashes included, reach the backend intact.
	if _, err := c.Subscriber(ctx, "06 12/34 56 78"); !isStatus(err, 404) {
		t.Errorf("show unknown = %v, want a 404 UserError", err)
	}
	if _, err := c.ApproveSubscriber(ctx, "+33 6 12 34 56 78"); err != nil {
		t.Fatal(err)
	}
	res, err := c.RemoveSubscriber(ctx, "0612345678", true)
	if err != nil || !res.Erased {
		t.Errorf("remove --erase = %+v, %v", res, err)
	}
	want := []string{"show 06 12/34 56 78", "approve +33 6 12 34 56 78", "remove 0612345678"}
	if len(f.calls) != len(want) {
		t.Fatalf("calls %q, want %q", f.calls, want)
	}
	for i := range want {
		if f.calls[i] != want[i] {
			t.Errorf("call %d = %q, want %q", i, f.calls[i], want[i])
		}
	}
	if f.author == "" || f.author == "unknown" {
		t.Errorf("author %q, want the peer's user", f.author)
	}

	if _, err := c.AddSubscriber(ctx, apitype.AddSubscriberRequest{Phone: "0611111111", Zones: []string{"macon"}}); !isStatus(err, 409) {
		t.Errorf("add suppressed = %v, want the 409 UserError", err)
	}
	if r, err := c.AddSubscriber(ctx, apitype.AddSubscriberRequest{Phone: "0611111111", Zones: []string{"macon"}, Force: true}); err != nil || r.Outcome != "added" {
		t.Errorf("add --force = %+v, %v", r, err)
	}

	// An import larger than the 1 MiB of other requests goes through.
	big := bytes.Repeat([]byte("06 11 11 11 11;macon\n"), 100_000)
	rep, err := c.ImportSubscribers(ctx, apitype.ImportRequest{Data: big, DefaultZone: "macon", DryRun: true})
	if err != nil || !rep.DryRun || !bytes.Equal(f.importReq.Data, big) || f.importReq.DefaultZone != "macon" {
		t.Errorf("import = %+v, %v; %d bytes reached the backend", rep, err, len(f.importReq.Data))
	}
}

func isStatus(err error, status int) bool {
	var ue *apitype.UserError
	return errors.As(err, &ue) && ue.Status == status
}
