// Package swaggerui serves interactive API documentation (Swagger UI) for the
// Icy Morning API entirely from assets embedded in the binary, so the docs
// work without internet access.
//
// The Swagger UI files under dist/ are vendored byte for byte from the npm
// package swagger-ui-dist (version in dist/VERSION); refresh them with
// scripts/update-swagger-ui.sh. The index page and its initializer script are
// this package's own.
//
// Mount the handler at both MountPath and MountPath+"/":
//
//	h := swaggerui.Handler("openapi.json", nil, nil)
//	mux.Handle("GET /docs", h)
//	mux.Handle("GET /docs/", h)
package swaggerui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"
)

// MountPath is the path, as seen by the Go server, at which Handler expects
// to be mounted. The index is served at MountPath and MountPath+"/", and the
// assets at MountPath+"/<file>".
const MountPath = "/docs"

// Title is the page title of the docs page.
const Title = "Icy Morning API"

// dist/ also holds the licence files, embedded and served (as text/plain)
// so that the binary, which redistributes Swagger UI, carries its Apache-2.0
// LICENSE, NOTICE and the notices of the third-party code in the bundle; the
// bundle's first line points to swagger-ui-bundle.js.LICENSE.txt.
//
//go:embed dist/VERSION dist/swagger-ui-bundle.js dist/swagger-ui.css dist/favicon-32x32.png
//go:embed dist/oauth2-redirect.html dist/oauth2-redirect.js
//go:embed dist/LICENSE dist/NOTICE dist/swagger-ui-bundle.js.LICENSE.txt
var distFS embed.FS

//go:embed index.html.tmpl swagger-init.js
var ownFS embed.FS

// Version is the vendored swagger-ui-dist version (from dist/VERSION).
var Version = strings.TrimSpace(string(mustRead(distFS, "dist/VERSION")))

// Security headers.
const (
	// contentSecurityPolicy for the index page. Everything comes from the
	// same origin: scripts and styles only from files ('self'; no inline
	// script, no eval), images from files or data: URIs (swagger-ui.css
	// draws its icons as data:image/svg+xml backgrounds), and fetch/XHR
	// ("connect") only to the same origin, for the spec and "Try it out".
	// style-src needs no 'unsafe-inline': Swagger UI (React) sets styles
	// through the CSSOM, which CSP does not restrict; this was checked in
	// Chromium with no CSP violation reported. With a Login, connect-src
	// also names the provider's token endpoint (see indexCSP).
	contentSecurityPolicy = "default-src 'none'; " +
		"script-src 'self'; " +
		"style-src 'self'; " +
		"img-src 'self' data:; " +
		"font-src 'self'; " +
		"connect-src 'self'; " +
		"base-uri 'none'; " +
		"form-action 'none'; " +
		"frame-ancestors 'none'"

	// redirectCSP is the login's landing page's (oauth2-redirect.html):
	// it only runs its script, which hands the code to the docs window.
	redirectCSP = "default-src 'none'; script-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

	assetCacheControl = "public, max-age=86400"
	indexCacheControl = "no-cache"
)

// asset is one file served under MountPath.
type asset struct {
	data        []byte
	contentType string
	etag        string // quoted strong ETag (SHA-256 prefix)
	version     string // cache-busting query value, same hash
}

func newAsset(data []byte, contentType string) *asset {
	sum := sha256.Sum256(data)
	v := hex.EncodeToString(sum[:8])
	return &asset{data: data, contentType: contentType, etag: `"` + v + `"`, version: v}
}

func mustRead(fsys embed.FS, name string) []byte {
	b, err := fsys.ReadFile(name)
	if err != nil {
		panic("swaggerui: embedded file missing: " + err.Error())
	}
	return b
}

// indexData feeds index.html.tmpl. Every URL is relative to the page.
type indexData struct {
	Title    string
	CSS      string
	BundleJS string
	InitJS   string
	Favicon  string
	SpecURL  string
	// Login's, when there is one; Redirect is the landing page.
	ClientID, Scopes, Redirect string
}

var indexTmpl = template.Must(template.ParseFS(ownFS, "index.html.tmpl"))

type handler struct {
	// pages is built on first use, not in Handler: hashing and rendering
	// the 2 MB of assets takes milliseconds that a Lambda cold start or a
	// CLI command that never serves /docs should not pay.
	pages    func() *pages
	notFound http.Handler
}

type pages struct {
	assets map[string]*asset // by file name under MountPath+"/"
	// index pages: noSlash is served at MountPath, slash at MountPath+"/".
	noSlash, slash *asset
	csp            string // the index pages' Content-Security-Policy
	login          bool   // whether the login's landing page is served
}

// Handler returns the docs handler. It is meant to be mounted at MountPath
// and MountPath+"/" (see the package doc); it serves the index page at both
// and the Swagger UI assets at MountPath+"/<file>", answers GET and HEAD, and
// hands anything else under MountPath+"/" to notFound (http.NotFound when
// nil), so that the caller's error format holds here too.
//
// specURL is the OpenAPI document's path relative to the service root, e.g.
// "openapi.json" (a leading "/" is ignored). It must not be an absolute URL:
// the page only ever uses relative references (see below). Handler panics on
// an invalid specURL, as that is a programming error, and on a login whose
// TokenURL is not an http(s) URL (the caller checks it; see Login).
//
// login, when not nil, lets the page's Authorize dialog log in through an
// OAuth 2.0 provider (authorization code with PKCE): the page lands back
// on MountPath+"/oauth2-redirect.html", which hands the code to the docs
// window, and the docs window exchanges it at the token endpoint.
//
// Why relative URLs: the service may run behind a path prefix that the Go
// server never sees, e.g. an API Gateway stage, so the browser shows
// https://host/prod/docs while r.URL.Path is "/docs". An absolute path like
// "/docs/swagger-ui.css" or "/openapi.json" would then miss the "/prod"
// prefix. Relative references resolve against the page address the browser
// actually shows, so they keep any prefix. But they resolve differently for
// "/docs" and "/docs/": the base of ".../docs" is the parent directory, so
// "swagger-ui.css" would resolve to ".../swagger-ui.css", while the base of
// ".../docs/" is ".../docs/". Hence two index variants, picked from
// r.URL.Path:
//
//	page      asset reference        spec reference (specURL "openapi.json")
//	/docs     docs/swagger-ui.css    openapi.json
//	/docs/    swagger-ui.css         ../openapi.json
//
// We serve the index at both addresses instead of redirecting /docs to
// /docs/, because a redirect's Location would need the unknown prefix too.
func Handler(specURL string, notFound http.Handler, login *Login) http.Handler {
	spec := cleanSpecURL(specURL)
	csp := contentSecurityPolicy
	if login != nil {
		origin, err := login.tokenOrigin()
		if err != nil {
			panic("swaggerui: " + err.Error())
		}
		csp = strings.Replace(csp, "connect-src 'self'", "connect-src 'self' "+origin, 1)
	}
	if notFound == nil {
		notFound = http.HandlerFunc(http.NotFound)
	}
	return &handler{pages: sync.OnceValue(func() *pages { return buildPages(spec, login, csp) }), notFound: notFound}
}

func buildPages(spec string, login *Login, csp string) *pages {
	h := &pages{csp: csp, login: login != nil, assets: map[string]*asset{
		"swagger-ui-bundle.js": newAsset(mustRead(distFS, "dist/swagger-ui-bundle.js"), "text/javascript; charset=utf-8"),
		"swagger-ui.css":       newAsset(mustRead(distFS, "dist/swagger-ui.css"), "text/css; charset=utf-8"),
		"favicon-32x32.png":    newAsset(mustRead(distFS, "dist/favicon-32x32.png"), "image/png"),
		"swagger-init.js":      newAsset(mustRead(ownFS, "swagger-init.js"), "text/javascript; charset=utf-8"),
	}}
	if login != nil {
		h.assets[redirectPage] = newAsset(mustRead(distFS, "dist/"+redirectPage), "text/html; charset=utf-8")
		h.assets["oauth2-redirect.js"] = newAsset(mustRead(distFS, "dist/oauth2-redirect.js"), "text/javascript; charset=utf-8")
	}
	for _, name := range []string{"LICENSE", "NOTICE", "swagger-ui-bundle.js.LICENSE.txt"} {
		h.assets[name] = newAsset(mustRead(distFS, "dist/"+name), "text/plain; charset=utf-8")
	}
	// From MountPath (no slash) the base directory is the mount's parent:
	// assets need the "docs/" segment, the spec is a sibling.
	// A first segment with a colon ("a:b.json") would read as a scheme.
	if first, _, _ := strings.Cut(spec, "/"); strings.Contains(first, ":") {
		h.noSlash = h.renderIndex(path.Base(MountPath)+"/", "./"+spec, login)
	} else {
		h.noSlash = h.renderIndex(path.Base(MountPath)+"/", spec, login)
	}
	// From MountPath+"/" the base directory is the mount itself: assets are
	// siblings, the spec is one level up.
	h.slash = h.renderIndex("", "../"+spec, login)
	return h
}

// cleanSpecURL validates specURL and returns it relative to the service root,
// without a leading "/".
func cleanSpecURL(specURL string) string {
	u, err := url.Parse(specURL)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" {
		panic(fmt.Sprintf("swaggerui: specURL must be a path relative to the service root, got %q", specURL))
	}
	s := strings.TrimLeft(specURL, "/")
	if s == "" {
		panic("swaggerui: empty specURL")
	}
	return s
}

func (h *pages) renderIndex(assetBase, spec string, login *Login) *asset {
	ref := func(name string) string {
		return assetBase + name + "?v=" + h.assets[name].version
	}
	d := indexData{
		Title:    Title,
		CSS:      ref("swagger-ui.css"),
		BundleJS: ref("swagger-ui-bundle.js"),
		InitJS:   ref("swagger-init.js"),
		Favicon:  ref("favicon-32x32.png"),
		SpecURL:  spec,
	}
	if login != nil {
		// No version query: the provider compares the redirect URI with
		// the client's registered callback exactly.
		d.ClientID, d.Scopes, d.Redirect = login.ClientID, strings.Join(login.Scopes, " "), assetBase+redirectPage
	}
	var buf bytes.Buffer
	err := indexTmpl.Execute(&buf, d)
	if err != nil {
		panic("swaggerui: rendering index: " + err.Error())
	}
	return newAsset(buf.Bytes(), "text/html; charset=utf-8")
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	p, pg := r.URL.Path, h.pages()
	switch {
	case p == MountPath:
		serveIndex(w, r, pg.noSlash, pg.csp, indexCacheControl)
	case p == MountPath+"/":
		serveIndex(w, r, pg.slash, pg.csp, indexCacheControl)
	case p == MountPath+"/"+redirectPage && pg.login:
		// Its address carries the authorization code: no-store, and no
		// Referer for the script it loads.
		serveIndex(w, r, pg.assets[redirectPage], redirectCSP, "no-store")
	case strings.HasPrefix(p, MountPath+"/"):
		a, ok := pg.assets[strings.TrimPrefix(p, MountPath+"/")]
		if !ok {
			h.notFound.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Cache-Control", assetCacheControl)
		serve(w, r, a)
	default:
		h.notFound.ServeHTTP(w, r)
	}
}

func serveIndex(w http.ResponseWriter, r *http.Request, a *asset, csp, cacheControl string) {
	hd := w.Header()
	hd.Set("Cache-Control", cacheControl)
	hd.Set("Content-Security-Policy", csp)
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	serve(w, r, a)
}

// serve writes a with its content type and ETag; http.ServeContent handles
// HEAD, conditional requests (If-None-Match → 304) and ranges.
func serve(w http.ResponseWriter, r *http.Request, a *asset) {
	hd := w.Header()
	hd.Set("Content-Type", a.contentType)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("ETag", a.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.data))
}
