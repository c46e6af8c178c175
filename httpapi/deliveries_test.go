package httpapi_test

import (
	"encoding/base64"
	"slices"
	"strconv"
	"testing"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
)

// seedDeliveries makes the delivery log the tests read: two events (asset
// creations) to two active subscriptions, whose four deliveries end sent,
// dead, failed and (claimed, not yet recorded) pending, in id order.
func seedDeliveries(t *testing.T, e *env) []int64 {
	t.Helper()
	e.run(t, []step{
		{name: "analyst", req: req{method: "POST", path: "/api/v1/analysts", body: `{"name":"Ada","company":"Acme"}`}, wantStatus: 201},
		{name: "ada", req: req{method: "POST", path: "/api/v1/subscriptions", body: `{"email":"ada@example.com"}`}, wantStatus: 201},
		{name: "bob", req: req{method: "POST", path: "/api/v1/subscriptions", body: `{"email":"bob@example.com"}`}, wantStatus: 201},
		{name: "asset 1", req: req{method: "POST", path: "/api/v1/assets", body: `{"name":"Fund","is_active":true,"analyst_id":1}`}, wantStatus: 201},
		{name: "asset 2", req: req{method: "POST", path: "/api/v1/assets", body: `{"name":"Bond","is_active":true,"analyst_id":1}`}, wantStatus: 201},
	})
	ctx := t.Context()
	events, err := e.store.PendingEvents(ctx, 10)
	if err != nil || len(events) != 2 {
		t.Fatalf("events: %v %v", events, err)
	}
	for _, ev := range events {
		if n, err := e.store.FanOut(ctx, ev.ID); err != nil || n != 2 {
			t.Fatalf("fan out event %d: %d %v", ev.ID, n, err)
		}
	}
	jobs, err := e.store.ClaimDeliveries(ctx, time.Minute, 10)
	if err != nil || len(jobs) != 4 {
		t.Fatalf("claim: %d %v", len(jobs), err)
	}
	var ids []int64
	for _, j := range jobs {
		ids = append(ids, j.Delivery.ID)
	}
	slices.Sort(ids)
	if err := e.store.RecordDeliveries(ctx, []icymorning.DeliveryOutcome{
		{ID: ids[0], Status: icymorning.DeliverySent, ProviderMessageID: "provider-1"},
		{ID: ids[1], Status: icymorning.DeliveryDead, Error: "550 5.1.1 mailbox unavailable"},
		{ID: ids[2], Status: icymorning.DeliveryFailed, Error: "451 4.3.0 try later", RetryAfter: time.Hour},
	}); err != nil {
		t.Fatal(err)
	}
	return ids
}

// deliveryJSON is a delivery as the API shows it, with the nullable
// members as pointers, so a test can tell null from "".
type deliveryJSON struct {
	ID                int64   `json:"id"`
	EventID           int64   `json:"event_id"`
	SubscriptionID    int64   `json:"subscription_id"`
	Status            string  `json:"status"`
	Attempts          int     `json:"attempts"`
	LastError         *string `json:"last_error"`
	ProviderMessageID *string `json:"provider_message_id"`
	CreatedAt         string  `json:"created_at"`
	UpdatedAt         string  `json:"updated_at"`
	NextAttemptAt     string  `json:"next_attempt_at"`
	SentAt            *string `json:"sent_at"`
}

// TestDeliveryLog: operators list the delivery log with filters and pages,
// and re-queue dead or failed deliveries; nobody else sees it.
func TestDeliveryLog(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		ids := seedDeliveries(t, e)
		id := func(i int) string { return strconv.FormatInt(ids[i], 10) }
		noStore := map[string]string{"Cache-Control": "private, no-store"}
		e.run(t, []step{
			{name: "no credentials", req: req{method: "GET", path: "/api/v1/deliveries", auth: "none"}, wantStatus: 401},
			{name: "wrong credentials", req: req{method: "GET", path: "/api/v1/deliveries?status=dead", auth: "wrong"}, wantStatus: 401},
			{name: "filter by status", req: req{method: "GET", path: "/api/v1/deliveries?status=dead"}, wantStatus: 200,
				wantIn: []string{`"id":` + id(1) + `,`, `"status":"dead"`, `"last_error":"550 5.1.1 mailbox unavailable"`, `"provider_message_id":null`, `"sent_at":null`}, wantHeader: noStore},
			{name: "unknown status", req: req{method: "GET", path: "/api/v1/deliveries?status=gone"}, wantStatus: 422, wantIn: []string{"query.status"}},
			{name: "event id not a number", req: req{method: "GET", path: "/api/v1/deliveries?event_id=x"}, wantStatus: 422, wantIn: []string{"query.event_id"}},
			{name: "no such event", req: req{method: "GET", path: "/api/v1/deliveries?event_id=99"}, wantStatus: 200, wantBody: `[]`},
		})

		var all []deliveryJSON
		r := e.do(req{method: "GET", path: "/api/v1/deliveries"})
		r.json(t, &all)
		if r.StatusCode != 200 || len(all) != 4 || r.Header.Get("Cache-Control") != "private, no-store" || r.Header.Get("Link") != "" {
			t.Fatalf("list: %d %s %v", r.StatusCode, r.body, r.Header)
		}
		for i, d := range all {
			if d.ID != ids[i] || d.CreatedAt == "" || d.UpdatedAt == "" || d.NextAttemptAt == "" || d.Attempts != 1 {
				t.Errorf("delivery %d: %+v", i, d)
			}
			for _, ts := range []string{d.CreatedAt, d.UpdatedAt, d.NextAttemptAt} {
				if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
					t.Errorf("delivery %d: time %q: %v", i, ts, err)
				}
			}
		}
		sent, pending := all[0], all[3]
		if sent.Status != "sent" || sent.ProviderMessageID == nil || *sent.ProviderMessageID != "provider-1" || sent.SentAt == nil || sent.LastError != nil {
			t.Errorf("sent: %+v", sent)
		}
		if pending.Status != "pending" || pending.LastError != nil || pending.ProviderMessageID != nil || pending.SentAt != nil {
			t.Errorf("pending: %+v", pending)
		}
		if all[2].Status != "failed" || all[2].LastError == nil {
			t.Errorf("failed: %+v", all[2])
		}

		// Filters combine, and pages carry them.
		ev, sub := strconv.FormatInt(all[0].EventID, 10), strconv.FormatInt(all[0].SubscriptionID, 10)
		var page []deliveryJSON
		r = e.do(req{method: "GET", path: "/api/v1/deliveries?event_id=" + ev})
		if r.json(t, &page); len(page) != 2 || page[0].EventID != all[0].EventID || page[1].EventID != all[0].EventID {
			t.Errorf("event_id filter: %s", r.body)
		}
		r = e.do(req{method: "GET", path: "/api/v1/deliveries?subscription_id=" + sub})
		if r.json(t, &page); len(page) != 2 || page[0].SubscriptionID != all[0].SubscriptionID || page[1].SubscriptionID != all[0].SubscriptionID {
			t.Errorf("subscription_id filter: %s", r.body)
		}
		r = e.do(req{method: "GET", path: "/api/v1/deliveries?event_id=" + ev + "&subscription_id=" + sub})
		if r.json(t, &page); len(page) != 1 || page[0].ID != ids[0] {
			t.Errorf("both filters: %s", r.body)
		}
		e.run(t, []step{
			{name: "first page", req: req{method: "GET", path: "/api/v1/deliveries?limit=1&event_id=" + ev}, wantStatus: 200,
				wantIn: []string{`"id":` + id(0) + `,`}, wantHeader: map[string]string{"Link": `<deliveries?cursor=` + cursor(ids[0]) + `&event_id=` + ev + `&limit=1>; rel="next"`}},
			{name: "next and last page", req: req{method: "GET", path: "/api/v1/deliveries?cursor=" + cursor(ids[0]) + "&event_id=" + ev + "&limit=1"}, wantStatus: 200,
				wantIn: []string{`"id":` + strconv.FormatInt(second(all, all[0].EventID), 10) + `,`}, wantHeader: map[string]string{"Link": ""}},
			{name: "bad cursor", req: req{method: "GET", path: "/api/v1/deliveries?cursor=nope"}, wantStatus: 422, wantIn: []string{"query.cursor"}},
		})

		retry := func(i string) string { return "/api/v1/deliveries/" + i + "/retry" }
		e.run(t, []step{
			{name: "retry without credentials", req: req{method: "POST", path: retry(id(1)), auth: "none"}, wantStatus: 401},
			{name: "retry a dead one", req: req{method: "POST", path: retry(id(1))}, wantStatus: 200,
				wantIn: []string{`"id":` + id(1) + `,`, `"status":"pending"`, `"attempts":0`}, wantHeader: noStore},
			{name: "again: it is pending", req: req{method: "POST", path: retry(id(1))}, wantStatus: 409, wantIn: []string{"pending"}},
			{name: "retry a failed one", req: req{method: "POST", path: retry(id(2))}, wantStatus: 200, wantIn: []string{`"status":"pending"`}},
			{name: "a sent one is not sent again", req: req{method: "POST", path: retry(id(0))}, wantStatus: 409, wantIn: []string{"sent"}},
			{name: "a pending one", req: req{method: "POST", path: retry(id(3))}, wantStatus: 409},
			{name: "unknown", req: req{method: "POST", path: retry("999")}, wantStatus: 404},
			{name: "not an id", req: req{method: "POST", path: retry("x")}, wantStatus: 422},
			{name: "the dead one is due again", req: req{method: "GET", path: "/api/v1/deliveries?status=dead"}, wantStatus: 200, wantBody: `[]`},
		})
		due, err := e.store.ClaimDeliveries(t.Context(), time.Minute, 10)
		if err != nil || len(due) != 2 {
			t.Fatalf("after the retries, %d due (%v), want 2", len(due), err)
		}
	})
}

// cursor is the page cursor after id, as the API encodes it.
func cursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("v1:" + strconv.FormatInt(id, 10)))
}

// second is the id of the second delivery of event ev.
func second(all []deliveryJSON, ev int64) int64 {
	var ids []int64
	for _, d := range all {
		if d.EventID == ev {
			ids = append(ids, d.ID)
		}
	}
	return ids[1]
}

// TestDeliveryStatusesAreTheDomains: the document's delivery statuses
// (written in struct tags) are the domain's.
func TestDeliveryStatusesAreTheDomains(t *testing.T) {
	e := newEnv(t, "sqlite://:memory:")
	var want []any
	for _, st := range icymorning.DeliveryStatuses {
		want = append(want, string(st))
	}
	doc := e.api.OpenAPI()
	if got := doc.Components.Schemas.Map()["Delivery"].Properties["status"].Enum; !slices.Equal(got, want) {
		t.Errorf("Delivery status: %v, want %v", got, want)
	}
	for _, p := range doc.Paths["/api/v1/deliveries"].Get.Parameters {
		if p.Name == "status" && !slices.Equal(p.Schema.Enum, want) {
			t.Errorf("status parameter: %v, want %v", p.Schema.Enum, want)
		}
	}
}
