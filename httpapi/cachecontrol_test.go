package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/icy-morning/icy-morning/httpapi"
)

// TestCacheControlOnEveryRoute walks every operation of the server's own
// document (so a new route cannot hide) and checks what its answer tells
// caches: the open reads of analysts and assets the configured policy,
// anything that needed credentials private, no-store, and everything else
// (problems, health checks, pages, sign-up) no-store.
func TestCacheControlOnEveryRoute(t *testing.T) {
	e := newEnv(t, "sqlite://:memory:")
	seedOneAsset(t, e)
	e.do(req{method: "POST", path: "/api/v1/subscriptions", body: `{"email":"ada@example.com"}`})
	public := "public, max-age=0, s-maxage=60, stale-while-revalidate=30"
	if got := httpapi.DefaultCachePolicy; got.SMaxAge.Seconds() != 60 || got.MaxAge != 0 {
		t.Fatalf("DefaultCachePolicy %+v: the README's defaults are 0 and 60 s", got)
	}
	routes := 0
	for path, item := range e.api.OpenAPI().Paths {
		for method, op := range operations(item) {
			routes++
			concrete := strings.NewReplacer("{id}", "1", "{token}", "x").Replace(path)
			for _, auth := range []string{"ok", "none"} {
				body := ""
				if op.RequestBody != nil {
					body = `{"name":"x"}`
				}
				r := e.do(req{method: method, path: concrete, body: body, auth: auth})
				secured := len(op.Security) > 0 && len(op.Security[0]) > 0
				var want string
				switch {
				case r.StatusCode >= 400:
					want = "no-store"
				case secured:
					want = "private, no-store"
				case method == http.MethodGet && (strings.HasPrefix(path, "/api/v1/assets") || strings.HasPrefix(path, "/api/v1/analysts")):
					want = public
				default:
					want = "no-store"
				}
				if got := r.Header.Get("Cache-Control"); got != want {
					t.Errorf("%s %s (%s credentials, %d): Cache-Control %q, want %q", method, path, auth, r.StatusCode, got, want)
				}
			}
		}
	}
	if routes < 27 {
		t.Fatalf("walked %d operations: did the document lose some?", routes)
	}
}
