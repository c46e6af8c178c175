package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkConditionalGet is GET asset by id in process (SQLite in
// memory, no network), in full and with a matching If-None-Match: what a
// 304 saves the server, which reads only the version and writes no body.
// The load benchmark (make bench-cache) measures the same over loopback.
func BenchmarkConditionalGet(b *testing.B) {
	h, _ := newAPI(b, "sqlite://:memory:")
	send := func(method, path, body, ifNoneMatch string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if ifNoneMatch != "" {
			r.Header.Set("If-None-Match", ifNoneMatch)
		}
		r.SetBasicAuth(user, pass)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	send("POST", "/api/v1/analysts", `{"name":"a","company":"b"}`, "")
	const n = 200
	tags := make([]string, n+1)
	for i := 1; i <= n; i++ {
		send("POST", "/api/v1/assets", fmt.Sprintf(`{"name":"n%d","description":"an asset of the benchmark","is_active":true,"analyst_id":1}`, i), "")
		tags[i] = send("GET", fmt.Sprintf("/api/v1/assets/%d", i), "", "").Header().Get("ETag")
	}
	for _, c := range []struct {
		name   string
		tagged bool
		want   int
	}{{"full", false, http.StatusOK}, {"if-none-match", true, http.StatusNotModified}} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				id := 1 + i%n
				tag := ""
				if c.tagged {
					tag = tags[id]
				}
				if w := send("GET", fmt.Sprintf("/api/v1/assets/%d", id), "", tag); w.Code != c.want {
					b.Fatalf("GET %d: %d, want %d", id, w.Code, c.want)
				}
			}
		})
	}
}
