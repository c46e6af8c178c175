// Package oidcauth verifies OpenID Connect bearer tokens (JWT access
// tokens) with github.com/coreos/go-oidc: the one package that knows it.
package oidcauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	icymorning "github.com/icy-morning/icy-morning"
)

// MaxTokenBytes bounds a bearer token: larger ones are refused before
// anything parses them. Real access tokens are 1–2 KB (Cognito's about
// 1 KB, Entra ID's with many groups about 4 KB).
const MaxTokenBytes = 8 << 10

// Leeway is how far the clocks of the provider and of this service may
// disagree about nbf and iat. go-oidc checks exp without leeway.
const Leeway = 60 * time.Second

// plainURL is an http(s) URL whose host is a plain name or address: the
// docs page puts the token endpoint's origin into its Content-Security-Policy.
var plainURL = regexp.MustCompile(`^https?://[A-Za-z0-9.-]+(:[0-9]+)?(/|$)`)

// DefaultRefetchInterval is Options.RefetchInterval's default.
const DefaultRefetchInterval = time.Minute

// algorithms are the signature algorithms accepted: asymmetric only.
// HMAC would let anyone who knows the "secret" (often the public key, in
// the classic confusion attack) mint tokens, and "none" signs nothing.
var algorithms = []string{
	oidc.RS256, oidc.RS384, oidc.RS512,
	oidc.ES256, oidc.ES384, oidc.ES512,
	oidc.PS256, oidc.PS384, oidc.PS512,
}

// Options configure a Verifier.
type Options struct {
	// IssuerURL is the provider's issuer (OIDC_ISSUER_URL): discovery
	// reads IssuerURL/.well-known/openid-configuration, whose issuer must
	// be this exactly, as must every token's iss.
	IssuerURL string
	// Audience (OIDC_AUDIENCE) is accepted in a token's aud.
	Audience string
	// ClientIDs (OIDC_CLIENT_IDS) are app clients whose Cognito-style
	// access tokens (client_id and token_use "access", no aud) are
	// accepted. At least one of Audience and ClientIDs is required.
	ClientIDs []string
	// WriteScope (OIDC_WRITE_SCOPE) in scope or scp grants the write
	// permission.
	WriteScope string
	// GroupsClaim (OIDC_GROUPS_CLAIM) names the claim listing the
	// subject's groups; WriteGroup (OIDC_WRITE_GROUP) in it grants the
	// write permission. Both or neither.
	GroupsClaim, WriteGroup string
	// DocsClientID (OIDC_DOCS_CLIENT_ID) is a public app client
	// (authorization code with PKCE, no secret) that the API docs log in
	// with: the document then also describes an OAuth 2.0 flow at the
	// provider's endpoints. Empty: the docs take a pasted token only.
	DocsClientID string
	// RefetchInterval is the least time between two fetches of the JWKS;
	// 0 means DefaultRefetchInterval.
	RefetchInterval time.Duration
	// Client makes the requests to the provider; nil means one with a
	// 10-second timeout.
	Client *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Verifier is the bearer-token authenticator.
type Verifier struct {
	o        Options
	endpoint oauth2Endpoint // the provider's, from discovery
	verifier *oidc.IDTokenVerifier
	keys     *limitedTransport // the gate of JWKS fetches
	verified *tokenCache       // tokens that passed every check (cache.go)
}

var _ icymorning.Authenticator = (*Verifier)(nil)

// Check refuses options New would refuse, before any request: for
// configuration checks at start-up.
func (o *Options) Check() error {
	switch {
	case o.IssuerURL == "":
		return errors.New("OIDC_ISSUER_URL is required")
	case o.Audience == "" && len(o.ClientIDs) == 0:
		return errors.New("set OIDC_AUDIENCE or OIDC_CLIENT_IDS (or both): without one any token of the issuer, for any application, would be accepted")
	case (o.GroupsClaim == "") != (o.WriteGroup == ""):
		return errors.New("set OIDC_GROUPS_CLAIM and OIDC_WRITE_GROUP together")
	case o.WriteScope == "" && o.WriteGroup == "":
		return errors.New("set OIDC_WRITE_SCOPE or OIDC_GROUPS_CLAIM with OIDC_WRITE_GROUP: nothing would grant the write permission")
	case strings.ContainsAny(o.WriteScope, "\"\\ "):
		// It goes inside a quoted string of WWW-Authenticate, and a
		// scope token has neither quotes, backslashes nor spaces
		// (RFC 6749 §3.3).
		return fmt.Errorf("OIDC_WRITE_SCOPE %q: one scope, without spaces, quotes or backslashes", o.WriteScope)
	}
	for _, id := range o.ClientIDs {
		if id == "" {
			return errors.New("OIDC_CLIENT_IDS: an empty client id")
		}
	}
	return nil
}

// New discovers the provider at o.IssuerURL (one request, now) and
// returns its verifier. Keys are fetched on the first token and cached;
// an unknown kid refetches them, at most once per RefetchInterval.
func New(ctx context.Context, o Options) (*Verifier, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if o.RefetchInterval <= 0 {
		o.RefetchInterval = DefaultRefetchInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	// go-oidc compares the document's issuer with this URL exactly.
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, o.Client), o.IssuerURL)
	if err != nil {
		return nil, fmt.Errorf("OIDC_ISSUER_URL %q: discovery: %w", o.IssuerURL, err)
	}
	var doc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := provider.Claims(&doc); err != nil || doc.JWKSURI == "" {
		return nil, fmt.Errorf("OIDC_ISSUER_URL %q: the discovery document names no jwks_uri", o.IssuerURL)
	}
	ep := oauth2Endpoint{authorization: provider.Endpoint().AuthURL, token: provider.Endpoint().TokenURL}
	if o.DocsClientID != "" && (!plainURL.MatchString(ep.authorization) || !plainURL.MatchString(ep.token)) {
		return nil, fmt.Errorf("OIDC_DOCS_CLIENT_ID is set but the discovery document of %q names no http(s) authorization_endpoint and token_endpoint", o.IssuerURL)
	}
	// go-oidc's RemoteKeySet coalesces concurrent refetches into one, but
	// does not rate-limit them: every token whose kid it does not know,
	// or whose signature fails, makes it fetch the JWKS again, one after
	// another. Its requests therefore go through limitedTransport, which
	// lets one through per RefetchInterval and fails the others (the
	// cached keys stay), so a flood of random kids costs the provider at
	// most one request per interval.
	lt := newLimitedTransport(o.Client.Transport, o.RefetchInterval)
	keyClient := &http.Client{Transport: lt, Timeout: o.Client.Timeout}
	keySet := oidc.NewRemoteKeySet(oidc.ClientContext(context.WithoutCancel(ctx), keyClient), doc.JWKSURI)
	v := oidc.NewVerifier(o.IssuerURL, keySet, &oidc.Config{
		// The audience is checked in Authenticate, which knows both aud
		// and Cognito's client_id; go-oidc's check knows only aud.
		SkipClientIDCheck:    true,
		SupportedSigningAlgs: algorithms,
		Now:                  o.Now,
	})
	return &Verifier{o: o, endpoint: ep, verifier: v, keys: lt, verified: newTokenCache(&lt.fetches, o.Now)}, nil
}

// KeyFetches is how many JWKS requests have gone to the provider.
func (v *Verifier) KeyFetches() int64 { return v.keys.fetches.Load() }

var errInvalidToken = icymorning.Errorf(icymorning.EUNAUTHORIZED, "a valid bearer token is required")

// claims are the members of an access token this service reads.
type claims struct {
	Subject   string          `json:"sub"`
	Email     string          `json:"email"`
	Audience  audience        `json:"aud"`
	ClientID  string          `json:"client_id"`
	TokenUse  *string         `json:"token_use"`
	Scope     string          `json:"scope"`
	Scp       json.RawMessage `json:"scp"`
	Nonce     *string         `json:"nonce"`
	AtHash    *string         `json:"at_hash"`
	NotBefore *float64        `json:"nbf"`
	IssuedAt  *float64        `json:"iat"`
}

// audience is aud: one string or an array of them (RFC 7519 §4.1.3).
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var list []string
	err := unmarshalStrings(b, &list)
	*a = list
	return err
}

// unmarshalStrings reads a string or an array of strings.
func unmarshalStrings(b []byte, list *[]string) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*list = []string{one}
		return nil
	}
	return json.Unmarshal(b, list)
}

// Authenticate implements icymorning.Authenticator. Only the
// Authorization header carries a token (RFC 6750 §2.1): never a query
// string, which would end in access logs and browser histories.
func (v *Verifier) Authenticate(ctx context.Context, authorization string) (*icymorning.Principal, error) {
	scheme, token, _ := strings.Cut(authorization, " ")
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil, errInvalidToken
	}
	if len(token) > MaxTokenBytes {
		return nil, icymorning.Errorf(icymorning.EUNAUTHORIZED, "the bearer token is over %d bytes", MaxTokenBytes)
	}
	key := sha256.Sum256([]byte(token))
	if p, ok := v.verified.get(key); ok {
		return p, nil
	}
	gen := v.keys.fetches.Load()
	if err := checkHeader(token); err != nil {
		return nil, errInvalidToken
	}
	idt, err := v.verifier.Verify(ctx, token)
	if err != nil {
		return nil, errInvalidToken
	}
	var c claims
	if err := idt.Claims(&c); err != nil {
		return nil, errInvalidToken
	}
	if err := v.checkClaims(&c); err != nil {
		return nil, err
	}
	p := &icymorning.Principal{Subject: c.Subject, Email: c.Email, CanWrite: v.canWrite(idt, &c)}
	v.verified.put(key, p, idt.Expiry, gen)
	return p, nil
}

// checkHeader refuses, before any signature work, a token whose header
// names an algorithm we never accept (go-oidc refuses them too) or a type
// that is not an access token's. typ "JWT" is allowed: Okta, Auth0 and
// Entra ID send it on access tokens, so it cannot tell an ID token apart;
// the claims do that (checkClaims).
func checkHeader(token string) error {
	head, _, ok := strings.Cut(token, ".")
	if !ok {
		return errInvalidToken
	}
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return err
	}
	var h struct {
		Alg string `json:"alg"`
		Typ string `json:"typ"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return err
	}
	if !slices.Contains(algorithms, h.Alg) {
		return errInvalidToken
	}
	switch strings.ToLower(h.Typ) {
	case "", "jwt", "at+jwt", "application/at+jwt":
		return nil
	}
	return errInvalidToken
}

// checkClaims checks what go-oidc does not: that the token is an access
// token for this service, and nbf and iat with our leeway (go-oidc allows
// five minutes on nbf and does not look at iat).
func (v *Verifier) checkClaims(c *claims) error {
	now := v.o.Now()
	if c.Subject == "" {
		return errInvalidToken
	}
	if c.NotBefore != nil && time.Unix(int64(*c.NotBefore), 0).After(now.Add(Leeway)) {
		return errInvalidToken
	}
	if c.IssuedAt != nil && time.Unix(int64(*c.IssuedAt), 0).After(now.Add(Leeway)) {
		return errInvalidToken
	}
	// An ID token proves who signed in to a client, not that the client
	// may call this API. Cognito says which it is (token_use); for other
	// providers nonce and at_hash are claims of ID tokens only (OpenID
	// Connect Core §2, §3.1.3.6).
	if c.TokenUse != nil && *c.TokenUse != "access" || c.Nonce != nil || c.AtHash != nil {
		return errInvalidToken
	}
	if v.o.Audience != "" && slices.Contains(c.Audience, v.o.Audience) {
		return nil
	}
	// Cognito's access tokens have no aud: the app client is client_id,
	// accepted only on a token that says it is an access token.
	if c.TokenUse != nil && *c.TokenUse == "access" && c.ClientID != "" && slices.Contains(v.o.ClientIDs, c.ClientID) {
		return nil
	}
	return errInvalidToken
}

// canWrite reports whether the token grants the write permission: the
// write scope in scope (a space-separated string, RFC 8693 §4.2) or scp
// (Okta's array, Entra ID's space-separated string), or the write group in
// the groups claim.
func (v *Verifier) canWrite(idt *oidc.IDToken, c *claims) bool {
	if v.o.WriteScope != "" {
		if slices.Contains(strings.Fields(c.Scope), v.o.WriteScope) {
			return true
		}
		var scp []string
		if len(c.Scp) > 0 && unmarshalStrings(c.Scp, &scp) == nil {
			for _, s := range scp {
				if slices.Contains(strings.Fields(s), v.o.WriteScope) {
					return true
				}
			}
		}
	}
	if v.o.GroupsClaim != "" {
		var all map[string]json.RawMessage
		var groups []string
		if idt.Claims(&all) == nil && len(all[v.o.GroupsClaim]) > 0 && unmarshalStrings(all[v.o.GroupsClaim], &groups) == nil {
			return slices.Contains(groups, v.o.WriteGroup)
		}
	}
	return false
}

// Challenges implements icymorning.Authenticator (RFC 6750 §3).
func (v *Verifier) Challenges(_ string, err error) []string {
	if icymorning.ErrorCode(err) == icymorning.EFORBIDDEN {
		scope := v.o.WriteScope
		if scope == "" {
			return []string{`Bearer error="insufficient_scope"`}
		}
		return []string{`Bearer error="insufficient_scope", scope="` + scope + `"`}
	}
	return []string{`Bearer error="invalid_token"`}
}
