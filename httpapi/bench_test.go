package httpapi_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/icy-morning/icy-morning/internal/testdb"
)

// BenchmarkAPI measures the in-process cost of the hot requests, without
// the network: what the handler stack adds on top of the database. The
// load benchmark (make bench) measures the whole server.
func BenchmarkAPI(b *testing.B) {
	urls := map[string]string{"sqlite": "sqlite://:memory:"}
	if testdb.Wanted() {
		urls["postgres"] = testdb.Postgres(b)
	}
	for name, url := range urls {
		h, _ := newAPI(b, url)
		send := func(method, path, body string) int {
			r := httptest.NewRequest(method, path, strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			r.SetBasicAuth(user, pass)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			return w.Code
		}
		send("POST", "/api/v1/analysts", `{"name":"a","company":"b"}`)
		for i := range 200 {
			send("POST", "/api/v1/assets", fmt.Sprintf(`{"name":"n%d","is_active":true,"analyst_id":1}`, i))
		}
		b.Run(name+"/get-by-id", func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if c := send("GET", fmt.Sprintf("/api/v1/assets/%d", 1+i%200), ""); c != 200 {
					b.Fatal(c)
				}
			}
		})
		b.Run(name+"/page-of-100", func(b *testing.B) {
			for b.Loop() {
				if c := send("GET", "/api/v1/assets?limit=100", ""); c != 200 {
					b.Fatal(c)
				}
			}
		})
		b.Run(name+"/post", func(b *testing.B) {
			for b.Loop() {
				if c := send("POST", "/api/v1/assets", `{"name":"x","is_active":true,"analyst_id":1}`); c != 201 {
					b.Fatal(c)
				}
			}
		})
	}
}
