package httpapi_test

import (
	"slices"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	icymorning "github.com/icy-morning/icy-morning"
)

// TestSubscriptionTopicsAndAnalysts: /api/v1/subscriptions carries the
// topic, the analyst and the (read-only) status; the Python path keeps
// its members and its one topic.
func TestSubscriptionTopicsAndAnalysts(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		sub := func(body string) req { return req{method: "POST", path: "/api/v1/subscriptions", body: body} }
		e.run(t, []step{
			{name: "analyst", req: req{method: "POST", path: "/api/v1/analysts", body: `{"name":"Ada","company":"Acme"}`}, wantStatus: 201},
			{name: "every analyst, the default topic", req: sub(`{"email":"ada@example.com"}`),
				wantStatus: 201, wantBody: `{"id":1,"email":"ada@example.com","topic":"asset::creation","analyst_id":null,"status":"active"}`},
			{name: "one analyst, another topic; status is read-only", req: sub(`{"email":"ada@example.com","topic":"asset::update","analyst_id":1,"status":"suppressed"}`),
				wantStatus: 201, wantBody: `{"id":2,"email":"ada@example.com","topic":"asset::update","analyst_id":1,"status":"active"}`},
			{name: "deletion", req: sub(`{"email":"bob@example.com","topic":"asset::deletion"}`), wantStatus: 201, wantIn: []string{`"id":3`}},
			{name: "the same again", req: sub(`{"email":"ada@EXAMPLE.com","topic":"asset::update","analyst_id":1}`),
				wantStatus: 200, wantBody: `{"id":2,"email":"ada@example.com","topic":"asset::update","analyst_id":1,"status":"active"}`},
			{name: "null analyst: every analyst", req: sub(`{"email":"ada@example.com","topic":"asset::creation","analyst_id":null}`),
				wantStatus: 200, wantIn: []string{`"id":1`}},
			{name: "an analyst who does not exist", req: sub(`{"email":"ada@example.com","analyst_id":9}`),
				wantStatus: 422, wantIn: []string{"body.analyst_id", "does not exist"}},
			{name: "no such analyst id", req: sub(`{"email":"ada@example.com","analyst_id":0}`), wantStatus: 422, wantIn: []string{"analyst_id"}},
			{name: "no such topic", req: sub(`{"email":"ada@example.com","topic":"asset::renaming"}`), wantStatus: 422, wantIn: []string{"topic"}},
			{name: "the Python path knows one topic", req: req{method: "POST", path: "/api/v1/assets/subscription", body: `{"email":"ada@example.com","topic":"asset::update"}`},
				wantStatus: 422, wantIn: []string{"topic"}},
			{name: "the Python path's members, for an existing subscription", req: req{method: "POST", path: "/api/v1/assets/subscription", body: `{"email":"ada@example.com","analyst_id":1}`},
				wantStatus: 200, wantBody: `{"id":1,"email":"ada@example.com","topic":"asset::creation"}`},
			{name: "unsubscribe: the Python service's answer", req: req{method: "DELETE", path: "/api/v1/subscriptions/2"},
				wantStatus: 200, wantBody: `{"id":2,"email":"ada@example.com","topic":"asset::update"}`},
			{name: "the row stays, unsubscribed", req: req{method: "GET", path: "/api/v1/subscriptions?status=unsubscribed"},
				wantStatus: 200, wantBody: `[{"id":2,"email":"ada@example.com","topic":"asset::update","analyst_id":1,"status":"unsubscribed"}]`},
			{name: "unsubscribe again", req: req{method: "DELETE", path: "/api/v1/subscriptions/2"}, wantStatus: 404},
			{name: "subscribing again puts it back in effect", req: sub(`{"email":"ada@example.com","topic":"asset::update","analyst_id":1}`),
				wantStatus: 201, wantBody: `{"id":2,"email":"ada@example.com","topic":"asset::update","analyst_id":1,"status":"active"}`},
			{name: "filter by topic", req: req{method: "GET", path: "/api/v1/subscriptions?topic=asset::deletion"},
				wantStatus: 200, wantBody: `[{"id":3,"email":"bob@example.com","topic":"asset::deletion","analyst_id":null,"status":"active"}]`},
			{name: "filter by email, its domain in any case", req: req{method: "GET", path: "/api/v1/subscriptions?email=ada@Example.COM&status=active&limit=1"},
				wantStatus: 200, wantIn: []string{`"id":1`}, wantHeader: map[string]string{"Link": `<subscriptions?cursor=djE6MQ&email=ada%40Example.COM&limit=1&status=active>; rel="next"`}},
			{name: "no such status", req: req{method: "GET", path: "/api/v1/subscriptions?status=gone"}, wantStatus: 422, wantIn: []string{"status"}},
			{name: "no such topic filter", req: req{method: "GET", path: "/api/v1/subscriptions?topic=x"}, wantStatus: 422, wantIn: []string{"topic"}},
		})
		// A suppressed subscription is not put back in effect by an operator.
		if _, err := e.store.SetSubscriptionStatus(t.Context(), 3, icymorning.SubscriptionSuppressed); err != nil {
			t.Fatal(err)
		}
		e.run(t, []step{
			{name: "suppressed stays suppressed", req: sub(`{"email":"bob@example.com","topic":"asset::deletion"}`),
				wantStatus: 200, wantBody: `{"id":3,"email":"bob@example.com","topic":"asset::deletion","analyst_id":null,"status":"suppressed"}`},
			{name: "deleting a suppressed one answers it", req: req{method: "DELETE", path: "/api/v1/subscriptions/3"},
				wantStatus: 200, wantBody: `{"id":3,"email":"bob@example.com","topic":"asset::deletion"}`},
		})
	})
}

// TestAssetWritesRecordEvents: the handlers stay as they were, and each
// asset change the API makes has its event.
func TestAssetWritesRecordEvents(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.run(t, []step{
			{name: "analyst", req: req{method: "POST", path: "/api/v1/analysts", body: `{"name":"Ada","company":"Acme"}`}, wantStatus: 201},
			{name: "create", req: req{method: "POST", path: "/api/v1/assets", body: `{"name":"Fund","inception_date":"2020-01-01","is_active":true,"analyst_id":1}`}, wantStatus: 201},
			{name: "replace", req: req{method: "PUT", path: "/api/v1/assets/1", body: `{"name":"Fund II","inception_date":"2020-01-01","is_active":true,"analyst_id":1}`}, wantStatus: 200},
			{name: "replace with the same", req: req{method: "PUT", path: "/api/v1/assets/1", body: `{"name":"Fund II","inception_date":"2020-01-01","is_active":true,"analyst_id":1}`}, wantStatus: 200},
			{name: "delete", req: req{method: "DELETE", path: "/api/v1/assets/1"}, wantStatus: 200},
		})
		events, err := e.store.PendingEvents(t.Context(), 10)
		if err != nil {
			t.Fatal(err)
		}
		var topics []icymorning.Topic
		for _, ev := range events {
			topics = append(topics, ev.Topic)
		}
		want := []icymorning.Topic{icymorning.TopicAssetCreation, icymorning.TopicAssetUpdate, icymorning.TopicAssetDeletion}
		if !slices.Equal(topics, want) {
			t.Fatalf("events %v, want %v", topics, want)
		}
	})
}

// TestDocumentEnumsAreTheDomains: struct tags cannot name constants, so the
// topics and statuses the document lists are written twice; this test
// makes the domain's lists the one source.
func TestDocumentEnumsAreTheDomains(t *testing.T) {
	e := newEnv(t, "sqlite://:memory:")
	doc := e.api.OpenAPI()
	topics, statuses := []any{}, []any{}
	for _, tp := range icymorning.Topics {
		topics = append(topics, string(tp))
	}
	for _, st := range icymorning.SubscriptionStatuses {
		statuses = append(statuses, string(st))
	}
	want := map[string][]any{"topic": topics, "status": statuses}
	check := func(where, member string, s *huma.Schema) {
		t.Helper()
		if !slices.Equal(s.Enum, want[member]) {
			t.Errorf("%s %s: enum %v, want %v", where, member, s.Enum, want[member])
		}
	}
	schemas := doc.Components.Schemas.Map()
	check("Subscription", "topic", schemas["Subscription"].Properties["topic"])
	check("Subscription", "status", schemas["Subscription"].Properties["status"])
	check("SubscriptionWrite", "topic", schemas["SubscriptionWrite"].Properties["topic"])
	check("PythonSubscription", "topic", schemas["PythonSubscription"].Properties["topic"])
	for _, p := range doc.Paths["/api/v1/subscriptions"].Get.Parameters {
		if p.Name == "topic" || p.Name == "status" {
			check("list parameter", p.Name, p.Schema)
		}
	}
	// The Python path knows one topic.
	legacy := doc.Paths["/api/v1/assets/subscription"].Post.RequestBody.Content["application/json"].Schema
	if s := doc.Components.Schemas.SchemaFromRef(legacy.Ref); !slices.Equal(s.Properties["topic"].Enum, []any{string(icymorning.TopicAssetCreation)}) {
		t.Errorf("the Python path's topics: %v", s.Properties["topic"].Enum)
	}
}
