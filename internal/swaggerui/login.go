package swaggerui

import (
	"fmt"
	"net/url"
	"strings"
)

// redirectPage is where the provider sends the browser back after the
// login, under MountPath: the address to register as the client's
// callback (for example https://api.example.com/docs/oauth2-redirect.html).
const redirectPage = "oauth2-redirect.html"

// Login is the docs page's login through an OAuth 2.0 provider:
// Swagger UI's Authorize dialog runs the authorization-code flow with
// PKCE for a public client, so no secret is in the page.
type Login struct {
	// ClientID is the provider's public client for the docs.
	ClientID string
	// Scopes are ticked in the dialog to begin with.
	Scopes []string
	// TokenURL is the provider's token endpoint, which the page calls
	// (so its origin joins the page's connect-src).
	TokenURL string
}

// tokenOrigin is TokenURL's origin as a CSP source expression. The URL
// comes from the provider's discovery document, so it is checked to be a
// plain http(s) origin before it goes into a header.
func (l *Login) tokenOrigin() (string, error) {
	u, err := url.Parse(l.TokenURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		strings.Trim(u.Host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") != "" {
		return "", fmt.Errorf("token endpoint %q is not an http(s) URL with a plain host", l.TokenURL)
	}
	return u.Scheme + "://" + u.Host, nil
}
