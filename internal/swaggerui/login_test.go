package swaggerui

import (
	"net/http"
	"strings"
	"testing"
)

func TestLogin(t *testing.T) {
	login := &Login{ClientID: "docs-client", Scopes: []string{"openid", "icy-morning/write"}, TokenURL: "https://auth.example.com:8443/oauth2/token"}
	h := Handler("openapi.json", nil, login)
	tests := []struct {
		path, redirect string
	}{
		{"/docs", `data-redirect="docs/oauth2-redirect.html"`},
		{"/docs/", `data-redirect="oauth2-redirect.html"`},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			rec := do(t, h, http.MethodGet, tc.path, nil)
			body := rec.Body.String()
			for _, want := range []string{`data-client-id="docs-client"`, `data-scopes="openid icy-morning/write"`, tc.redirect} {
				if !strings.Contains(body, want) {
					t.Errorf("index lacks %s", want)
				}
			}
			csp := rec.Header().Get("Content-Security-Policy")
			if !strings.Contains(csp, "connect-src 'self' https://auth.example.com:8443;") {
				t.Errorf("CSP = %q: the token endpoint's origin is not in connect-src", csp)
			}
		})
	}

	rec := do(t, h, http.MethodGet, "/docs/oauth2-redirect.html", nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `<script src="oauth2-redirect.js">`) {
		t.Fatalf("landing page: %d %q", rec.Code, rec.Body.String())
	}
	if got := rec.Header().Get("Content-Security-Policy"); got != redirectCSP {
		t.Errorf("landing page CSP = %q", got)
	}
	if got := rec.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("landing page Cache-Control = %q, want no-store (its address holds the code)", got)
	}
	if got := rec.Header().Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("landing page Referrer-Policy = %q", got)
	}
	if rec := do(t, h, http.MethodGet, "/docs/oauth2-redirect.js", nil); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "swaggerUIRedirectOauth2") {
		t.Errorf("landing script: %d", rec.Code)
	}
}

func TestNoLogin(t *testing.T) {
	h := Handler("openapi.json", nil, nil)
	for _, p := range []string{"/docs/oauth2-redirect.html", "/docs/oauth2-redirect.js"} {
		if rec := do(t, h, http.MethodGet, p, nil); rec.Code != http.StatusNotFound {
			t.Errorf("%s without a login: %d, want 404", p, rec.Code)
		}
	}
	if body := do(t, h, http.MethodGet, "/docs", nil).Body.String(); strings.Contains(body, "data-client-id") {
		t.Errorf("index names a client without a login")
	}
}

func TestLoginTokenURL(t *testing.T) {
	for _, bad := range []string{"", "ftp://auth.example.com/token", "/oauth2/token", "https://a.example.com;script-src *", "https://a b/", "javascript:alert(1)"} {
		t.Run(bad, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Handler took token URL %q", bad)
				}
			}()
			Handler("openapi.json", nil, &Login{ClientID: "c", TokenURL: bad})
		})
	}
}
