package oidcauth_test

import (
	"testing"

	"github.com/icy-morning/icy-morning/internal/testissuer"
	"github.com/icy-morning/icy-morning/oidcauth"
)

// BenchmarkAuthenticate is the verifier's CPU cost per request, keys
// cached (the first call fetches them): what a bearer token adds to a
// request beside Basic (bench/loadbench -jwt-only measures the whole POST).
func BenchmarkAuthenticate(b *testing.B) {
	is := testissuer.New(b)
	v, err := oidcauth.New(b.Context(), oidcauth.Options{IssuerURL: is.URL, Audience: "a", WriteScope: "w"})
	if err != nil {
		b.Fatal(err)
	}
	for _, kid := range []string{"rsa-1", "ec-1"} {
		b.Run(kid, func(b *testing.B) {
			authz := "Bearer " + is.Mint(kid, is.Access("a", "w"))
			if p, err := v.Authenticate(b.Context(), authz); err != nil || !p.CanWrite {
				b.Fatalf("Authenticate: %+v, %v", p, err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Authenticate(b.Context(), authz); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
