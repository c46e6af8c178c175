// Package httpapi is Icy Morning's HTTP API: one http.Handler that serves
// the REST API v1, its OpenAPI document and its docs, used alike by the
// local server and the Lambda adapter.
package httpapi

import (
	"log/slog"
	"net/http"
	"time"

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
	// Version is the build's version, answered in the X-Build-Version
	// header of /healthz; the document's version is APIVersion.
	Version string
	// RequestTimeout bounds the work done for one request, database calls
	// included, so that a stuck database cannot pile up requests; past it
	// the client gets a 503. Zero means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// AuthThrottle limits failed authentications per client address.
	AuthThrottle AuthThrottle
	// Notifier mails confirmation links and reads the tokens of
	// confirmation and unsubscribe links (notify.Service). Nil: the public
	// sign-up, confirmation and unsubscribe routes answer 503.
	Notifier icymorning.Notifier
	// SignUpThrottle limits public sign-ups per client address and per
	// e-mail address.
	SignUpThrottle SignUpThrottle
	// PrivateReads (READS_REQUIRE_AUTH) makes reading assets and analysts
	// need credentials too: any valid ones, without the write permission.
	PrivateReads bool
	// RequireIfMatch (REQUIRE_IF_MATCH) refuses a PUT, PATCH or DELETE
	// without If-Match with 428, so no client can overwrite a change it
	// has not seen.
	RequireIfMatch bool
	// Cache is what reads of assets and analysts tell caches.
	Cache CachePolicy
	// OriginSecret (CDN_ORIGIN_SECRET), when set, refuses with 403 every
	// request whose X-Origin-Verify header does not hold it, before
	// anything else runs, and takes the client's address from the entry
	// CloudFront added to X-Forwarded-For (origin.go).
	OriginSecret string
}

// DefaultRequestTimeout is the default Config.RequestTimeout: shorter than
// the HTTP server's write timeout, so the 503 can still be sent.
const DefaultRequestTimeout = 15 * time.Second

// Server is the HTTP API.
type Server struct {
	build   string
	timeout time.Duration
	store   icymorning.Store
	auth    icymorning.Authenticator
	logger  *slog.Logger
	api     huma.API
	mux     *http.ServeMux
	handler http.Handler
	// refused are the mux patterns that exist only to answer 405 (see
	// onlyMethods), which notRouted must not count as allowed methods.
	refused  map[string]bool
	throttle *authThrottle
	notifier icymorning.Notifier
	signUps  *signUpThrottle
	// schemes are the authenticator's security schemes in the document;
	// operations that declare one need credentials.
	schemes        []icymorning.SecurityScheme
	privateReads   bool
	requireIfMatch bool
	cacheControl   string // of the open reads (cache.go)
}

// MaxBodyBytes bounds request bodies; larger ones get 413.
const MaxBodyBytes = 1 << 20

// NewServer builds the API and its routes.
func NewServer(c Config) *Server {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	s := &Server{build: c.Version, store: c.Store, auth: c.Auth, logger: c.Logger, timeout: c.RequestTimeout,
		refused: map[string]bool{}, throttle: newAuthThrottle(c.AuthThrottle),
		notifier: c.Notifier, signUps: newSignUpThrottle(c.SignUpThrottle), privateReads: c.PrivateReads,
		requireIfMatch: c.RequireIfMatch, cacheControl: c.Cache.header()}

	cfg := huma.DefaultConfig("Icy Morning API", APIVersion)
	cfg.Info.Description = apiDescription
	// No licence has been chosen for the project yet: until one is, the
	// document says so rather than name one.
	cfg.Info.License = &huma.License{Name: "All rights reserved (no licence chosen yet)", URL: "https://github.com/icy-morning/icy-morning"}
	cfg.Info.Contact = &huma.Contact{Name: "Icy Morning maintainers", URL: "https://github.com/icy-morning/icy-morning/issues"}
	// No $schema member or describedby links: clients of the Python service
	// compare whole bodies, which must hold the contract's members only.
	cfg.CreateHooks = nil
	cfg.DocsPath = ""    // Swagger UI is served from embedded assets below
	cfg.SchemasPath = "" // the schemas are in the OpenAPI document
	cfg.OpenAPIPath = "/openapi"
	// A relative server keeps "Try it out" working under a path prefix
	// such as an API Gateway stage.
	cfg.Servers = []*huma.Server{{URL: ".", Description: "this server"}}
	// The authenticator names its own scheme, so the document always
	// describes the credentials the server actually takes.
	s.schemes = c.Auth.Schemes()
	cfg.Components.SecuritySchemes = securitySchemes(s.schemes)

	cfg.Formats = map[string]huma.Format{"application/json": strictJSON, "json": strictJSON}
	cfg.Transformers = append(cfg.Transformers, reshapeProblem, noStoreProblems)

	mux := http.NewServeMux()
	s.mux = mux
	s.api = humago.New(mux, cfg)
	// Credentials first, so an anonymous client learns nothing else; then
	// the checks that need no parsing of the body.
	s.api.UseMiddleware(s.setCacheControl, s.authenticate, s.admit, s.idempotent)
	s.routes()
	s.describe()
	docs := swaggerui.Handler("openapi.json", http.HandlerFunc(notFound), docsLogin(s.schemes))
	mux.Handle("GET /docs", docs)
	mux.Handle("GET /docs/", docs)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		// A relative Location (http.Redirect would make it absolute) keeps
		// any path prefix, such as an API Gateway stage.
		w.Header().Set("Location", "docs")
		w.WriteHeader(http.StatusFound)
	})
	mux.Handle(catchAll, s.notRouted())

	s.handler = s.observe(s.originCheck(c.OriginSecret, mux))
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// OpenAPI returns the API's OpenAPI document.
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }
