package icymorning

import "context"

// Principal is whoever a request acts for.
type Principal struct {
	// Subject identifies the principal: a user name, or a token's subject.
	Subject string
	// Email is the token's e-mail claim, when it has one.
	Email string
	// CanWrite is the write permission: what writes, the subscription list
	// and the delivery log need. Credentials can be valid without it (a
	// token lacking the write scope or group), which is a 403, not a 401.
	CanWrite bool
}

// Authenticator checks the credentials a request carries. Basic auth and a
// JWT verifier both implement it, so the HTTP layer knows neither.
type Authenticator interface {
	// Authenticate checks an HTTP Authorization header value and returns
	// the principal, or an EUNAUTHORIZED error.
	Authenticate(ctx context.Context, authorization string) (*Principal, error)
	// Challenges are the WWW-Authenticate values of a refusal of the
	// request that carried authorization: err is why (EUNAUTHORIZED for a
	// 401, EFORBIDDEN for a 403), so that a bearer scheme can say
	// invalid_token or insufficient_scope (RFC 6750 §3).
	Challenges(authorization string, err error) []string
	// Schemes describe the credentials for the API document, so that the
	// document always names the authenticators in use; any one of them
	// is enough.
	Schemes() []SecurityScheme
}

// SecurityScheme describes how credentials travel, in the terms of an
// OpenAPI security scheme: type "http" with scheme "basic" or "bearer",
// or type "oauth2" with an authorization-code Flow (how a person gets a
// bearer token from the provider, which the API docs' login uses).
type SecurityScheme struct {
	// Name is the scheme's key in the document, such as "basicAuth".
	Name         string
	Type         string
	Scheme       string
	BearerFormat string
	Description  string
	// Flow is the authorization-code flow of a type "oauth2" scheme.
	Flow *OAuth2Flow
	// Scopes are what a protected operation's requirement of this scheme
	// lists: the scopes that grant the write permission.
	Scopes []string
}

// OAuth2Flow is an OAuth 2.0 authorization-code flow with PKCE (RFC 7636).
type OAuth2Flow struct {
	AuthorizationURL, TokenURL string
	// Scopes are the scopes a client may ask for, with what each grants.
	Scopes map[string]string
	// ClientID is the public client the API docs log in with. It is not
	// part of the OpenAPI document; the docs page is given it.
	ClientID string
	// LoginScopes are the scopes the docs' login asks for by default.
	LoginScopes []string
}

type principalKey struct{}

// WithPrincipal returns ctx carrying the principal a request acts for.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal ctx carries, if any: the one place
// that reads what WithPrincipal stored.
func PrincipalFrom(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}
