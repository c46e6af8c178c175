package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/icy-morning/icy-morning/internal/testdb"
)

// FuzzWrites throws arbitrary bodies, paths, query strings and content
// types at the routes, on SQLite and (when the PostgreSQL tests run) on
// PostgreSQL, which refuses bytes SQLite stores. Whatever comes in, the
// answer is a success or a 4xx problem document (or, from a public page, a
// page): never a 5xx, never a panic. `go test` runs the seeds; `go test -fuzz FuzzWrites ./httpapi`
// explores further.
func FuzzWrites(f *testing.F) {
	for _, seed := range []struct{ method, path, query, ctype, body string }{
		{"POST", "/api/v1/assets", "", "application/json", `{"name":"x","is_active":true,"analyst_id":1}`},
		{"POST", "/api/v1/analysts", "", "application/json", `{"name":"a","company":"b"}`},
		{"PUT", "/api/v1/assets/1", "", "application/json", `{"id":1,"name":"x","is_active":false,"analyst_id":1,"inception_date":"2020-02-29"}`},
		{"PATCH", "/api/v1/assets/1", "", "application/merge-patch+json", `{"description":null}`},
		{"PATCH", "/api/v1/analysts/1", "", "application/merge-patch+json", `{"name":{"nested":[1,2,{"x":null}]}}`},
		{"POST", "/api/v1/subscriptions", "", "application/json", `{"email":"a@b.co","topic":"asset::creation"}`},
		{"POST", "/api/v1/assets", "", "text/plain; charset=\x00", "\xff\xfe"},
		{"POST", "/api/v1/assets", "", "APPLICATION/JSON;;;==", `{"analyst_id":1e400,"Name":"x","name":"y","name":"z"}`},
		{"DELETE", "/api/v1/analysts/1", "", "", ""},
		{"GET", "/api/v1/assets", "limit=5&cursor=djE6MA&is_active=1&analyst_id=-0", "", ""},
		// Malformed UTF-8 and NUL in a filter: PostgreSQL answered 500.
		{"GET", "/api/v1/assets", "name=%00", "", ""},
		{"GET", "/api/v1/assets", "name=a%00b", "", ""},
		{"GET", "/api/v1/assets", "name=%ff", "", ""},
		{"GET", "/api/v1/assets", "name=%C0%80", "", ""},
		{"GET", "/api/v1/assets", "name=%ED%A0%80", "", ""},
		{"GET", "/api/v1/assets", "name=%E2%82", "", ""},
		{"GET", "/api/v1/assets", "name=\xff\x00", "", ""},
		{"GET", "/api/v1/assets", "name=%zz&cursor=%", "", ""},
		{"GET", "/api/v1/analysts", "cursor=%ff%00", "", ""},
		{"GET", "/api/v1/assets/%00", "name=x", "", ""},
		// The public sign-up and the links mails carry.
		{"POST", "/api/v1/subscribe", "", "application/json", `{"email":"a@b.co","topic":"asset::update","analyst_id":1}`},
		{"POST", "/subscribe", "", "application/x-www-form-urlencoded", "email=a%40b.co&topic=asset%3A%3Aupdate&analyst_id=1"},
		{"POST", "/subscribe", "", "application/x-www-form-urlencoded", "email=%ff%00&analyst_id=-1&topic=%zz"},
		{"GET", "/subscribe/confirm/AAAAAAAAAAAAAAAAAAAAAAAAAAAA", "", "", ""},
		{"POST", "/subscribe/confirm/%00", "", "application/x-www-form-urlencoded", ""},
		{"POST", "/unsubscribe/" + strings.Repeat("A", 5000), "", "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click"},
		{"GET", "/unsubscribe/%ff%fe", "", "", ""},
		{"GET", "/api/v1/deliveries", "status=dead&event_id=1&subscription_id=-1&cursor=%00", "", ""},
		{"POST", "/api/v1/deliveries/1/retry", "", "", ""},
	} {
		f.Add(seed.method, seed.path, seed.query, seed.ctype, seed.body)
	}
	handlers := map[string]http.Handler{}
	urls := map[string]string{"sqlite": "sqlite://:memory:"}
	if testdb.Wanted() {
		urls["postgres"] = testdb.Postgres(f)
	}
	for name, url := range urls {
		h, _ := newAPI(f, url)
		seed := httptest.NewRequest("POST", "/api/v1/analysts", strings.NewReader(`{"name":"a","company":"b"}`))
		seed.Header.Set("Content-Type", "application/json")
		seed.SetBasicAuth(user, pass)
		h.ServeHTTP(httptest.NewRecorder(), seed)
		handlers[name] = h
	}

	f.Fuzz(func(t *testing.T, method, path, query, ctype, body string) {
		switch method {
		case "GET", "POST", "PUT", "PATCH", "DELETE":
		default:
			method = "POST"
		}
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n\t#?") {
			path = "/api/v1/assets"
		}
		for name, h := range handlers {
			r, err := http.NewRequest(method, "http://icy.test"+path, strings.NewReader(body))
			if err != nil {
				return // not a request a client could send
			}
			// The query goes in as raw bytes, as an API Gateway event
			// can carry it.
			r.URL.RawQuery = query
			if ctype != "" && !strings.ContainsAny(ctype, "\r\n") {
				r.Header.Set("Content-Type", ctype)
			}
			r.SetBasicAuth(user, pass)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code >= 500 {
				t.Fatalf("%s: %s %s?%q (%q) %q: %d %s", name, method, path, query, ctype, body, w.Code, w.Body)
			}
			if w.Code >= 400 && strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
				// A public page's error: a page, saying what is wrong.
				if !strings.HasPrefix(w.Body.String(), "<!DOCTYPE html>") || !strings.Contains(w.Body.String(), `role="alert"`) {
					t.Fatalf("%s: %s %s: %d, an HTML error that is not a page: %s", name, method, path, w.Code, w.Body)
				}
			} else if w.Code >= 400 {
				var p struct {
					Status int    `json:"status"`
					Detail string `json:"detail"`
				}
				if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Status != w.Code || p.Detail == "" {
					t.Fatalf("%s: %s %s: %d without a problem document: %s", name, method, path, w.Code, w.Body)
				}
			}
		}
	})
}
