package icymorning

import "context"

// Principal is whoever a request acts for.
type Principal struct {
	// Subject identifies the principal: a user name, or a token's subject.
	Subject string
}

// Authenticator checks the credentials a request carries. Basic auth and a
// JWT verifier both implement it, so the HTTP layer knows neither.
type Authenticator interface {
	// Authenticate checks an HTTP Authorization header value and returns
	// the principal, or an EUNAUTHORIZED error.
	Authenticate(ctx context.Context, authorization string) (*Principal, error)
	// Challenge is the WWW-Authenticate value sent with a 401.
	Challenge() string
}
