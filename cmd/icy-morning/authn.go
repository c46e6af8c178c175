package main

import (
	"context"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/auth"
	"github.com/icy-morning/icy-morning/oidcauth"
)

// authenticator builds what AUTH_TYPE asks for: basic (made by basic, so
// that serve and Lambda each find the account their own way), the
// OpenID Connect verifier (which discovers the issuer now, so a wrong
// OIDC_ISSUER_URL stops the start instead of refusing every token), or
// either of the two.
func authenticator(ctx context.Context, c *config, basic func() (icymorning.Authenticator, error)) (icymorning.Authenticator, error) {
	var all auth.Either
	if c.authBasic {
		b, err := basic()
		if err != nil {
			return nil, err
		}
		all = append(all, b)
	}
	if c.authJWT {
		v, err := oidcauth.New(ctx, c.oidc)
		if err != nil {
			return nil, err
		}
		all = append(all, v)
	}
	if len(all) == 1 {
		return all[0], nil
	}
	return all, nil
}
