package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/httpapi"
)

// TestPrivateReads: with READS_REQUIRE_AUTH the reads of assets and
// analysts need credentials, any valid ones (a token without the write
// scope reads; it still may not write), and say so in the document; the
// public pages, health checks and the document itself stay open.
func TestPrivateReads(t *testing.T) {
	reads := map[string]bool{
		"GET /api/v1/assets": true, "GET /api/v1/assets/{id}": true,
		"GET /api/v1/analysts": true, "GET /api/v1/analysts/{id}": true,
	}
	for _, authType := range []string{"basic", "jwt", "basic,jwt"} {
		t.Run(authType, func(t *testing.T) {
			e := newJWTEnvWith(t, authType, httpapi.Config{PrivateReads: true}, "")
			if err := e.store.CreateAsset(t.Context(), &icymorning.Asset{Name: "A", InceptionDate: icymorning.Date{Year: 2020, Month: 1, Day: 2}, IsActive: true, AnalystID: 1}); err != nil {
				t.Fatal(err)
			}
			readOnly := bearer(e.is.Mint("rsa-1", e.is.Access(jwtAudience, "read")))
			basicOK := "Basic " + b64(user+":"+pass)
			found := 0
			for path, item := range e.api.OpenAPI().Paths {
				for method, op := range operations(item) {
					route := method + " " + path
					if !reads[route] {
						continue
					}
					found++
					if len(op.Security) == 0 {
						t.Errorf("%s declares no security", route)
					}
					for _, req := range op.Security {
						for name, scopes := range req {
							if len(scopes) != 0 {
								t.Errorf("%s: %s requires scopes %v; a read needs none", route, name, scopes)
							}
						}
					}
					concrete := strings.Replace(path, "{id}", "1", 1)
					for _, c := range []struct {
						name, authz string
						want        int
					}{
						{"none", "", http.StatusUnauthorized},
						{"wrong basic", "Basic " + b64(user+":wrong"), http.StatusUnauthorized},
						{"basic", basicOK, map[bool]int{true: http.StatusOK, false: http.StatusUnauthorized}[authType != "jwt"]},
						{"token without the write scope", readOnly, map[bool]int{true: http.StatusOK, false: http.StatusUnauthorized}[authType != "basic"]},
					} {
						r := e.do(req{method: method, path: concrete, auth: "none", header: map[string]string{"Authorization": c.authz}})
						if r.StatusCode != c.want {
							t.Errorf("%s with %s credentials: %d, want %d", route, c.name, r.StatusCode, c.want)
						}
						if c.want == http.StatusOK && r.Header.Get("Cache-Control") != "private, no-store" {
							t.Errorf("%s: an authenticated read is cacheable (%q)", route, r.Header.Get("Cache-Control"))
						}
						if c.want == http.StatusUnauthorized && len(r.Header.Values("WWW-Authenticate")) == 0 {
							t.Errorf("%s with %s credentials: 401 without a challenge", route, c.name)
						}
					}
				}
			}
			if found != len(reads) {
				t.Fatalf("found %d of the %d reads", found, len(reads))
			}
			if authType != "basic" {
				if r := e.create(readOnly, ""); r.StatusCode != http.StatusForbidden {
					t.Errorf("a write with a token that may only read: %d, want 403", r.StatusCode)
				}
			}
			for _, p := range []string{"/healthz", "/openapi.json", "/docs", "/subscribe"} {
				if r := e.do(req{method: "GET", path: p, auth: "none"}); r.StatusCode != http.StatusOK {
					t.Errorf("GET %s without credentials: %d, want 200", p, r.StatusCode)
				}
			}
		})
	}
}
