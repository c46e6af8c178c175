package httpapi

import (
	"fmt"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// CachePolicy is what the open reads of assets and analysts tell caches
// (Cache-Control, RFC 9111 §5.2.2): browsers keep an answer MaxAge,
// shared caches (a CDN, a corporate proxy) SMaxAge, and either may serve
// it StaleWhileRevalidate longer while it fetches a fresh one. Every other
// answer (writes, credentials, personal data, problems, health checks) is
// no-store.
type CachePolicy struct {
	MaxAge  time.Duration // CACHE_MAX_AGE
	SMaxAge time.Duration // CACHE_S_MAXAGE
}

// StaleWhileRevalidate is fixed: with SMaxAge it bounds how stale a shared
// cache's answer can be when a CDN invalidation fails (README).
const StaleWhileRevalidate = 30 * time.Second

// DefaultCachePolicy holds the defaults of CACHE_MAX_AGE and
// CACHE_S_MAXAGE: browsers revalidate every time (a 304 costs little),
// shared caches keep an answer a minute.
var DefaultCachePolicy = CachePolicy{MaxAge: 0, SMaxAge: time.Minute}

func (p CachePolicy) header() string {
	return fmt.Sprintf("public, max-age=%d, s-maxage=%d, stale-while-revalidate=%d",
		int(p.MaxAge.Seconds()), int(p.SMaxAge.Seconds()), int(StaleWhileRevalidate.Seconds()))
}

const (
	noStore        = "no-store"
	privateNoStore = "private, no-store"
)

// cacheControlOf is, in an operation's Metadata, the Cache-Control of its
// answers, chosen once when routes.go registers it: the policy for the
// open reads of assets and analysts (read), private, no-store for anything
// that needs credentials (secured, and read under PrivateReads).
const cacheControlOf = "cacheControl"

// setCacheControl is the Huma middleware that says, before the handler
// runs, what caches may do with the answer: the operation's cacheControlOf,
// or no-store. A problem is made no-store again by noStoreProblems,
// whatever the route.
func (s *Server) setCacheControl(ctx huma.Context, next func(huma.Context)) {
	cc, ok := ctx.Operation().Metadata[cacheControlOf].(string)
	if !ok {
		cc = noStore
	}
	ctx.SetHeader("Cache-Control", cc)
	next(ctx)
}

// noStoreProblems is a Huma transformer: no cache keeps a problem, which
// describes one moment (an outage, a throttle) or one client's mistake.
func noStoreProblems(ctx huma.Context, _ string, v any) (any, error) {
	if _, ok := v.(huma.StatusError); ok {
		ctx.SetHeader("Cache-Control", noStore)
	}
	return v, nil
}
