package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/oauth2-proxy/mockoidc"
	"golang.org/x/oauth2"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/auth"
	"github.com/icy-morning/icy-morning/httpapi"
	"github.com/icy-morning/icy-morning/internal/testissuer"
	"github.com/icy-morning/icy-morning/oidcauth"
)

const (
	jwtAudience   = "icy-morning-api"
	cognitoClient = "cognito-app-client"
	writeScope    = "icy-morning/write"
	writeGroup    = "icy-writers"
	groupsClaim   = "cognito:groups"

	challengeInvalid   = `Bearer error="invalid_token"`
	challengeForbidden = `Bearer error="insufficient_scope", scope="icy-morning/write"`
)

// jwtEnv is a server taking the credentials of authType (basic, jwt or
// basic,jwt) with its test issuer, on SQLite, with one analyst to create
// assets for.
type jwtEnv struct {
	*env
	is       *testissuer.Issuer
	verifier *oidcauth.Verifier
}

func newJWTEnv(t *testing.T, authType string) *jwtEnv {
	t.Helper()
	return newJWTEnvWith(t, authType, httpapi.Config{}, "")
}

// newJWTEnvWith is newJWTEnv with a server configuration and a docs
// client (OIDC_DOCS_CLIENT_ID; none if empty).
func newJWTEnvWith(t *testing.T, authType string, c httpapi.Config, docsClient string) *jwtEnv {
	t.Helper()
	is := testissuer.New(t)
	v, err := oidcauth.New(t.Context(), oidcauth.Options{
		IssuerURL: is.URL, Audience: jwtAudience, ClientIDs: []string{cognitoClient},
		WriteScope: writeScope, GroupsClaim: groupsClaim, WriteGroup: writeGroup,
		DocsClientID: docsClient,
		// Short, so that key rotation is seen within a test.
		RefetchInterval: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	basic, err := auth.NewBasic(user, pass)
	if err != nil {
		t.Fatal(err)
	}
	var a icymorning.Authenticator
	switch authType {
	case "basic":
		a = basic
	case "jwt":
		a = v
	case "basic,jwt":
		a = auth.Either{basic, v}
	}
	// The attack tables fail many times from one address: the throttle
	// has its own tests.
	c.Auth, c.AuthThrottle = a, httpapi.AuthThrottle{Burst: 1 << 20, Refill: time.Nanosecond}
	e := newEnvWith(t, "sqlite:///"+t.TempDir()+"/jwt.db", c)
	if err := e.store.CreateAnalyst(t.Context(), &icymorning.Analyst{Name: "A", Company: "C"}); err != nil {
		t.Fatal(err)
	}
	return &jwtEnv{env: e, is: is, verifier: v}
}

const assetBody = `{"name":"X","is_active":true,"analyst_id":1}`

// create posts an asset with the Authorization header authz (none if
// empty) and query q.
func (e *jwtEnv) create(authz, q string) resp {
	h := map[string]string{}
	if authz != "" {
		h["Authorization"] = authz
	}
	return e.do(req{method: "POST", path: "/api/v1/assets" + q, body: assetBody, auth: "none", header: h})
}

func (e *jwtEnv) assets() int {
	e.t.Helper()
	as, err := e.store.Assets(context.Background(), icymorning.AssetFilter{Page: pageAll})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(as)
}

func bearer(tok string) string { return "Bearer " + tok }

// TestJWTAttacks: every forged, stale, misdirected or misplaced token
// gets 401 with the invalid_token challenge, and writes nothing.
func TestJWTAttacks(t *testing.T) {
	e := newJWTEnv(t, "jwt")
	is := e.is
	ok := func() testissuer.Claims { return is.Access(jwtAudience, writeScope) }
	with := func(c testissuer.Claims, kv ...any) testissuer.Claims {
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(c, kv[i].(string))
			} else {
				c[kv[i].(string)] = kv[i+1]
			}
		}
		return c
	}
	now := time.Now()
	valid := is.Mint("rsa-1", ok())

	// A key removed from the JWKS: accepted while cached, then refused
	// once a refresh (set off by an unknown kid) has dropped it.
	is.AddKey("rsa-old", testissuer.NewRSAKey(t))
	oldTok := is.Mint("rsa-old", ok())
	if r := e.create(bearer(oldTok), ""); r.StatusCode != http.StatusCreated {
		t.Fatalf("token of a published key: %d %s", r.StatusCode, r.body)
	}
	is.RemoveKey("rsa-old")
	time.Sleep(400 * time.Millisecond) // past RefetchInterval
	e.create(bearer(is.MintWith(jose.SigningKey{Algorithm: jose.RS256, Key: testissuer.NewRSAKey(t)}, "refresh-now", "at+jwt", ok())), "")

	hsPEM := is.MintWith(jose.SigningKey{Algorithm: jose.HS256, Key: is.PublicKeyPEM("rsa-1")}, "rsa-1", "at+jwt", ok())
	hsDER := is.MintWith(jose.SigningKey{Algorithm: jose.HS256, Key: is.PublicKeyDER("rsa-1")}, "rsa-1", "JWT", ok())
	stranger := testissuer.NewRSAKey(t)
	huge := is.Mint("rsa-1", with(ok(), "pad", strings.Repeat("x", oidcauth.MaxTokenBytes)))

	for _, tc := range []struct {
		name, authz, query string
	}{
		{"alg none", bearer(testissuer.Unsigned(ok())), ""},
		{"HS256 with the RSA public key's PEM as secret", bearer(hsPEM), ""},
		{"HS256 with the RSA public key's DER as secret", bearer(hsDER), ""},
		{"expired", bearer(is.Mint("rsa-1", with(ok(), "exp", now.Add(-time.Second).Unix()))), ""},
		{"no exp", bearer(is.Mint("rsa-1", with(ok(), "exp", nil))), ""},
		{"nbf beyond the leeway", bearer(is.Mint("rsa-1", with(ok(), "nbf", now.Add(2*time.Minute).Unix()))), ""},
		{"iat beyond the leeway", bearer(is.Mint("rsa-1", with(ok(), "iat", now.Add(2*time.Minute).Unix()))), ""},
		{"wrong iss", bearer(is.Mint("rsa-1", with(ok(), "iss", is.URL+"/other"))), ""},
		{"iss with a trailing slash", bearer(is.Mint("rsa-1", with(ok(), "iss", is.URL+"/"))), ""},
		{"wrong aud", bearer(is.Mint("rsa-1", with(ok(), "aud", "another-api"))), ""},
		{"no aud and no client_id", bearer(is.Mint("rsa-1", with(ok(), "aud", nil))), ""},
		{"wrong client_id", bearer(is.Mint("rsa-1", with(ok(), "aud", nil, "client_id", "other-app", "token_use", "access"))), ""},
		{"client_id without token_use", bearer(is.Mint("rsa-1", with(ok(), "aud", nil, "client_id", cognitoClient))), ""},
		{"Cognito ID token", bearer(is.Mint("rsa-1", with(ok(), "aud", cognitoClient, "token_use", "id"))), ""},
		{"ID token with nonce", bearer(is.Mint("rsa-1", with(ok(), "nonce", "n-0S6_WzA2Mj"))), ""},
		{"ID token with at_hash", bearer(is.Mint("rsa-1", with(ok(), "at_hash", "77QmUPtjPfzWtF2AnpK9RQ"))), ""},
		{"typ of a logout token", bearer(is.MintWith(jose.SigningKey{Algorithm: jose.RS256, Key: stranger}, "rsa-1", "logout+jwt", ok())), ""},
		{"no sub", bearer(is.Mint("rsa-1", with(ok(), "sub", nil))), ""},
		{"unknown kid", bearer(is.MintWith(jose.SigningKey{Algorithm: jose.RS256, Key: stranger}, "nobody", "at+jwt", ok())), ""},
		{"known kid, other key", bearer(is.MintWith(jose.SigningKey{Algorithm: jose.RS256, Key: stranger}, "rsa-1", "at+jwt", ok())), ""},
		{"key removed from the JWKS", bearer(is.Mint("rsa-old", ok())), ""},
		{"truncated", bearer(valid[:len(valid)-10]), ""},
		{"signature cut off", bearer(valid[:strings.LastIndex(valid, ".")+1]), ""},
		{"over 8 KB", bearer(huge), ""},
		{"query string, no header", "", "?access_token=" + valid},
		{"empty Bearer", "Bearer ", ""},
		{"Bearer alone", "Bearer", ""},
		{"token without scheme", valid, ""},
		{"Basic header (AUTH_TYPE=jwt)", "Basic " + b64(user+":"+pass), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.assets()
			r := e.create(tc.authz, tc.query)
			if r.StatusCode != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") != challengeInvalid {
				t.Errorf("status %d, WWW-Authenticate %q: want 401 %s (%s)", r.StatusCode, r.Header.Get("WWW-Authenticate"), challengeInvalid, r.body)
			}
			if after := e.assets(); after != before {
				t.Errorf("assets %d → %d", before, after)
			}
		})
	}
	if len(huge) <= oidcauth.MaxTokenBytes {
		t.Fatalf("the huge token is only %d bytes", len(huge))
	}
}

// TestJWTAccepted: the token shapes that may write, the principal they
// give, and the 403 of a valid token without the write permission.
func TestJWTAccepted(t *testing.T) {
	e := newJWTEnv(t, "jwt")
	is := e.is
	base := func(kv ...any) testissuer.Claims {
		c := is.Access(jwtAudience, "openid")
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(c, kv[i].(string))
			} else {
				c[kv[i].(string)] = kv[i+1]
			}
		}
		return c
	}
	for _, tc := range []struct {
		name   string
		tok    func() string
		status int
	}{
		{"RSA, scope", func() string { return is.Mint("rsa-1", base("scope", "openid "+writeScope)) }, 201},
		{"ECDSA, scope", func() string { return is.Mint("ec-1", base("scope", writeScope)) }, 201},
		{"scp array", func() string { return is.Mint("rsa-1", base("scope", nil, "scp", []string{"read", writeScope})) }, 201},
		{"scp string", func() string { return is.Mint("rsa-1", base("scope", nil, "scp", "read "+writeScope)) }, 201},
		{"group claim", func() string { return is.Mint("rsa-1", base(groupsClaim, []string{"other", writeGroup})) }, 201},
		{"aud array", func() string { return is.Mint("rsa-1", base("aud", []string{"x", jwtAudience}, "scope", writeScope)) }, 201},
		{"Cognito access token", func() string {
			return is.Mint("rsa-1", base("aud", nil, "client_id", cognitoClient, "token_use", "access", "scope", writeScope))
		}, 201},
		{"typ JWT", func() string {
			return is.MintWith(jose.SigningKey{Algorithm: jose.RS256, Key: is.Key("rsa-1")}, "rsa-1", "JWT", base("scope", writeScope))
		}, 201},
		{"nbf and iat within the leeway", func() string {
			skew := time.Now().Add(30 * time.Second).Unix()
			return is.Mint("rsa-1", base("scope", writeScope, "nbf", skew, "iat", skew))
		}, 201},
		{"key added after start", func() string {
			is.AddKey("ec-new", testissuer.NewECKey(t))
			time.Sleep(400 * time.Millisecond) // past RefetchInterval
			return is.Mint("ec-new", base("scope", writeScope))
		}, 201},
		{"valid without the write scope", func() string { return is.Mint("rsa-1", base()) }, 403},
		{"write scope in the wrong claim", func() string { return is.Mint("rsa-1", base("scopes", writeScope)) }, 403},
		{"other group", func() string { return is.Mint("rsa-1", base(groupsClaim, "readers")) }, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.assets()
			r := e.create(bearer(tc.tok()), "")
			if r.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", r.StatusCode, tc.status, r.body)
			}
			want, grew := "", 1
			if tc.status == 403 {
				want, grew = challengeForbidden, 0
			}
			if got := r.Header.Get("WWW-Authenticate"); got != want {
				t.Errorf("WWW-Authenticate %q, want %q", got, want)
			}
			if after := e.assets(); after != before+grew {
				t.Errorf("assets %d → %d", before, after)
			}
		})
	}
}

// TestAuthTypes: each scheme works where it is enabled and is a 401 with
// that server's challenges where it is not.
func TestAuthTypes(t *testing.T) {
	basicOK := "Basic " + b64(user+":"+pass)
	basicChallenge := `Basic realm="icy-morning", charset="UTF-8"`
	for _, tc := range []struct {
		authType            string
		basic, jwt, none    int
		noneChallenges      []string
		basicRefusedHeaders []string
	}{
		{"basic", 201, 401, 401, []string{basicChallenge}, nil},
		{"jwt", 401, 201, 401, []string{challengeInvalid}, []string{challengeInvalid}},
		{"basic,jwt", 201, 201, 401, []string{basicChallenge, challengeInvalid}, nil},
	} {
		t.Run(tc.authType, func(t *testing.T) {
			e := newJWTEnv(t, tc.authType)
			tok := e.is.Mint("rsa-1", e.is.Access(jwtAudience, writeScope))
			for _, c := range []struct {
				name, authz string
				want        int
			}{{"basic", basicOK, tc.basic}, {"jwt", bearer(tok), tc.jwt}, {"none", "", tc.none}} {
				before := e.assets()
				r := e.create(c.authz, "")
				if r.StatusCode != c.want {
					t.Errorf("%s credentials: status %d, want %d", c.name, r.StatusCode, c.want)
				}
				if c.want == 401 && e.assets() != before {
					t.Errorf("%s credentials: a refused request wrote", c.name)
				}
				if c.name == "none" && strings.Join(r.Header.Values("WWW-Authenticate"), "|") != strings.Join(tc.noneChallenges, "|") {
					t.Errorf("no credentials: WWW-Authenticate %q, want %q", r.Header.Values("WWW-Authenticate"), tc.noneChallenges)
				}
			}
		})
	}
}

func b64(s string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	u, p, _ := strings.Cut(s, ":")
	r.SetBasicAuth(u, p)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

// TestJWKSFloodIsBounded: tokens with random kids, sent as fast as the
// server takes them, make at most one JWKS fetch per refetch interval.
func TestJWKSFloodIsBounded(t *testing.T) {
	e := newJWTEnv(t, "jwt")
	key := testissuer.NewRSAKey(t)
	claims := e.is.Access(jwtAudience, writeScope)
	// The first valid token loads the keys.
	if r := e.create(bearer(e.is.Mint("rsa-1", claims)), ""); r.StatusCode != http.StatusCreated {
		t.Fatalf("status %d", r.StatusCode)
	}
	before := e.is.JWKSRequests()
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Go(func() {
			for i := 0; i < 40; i++ {
				b := make([]byte, 8)
				_, _ = rand.Read(b)
				tok := e.is.MintWith(jose.SigningKey{Algorithm: jose.RS256, Key: key}, hex.EncodeToString(b), "at+jwt", claims)
				hr, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/assets", strings.NewReader(assetBody))
				hr.Header.Set("Content-Type", "application/json")
				hr.Header.Set("Authorization", bearer(tok))
				res, err := http.DefaultClient.Do(hr)
				if err != nil {
					t.Error(err)
					return
				}
				res.Body.Close()
				if res.StatusCode != http.StatusUnauthorized {
					t.Errorf("random kid: status %d", res.StatusCode)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	fetches := e.is.JWKSRequests() - before
	// One per 300 ms interval, plus the one a full bucket allows at once.
	limit := int64(elapsed/(300*time.Millisecond)) + 1
	t.Logf("320 random kids in %v: %d JWKS fetches (limit %d)", elapsed, fetches, limit)
	if fetches > limit {
		t.Fatalf("%d JWKS fetches in %v, want at most %d", fetches, elapsed, limit)
	}
	if fetches != e.verifier.KeyFetches()-1 {
		t.Errorf("the issuer counted %d fetches, the verifier let %d through", fetches, e.verifier.KeyFetches()-1)
	}
	if e.assets() != 1 {
		t.Fatalf("the flood wrote")
	}
}

// TestAccessLogNamesTheTokenSubject: a token's sub is the request line's
// subject, and the principal carries its e-mail.
func TestAccessLogNamesTheTokenSubject(t *testing.T) {
	var logs bytes.Buffer
	e := newJWTEnvWith(t, "basic,jwt", httpapi.Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil))}, "")
	c := e.is.Access(jwtAudience, writeScope)
	c["sub"] = "7f1c-subject"
	if r := e.create(bearer(e.is.Mint("ec-1", c)), ""); r.StatusCode != http.StatusCreated {
		t.Fatalf("status %d", r.StatusCode)
	}
	if !strings.Contains(logs.String(), `"subject":"7f1c-subject"`) {
		t.Errorf("the request line does not name the token's subject: %s", logs.String())
	}
	p, err := e.verifier.Authenticate(t.Context(), bearer(e.is.Mint("ec-1", c)))
	if err != nil || p.Subject != "7f1c-subject" || p.Email != "user-1@example.com" || !p.CanWrite {
		t.Fatalf("principal %+v, %v", p, err)
	}
}

// TestMockOIDCIssuer: mockoidc as a real issuer over HTTP. A token from
// its authorization-code flow with PKCE authenticates (its access tokens
// carry aud = its client id); they carry no scope or group claim, so the
// write is a 403 insufficient_scope, and its ID token (with the nonce we
// asked for) is refused as an access token.
func TestMockOIDCIssuer(t *testing.T) {
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	cfg := m.Config()
	v, err := oidcauth.New(t.Context(), oidcauth.Options{IssuerURL: m.Issuer(), Audience: cfg.ClientID, WriteScope: writeScope})
	if err != nil {
		t.Fatal(err)
	}
	e := &jwtEnv{env: newEnvWith(t, "sqlite:///"+t.TempDir()+"/m.db", httpapi.Config{Auth: v})}

	verifier := oauth2.GenerateVerifier()
	conf := oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: "http://127.0.0.1/docs/oauth2-redirect.html",
		Endpoint: oauth2.Endpoint{AuthURL: m.AuthorizationEndpoint(), TokenURL: m.TokenEndpoint()}, Scopes: []string{"openid", "email"}}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noRedirect.Get(conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier), oidcNonce("nonce-1")))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, err := res.Location()
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %v", res.StatusCode, err)
	}
	tok, err := conf.Exchange(t.Context(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Authenticate(t.Context(), bearer(tok.AccessToken))
	if err != nil || p.Subject != mockoidc.DefaultUser().Subject {
		t.Fatalf("access token: %+v %v", p, err)
	}
	if r := e.create(bearer(tok.AccessToken), ""); r.StatusCode != http.StatusForbidden || r.Header.Get("WWW-Authenticate") != challengeForbidden {
		t.Errorf("access token without the write scope: %d %q", r.StatusCode, r.Header.Get("WWW-Authenticate"))
	}
	idToken, _ := tok.Extra("id_token").(string)
	if r := e.create(bearer(idToken), ""); idToken == "" || r.StatusCode != http.StatusUnauthorized {
		t.Errorf("ID token as access token: %d", r.StatusCode)
	}
	if r := e.do(req{method: "GET", path: "/api/v1/subscriptions", auth: "none", header: map[string]string{"Authorization": bearer(tok.AccessToken)}}); r.StatusCode != http.StatusForbidden {
		t.Errorf("subscription list: %d", r.StatusCode)
	}
}

func oidcNonce(n string) oauth2.AuthCodeOption { return oauth2.SetAuthURLParam("nonce", n) }

// FuzzAuthorization throws arbitrary Authorization headers at a write
// under AUTH_TYPE=basic,jwt: the answer is a 201, 401 or 403, never a 5xx
// or a panic. `go test` runs the seeds; `go test -fuzz FuzzAuthorization
// ./httpapi` explores further.
func FuzzAuthorization(f *testing.F) {
	f.Add("")
	f.Add("Bearer ")
	f.Add("Bearer garbage")
	f.Add("bearer a.b.c")
	f.Add("Basic " + b64(user+":"+pass))
	f.Add("Basic !!!")
	f.Add("Bearer " + strings.Repeat("A", 9000))
	f.Add("Bearer eyJhbGciOiJub25lIn0.e30.")
	f.Add("Bearer ЖЖЖ.☃.\u00ff")
	f.Add("Bearer \x00\xff.\xfe")
	f.Fuzz(func(t *testing.T, authz string) {
		// A server per input: slow for long fuzzing runs, but no state
		// (throttle, cached keys) carries over from one input to another.
		e := newJWTEnv(t, "basic,jwt")
		if authz == "" {
			// A seed only newJWTEnv can make: a valid token.
			authz = bearer(e.is.Mint("rsa-1", e.is.Access(jwtAudience, writeScope)))
		}
		hr, err := http.NewRequest("POST", e.srv.URL+"/api/v1/assets", strings.NewReader(assetBody))
		if err != nil {
			t.Fatal(err)
		}
		hr.Header.Set("Content-Type", "application/json")
		hr.Header["Authorization"] = []string{authz}
		res, err := http.DefaultClient.Do(hr)
		if err != nil {
			// net/http refuses to send some header values (control
			// characters): nothing reached the server.
			return
		}
		res.Body.Close()
		switch res.StatusCode {
		case http.StatusCreated, http.StatusUnauthorized, http.StatusForbidden, http.StatusBadRequest:
		default:
			t.Fatalf("Authorization %q: status %d", authz, res.StatusCode)
		}
	})
}
