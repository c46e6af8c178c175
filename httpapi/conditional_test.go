package httpapi_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icy-morning/icy-morning/httpapi"
)

const patchType = "application/merge-patch+json"

// TestConditionalReads: GET answers validators; a revalidation that still
// matches is a 304 with no body and the same validators; HEAD is GET
// without the body.
func TestConditionalReads(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		seedOneAsset(t, e)
		for _, path := range []string{"/api/v1/assets/1", "/api/v1/analysts/1", "/api/v1/assets", "/api/v1/analysts", "/api/v1/assets?is_active=true&limit=5"} {
			t.Run(path, func(t *testing.T) {
				full := e.do(req{method: "GET", path: path, auth: "none"})
				tag, modified := full.Header.Get("ETag"), full.Header.Get("Last-Modified")
				if full.StatusCode != 200 || !strings.HasPrefix(tag, `"`) || !strings.HasSuffix(tag, `"`) {
					t.Fatalf("GET: %d, ETag %q", full.StatusCode, tag)
				}
				item := strings.Contains(path, "/1")
				if item != (modified != "") {
					t.Errorf("Last-Modified %q on %s", modified, path)
				}
				future := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
				past := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC).Format(http.TimeFormat)
				cases := []struct {
					name   string
					header map[string]string
					want   int
				}{
					{"same tag", map[string]string{"If-None-Match": tag}, 304},
					{"weak form of the tag", map[string]string{"If-None-Match": "W/" + tag}, 304},
					{"one of several", map[string]string{"If-None-Match": `"x", ` + tag}, 304},
					{"any", map[string]string{"If-None-Match": "*"}, 304},
					{"another tag", map[string]string{"If-None-Match": `"999999"`}, 200},
					{"another tag wins over a date", map[string]string{"If-None-Match": `"999999"`, "If-Modified-Since": future}, 200},
				}
				if item {
					cases = append(cases,
						struct {
							name   string
							header map[string]string
							want   int
						}{"not modified since", map[string]string{"If-Modified-Since": future}, 304},
						struct {
							name   string
							header map[string]string
							want   int
						}{"modified since", map[string]string{"If-Modified-Since": past}, 200},
						struct {
							name   string
							header map[string]string
							want   int
						}{"a date that does not parse", map[string]string{"If-Modified-Since": "yesterday"}, 200})
				}
				for _, c := range cases {
					r := e.do(req{method: "GET", path: path, auth: "none", header: c.header})
					if r.StatusCode != c.want {
						t.Errorf("%s: %d, want %d", c.name, r.StatusCode, c.want)
						continue
					}
					if c.want == 304 {
						if len(r.body) != 0 || r.Header.Get("ETag") != tag || r.Header.Get("Last-Modified") != modified ||
							r.Header.Get("Cache-Control") != full.Header.Get("Cache-Control") {
							t.Errorf("%s: 304 with body %q and headers %v", c.name, r.body, r.Header)
						}
					} else if string(r.body) != string(full.body) {
						t.Errorf("%s: the 200 differs from the first GET", c.name)
					}
				}
				head := e.do(req{method: "HEAD", path: path, auth: "none"})
				if head.StatusCode != 200 || len(head.body) != 0 {
					t.Errorf("HEAD: %d with %d bytes", head.StatusCode, len(head.body))
				}
				for _, h := range []string{"ETag", "Last-Modified", "Cache-Control", "Content-Type", "Content-Length", "Link"} {
					if head.Header.Get(h) != full.Header.Get(h) {
						t.Errorf("HEAD %s %q, GET %q", h, head.Header.Get(h), full.Header.Get(h))
					}
				}
			})
		}

		// A change moves the item's tag and the tag of every page it is on.
		before := map[string]string{}
		for _, p := range []string{"/api/v1/assets/1", "/api/v1/assets"} {
			before[p] = e.do(req{method: "GET", path: p, auth: "none"}).Header.Get("ETag")
		}
		e.do(req{method: "PATCH", path: "/api/v1/assets/1", body: `{"is_active":false}`, header: map[string]string{"Content-Type": patchType}})
		for p, tag := range before {
			r := e.do(req{method: "GET", path: p, auth: "none", header: map[string]string{"If-None-Match": tag}})
			if r.StatusCode != 200 || r.Header.Get("ETag") == tag {
				t.Errorf("%s after a change: %d, ETag %q (was %q)", p, r.StatusCode, r.Header.Get("ETag"), tag)
			}
		}
		if r := e.do(req{method: "GET", path: "/api/v1/assets/99", auth: "none", header: map[string]string{"If-None-Match": "*"}}); r.StatusCode != 404 {
			t.Errorf("revalidating a missing asset: %d, want 404", r.StatusCode)
		}
	})
}

// TestIfMatch: a change made against a tag the resource no longer has is
// a 412 and changes nothing; against its tag, it applies and answers the
// new one.
func TestIfMatch(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		seedOneAsset(t, e)
		for _, res := range []struct{ path, patch, put string }{
			{"/api/v1/assets/1", `{"name":"Patched"}`, `{"name":"Put","is_active":true,"analyst_id":1,"inception_date":"2020-01-01"}`},
			{"/api/v1/analysts/1", `{"name":"Patched"}`, `{"name":"Put","company":"Acme"}`},
		} {
			t.Run(res.path, func(t *testing.T) {
				get := func() resp { return e.do(req{method: "GET", path: res.path, auth: "none"}) }
				tag := get().Header.Get("ETag")
				for _, c := range []struct {
					name, method, body, ifMatch string
					want                        int
				}{
					{"stale tag", "PATCH", res.patch, `"999"`, 412},
					{"weak tag", "PATCH", res.patch, "W/" + tag, 412},
					{"not a tag", "PUT", res.put, "3", 412},
					{"stale tag", "PUT", res.put, `"999"`, 412},
					{"stale tag", "DELETE", "", `"999"`, 412},
				} {
					before := get()
					r := e.do(req{method: c.method, path: res.path, body: c.body, header: map[string]string{"If-Match": c.ifMatch, "Content-Type": map[bool]string{true: patchType, false: "application/json"}[c.method == "PATCH"]}})
					after := get()
					if r.StatusCode != c.want || string(after.body) != string(before.body) || after.Header.Get("ETag") != before.Header.Get("ETag") {
						t.Errorf("%s %s: %d %s; the resource went from %s to %s", c.name, c.method, r.StatusCode, r.body, before.body, after.body)
					}
					if c.want == 412 && r.Header.Get("Content-Type") != "application/problem+json" {
						t.Errorf("%s %s: a 412 that is not a problem", c.name, c.method)
					}
				}
				for _, c := range []struct {
					name, method, body, ifMatch string
				}{
					{"current tag", "PATCH", res.patch, tag},
					{"one of several", "PUT", res.put, `"999", ` + "NEXT"},
					{"any", "PATCH", res.patch, "*"},
				} {
					current := get().Header.Get("ETag")
					ifMatch := strings.Replace(c.ifMatch, "NEXT", current, 1)
					r := e.do(req{method: c.method, path: res.path, body: c.body, header: map[string]string{"If-Match": ifMatch, "Content-Type": map[bool]string{true: patchType, false: "application/json"}[c.method == "PATCH"]}})
					if r.StatusCode != 200 || r.Header.Get("ETag") == current || r.Header.Get("ETag") != get().Header.Get("ETag") {
						t.Errorf("%s %s: %d, ETag %q (was %q)", c.name, c.method, r.StatusCode, r.Header.Get("ETag"), current)
					}
				}
			})
		}
		tag := e.do(req{method: "GET", path: "/api/v1/assets/1", auth: "none"}).Header.Get("ETag")
		if r := e.do(req{method: "DELETE", path: "/api/v1/assets/1", header: map[string]string{"If-Match": tag}}); r.StatusCode != 200 {
			t.Fatalf("DELETE with the current tag: %d", r.StatusCode)
		}
		if r := e.do(req{method: "DELETE", path: "/api/v1/assets/1", header: map[string]string{"If-Match": tag}}); r.StatusCode != 404 {
			t.Errorf("DELETE of a deleted asset with its old tag: %d, want 404", r.StatusCode)
		}
	})
}

// TestRequireIfMatch: with REQUIRE_IF_MATCH, a change without If-Match is a
// 428 and changes nothing.
func TestRequireIfMatch(t *testing.T) {
	e := newEnvWith(t, "sqlite://:memory:", httpapi.Config{RequireIfMatch: true})
	seedOneAsset(t, e)
	before := e.do(req{method: "GET", path: "/api/v1/assets/1", auth: "none"})
	for _, r := range []req{
		{method: "PATCH", path: "/api/v1/assets/1", body: `{"name":"x"}`, header: map[string]string{"Content-Type": patchType}},
		{method: "PUT", path: "/api/v1/assets/1", body: `{"name":"x","is_active":true,"analyst_id":1}`},
		{method: "DELETE", path: "/api/v1/assets/1"},
		{method: "PATCH", path: "/api/v1/analysts/1", body: `{"name":"x"}`, header: map[string]string{"Content-Type": patchType}},
		{method: "DELETE", path: "/api/v1/analysts/1"},
	} {
		if got := e.do(r); got.StatusCode != http.StatusPreconditionRequired {
			t.Errorf("%s %s without If-Match: %d, want 428", r.method, r.path, got.StatusCode)
		}
	}
	if after := e.do(req{method: "GET", path: "/api/v1/assets/1", auth: "none"}); string(after.body) != string(before.body) {
		t.Fatalf("a refused change changed the asset: %s", after.body)
	}
	r := e.do(req{method: "PATCH", path: "/api/v1/assets/1", body: `{"name":"x"}`, header: map[string]string{"Content-Type": patchType, "If-Match": before.Header.Get("ETag")}})
	if r.StatusCode != 200 {
		t.Fatalf("with If-Match: %d %s", r.StatusCode, r.body)
	}
	if r := e.do(req{method: "POST", path: "/api/v1/analysts", body: `{"name":"B","company":"C"}`}); r.StatusCode != 201 {
		t.Errorf("a create needs no If-Match: %d", r.StatusCode)
	}
}

// TestIfMatchRace: clients that patch from one tag at the same time: one
// wins (200), the others get 412, and the row holds the winner's change.
func TestIfMatchRace(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		seedOneAsset(t, e)
		tag := e.do(req{method: "GET", path: "/api/v1/assets/1", auth: "none"}).Header.Get("ETag")
		const n = 6
		var wg sync.WaitGroup
		codes := make([]int, n)
		for i := range n {
			wg.Go(func() {
				name := "Client " + string(rune('A'+i))
				codes[i] = e.do(req{method: "PATCH", path: "/api/v1/assets/1", body: `{"name":"` + name + `"}`,
					header: map[string]string{"Content-Type": patchType, "If-Match": tag}}).StatusCode
			})
		}
		wg.Wait()
		winner := -1
		for i, c := range codes {
			switch {
			case c == 200 && winner < 0:
				winner = i
			case c != 412:
				t.Fatalf("statuses %v: want one 200 and the rest 412", codes)
			}
		}
		if winner < 0 {
			t.Fatalf("statuses %v: nobody won", codes)
		}
		var got struct{ Name string }
		e.do(req{method: "GET", path: "/api/v1/assets/1", auth: "none"}).json(t, &got)
		if got.Name != "Client "+string(rune('A'+winner)) {
			t.Fatalf("the asset is %q, the winner was client %c", got.Name, 'A'+winner)
		}
	})
}
