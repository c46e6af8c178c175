// Package auth holds the authenticators of Icy Morning's write routes.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"

	icymorning "github.com/icy-morning/icy-morning"
)

// Basic checks HTTP Basic credentials (RFC 7617) against one account.
type Basic struct {
	user, pass [sha256.Size]byte
	realm      string
}

var _ icymorning.Authenticator = (*Basic)(nil)

// NewBasic returns a Basic authenticator for one account. Empty credentials
// are refused: the Python service accepted any request when none were
// configured, which left every write open.
func NewBasic(username, password string) (*Basic, error) {
	if username == "" || password == "" {
		return nil, icymorning.Errorf(icymorning.EINVALID, "basic auth needs a non-empty username and password")
	}
	return &Basic{user: sha256.Sum256([]byte(username)), pass: sha256.Sum256([]byte(password)), realm: "icy-morning"}, nil
}

// GeneratePassword returns a random password for the local account that
// serve creates when none is configured.
func GeneratePassword() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b) // never fails on supported platforms (crypto/rand docs)
	return base64.RawURLEncoding.EncodeToString(b)
}

var errBadCredentials = icymorning.Errorf(icymorning.EUNAUTHORIZED, "valid Basic credentials are required")

// Authenticate implements icymorning.Authenticator. The comparison takes
// the same time whatever the input: both values are hashed to a fixed length
// and both are always compared, so timing tells nothing about either.
func (b *Basic) Authenticate(_ context.Context, authorization string) (*icymorning.Principal, error) {
	// net/http's parser (RFC 7617: scheme case-insensitive, base64,
	// user and password split at the first colon) on a request that
	// carries only this header.
	user, pass, ok := (&http.Request{Header: http.Header{"Authorization": {authorization}}}).BasicAuth()
	if !ok {
		return nil, errBadCredentials
	}
	u, p := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass))
	match := subtle.ConstantTimeCompare(u[:], b.user[:]) & subtle.ConstantTimeCompare(p[:], b.pass[:])
	if match != 1 {
		return nil, errBadCredentials
	}
	// The one account is the service's administrator: it may write.
	return &icymorning.Principal{Subject: user, CanWrite: true}, nil
}

// Challenges implements icymorning.Authenticator. The account can do
// everything, so there is only the 401's challenge.
func (b *Basic) Challenges(string, error) []string {
	return []string{`Basic realm="` + b.realm + `", charset="UTF-8"`}
}

// Schemes implements icymorning.Authenticator.
func (b *Basic) Schemes() []icymorning.SecurityScheme {
	return []icymorning.SecurityScheme{{Name: "basicAuth", Type: "http", Scheme: "basic",
		Description: "The account set by BASIC_AUTH_USERNAME and BASIC_AUTH_PASSWORD."}}
}
