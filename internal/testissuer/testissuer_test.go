package testissuer

import (
	"net/http"
	"strings"
	"testing"
)

// Start serves without a test: discovery and the JWKS answer, JWKS
// requests are counted, Mint signs, and Close stops the server.
func TestStartWithoutATest(t *testing.T) {
	is, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(is.URL, "http://127.0.0.1:") {
		t.Errorf("URL %s: want loopback", is.URL)
	}
	for _, path := range []string{"/.well-known/openid-configuration", "/jwks", "/jwks"} {
		resp, err := http.Get(is.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
	}
	if n := is.JWKSRequests(); n != 2 {
		t.Errorf("JWKSRequests() = %d, want 2", n)
	}
	if tok := is.Mint("rsa-1", is.Access("a", "w")); strings.Count(tok, ".") != 2 {
		t.Errorf("Mint: %q is not a compact JWS", tok)
	}
	is.Close()
	if _, err := http.Get(is.URL + "/jwks"); err == nil {
		t.Error("the issuer still answers after Close")
	}
}

// Outside a test, what would fail the test panics, with the reason.
func TestStartPanicsOnAnUnknownKey(t *testing.T) {
	is, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer is.Close()
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), `no key "nope"`) {
			t.Errorf("recovered %v, want a panic naming the key", r)
		}
	}()
	is.Mint("nope", is.Access("a", "w"))
}
