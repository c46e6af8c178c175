package icymorning

import "context"

// Tx is the data Icy Morning keeps: what a function run by Store.InTx may
// read and change, every call part of one transaction. It has nothing that
// manages the database, so such a function cannot close or ping it.
type Tx interface {
	AnalystStore
	AssetStore
	SubscriptionStore
	OutboxStore
}

// Store is the data (each call its own transaction) and the database that
// keeps it. Implementations must be safe for concurrent use.
type Store interface {
	Tx

	IdempotencyStore

	// InTx runs fn with a Tx whose every call is part of one transaction:
	// committed when fn returns nil, rolled back otherwise. It is how later
	// work (the notification outbox) joins a change atomically.
	InTx(ctx context.Context, fn func(tx Tx) error) error
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Close releases the store's connections.
	Close() error
}

// Page selects a window of a list in id order (keyset pagination): rows with
// an id greater than After, at most Limit of them.
type Page struct {
	After int64
	Limit int
}

// Limits of lists: the page size a client gets when it names none, and the
// most it may ask for.
const (
	DefaultPageLimit = 100
	MaxPageLimit     = 1000
)
