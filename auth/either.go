package auth

import (
	"context"
	"strings"

	icymorning "github.com/icy-morning/icy-morning"
)

// Either accepts the credentials of any of its authenticators (AUTH_TYPE
// basic,jwt). It picks the one whose HTTP scheme the Authorization header
// names, so a Basic header never reaches the token verifier, nor a bearer
// token the password check; a scheme none of them takes is a 401.
type Either []icymorning.Authenticator

var _ icymorning.Authenticator = Either(nil)

// pick returns the authenticator for the header's scheme, if any.
func (e Either) pick(authorization string) icymorning.Authenticator {
	scheme, _, _ := strings.Cut(authorization, " ")
	for _, a := range e {
		for _, sc := range a.Schemes() {
			// Schemes are case-insensitive (RFC 9110 §11.1).
			if sc.Type == "http" && strings.EqualFold(sc.Scheme, scheme) {
				return a
			}
		}
	}
	return nil
}

// Authenticate implements icymorning.Authenticator.
func (e Either) Authenticate(ctx context.Context, authorization string) (*icymorning.Principal, error) {
	a := e.pick(authorization)
	if a == nil {
		return nil, icymorning.Errorf(icymorning.EUNAUTHORIZED, "valid credentials are required (%s)", e.names())
	}
	return a.Authenticate(ctx, authorization)
}

// Challenges implements icymorning.Authenticator: the chosen scheme's
// challenges, or every scheme's when the header names none of them, so
// that the client learns what it may use.
func (e Either) Challenges(authorization string, err error) []string {
	if a := e.pick(authorization); a != nil {
		return a.Challenges(authorization, err)
	}
	var out []string
	for _, a := range e {
		out = append(out, a.Challenges("", err)...)
	}
	return out
}

// Schemes implements icymorning.Authenticator.
func (e Either) Schemes() []icymorning.SecurityScheme {
	var out []icymorning.SecurityScheme
	for _, a := range e {
		out = append(out, a.Schemes()...)
	}
	return out
}

func (e Either) names() string {
	var names []string
	for _, sc := range e.Schemes() {
		if sc.Type == "http" {
			names = append(names, sc.Scheme)
		}
	}
	return strings.Join(names, " or ")
}
