package oidcauth

import (
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// maxJWKSBytes bounds the JWKS document read from the provider (go-oidc
// reads it whole); real ones are a few KB.
const maxJWKSBytes = 1 << 20

var errRefetchLimited = errors.New("oidcauth: the JWKS was fetched less than the refetch interval ago")

// limitedTransport is the only way go-oidc's RemoteKeySet reaches the
// provider: it lets one request through per interval and fails the
// others at once, so RemoteKeySet keeps its cached keys and the token
// that asked is refused. The first request (the first token) always
// passes.
type limitedTransport struct {
	base  http.RoundTripper
	limit *rate.Limiter
	// fetches counts the requests let through, before each goes out: the
	// token cache (cache.go) voids its entries when it moves.
	fetches atomic.Int64
}

func newLimitedTransport(base http.RoundTripper, every time.Duration) *limitedTransport {
	if base == nil {
		base = http.DefaultTransport
	}
	return &limitedTransport{base: base, limit: rate.NewLimiter(rate.Every(every), 1)}
}

func (t *limitedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if !t.limit.Allow() {
		return nil, errRefetchLimited
	}
	t.fetches.Add(1)
	res, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	res.Body = struct {
		io.Reader
		io.Closer
	}{io.LimitReader(res.Body, maxJWKSBytes), res.Body}
	return res, nil
}
