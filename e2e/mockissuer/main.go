// Command mockissuer runs a real OpenID Connect provider on loopback for the
// browser test of the docs' login (e2e/sso.test.mjs): the module
// github.com/oauth2-proxy/mockoidc, whose authorization endpoint, PKCE check,
// token endpoint, discovery document and JWKS do the work. It prints one JSON
// line ({"issuer", "client_id", "subject"}) when it listens, and runs until
// SIGTERM or SIGINT.
//
// mockoidc is made for a server-side client, so three small middlewares make
// it the provider the docs page meets in production (Cognito, Okta, Entra
// ID), which mockoidc cannot be configured to be:
//   - CORS on its endpoints: the docs page calls the token endpoint from the
//     browser.
//   - A public client: a token request that proves its code with a PKCE
//     code_verifier needs no client secret (mockoidc always asks for one; a
//     page cannot keep one).
//   - Granted scopes in the access token's scope claim, as providers put
//     them (mockoidc's access tokens carry only registered claims), signed
//     again with mockoidc's own key.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "mockissuer:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("mockissuer", flag.ContinueOnError)
	subject := fs.String("subject", "sso-e2e-user", "the subject of every login")
	email := fs.String("email", "sso-e2e@example.com", "its e-mail")
	scope := fs.String("scope", "icy-morning/write", "a scope the provider grants beside the OpenID ones")
	if err := fs.Parse(args); err != nil {
		return err
	}
	mockoidc.ScopesSupported = append(mockoidc.ScopesSupported, *scope)
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		return err
	}
	for _, mw := range []func(http.Handler) http.Handler{cors, publicClient(m), scopedAccessTokens(m)} {
		if err := m.AddMiddleware(mw); err != nil {
			return err
		}
	}
	// Each login takes a user from the queue (then mockoidc's default
	// user): enough for a test's few logins.
	for range 16 {
		m.QueueUser(&mockoidc.MockUser{Subject: *subject, Email: *email, EmailVerified: true})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	if err := m.Start(ln, nil); err != nil {
		return err
	}
	defer m.Shutdown()
	if err := json.NewEncoder(stdout).Encode(map[string]string{"issuer": m.Issuer(), "client_id": m.ClientID, "subject": *subject}); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

// cors lets any page call the provider, as the endpoints a browser calls
// (token, userinfo, JWKS, discovery) of a public provider do.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
			w.Header().Set("Access-Control-Allow-Headers", r.Header.Get("Access-Control-Request-Headers"))
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// publicClient fills in the client secret of a token request that has
// none but proves its code with a PKCE verifier, which mockoidc then
// checks against the challenge of the authorization request.
func publicClient(m *mockoidc.MockOIDC) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == mockoidc.TokenEndpoint && r.ParseForm() == nil &&
				r.Form.Get("client_secret") == "" && r.Form.Get("code_verifier") != "" {
				r.Form.Set("client_secret", m.ClientSecret)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// scopedAccessTokens adds the scopes the authorization request was
// granted to the access token that the token endpoint answers with.
func scopedAccessTokens(m *mockoidc.MockOIDC) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != mockoidc.TokenEndpoint || r.ParseForm() != nil {
				next.ServeHTTP(w, r)
				return
			}
			var scopes []string
			if s, err := m.SessionStore.GetSessionByID(r.Form.Get("code")); err == nil {
				scopes = s.Scopes
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			body := rec.Body.Bytes()
			if rec.Code == http.StatusOK {
				var err error
				if body, err = withScope(m, body, strings.Join(scopes, " ")); err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(rec.Code)
			_, _ = w.Write(body)
		})
	}
}

// withScope re-signs the access token of a token response with scope.
func withScope(m *mockoidc.MockOIDC, response []byte, scope string) ([]byte, error) {
	var tr map[string]any
	if err := json.Unmarshal(response, &tr); err != nil {
		return nil, err
	}
	at, _ := tr["access_token"].(string)
	tok, err := m.Keypair.VerifyJWT(at, m.Now)
	if err != nil {
		return nil, err
	}
	claims, ok := tok.Claims.(jwt.MapClaims)
	if !ok {
		return nil, errors.New("the access token's claims are not a JSON object")
	}
	claims["scope"] = scope
	if tr["access_token"], err = m.Keypair.SignJWT(claims); err != nil {
		return nil, err
	}
	return json.Marshal(tr)
}
