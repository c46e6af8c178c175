package oidcauth_test

import (
	"strings"
	"testing"

	"github.com/icy-morning/icy-morning/internal/testissuer"
	"github.com/icy-morning/icy-morning/oidcauth"
)

// TestNewRefuses: options that would accept too much, or a provider whose
// discovery document names another issuer, stop the start.
func TestNewRefuses(t *testing.T) {
	is := testissuer.New(t)
	for _, tc := range []struct {
		name string
		o    oidcauth.Options
		want string
	}{
		{"no issuer", oidcauth.Options{Audience: "a", WriteScope: "w"}, "OIDC_ISSUER_URL is required"},
		{"no audience", oidcauth.Options{IssuerURL: is.URL, WriteScope: "w"}, "OIDC_AUDIENCE or OIDC_CLIENT_IDS"},
		{"nothing grants writes", oidcauth.Options{IssuerURL: is.URL, Audience: "a"}, "nothing would grant"},
		{"group without claim", oidcauth.Options{IssuerURL: is.URL, Audience: "a", WriteGroup: "g"}, "together"},
		{"scope with a space", oidcauth.Options{IssuerURL: is.URL, Audience: "a", WriteScope: "a b"}, "OIDC_WRITE_SCOPE"},
		{"empty client id", oidcauth.Options{IssuerURL: is.URL, ClientIDs: []string{""}, WriteScope: "w"}, "empty client id"},
		{"issuer differs from discovery", oidcauth.Options{IssuerURL: is.URL + "/", Audience: "a", WriteScope: "w"}, "discovery"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := oidcauth.New(t.Context(), tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := oidcauth.New(t.Context(), oidcauth.Options{IssuerURL: is.URL, Audience: "a", WriteScope: "w"}); err != nil {
		t.Fatal(err)
	}
	if n := is.JWKSRequests(); n != 0 {
		t.Fatalf("New fetched the JWKS %d times: keys wait for the first token", n)
	}
}
