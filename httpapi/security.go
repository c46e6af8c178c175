package httpapi

import (
	"github.com/danielgtaylor/huma/v2"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/internal/swaggerui"
)

// securitySchemes are the document's components.securitySchemes: what
// the authenticator declares, so the document always describes the
// credentials the server actually takes.
func securitySchemes(schemes []icymorning.SecurityScheme) map[string]*huma.SecurityScheme {
	out := make(map[string]*huma.SecurityScheme, len(schemes))
	for _, sc := range schemes {
		hs := &huma.SecurityScheme{Type: sc.Type, Scheme: sc.Scheme, BearerFormat: sc.BearerFormat, Description: sc.Description}
		if f := sc.Flow; f != nil {
			hs.Flows = &huma.OAuthFlows{AuthorizationCode: &huma.OAuthFlow{
				AuthorizationURL: f.AuthorizationURL, TokenURL: f.TokenURL, Scopes: f.Scopes}}
		}
		out[sc.Name] = hs
	}
	return out
}

// docsLogin is the docs page's login through the provider, when a scheme
// offers an authorization-code flow with a client for it.
func docsLogin(schemes []icymorning.SecurityScheme) *swaggerui.Login {
	for _, sc := range schemes {
		if f := sc.Flow; f != nil && f.ClientID != "" {
			return &swaggerui.Login{ClientID: f.ClientID, Scopes: f.LoginScopes, TokenURL: f.TokenURL}
		}
	}
	return nil
}
