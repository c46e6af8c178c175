package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// step is one request of a scenario and what must come back. wantBody, when
// set, is compared with the whole response body as JSON, as clients of the
// Python service compare them; wantIn lists fragments the body must hold.
type step struct {
	name       string
	req        req
	wantStatus int
	wantBody   string
	wantIn     []string
	wantHeader map[string]string
}

func (e *env) run(t *testing.T, steps []step) {
	t.Helper()
	for _, s := range steps {
		r := e.do(s.req)
		if r.StatusCode != s.wantStatus {
			t.Fatalf("%s: %s %s: status %d, want %d: %s", s.name, s.req.method, s.req.path, r.StatusCode, s.wantStatus, r.body)
		}
		if s.wantBody != "" && !jsonEqual(t, r.body, s.wantBody) {
			t.Fatalf("%s: body\n  %s\nwant\n  %s", s.name, r.body, s.wantBody)
		}
		for _, frag := range s.wantIn {
			if !strings.Contains(string(r.body), frag) {
				t.Fatalf("%s: body %s does not contain %q", s.name, r.body, frag)
			}
		}
		for k, v := range s.wantHeader {
			if got := r.Header.Get(k); got != v {
				t.Fatalf("%s: header %s = %q, want %q", s.name, k, got, v)
			}
		}
	}
}

// TestPythonContract plays a client of the Python service against ours: the
// same paths, members, status codes and whole bodies.
func TestPythonContract(t *testing.T) {
	today := time.Now().UTC().Format("2006-01-02")
	forEachStore(t, func(t *testing.T, e *env) {
		e.run(t, []step{
			{name: "create analyst", req: req{method: "POST", path: "/api/v1/analysts", body: `{"name":"Ada Lovelace","company":"Analytical Engines"}`},
				wantStatus: 201, wantBody: `{"id":1,"name":"Ada Lovelace","company":"Analytical Engines"}`},
			{name: "create second analyst", req: req{method: "POST", path: "/api/v1/analysts", body: `{"name":"Grace","company":"Navy","id":77,"unknown":true}`},
				wantStatus: 201, wantBody: `{"id":2,"name":"Grace","company":"Navy"}`},
			{name: "get analyst", req: req{method: "GET", path: "/api/v1/analysts/1", auth: "none"},
				wantStatus: 200, wantBody: `{"id":1,"name":"Ada Lovelace","company":"Analytical Engines"}`},
			{name: "list analysts", req: req{method: "GET", path: "/api/v1/analysts", auth: "none"},
				wantStatus: 200, wantBody: `[{"id":1,"name":"Ada Lovelace","company":"Analytical Engines"},{"id":2,"name":"Grace","company":"Navy"}]`},
			{name: "create asset, date defaults to today", req: req{method: "POST", path: "/api/v1/assets", body: `{"name":"Fund","is_active":true,"analyst_id":1}`},
				wantStatus: 201, wantBody: `{"id":1,"name":"Fund","description":null,"inception_date":"` + today + `","is_active":true,"analyst_id":1}`},
			{name: "create asset, all members", req: req{method: "POST", path: "/api/v1/assets", body: `{"name":"Bond","description":"Safe","inception_date":"2001-02-03","is_active":false,"analyst_id":2}`},
				wantStatus: 201, wantBody: `{"id":2,"name":"Bond","description":"Safe","inception_date":"2001-02-03","is_active":false,"analyst_id":2}`},
			{name: "get asset", req: req{method: "GET", path: "/api/v1/assets/2", auth: "none"},
				wantStatus: 200, wantBody: `{"id":2,"name":"Bond","description":"Safe","inception_date":"2001-02-03","is_active":false,"analyst_id":2}`},
			{name: "list assets", req: req{method: "GET", path: "/api/v1/assets", auth: "none"},
				wantStatus: 200, wantBody: `[{"id":1,"name":"Fund","description":null,"inception_date":"` + today + `","is_active":true,"analyst_id":1},{"id":2,"name":"Bond","description":"Safe","inception_date":"2001-02-03","is_active":false,"analyst_id":2}]`},
			{name: "replace asset with id in body", req: req{method: "PUT", path: "/api/v1/assets/2", body: `{"id":2,"name":"Bond II","description":null,"inception_date":"2002-03-04","is_active":true,"analyst_id":1}`},
				wantStatus: 200, wantBody: `{"id":2,"name":"Bond II","description":null,"inception_date":"2002-03-04","is_active":true,"analyst_id":1}`},
			{name: "replace asset with mismatched id", req: req{method: "PUT", path: "/api/v1/assets/2", body: `{"id":3,"name":"x","is_active":true,"analyst_id":1}`},
				wantStatus: 422, wantIn: []string{"body.id"}},
			{name: "replace analyst", req: req{method: "PUT", path: "/api/v1/analysts/2", body: `{"id":2,"name":"Grace Hopper","company":"Navy"}`},
				wantStatus: 200, wantBody: `{"id":2,"name":"Grace Hopper","company":"Navy"}`},
			{name: "replace unknown analyst", req: req{method: "PUT", path: "/api/v1/analysts/99", body: `{"name":"x","company":"y"}`},
				wantStatus: 404},
			{name: "missing fields", req: req{method: "POST", path: "/api/v1/assets", body: `{"name":"x"}`},
				wantStatus: 422, wantIn: []string{"field required", "is_active", "analyst_id"}},
			{name: "missing body", req: req{method: "POST", path: "/api/v1/analysts"},
				wantStatus: 422, wantIn: []string{"field required"}},
			{name: "ill-typed field", req: req{method: "POST", path: "/api/v1/assets", body: `{"name":"x","is_active":"yes","analyst_id":1}`},
				wantStatus: 422, wantIn: []string{"is_active", "boolean"}},
			{name: "bad date", req: req{method: "POST", path: "/api/v1/assets", body: `{"name":"x","is_active":true,"analyst_id":1,"inception_date":"2024-02-30"}`},
				wantStatus: 422, wantIn: []string{"inception_date"}},
			{name: "unknown analyst", req: req{method: "POST", path: "/api/v1/assets", body: `{"name":"x","is_active":true,"analyst_id":404}`},
				wantStatus: 422, wantIn: []string{"analyst_id", "does not exist"}},
			{name: "write without credentials", req: req{method: "POST", path: "/api/v1/analysts", body: `{"name":"x","company":"y"}`, auth: "none"},
				wantStatus: 401, wantHeader: map[string]string{"WWW-Authenticate": `Basic realm="icy-morning", charset="UTF-8"`}},
			{name: "write with wrong credentials", req: req{method: "DELETE", path: "/api/v1/assets/1", auth: "wrong"},
				wantStatus: 401},
			{name: "delete analyst with assets", req: req{method: "DELETE", path: "/api/v1/analysts/1"},
				wantStatus: 409},
			{name: "analyst still there", req: req{method: "GET", path: "/api/v1/analysts/1", auth: "none"},
				wantStatus: 200},
			{name: "delete asset", req: req{method: "DELETE", path: "/api/v1/assets/1"},
				wantStatus: 200, wantBody: `{"id":1,"name":"Fund","description":null,"inception_date":"` + today + `","is_active":true,"analyst_id":1}`},
			{name: "delete asset again", req: req{method: "DELETE", path: "/api/v1/assets/1"},
				wantStatus: 404},
			{name: "get deleted asset", req: req{method: "GET", path: "/api/v1/assets/1", auth: "none"},
				wantStatus: 404},
			{name: "subscribe on the Python path", req: req{method: "POST", path: "/api/v1/assets/subscription", body: `{"email":"ada@example.com"}`},
				wantStatus: 201, wantBody: `{"id":1,"email":"ada@example.com","topic":"asset::creation"}`},
			{name: "subscribe again: no duplicate", req: req{method: "POST", path: "/api/v1/subscriptions", body: `{"email":"ada@example.com","topic":"asset::creation"}`},
				wantStatus: 200, wantBody: `{"id":1,"email":"ada@example.com","topic":"asset::creation","analyst_id":null,"status":"active"}`},
			{name: "bad e-mail", req: req{method: "POST", path: "/api/v1/subscriptions", body: `{"email":"not-an-address"}`},
				wantStatus: 422, wantIn: []string{"email"}},
			{name: "unknown topic", req: req{method: "POST", path: "/api/v1/subscriptions", body: `{"email":"a@example.com","topic":"asset::renaming"}`},
				wantStatus: 422, wantIn: []string{"topic"}},
			{name: "subscriptions need auth to read", req: req{method: "GET", path: "/api/v1/subscriptions", auth: "none"},
				wantStatus: 401},
			{name: "list subscriptions", req: req{method: "GET", path: "/api/v1/subscriptions"},
				wantStatus: 200, wantBody: `[{"id":1,"email":"ada@example.com","topic":"asset::creation","analyst_id":null,"status":"active"}]`},
			{name: "unsubscribe", req: req{method: "DELETE", path: "/api/v1/subscriptions/1"},
				wantStatus: 200, wantBody: `{"id":1,"email":"ada@example.com","topic":"asset::creation"}`},
			{name: "unsubscribe again", req: req{method: "DELETE", path: "/api/v1/subscriptions/1"},
				wantStatus: 404},
		})
	})
}

func TestMergePatch(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		patch := func(path, body string) req {
			return req{method: "PATCH", path: path, body: body, header: map[string]string{"Content-Type": "application/merge-patch+json"}}
		}
		e.run(t, []step{
			{name: "analyst", req: req{method: "POST", path: "/api/v1/analysts", body: `{"name":"Ada","company":"Acme"}`}, wantStatus: 201},
			{name: "asset", req: req{method: "POST", path: "/api/v1/assets", body: `{"name":"Fund","description":"d","inception_date":"2020-01-01","is_active":true,"analyst_id":1}`}, wantStatus: 201},
			{name: "patch one member", req: patch("/api/v1/assets/1", `{"is_active":false}`),
				wantStatus: 200, wantBody: `{"id":1,"name":"Fund","description":"d","inception_date":"2020-01-01","is_active":false,"analyst_id":1}`},
			{name: "null removes the description", req: patch("/api/v1/assets/1", `{"description":null,"unknown":1}`),
				wantStatus: 200, wantBody: `{"id":1,"name":"Fund","description":null,"inception_date":"2020-01-01","is_active":false,"analyst_id":1}`},
			{name: "empty patch changes nothing", req: patch("/api/v1/assets/1", `{}`),
				wantStatus: 200, wantBody: `{"id":1,"name":"Fund","description":null,"inception_date":"2020-01-01","is_active":false,"analyst_id":1}`},
			{name: "null on a required member", req: patch("/api/v1/assets/1", `{"name":null}`), wantStatus: 422, wantIn: []string{"name"}},
			{name: "null on a required boolean", req: patch("/api/v1/assets/1", `{"is_active":null}`), wantStatus: 422, wantIn: []string{"is_active"}},
			{name: "wrong type", req: patch("/api/v1/assets/1", `{"analyst_id":"one"}`), wantStatus: 422, wantIn: []string{"analyst_id"}},
			{name: "not an object", req: patch("/api/v1/assets/1", `[1,2]`), wantStatus: 422},
			{name: "unknown analyst", req: patch("/api/v1/assets/1", `{"analyst_id":9}`), wantStatus: 422, wantIn: []string{"analyst_id"}},
			{name: "unknown asset", req: patch("/api/v1/assets/9", `{"name":"x"}`), wantStatus: 404},
			{name: "patch analyst", req: patch("/api/v1/analysts/1", `{"company":"Initech"}`),
				wantStatus: 200, wantBody: `{"id":1,"name":"Ada","company":"Initech"}`},
			{name: "plain JSON content type works too", req: req{method: "PATCH", path: "/api/v1/analysts/1", body: `{"name":"Ada L."}`},
				wantStatus: 200, wantBody: `{"id":1,"name":"Ada L.","company":"Initech"}`},
		})
	})
}

func TestLastModifiedAndRequestID(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		r := e.do(req{method: "POST", path: "/api/v1/analysts", body: `{"name":"Ada","company":"Acme"}`, header: map[string]string{"X-Request-Id": "client-chosen-42"}})
		if r.Header.Get("X-Request-Id") != "client-chosen-42" {
			t.Fatalf("X-Request-Id not echoed: %q", r.Header.Get("X-Request-Id"))
		}
		lm, err := http.ParseTime(r.Header.Get("Last-Modified"))
		if err != nil || time.Since(lm) > time.Minute || time.Until(lm) > time.Second {
			t.Fatalf("Last-Modified = %q", r.Header.Get("Last-Modified"))
		}
		r = e.do(req{method: "GET", path: "/api/v1/analysts/1", header: map[string]string{"X-Request-Id": "bad id with spaces"}})
		if id := r.Header.Get("X-Request-Id"); id == "" || strings.Contains(id, " ") {
			t.Fatalf("unsafe X-Request-Id kept: %q", id)
		}
		if r.Header.Get("Last-Modified") == "" {
			t.Fatal("GET by id has no Last-Modified")
		}
	})
}
