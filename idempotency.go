package icymorning

import (
	"context"
	"time"
)

// IdempotencyKey names one client request that may be retried: a POST
// that carried an Idempotency-Key header. Keys are the client's own, so
// they are kept per principal.
type IdempotencyKey struct {
	Principal string
	Key       string
	// Fingerprint identifies the request (method, path and body): the
	// same key with another request is the client's mistake.
	Fingerprint []byte
}

// StoredResponse is the answer given to the first request of a key,
// which its retries get again.
type StoredResponse struct {
	Status int
	Header map[string][]string
	Body   []byte
}

// ErrKeyInProgress is the ECONFLICT of a retry while the first request
// with its key still runs.
var ErrKeyInProgress = Errorf(ECONFLICT, "a request with this Idempotency-Key is still in progress; retry later")

// IdempotencyStore keeps the answers of keyed requests, so that a client
// that retries (after a timeout, say) gets the first answer instead of a
// second create. It holds across restarts and across instances.
type IdempotencyStore interface {
	// ReserveIdempotencyKey marks k in progress at now, until its
	// answer is stored. It returns the stored answer when k has one and
	// the same fingerprint; EINVALID when k was used for another
	// request; ECONFLICT while k's first request is still running (one
	// in progress for longer than lease is taken to have died and is
	// taken over); nil, nil when k is now reserved.
	ReserveIdempotencyKey(ctx context.Context, k IdempotencyKey, now time.Time, lease time.Duration) (*StoredResponse, error)
	// CompleteIdempotencyKey stores k's answer until expires.
	CompleteIdempotencyKey(ctx context.Context, k IdempotencyKey, r StoredResponse, expires time.Time) error
	// ReleaseIdempotencyKey forgets a reservation whose request ended
	// without an answer worth keeping (an outage), so a retry runs again.
	ReleaseIdempotencyKey(ctx context.Context, k IdempotencyKey) error
}
