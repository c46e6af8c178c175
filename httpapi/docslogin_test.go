package httpapi_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/icy-morning/icy-morning/httpapi"
)

// TestDocsLogin: with a docs client (OIDC_DOCS_CLIENT_ID), the document
// describes the provider's authorization-code flow beside the bearer
// scheme, every protected operation accepts either, and /docs is set up
// to log in with that client; without one, neither appears.
func TestDocsLogin(t *testing.T) {
	for _, tc := range []struct {
		authType, client string
		schemes          []string // the document's security schemes
	}{
		{"jwt", "docs-client", []string{"bearerAuth", "oidcLogin"}},
		{"basic,jwt", "docs-client", []string{"basicAuth", "bearerAuth", "oidcLogin"}},
		{"jwt", "", []string{"bearerAuth"}},
		{"basic", "", []string{"basicAuth"}},
	} {
		t.Run(tc.authType+" "+tc.client, func(t *testing.T) {
			e := newJWTEnvWith(t, tc.authType, httpapi.Config{}, tc.client)
			doc := e.api.OpenAPI()
			var names []string
			for name := range doc.Components.SecuritySchemes {
				names = append(names, name)
			}
			slices.Sort(names)
			if !slices.Equal(names, tc.schemes) {
				t.Fatalf("security schemes %v, want %v", names, tc.schemes)
			}
			if ok, errs := e.checks.ValidateDocument(); !ok {
				t.Fatalf("the document is not valid OpenAPI: %v", errs)
			}
			login := doc.Components.SecuritySchemes["oidcLogin"]
			if tc.client != "" {
				f := login.Flows.AuthorizationCode
				if login.Type != "oauth2" || f.AuthorizationURL != e.is.URL+"/authorize" || f.TokenURL != e.is.URL+"/token" || f.Scopes[writeScope] == "" || f.Scopes["openid"] == "" {
					t.Errorf("oidcLogin = %+v, flow %+v", login, f)
				}
			}
			// Every protected operation takes each scheme; the flow's
			// requirement names the write scope.
			protected := 0
			for path, item := range doc.Paths {
				for method, op := range operations(item) {
					if len(op.Security) == 0 {
						continue
					}
					protected++
					var got []string
					for _, req := range op.Security {
						for name, scopes := range req {
							got = append(got, name)
							want := []string{}
							if name == "oidcLogin" {
								want = []string{writeScope}
							}
							if !slices.Equal(scopes, want) {
								t.Errorf("%s %s: %s requires scopes %v, want %v", method, path, name, scopes, want)
							}
						}
					}
					slices.Sort(got)
					if !slices.Equal(got, tc.schemes) {
						t.Errorf("%s %s: security %v, want one requirement per scheme %v", method, path, got, tc.schemes)
					}
				}
			}
			if protected != 14 {
				t.Errorf("%d protected operations, want 14", protected)
			}

			page := e.do(req{method: "GET", path: "/docs", auth: "none"})
			landing := e.do(req{method: "GET", path: "/docs/oauth2-redirect.html", auth: "none"})
			csp := page.Header.Get("Content-Security-Policy")
			issuer, _ := url.Parse(e.is.URL)
			if tc.client == "" {
				if strings.Contains(string(page.body), "data-client-id") || landing.StatusCode != http.StatusNotFound {
					t.Errorf("no docs client, yet the page offers a login (landing page: %d)", landing.StatusCode)
				}
				return
			}
			if !strings.Contains(string(page.body), `data-client-id="`+tc.client+`"`) || !strings.Contains(string(page.body), `data-scopes="openid `+writeScope+`"`) {
				t.Errorf("/docs does not log in with the docs client")
			}
			if !strings.Contains(csp, "connect-src 'self' http://"+issuer.Host+";") {
				t.Errorf("/docs CSP %q does not let the page reach the token endpoint", csp)
			}
			if landing.StatusCode != http.StatusOK {
				t.Errorf("landing page: %d", landing.StatusCode)
			}
		})
	}
}
