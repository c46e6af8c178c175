// Package httpapi is Icy Morning's HTTP API: one http.Handler that serves
// the REST API v1, its OpenAPI document and its docs, used alike by the
// local server and the Lambda adapter.
package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/internal/swaggerui"
)

// Config holds what the server needs.
type Config struct {
	Store  icymorning.Store
	Auth   icymorning.Authenticator
	Logger *slog.Logger
	// Version is reported in the OpenAPI document.
	Version string
	// RequestTimeout bounds the work done for one request, database calls
	// included, so that a stuck database cannot pile up requests; past it
	// the client gets a 503. Zero means DefaultRequestTimeout.
	RequestTimeout time.Duration
}

// DefaultRequestTimeout is the default Config.RequestTimeout: shorter than
// the HTTP server's write timeout, so the 503 can still be sent.
const DefaultRequestTimeout = 15 * time.Second

// Server is the HTTP API.
type Server struct {
	timeout time.Duration
	store   icymorning.Store
	auth    icymorning.Authenticator
	logger  *slog.Logger
	api     huma.API
	handler http.Handler
}

// MaxBodyBytes bounds request bodies; larger ones get 413.
const MaxBodyBytes = 1 << 20

// securityScheme is the name of Basic auth in the OpenAPI document.
const securityScheme = "basicAuth"

// NewServer builds the API and its routes.
func NewServer(c Config) *Server {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	s := &Server{store: c.Store, auth: c.Auth, logger: c.Logger, timeout: c.RequestTimeout}

	cfg := huma.DefaultConfig("Icy Morning API", c.Version)
	cfg.Info.Description = "Tracks investment assets and the analysts who cover them, " +
		"and e-mails subscribers when assets change. Reads are open; writes need HTTP Basic credentials."
	// No $schema member or describedby links: clients of the Python service
	// compare whole bodies, which must hold the contract's members only.
	cfg.CreateHooks = nil
	cfg.DocsPath = ""    // Swagger UI is served from embedded assets below
	cfg.SchemasPath = "" // the schemas are in the OpenAPI document
	cfg.OpenAPIPath = "/openapi"
	// A relative server keeps "Try it out" working under a path prefix
	// such as an API Gateway stage.
	cfg.Servers = []*huma.Server{{URL: ".", Description: "this server"}}
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		securityScheme: {Type: "http", Scheme: "basic", Description: "The account set by BASIC_AUTH_USERNAME and BASIC_AUTH_PASSWORD."},
	}

	cfg.Formats = map[string]huma.Format{"application/json": strictJSON, "json": strictJSON}

	mux := http.NewServeMux()
	s.api = humago.New(mux, cfg)
	s.api.UseMiddleware(s.authenticate)
	s.routes()
	docs := swaggerui.Handler("openapi.json", http.HandlerFunc(notFound))
	mux.Handle("GET /docs", docs)
	mux.Handle("GET /docs/", docs)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		// A relative Location (http.Redirect would make it absolute) keeps
		// any path prefix, such as an API Gateway stage.
		w.Header().Set("Location", "docs")
		w.WriteHeader(http.StatusFound)
	})
	mux.Handle(catchAll, notRouted(mux))

	s.handler = s.observe(mux)
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// OpenAPI returns the API's OpenAPI document.
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

// requiresAuth reports whether an operation needs credentials: exactly
// those that declare the security scheme, so the document and the check
// cannot disagree.
func requiresAuth(op *huma.Operation) bool {
	for _, req := range op.Security {
		if _, ok := req[securityScheme]; ok {
			return true
		}
	}
	return false
}

// authenticate is the Huma middleware that guards operations declaring
// the security scheme. It runs before the body is read, so an anonymous
// client cannot make the server parse anything.
func (s *Server) authenticate(ctx huma.Context, next func(huma.Context)) {
	if !requiresAuth(ctx.Operation()) {
		next(ctx)
		return
	}
	p, err := s.auth.Authenticate(ctx.Context(), ctx.Header("Authorization"))
	if err != nil {
		ctx.SetHeader("WWW-Authenticate", s.auth.Challenge())
		msg := "valid credentials are required"
		if icymorning.ErrorCode(err) == icymorning.EUNAUTHORIZED {
			msg = icymorning.ErrorMessage(err)
		}
		_ = huma.WriteErr(s.api, ctx, http.StatusUnauthorized, msg)
		return
	}
	next(huma.WithValue(ctx, principalKey, p))
}

const principalKey ctxKey = iota + 100

// strictJSON is Huma's JSON format, but refusing bodies that are not UTF-8
// (RFC 8259 §8.1) instead of letting encoding/json replace the bad bytes
// with U+FFFD and store text the client never sent.
var strictJSON = huma.Format{
	Marshal: huma.DefaultJSONFormat.Marshal,
	Unmarshal: func(data []byte, v any) error {
		if !utf8.Valid(data) {
			return errors.New("body is not valid UTF-8")
		}
		return huma.DefaultJSONFormat.Unmarshal(data, v)
	},
}
