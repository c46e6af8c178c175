package httpapi

import (
	"math"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiters is a table of token buckets (golang.org/x/time/rate), one per
// key: a client address, an e-mail address. The table is ours because the
// library limits one key; it is bounded so that a spray of keys cannot grow
// it without limit.
type limiters[K comparable] struct {
	burst  int
	refill rate.Limit
	max    int // most keys tracked

	mu sync.Mutex
	m  map[K]*rate.Limiter
}

// maxThrottled bounds every table of limiters.
const maxThrottled = 10000

func newLimiters[K comparable](burst int, every time.Duration) *limiters[K] {
	return &limiters[K]{burst: burst, refill: rate.Every(every), max: maxThrottled, m: map[K]*rate.Limiter{}}
}

// wait reports how long until key's bucket holds a token (0: it holds one
// now), without taking one.
func (t *limiters[K]) wait(key K, now time.Time) time.Duration {
	t.mu.Lock()
	l := t.m[key]
	t.mu.Unlock()
	if l == nil {
		return 0
	}
	return t.waitOf(l, now)
}

// take takes a token from key's bucket and reports 0, or, when the bucket
// is empty, takes nothing and reports how long until it holds a token.
func (t *limiters[K]) take(key K, now time.Time) time.Duration {
	t.mu.Lock()
	l := t.m[key]
	if l == nil {
		if len(t.m) >= t.max {
			t.evict(now)
		}
		l = rate.NewLimiter(t.refill, t.burst)
		t.m[key] = l
	}
	t.mu.Unlock()
	if l.AllowN(now, 1) {
		return 0
	}
	// Another request may have taken the last token between the two
	// calls; the wait is then at least a moment.
	return max(t.waitOf(l, now), time.Millisecond)
}

func (t *limiters[K]) waitOf(l *rate.Limiter, now time.Time) time.Duration {
	tokens := l.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) / float64(t.refill) * float64(time.Second))
}

// evict makes room in a full table: first the keys whose buckets have
// refilled (they carry no state worth keeping), then, if a spray of keys
// still fills it, any tenth of them. The caller holds t.mu.
func (t *limiters[K]) evict(now time.Time) {
	for k, l := range t.m {
		if l.TokensAt(now) >= float64(t.burst) {
			delete(t.m, k)
		}
	}
	for k := range t.m {
		if len(t.m) < t.max*9/10 {
			break
		}
		delete(t.m, k)
	}
}

// authThrottle slows password guessing: each client address has a token
// bucket that a failed authentication drains, and an address whose bucket
// is empty gets 429 before its credentials are even checked, so valid
// credentials from elsewhere are never slowed.
type authThrottle struct {
	clients *limiters[netip.Prefix]
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
)

func newAuthThrottle(c AuthThrottle) *authThrottle {
	return &authThrottle{clients: newLimiters[netip.Prefix](
		orDefault(c.Burst, defaultAuthBurst), orDefault(c.Refill, defaultAuthRefill))}
}

// orDefault is v, or def when v is not above zero.
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
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
	wait := t.clients.wait(key, now)
	return wait, wait > 0
}

// failed records a failed authentication from the address.
func (t *authThrottle) failed(remoteAddr string, now time.Time) {
	if key, ok := clientKey(remoteAddr); ok {
		t.clients.take(key, now)
	}
}

// signUpThrottle limits public sign-ups, each of which may send a mail:
// per client address, so one client cannot mail many inboxes, and per
// e-mail address, so many clients cannot flood one inbox (the store's
// resend window already keeps a pending sign-up to one mail an hour).
type signUpThrottle struct {
	addresses *limiters[netip.Prefix]
	emails    *limiters[string]
}

// SignUpThrottle configures the limits of public sign-ups: AddressBurst
// sign-ups from one client address at once, then one more each
// AddressRefill; EmailBurst for one e-mail address, then one each
// EmailRefill. Zero values take the defaults.
type SignUpThrottle struct {
	AddressBurst  int
	AddressRefill time.Duration
	EmailBurst    int
	EmailRefill   time.Duration
}

// Default sign-up limits: a person who mistypes an address a few times,
// or signs up for each topic, never notices; a script gets one mail a
// minute per client address and one per ten minutes per inbox.
const (
	defaultSignUpAddressBurst  = 10
	defaultSignUpAddressRefill = time.Minute
	defaultSignUpEmailBurst    = 3
	defaultSignUpEmailRefill   = 10 * time.Minute
)

func newSignUpThrottle(c SignUpThrottle) *signUpThrottle {
	return &signUpThrottle{
		addresses: newLimiters[netip.Prefix](orDefault(c.AddressBurst, defaultSignUpAddressBurst),
			orDefault(c.AddressRefill, defaultSignUpAddressRefill)),
		emails: newLimiters[string](orDefault(c.EmailBurst, defaultSignUpEmailBurst),
			orDefault(c.EmailRefill, defaultSignUpEmailRefill)),
	}
}

// address takes a sign-up of the client address; see limiters.take. An
// address that does not parse is not limited (there is nothing to key).
func (t *signUpThrottle) address(remoteAddr string, now time.Time) time.Duration {
	key, ok := clientKey(remoteAddr)
	if !ok {
		return 0
	}
	return t.addresses.take(key, now)
}

// email takes a sign-up of a normalised e-mail address. The key ignores
// letter case altogether: mail servers almost always do, so Ada@ and ada@
// are one inbox to protect.
func (t *signUpThrottle) email(email string, now time.Time) time.Duration {
	return t.emails.take(strings.ToLower(email), now)
}

// retryAfter is the Retry-After value for a wait: whole seconds, rounded
// up, at least one.
func retryAfter(wait time.Duration) int {
	return max(1, int(math.Ceil(wait.Seconds())))
}
