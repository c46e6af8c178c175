package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/auth"
	"github.com/icy-morning/icy-morning/httpapi"
	"github.com/icy-morning/icy-morning/internal/testdb"
	"github.com/icy-morning/icy-morning/sqlstore"
)

const (
	user = "admin"
	pass = "correct horse battery staple"
)

// env is one running API over a real store, reached over real HTTP.
type env struct {
	t      *testing.T
	srv    *httptest.Server
	api    *httpapi.Server
	store  icymorning.Store
	checks validator.Validator
	// documented routes every documented operation, to tell them from
	// unknown paths and methods.
	documented *http.ServeMux
}

// stores are the databases every HTTP scenario runs on.
var stores = []struct {
	name string
	url  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return "sqlite:///" + t.TempDir() + "/api.db" }},
	{"postgres", func(t *testing.T) string { return testdb.Postgres(t) }},
}

// forEachStore runs fn once per database, each with a fresh server.
func forEachStore(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) { fn(t, newEnv(t, st.url(t))) })
	}
}

// newAPI opens and migrates the database at url (closed when the test
// ends) and builds the API over it, with the test account.
func newAPI(tb testing.TB, url string) (*httpapi.Server, *sqlstore.Store) {
	tb.Helper()
	return newAPIWith(tb, url, httpapi.Config{})
}

// newAPIWith is newAPI with settings of the test's own (a logger, say);
// the store is always the test's, and so is the account unless c.Auth
// names the test's own authenticator. Without a Notifier of
// the test's, the server gets the real one over log://, its mail unread.
func newAPIWith(tb testing.TB, url string, c httpapi.Config) (*httpapi.Server, *sqlstore.Store) {
	tb.Helper()
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, url, sqlstore.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	if _, err := store.MigrateUp(ctx); err != nil {
		tb.Fatal(err)
	}
	if c.Cache == (httpapi.CachePolicy{}) {
		c.Cache = httpapi.DefaultCachePolicy
	}
	if c.Auth == nil {
		basic, err := auth.NewBasic(user, pass)
		if err != nil {
			tb.Fatal(err)
		}
		c.Auth = basic
	}
	c.Store, c.Version = store, "test"
	if c.Notifier == nil {
		c.Notifier, _, _ = newMailer(tb, "log://", nil)
	}
	return httpapi.NewServer(c), store
}

func newEnv(t *testing.T, url string) *env {
	t.Helper()
	return newEnvWith(t, url, httpapi.Config{})
}

// newEnvWithLog is newEnv with the server's JSON log written to w.
func newEnvWithLog(t *testing.T, url string, w io.Writer) *env {
	t.Helper()
	return newEnvWith(t, url, httpapi.Config{Logger: slog.New(slog.NewJSONHandler(w, nil))})
}

func newEnvWith(t *testing.T, url string, c httpapi.Config) *env {
	t.Helper()
	api, store := newAPIWith(t, url, c)
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	documented := http.NewServeMux()
	for path, item := range api.OpenAPI().Paths {
		for method := range operations(item) {
			documented.Handle(method+" "+path, http.NotFoundHandler())
		}
	}
	return &env{t: t, srv: srv, api: api, store: store, checks: docValidator(t, api), documented: documented}
}

// operations lists a path's operations by method.
func operations(item *huma.PathItem) map[string]*huma.Operation {
	ops := map[string]*huma.Operation{}
	for m, op := range map[string]*huma.Operation{
		http.MethodGet: item.Get, http.MethodPost: item.Post, http.MethodPut: item.Put,
		http.MethodPatch: item.Patch, http.MethodDelete: item.Delete,
	} {
		if op != nil {
			ops[m] = op
		}
	}
	return ops
}

// docValidator builds an independent OpenAPI validator (libopenapi) from the
// document the server itself publishes, so every response in these tests is
// checked against the contract that clients see.
func docValidator(t *testing.T, api *httpapi.Server) validator.Validator {
	t.Helper()
	// Each server's own: the document follows its configuration (the
	// authenticator's schemes, private reads).
	docJSON, err := json.Marshal(api.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := libopenapi.NewDocument(docJSON)
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("OpenAPI document does not load: %v", errs)
	}
	return v
}

// req describes one request.
type req struct {
	method, path string
	body         string // sent as is when non-empty
	auth         string // "ok" (default for writes), "none" or "wrong"
	header       map[string]string
	// unavailable: the test has taken a service the request needs down
	// (the mail server), so a 503 is a right answer, not a failure.
	unavailable bool
}

// resp is a response with its body read.
type resp struct {
	*http.Response
	body []byte
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
}

// do sends r and checks the response against the OpenAPI document. Every
// error also must be a problem document (or, from the public pages, an
// HTML page), and no request may ever get a 500.
func (e *env) do(r req) resp {
	t := e.t
	t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr, err := http.NewRequest(r.method, e.srv.URL+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if r.body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	switch r.auth {
	case "", "ok":
		hr.SetBasicAuth(user, pass)
	case "wrong":
		hr.SetBasicAuth(user, "wrong")
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode >= 500 && !(r.unavailable && res.StatusCode == http.StatusServiceUnavailable) {
		t.Fatalf("%s %s: status %d: %s", r.method, r.path, res.StatusCode, b)
	}
	e.checkDocumented(hr, res, b)
	return resp{Response: res, body: b}
}

// checkDocumented validates a response against the OpenAPI document. Answers
// from outside the documented operations (unknown paths, wrong methods) are
// problem documents checked by shape instead.
func (e *env) checkDocumented(hr *http.Request, res *http.Response, b []byte) {
	t := e.t
	t.Helper()
	ct := res.Header.Get("Content-Type")
	_, pattern := e.documented.Handler(hr)
	if pattern != "" && strings.HasPrefix(ct, "text/html") {
		// A page: the validator below checks that the document says this
		// operation answers this status with a page.
		checkPage(t, hr, res, b)
	} else if res.StatusCode >= 400 && hr.Method != http.MethodHead {
		if ct != "application/problem+json" {
			t.Errorf("%s %s: error with Content-Type %q", hr.Method, hr.URL.Path, ct)
		}
		var p struct {
			Type   string `json:"type"`
			Title  string `json:"title"`
			Status int    `json:"status"`
			Detail string `json:"detail"`
		}
		if err := json.Unmarshal(b, &p); err != nil || p.Type == "" || p.Title == "" || p.Status != res.StatusCode || p.Detail == "" {
			t.Errorf("%s %s: not an RFC 9457 problem: %s", hr.Method, hr.URL.Path, b)
		}
	}
	if pattern == "" || res.StatusCode == http.StatusMethodNotAllowed {
		// Not a documented operation: GET /api/v1/assets/subscription
		// matches the pattern of GET /api/v1/assets/{id}, but answers 405.
		return
	}
	res.Body = io.NopCloser(bytes.NewReader(b))
	if ok, errs := e.checks.ValidateHttpResponse(hr, res); !ok {
		for _, ve := range errs {
			t.Errorf("%s %s → %d does not match the OpenAPI document: %s %s %v", hr.Method, hr.URL.Path, res.StatusCode, ve.Message, ve.Reason, ve.SchemaValidationErrors)
		}
	}
}
