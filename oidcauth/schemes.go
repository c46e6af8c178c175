package oidcauth

import (
	icymorning "github.com/icy-morning/icy-morning"
)

// oauth2Endpoint is where a person gets a token: the provider's
// authorization and token endpoints, from its discovery document.
type oauth2Endpoint struct{ authorization, token string }

// Schemes implements icymorning.Authenticator: the bearer scheme the API
// checks, and, with a docs client (OIDC_DOCS_CLIENT_ID), the provider's
// authorization-code flow by which the docs page gets such a token. Both
// end in the same Authorization: Bearer header.
func (v *Verifier) Schemes() []icymorning.SecurityScheme {
	var needs []string
	if v.o.WriteScope != "" {
		needs = []string{v.o.WriteScope}
	}
	bearer := icymorning.SecurityScheme{Name: "bearerAuth", Type: "http", Scheme: "bearer", BearerFormat: "JWT",
		// No Scopes: a requirement of an http scheme lists none (OpenAPI
		// 3.1 §4.8.30); the description says them.
		Description: "An access token from " + v.o.IssuerURL + " (OIDC_ISSUER_URL) in the Authorization header. " + v.grants()}
	if v.o.DocsClientID == "" {
		return []icymorning.SecurityScheme{bearer}
	}
	scopes := map[string]string{"openid": "Sign in (OpenID Connect)."}
	login := []string{"openid"}
	if v.o.WriteScope != "" {
		scopes[v.o.WriteScope] = "Create, change and delete assets and analysts; list subscriptions and deliveries."
		login = append(login, v.o.WriteScope)
	}
	return []icymorning.SecurityScheme{bearer, {
		Name: "oidcLogin", Type: "oauth2",
		Description: "Log in at " + v.o.IssuerURL + " (authorization code with PKCE) to get the bearer token. " + v.grants(),
		Flow: &icymorning.OAuth2Flow{AuthorizationURL: v.endpoint.authorization, TokenURL: v.endpoint.token,
			Scopes: scopes, ClientID: v.o.DocsClientID, LoginScopes: login},
		Scopes: needs,
	}}
}

// grants says what gives a token the write permission.
func (v *Verifier) grants() string {
	switch {
	case v.o.WriteScope != "" && v.o.WriteGroup != "":
		return "Writes need the scope " + v.o.WriteScope + " or the group " + v.o.WriteGroup + " (in " + v.o.GroupsClaim + ")."
	case v.o.WriteGroup != "":
		return "Writes need the group " + v.o.WriteGroup + " (in " + v.o.GroupsClaim + ")."
	default:
		return "Writes need the scope " + v.o.WriteScope + "."
	}
}
