package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	icymorning "github.com/icy-morning/icy-morning"
)

var pageAll = icymorning.Page{Limit: 1000}

// TestHostileInput sends malformed and abusive requests. Each must get a
// 4xx problem (do fails the test on any 5xx), and none may change what is
// stored.
func TestHostileInput(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.run(t, []step{
			{name: "analyst", req: req{method: "POST", path: "/api/v1/analysts", body: `{"name":"Ada","company":"Acme"}`}, wantStatus: 201},
			{name: "asset", req: req{method: "POST", path: "/api/v1/assets", body: `{"name":"Fund","is_active":true,"analyst_id":1,"inception_date":"2020-01-01"}`}, wantStatus: 201},
		})
		before := snapshot(t, e)
		deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
		tests := []struct {
			name   string
			req    req
			status int
		}{
			{"malformed JSON", req{method: "POST", path: "/api/v1/assets", body: `{"name":`}, 400},
			{"JSON then garbage", req{method: "POST", path: "/api/v1/assets", body: `{"name":"x","is_active":true,"analyst_id":1} xyz`}, 400},
			{"deeply nested JSON", req{method: "POST", path: "/api/v1/assets", body: deep}, 400},
			{"body over 1 MiB", req{method: "POST", path: "/api/v1/analysts", body: `{"name":"` + strings.Repeat("a", 1<<20) + `","company":"x"}`}, 413},
			{"array body", req{method: "POST", path: "/api/v1/analysts", body: `[]`}, 422},
			{"null body", req{method: "POST", path: "/api/v1/analysts", body: `null`}, 422},
			{"string body", req{method: "POST", path: "/api/v1/analysts", body: `"x"`}, 422},
			{"empty name", req{method: "POST", path: "/api/v1/analysts", body: `{"name":"","company":"x"}`}, 422},
			{"blank name", req{method: "POST", path: "/api/v1/analysts", body: `{"name":"   ","company":"x"}`}, 422},
			{"name too long", req{method: "POST", path: "/api/v1/analysts", body: `{"name":"` + strings.Repeat("é", 256) + `","company":"x"}`}, 422},
			{"NUL in name", req{method: "POST", path: "/api/v1/analysts", body: `{"name":"a\u0000b","company":"x"}`}, 422},
			{"invalid UTF-8", req{method: "POST", path: "/api/v1/analysts", body: "{\"name\":\"a\xff\xfe\",\"company\":\"x\"}"}, 400},
			{"huge analyst_id", req{method: "POST", path: "/api/v1/assets", body: `{"name":"x","is_active":true,"analyst_id":1e30}`}, 422},
			{"fractional analyst_id", req{method: "POST", path: "/api/v1/assets", body: `{"name":"x","is_active":true,"analyst_id":1.5}`}, 422},
			{"negative analyst_id", req{method: "POST", path: "/api/v1/assets", body: `{"name":"x","is_active":true,"analyst_id":-1}`}, 422},
			{"date out of range", req{method: "POST", path: "/api/v1/assets", body: `{"name":"x","is_active":true,"analyst_id":1,"inception_date":"99999-01-01"}`}, 422},
			{"date with time", req{method: "POST", path: "/api/v1/assets", body: `{"name":"x","is_active":true,"analyst_id":1,"inception_date":"2020-01-01T00:00:00Z"}`}, 422},
			{"form content type", req{method: "POST", path: "/api/v1/analysts", body: `name=x`, header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, 415},
			{"non-numeric id", req{method: "GET", path: "/api/v1/assets/abc"}, 422},
			{"id overflow", req{method: "GET", path: "/api/v1/assets/99999999999999999999999"}, 422},
			{"id zero", req{method: "GET", path: "/api/v1/assets/0"}, 404},
			{"negative id", req{method: "DELETE", path: "/api/v1/assets/-5"}, 404},
			{"limit zero", req{method: "GET", path: "/api/v1/assets?limit=0"}, 422},
			{"limit too big", req{method: "GET", path: "/api/v1/assets?limit=1001"}, 422},
			{"limit not a number", req{method: "GET", path: "/api/v1/assets?limit=ten"}, 422},
			{"garbage cursor", req{method: "GET", path: "/api/v1/assets?cursor=%00%01"}, 422},
			{"forged cursor", req{method: "GET", path: "/api/v1/assets?cursor=djE6LTE"}, 422},
			{"is_active not a bool", req{method: "GET", path: "/api/v1/assets?is_active=maybe"}, 422},
			{"analyst_id filter not a number", req{method: "GET", path: "/api/v1/assets?analyst_id=x"}, 422},
			{"unknown path", req{method: "GET", path: "/api/v2/assets"}, 404},
			{"wrong method", req{method: "PUT", path: "/api/v1/assets"}, 405},
			{"path traversal", req{method: "GET", path: "/docs/../../etc/passwd"}, 404},
			{"unknown file under the docs", req{method: "GET", path: "/docs/secret.txt"}, 404},
			{"SQL in a filter", req{method: "GET", path: "/api/v1/assets?name=%27%3B%20DROP%20TABLE%20assets%3B--"}, 200},
			{"SQL in a name", req{method: "PUT", path: "/api/v1/analysts/1", body: `{"name":"'); DROP TABLE analysts;--","company":"Acme"}`}, 200},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do(tt.req)
				if r.StatusCode != tt.status {
					t.Fatalf("status %d, want %d: %.300s", r.StatusCode, tt.status, r.body)
				}
			})
		}
		// Only the last case wrote, and only the analyst's name.
		after := snapshot(t, e)
		want := strings.Replace(before, "Ada", "'); DROP TABLE analysts;--", 1)
		if after != want {
			t.Fatalf("stored data changed:\nbefore %s\nafter  %s", before, after)
		}
		if r := e.do(req{method: "PUT", path: "/api/v1/assets"}); r.Header.Get("Allow") == "" {
			t.Fatal("405 without Allow")
		}
		r := e.do(req{method: "POST", path: "/api/v1/analysts", body: "x", header: map[string]string{"Content-Type": "text/plain"}})
		if !strings.Contains(string(r.body), "application/json") {
			t.Fatalf("415 does not say what to send: %s", r.body)
		}
	})
}

// snapshot renders what the store holds, without timestamps.
func snapshot(t *testing.T, e *env) string {
	t.Helper()
	an, err := e.store.Analysts(t.Context(), pageAll)
	if err != nil {
		t.Fatal(err)
	}
	as, err := e.store.Assets(t.Context(), icymorning.AssetFilter{Page: pageAll})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, a := range an {
		fmt.Fprintf(&b, "analyst %d %s %s;", a.ID, a.Name, a.Company)
	}
	for _, a := range as {
		fmt.Fprintf(&b, "asset %d %s %v %s %v %d;", a.ID, a.Name, a.Description, a.InceptionDate, a.IsActive, a.AnalystID)
	}
	return b.String()
}

func TestPagination(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.do(req{method: "POST", path: "/api/v1/analysts", body: `{"name":"A","company":"C"}`})
		e.do(req{method: "POST", path: "/api/v1/analysts", body: `{"name":"B","company":"C"}`})
		for i := range 25 {
			e.do(req{method: "POST", path: "/api/v1/assets", body: fmt.Sprintf(`{"name":"n%d","is_active":%v,"analyst_id":%d}`, i, i%2 == 0, 1+i%2)})
		}
		// Walk the active assets of analyst 1 in pages of 4 by following
		// Link headers, as a client would.
		next := "/api/v1/assets?limit=4&analyst_id=1&is_active=true"
		var seen []int
		for pages := 0; next != ""; pages++ {
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
			r := e.do(req{method: "GET", path: next})
			if r.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %d %s", next, r.StatusCode, r.body)
			}
			var page []struct {
				ID        int  `json:"id"`
				IsActive  bool `json:"is_active"`
				AnalystID int  `json:"analyst_id"`
			}
			r.json(t, &page)
			if len(page) > 4 {
				t.Fatalf("page of %d items, limit 4", len(page))
			}
			for _, a := range page {
				if !a.IsActive || a.AnalystID != 1 {
					t.Fatalf("filter lost on a later page: %+v", a)
				}
				seen = append(seen, a.ID)
			}
			current := next
			next = ""
			if link := r.Header.Get("Link"); link != "" {
				target, rel, _ := strings.Cut(link, ">; ")
				if rel != `rel="next"` || !strings.HasPrefix(target, "<assets?") {
					t.Fatalf("bad Link %q", link)
				}
				// Resolved against the request's URL, as RFC 8288 says.
				next = resolve(t, current, strings.TrimPrefix(target, "<"))
			}
		}
		// Assets 1, 3, ..., 25 are active and analyst 1's.
		if len(seen) != 13 || seen[0] != 1 || seen[12] != 25 {
			t.Fatalf("walked %v", seen)
		}
		r := e.do(req{method: "GET", path: "/api/v1/assets?limit=1000"})
		var all []map[string]any
		r.json(t, &all)
		if len(all) != 25 || r.Header.Get("Link") != "" {
			t.Fatalf("full page: %d items, Link %q", len(all), r.Header.Get("Link"))
		}
	})
}

// resolve resolves a reference against the URL of the request it came from.
func resolve(t *testing.T, base, ref string) string {
	t.Helper()
	b, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	r, err := url.Parse(ref)
	if err != nil {
		t.Fatal(err)
	}
	return b.ResolveReference(r).RequestURI()
}
