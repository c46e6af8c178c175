package httpapi

import (
	"math"
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// authThrottle slows password guessing: each client address has a token
// bucket (golang.org/x/time/rate) that a failed authentication drains, and
// an address whose bucket is empty gets 429 before its credentials are even
// checked, so valid credentials from elsewhere are never slowed. The
// per-address table is ours because the library limits one key; it is
// bounded so that a spray of addresses cannot grow it without limit.
type authThrottle struct {
	burst  int
	refill rate.Limit
	max    int // most addresses tracked

	mu      sync.Mutex
	clients map[netip.Prefix]*rate.Limiter
}

// AuthThrottle configures the throttle: Burst failures are allowed at
// once, then one more each Refill. Zero values take the defaults.
type AuthThrottle struct {
	Burst  int
	Refill time.Duration
}

// Default throttle: 20 failures in a burst, then one every 3 seconds (20 a
// minute), so a person who mistypes a password a few times never notices
// and a guesser gets 28,800 tries a day instead of 8,000 a second.
const (
	defaultAuthBurst  = 20
	defaultAuthRefill = 3 * time.Second
	maxThrottled      = 10000
)

func newAuthThrottle(c AuthThrottle) *authThrottle {
	if c.Burst <= 0 {
		c.Burst = defaultAuthBurst
	}
	if c.Refill <= 0 {
		c.Refill = defaultAuthRefill
	}
	return &authThrottle{burst: c.Burst, refill: rate.Every(c.Refill), max: maxThrottled,
		clients: map[netip.Prefix]*rate.Limiter{}}
}

// clientKey is the throttled unit for a remote address: the IPv4 address,
// or the IPv6 /64 (one subscriber's allocation, which a single client can
// rotate through at will). ok is false when the address cannot be parsed.
func clientKey(remoteAddr string) (netip.Prefix, bool) {
	host := remoteAddr
	if h, _, err := net.SplitHostPort(remoteAddr); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Prefix{}, false
	}
	ip = ip.Unmap()
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits)
	return p, true
}

// blocked reports whether the address has used up its failures, and if so
// how long until it may try again.
func (t *authThrottle) blocked(remoteAddr string, now time.Time) (time.Duration, bool) {
	key, ok := clientKey(remoteAddr)
	if !ok {
		return 0, false
	}
	t.mu.Lock()
	l := t.clients[key]
	t.mu.Unlock()
	if l == nil {
		return 0, false
	}
	tokens := l.TokensAt(now)
	if tokens >= 1 {
		return 0, false
	}
	wait := time.Duration((1 - tokens) / float64(t.refill) * float64(time.Second))
	return wait, true
}

// failed records a failed authentication from the address.
func (t *authThrottle) failed(remoteAddr string, now time.Time) {
	key, ok := clientKey(remoteAddr)
	if !ok {
		return
	}
	t.mu.Lock()
	l := t.clients[key]
	if l == nil {
		if len(t.clients) >= t.max {
			t.evict(now)
		}
		l = rate.NewLimiter(t.refill, t.burst)
		t.clients[key] = l
	}
	t.mu.Unlock()
	l.AllowN(now, 1)
}

// evict makes room in a full table: first the addresses whose buckets have
// refilled (they carry no state worth keeping), then, if a spray of
// addresses still fills it, any tenth of them.
func (t *authThrottle) evict(now time.Time) {
	for k, l := range t.clients {
		if l.TokensAt(now) >= float64(t.burst) {
			delete(t.clients, k)
		}
	}
	for k := range t.clients {
		if len(t.clients) < t.max*9/10 {
			break
		}
		delete(t.clients, k)
	}
}

// retryAfter is the Retry-After value for a wait: whole seconds, rounded
// up, at least one.
func retryAfter(wait time.Duration) int {
	return max(1, int(math.Ceil(wait.Seconds())))
}
