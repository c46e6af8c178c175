package swaggerui

import (
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// newMux mounts the handler the way the service does.
func newMux() *http.ServeMux {
	h := Handler("openapi.json", nil, nil)
	mux := http.NewServeMux()
	mux.Handle("GET /docs", h)
	mux.Handle("GET /docs/", h)
	return mux
}

func do(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

var absURL = regexp.MustCompile(`(?i)https?://`)

func TestIndex(t *testing.T) {
	mux := newMux()
	tests := []struct {
		path     string
		css, js  string // expected relative asset references
		init     string
		favicon  string
		spec     string
		wrongCSS string // reference that must not appear
	}{
		{
			path:     "/docs",
			css:      `href="docs/swagger-ui.css?v=`,
			js:       `src="docs/swagger-ui-bundle.js?v=`,
			init:     `src="docs/swagger-init.js?v=`,
			favicon:  `href="docs/favicon-32x32.png?v=`,
			spec:     `data-spec-url="openapi.json"`,
			wrongCSS: `"swagger-ui.css`,
		},
		{
			path:     "/docs/",
			css:      `href="swagger-ui.css?v=`,
			js:       `src="swagger-ui-bundle.js?v=`,
			init:     `src="swagger-init.js?v=`,
			favicon:  `href="favicon-32x32.png?v=`,
			spec:     `data-spec-url="../openapi.json"`,
			wrongCSS: `"docs/swagger-ui.css`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			rec := do(t, mux, http.MethodGet, tc.path, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200", rec.Code)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-cache" {
				t.Errorf("Cache-Control = %q, want no-cache", cc)
			}
			if v := rec.Header().Get("X-Content-Type-Options"); v != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q", v)
			}
			csp := rec.Header().Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("CSP %q lacks %q", csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-") {
				t.Errorf("CSP allows unsafe sources: %q", csp)
			}
			body := rec.Body.String()
			for _, want := range []string{"<title>Icy Morning API</title>", tc.css, tc.js, tc.init, tc.favicon, tc.spec} {
				if !strings.Contains(body, want) {
					t.Errorf("index lacks %q", want)
				}
			}
			if strings.Contains(body, tc.wrongCSS) {
				t.Errorf("index contains %q, which resolves wrongly from %s", tc.wrongCSS, tc.path)
			}
			if m := absURL.FindString(body); m != "" {
				t.Errorf("index contains an absolute URL (%q)", m)
			}
			if strings.Contains(body, `src="/`) || strings.Contains(body, `href="/`) {
				t.Errorf("index contains a root-relative URL, which breaks under a path prefix")
			}
			if strings.Contains(body, "<script>") {
				t.Errorf("index contains an inline script")
			}
		})
	}
}

func TestAssets(t *testing.T) {
	mux := newMux()
	tests := []struct {
		name    string
		ct      string
		minSize int
	}{
		{"swagger-ui-bundle.js", "text/javascript; charset=utf-8", 500_000},
		{"swagger-ui.css", "text/css; charset=utf-8", 50_000},
		{"favicon-32x32.png", "image/png", 200},
		{"swagger-init.js", "text/javascript; charset=utf-8", 200},
		{"LICENSE", "text/plain; charset=utf-8", 5_000},
		{"NOTICE", "text/plain; charset=utf-8", 20},
		{"swagger-ui-bundle.js.LICENSE.txt", "text/plain; charset=utf-8", 1_000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(t, mux, http.MethodGet, "/docs/"+tc.name+"?v=whatever", nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200", rec.Code)
			}
			if ct := rec.Header().Get("Content-Type"); ct != tc.ct {
				t.Errorf("Content-Type = %q, want %q", ct, tc.ct)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "public, max-age=86400" {
				t.Errorf("Cache-Control = %q", cc)
			}
			if v := rec.Header().Get("X-Content-Type-Options"); v != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q", v)
			}
			if n := rec.Body.Len(); n < tc.minSize {
				t.Errorf("size = %d, want >= %d", n, tc.minSize)
			}
			if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(rec.Body.Len()) {
				t.Errorf("Content-Length = %q, body %d bytes", cl, rec.Body.Len())
			}
			etag := rec.Header().Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}
			rec = do(t, mux, http.MethodGet, "/docs/"+tc.name, map[string]string{"If-None-Match": etag})
			if rec.Code != http.StatusNotModified {
				t.Errorf("conditional GET status = %d, want 304", rec.Code)
			}
		})
	}
}

// The index references each asset with a ?v=<content hash> so a new version
// is not hidden by the one-day cache; the query must match what is served.
func TestIndexCacheBusting(t *testing.T) {
	mux := newMux()
	body := do(t, mux, http.MethodGet, "/docs/", nil).Body.String()
	re := regexp.MustCompile(`(?:src|href)="([a-z0-9.-]+)\?v=([0-9a-f]{16})"`)
	matches := re.FindAllStringSubmatch(body, -1)
	if len(matches) != 4 {
		t.Fatalf("found %d versioned asset references, want 4", len(matches))
	}
	for _, m := range matches {
		rec := do(t, mux, http.MethodGet, "/docs/"+m[1], nil)
		if rec.Code != http.StatusOK {
			t.Errorf("%s: status %d", m[1], rec.Code)
		}
		if etag := rec.Header().Get("ETag"); etag != `"`+m[2]+`"` {
			t.Errorf("%s: ETag %s does not match ?v=%s", m[1], etag, m[2])
		}
	}
}

func TestHead(t *testing.T) {
	mux := newMux()
	for _, p := range []string{"/docs", "/docs/", "/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css"} {
		t.Run(p, func(t *testing.T) {
			get := do(t, mux, http.MethodGet, p, nil)
			head := do(t, mux, http.MethodHead, p, nil)
			if head.Code != http.StatusOK {
				t.Fatalf("HEAD status = %d", head.Code)
			}
			if head.Body.Len() != 0 {
				t.Errorf("HEAD body has %d bytes", head.Body.Len())
			}
			for _, k := range []string{"Content-Type", "Content-Length", "Cache-Control", "ETag"} {
				if g, h := get.Header().Get(k), head.Header().Get(k); g != h {
					t.Errorf("%s: GET %q, HEAD %q", k, g, h)
				}
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	mux := newMux()
	for _, p := range []string{
		"/docs/index.html",
		"/docs/swagger-initializer.js",
		"/docs/swagger-ui-standalone-preset.js",
		"/docs/swagger-ui-bundle.js.map",
		"/docs/VERSION",
		"/docs/nope.css",
		"/docs/dist/swagger-ui.css",
		"/docs/sub/",
	} {
		t.Run(p, func(t *testing.T) {
			if rec := do(t, mux, http.MethodGet, p, nil); rec.Code != http.StatusNotFound {
				t.Errorf("status = %d, want 404", rec.Code)
			}
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	// Called directly, without the method-restricted mux patterns.
	rec := do(t, Handler("openapi.json", nil, nil), http.MethodPost, "/docs/", nil)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("status = %d, want 405", rec.Code)
	}
	if a := rec.Header().Get("Allow"); a != "GET, HEAD" {
		t.Errorf("Allow = %q", a)
	}
}

func TestSpecURL(t *testing.T) {
	tests := []struct {
		spec           string
		noSlash, slash string
	}{
		{"openapi.json", `"openapi.json"`, `"../openapi.json"`},
		{"/openapi.json", `"openapi.json"`, `"../openapi.json"`},
		{"api/openapi.yaml", `"api/openapi.yaml"`, `"../api/openapi.yaml"`},
		{"/a:b.json", `"./a:b.json"`, `"../a:b.json"`},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			h := Handler(tc.spec, nil, nil)
			if body := do(t, h, http.MethodGet, "/docs", nil).Body.String(); !strings.Contains(body, "data-spec-url="+tc.noSlash) {
				t.Errorf("/docs: want data-spec-url=%s", tc.noSlash)
			}
			if body := do(t, h, http.MethodGet, "/docs/", nil).Body.String(); !strings.Contains(body, "data-spec-url="+tc.slash) {
				t.Errorf("/docs/: want data-spec-url=%s", tc.slash)
			}
		})
	}
	for _, bad := range []string{"", "/", "https://example.com/openapi.json", "//example.com/openapi.json", "javascript:alert(1)"} {
		t.Run("invalid "+bad, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Handler(%q) did not panic", bad)
				}
			}()
			Handler(bad, nil, nil)
		})
	}
}

// The vendored files and their recorded version must agree with the update
// script's default, and no source maps or upstream index may be vendored.
func TestVendoredDist(t *testing.T) {
	if !regexp.MustCompile(`^5\.\d+\.\d+$`).MatchString(Version) {
		t.Fatalf("Version = %q, want an exact 5.x.y", Version)
	}
	script, err := os.ReadFile("../../scripts/update-swagger-ui.sh")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(script), `VERSION="${1:-`+Version+`}"`) {
		t.Errorf("scripts/update-swagger-ui.sh default version differs from dist/VERSION %s", Version)
	}
	entries, err := os.ReadDir("dist")
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{
		"VERSION": true, "LICENSE": true, "NOTICE": true,
		"swagger-ui-bundle.js": true, "swagger-ui-bundle.js.LICENSE.txt": true,
		"swagger-ui.css": true, "favicon-32x32.png": true,
		"oauth2-redirect.html": true, "oauth2-redirect.js": true,
	}
	for _, e := range entries {
		if !allowed[e.Name()] {
			t.Errorf("unexpected file dist/%s", e.Name())
		}
	}
}
