package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzWrites throws arbitrary bodies, paths and content types at the write
// routes. Whatever comes in, the answer is a success or a 4xx problem
// document: never a 5xx, never a panic. `go test` runs the seeds; `go test
// -fuzz FuzzWrites ./httpapi` explores further.
func FuzzWrites(f *testing.F) {
	for _, seed := range []struct{ method, path, ctype, body string }{
		{"POST", "/api/v1/assets", "application/json", `{"name":"x","is_active":true,"analyst_id":1}`},
		{"POST", "/api/v1/analysts", "application/json", `{"name":"a","company":"b"}`},
		{"PUT", "/api/v1/assets/1", "application/json", `{"id":1,"name":"x","is_active":false,"analyst_id":1,"inception_date":"2020-02-29"}`},
		{"PATCH", "/api/v1/assets/1", "application/merge-patch+json", `{"description":null}`},
		{"PATCH", "/api/v1/analysts/1", "application/merge-patch+json", `{"name":{"nested":[1,2,{"x":null}]}}`},
		{"POST", "/api/v1/subscriptions", "application/json", `{"email":"a@b.co","topic":"asset::creation"}`},
		{"POST", "/api/v1/assets", "text/plain; charset=\x00", "\xff\xfe"},
		{"DELETE", "/api/v1/analysts/1", "", ""},
		{"GET", "/api/v1/assets?limit=5&cursor=djE6MA&is_active=1&analyst_id=-0", "", ""},
	} {
		f.Add(seed.method, seed.path, seed.ctype, seed.body)
	}
	h, _ := newAPI(f, "sqlite://:memory:")
	seed := httptest.NewRequest("POST", "/api/v1/analysts", strings.NewReader(`{"name":"a","company":"b"}`))
	seed.Header.Set("Content-Type", "application/json")
	seed.SetBasicAuth(user, pass)
	h.ServeHTTP(httptest.NewRecorder(), seed)

	f.Fuzz(func(t *testing.T, method, path, ctype, body string) {
		switch method {
		case "GET", "POST", "PUT", "PATCH", "DELETE":
		default:
			method = "POST"
		}
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n\t#") {
			path = "/api/v1/assets"
		}
		r, err := http.NewRequest(method, "http://icy.test"+path, strings.NewReader(body))
		if err != nil {
			return // not a request a client could send
		}
		if ctype != "" && !strings.ContainsAny(ctype, "\r\n") {
			r.Header.Set("Content-Type", ctype)
		}
		r.SetBasicAuth(user, pass)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s %s (%q) %q: %d %s", method, path, ctype, body, w.Code, w.Body)
		}
		if w.Code >= 400 {
			var p struct {
				Status int    `json:"status"`
				Detail string `json:"detail"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Status != w.Code || p.Detail == "" {
				t.Fatalf("%s %s: %d without a problem document: %s", method, path, w.Code, w.Body)
			}
		}
	})
}
