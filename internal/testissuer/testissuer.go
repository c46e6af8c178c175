// Package testissuer is an OpenID Connect provider for tests: discovery
// and a JWKS over HTTP on 127.0.0.1, real RSA and ECDSA keys that can be
// added and removed while it runs, a count of JWKS requests, and token
// minting with go-jose, including the malformed and forged tokens the
// attack tables need.
//
// Tests use New; programs outside tests (bench/loadbench) use Start and
// Close.
package testissuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Issuer is a running test provider.
type Issuer struct {
	URL string // the issuer, also the server's base URL
	// fatalf reports what cannot happen with the keys it holds (a
	// failed signature): the test's Fatalf, or a panic outside tests.
	fatalf func(format string, args ...any)
	srv    *httptest.Server

	mu   sync.Mutex
	keys map[string]crypto.Signer // published keys by kid
	// retired keys still sign (to forge tokens with a removed key), but
	// are no longer published.
	retired map[string]crypto.Signer

	jwksRequests atomic.Int64
}

// New starts an issuer with an RSA key "rsa-1" and an ECDSA P-256 key
// "ec-1", stopped when the test ends.
func New(t testing.TB) *Issuer {
	t.Helper()
	is, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	is.fatalf = t.Fatalf
	t.Cleanup(is.Close)
	return is
}

// Start starts an issuer as New does, without a test: on 127.0.0.1, until
// Close. Its methods panic where New's would fail the test.
func Start() (*Issuer, error) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	is := &Issuer{keys: map[string]crypto.Signer{}, retired: map[string]crypto.Signer{},
		fatalf: func(format string, args ...any) { panic(fmt.Sprintf("testissuer: "+format, args...)) }}
	is.AddKey("rsa-1", rsaKey)
	is.AddKey("ec-1", ecKey)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                is.URL,
			"authorization_endpoint":                is.URL + "/authorize",
			"token_endpoint":                        is.URL + "/token",
			"jwks_uri":                              is.URL + "/jwks",
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256", "HS256", "none"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		is.jwksRequests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(is.JWKS())
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	is.srv = httptest.NewUnstartedServer(mux)
	is.srv.Listener = ln
	is.srv.Start()
	is.URL = is.srv.URL
	return is, nil
}

// Close stops the issuer's server.
func (is *Issuer) Close() { is.srv.Close() }

// NewRSAKey returns a fresh 2048-bit RSA key.
func NewRSAKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// NewECKey returns a fresh ECDSA P-256 key.
func NewECKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// AddKey publishes key under kid.
func (is *Issuer) AddKey(kid string, key crypto.Signer) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.keys[kid] = key
}

// RemoveKey stops publishing kid; Mint can still sign with it.
func (is *Issuer) RemoveKey(kid string) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.retired[kid] = is.keys[kid]
	delete(is.keys, kid)
}

// Key is kid's private key.
func (is *Issuer) Key(kid string) crypto.Signer {
	is.mu.Lock()
	defer is.mu.Unlock()
	return is.keys[kid]
}

// JWKSRequests is how many times the JWKS was fetched.
func (is *Issuer) JWKSRequests() int64 { return is.jwksRequests.Load() }

// JWKS is the published key set.
func (is *Issuer) JWKS() jose.JSONWebKeySet {
	is.mu.Lock()
	defer is.mu.Unlock()
	var set jose.JSONWebKeySet
	for kid, k := range is.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Public(), KeyID: kid, Algorithm: algFor(k), Use: "sig"})
	}
	return set
}

// PublicKeyPEM is the PEM of kid's public key, the "secret" of the HS256
// confusion attack.
func (is *Issuer) PublicKeyPEM(kid string) []byte {
	der := is.PublicKeyDER(kid)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// PublicKeyDER is the DER (SubjectPublicKeyInfo) of kid's public key.
func (is *Issuer) PublicKeyDER(kid string) []byte {
	is.mu.Lock()
	k := is.keys[kid]
	is.mu.Unlock()
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		is.fatalf("%v", err)
	}
	return der
}

func algFor(k crypto.Signer) string {
	if _, ok := k.(*ecdsa.PrivateKey); ok {
		return string(jose.ES256)
	}
	return string(jose.RS256)
}

// Claims are a token's claims; Access returns a typical set.
type Claims map[string]any

// Access returns the claims of a valid access token for audience aud,
// issued now and valid for an hour, with scope.
func (is *Issuer) Access(aud, scope string) Claims {
	now := time.Now()
	return Claims{"iss": is.URL, "sub": "user-1", "email": "user-1@example.com", "aud": aud, "scope": scope,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

// Mint signs claims with kid's key (published or retired), with header
// typ "at+jwt".
func (is *Issuer) Mint(kid string, c Claims) string {
	is.mu.Lock()
	k := is.keys[kid]
	if k == nil {
		k = is.retired[kid]
	}
	is.mu.Unlock()
	if k == nil {
		is.fatalf("no key %q", kid)
	}
	return is.MintWith(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(algFor(k)), Key: k}, kid, "at+jwt", c)
}

// MintWith signs claims with any key and algorithm (HS256 with a public
// key's bytes, say), kid and typ in the header when not empty.
func (is *Issuer) MintWith(key jose.SigningKey, kid, typ string, c Claims) string {
	opts := &jose.SignerOptions{}
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(key, opts)
	if err != nil {
		is.fatalf("%v", err)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		is.fatalf("%v", err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		is.fatalf("%v", err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		is.fatalf("%v", err)
	}
	return tok
}

// Unsigned is c as an "alg": "none" token (no signature).
func Unsigned(c Claims) string {
	head := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"rsa-1"}`))
	body, _ := json.Marshal(c)
	return head + "." + base64.RawURLEncoding.EncodeToString(body) + "."
}
