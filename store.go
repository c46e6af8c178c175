package icymorning

import "context"

// Store is everything Icy Morning keeps. Implementations must be safe for
// concurrent use.
type Store interface {
	AnalystStore
	AssetStore
	SubscriptionStore

	// InTx runs fn with a Store whose every call is part of one
	// transaction: committed when fn returns nil, rolled back otherwise. It is
	// how later work (the notification outbox) joins a change atomically.
	InTx(ctx context.Context, fn func(tx Store) error) error
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

// Limits of lists.
const (
	DefaultPageLimit = 100
	MaxPageLimit     = 1000
)
