package oidcauth

import (
	"crypto/sha256"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	icymorning "github.com/icy-morning/icy-morning"
)

// A client sends the same access token with every request until it
// expires, and checking its signature is most of what a bearer request
// costs the server (about 75 µs of CPU against Basic's constant-time
// compare: docs/performance.md). So a token that passed every check is
// remembered, by its SHA-256, until it expires, and its next request is
// answered from memory.
//
// What this must not weaken:
//   - Only tokens that passed every check are kept, so garbage and forged
//     tokens cannot fill the cache, and each entry holds no more than the
//     principal (a hash, not the token: tokens reach 8 KB).
//   - An entry ends at the token's exp (the leeway is not given twice)
//     and after tokenCacheTTL at the latest.
//   - Whenever the provider's keys are fetched again (an unknown kid, a
//     rotation), every entry made before is void: a key removed from the
//     JWKS stops its tokens when go-oidc refetches the keys, as without
//     the cache. The generation a verification started under is stored
//     with its entry, so one that started before a fetch is never trusted
//     after it; one that starts while the fetch is in flight (go-oidc
//     still holds the old keys) may outlive it by tokenCacheTTL at most.

const (
	tokenCacheSize = 4096
	tokenCacheTTL  = 5 * time.Minute
)

type cachedToken struct {
	principal  icymorning.Principal
	expires    time.Time
	generation int64
}

type tokenCache struct {
	lru        *expirable.LRU[[sha256.Size]byte, cachedToken]
	generation *atomic.Int64 // bumped by every JWKS fetch (limitedTransport)
	now        func() time.Time
}

func newTokenCache(generation *atomic.Int64, now func() time.Time) *tokenCache {
	return &tokenCache{lru: expirable.NewLRU[[sha256.Size]byte, cachedToken](tokenCacheSize, nil, tokenCacheTTL),
		generation: generation, now: now}
}

// get returns the principal of a token verified before, if its entry
// still holds.
func (c *tokenCache) get(key [sha256.Size]byte) (*icymorning.Principal, bool) {
	e, ok := c.lru.Get(key)
	if !ok || e.generation != c.generation.Load() || !c.now().Before(e.expires) {
		return nil, false
	}
	p := e.principal // a copy: the caller may keep or change it
	return &p, true
}

// put remembers a token verified under generation gen until expires.
func (c *tokenCache) put(key [sha256.Size]byte, p *icymorning.Principal, expires time.Time, gen int64) {
	if gen != c.generation.Load() || !c.now().Before(expires) {
		return
	}
	c.lru.Add(key, cachedToken{principal: *p, expires: expires, generation: gen})
}
