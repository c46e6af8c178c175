package sqlstore

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Internal is what a store makes of a driver's error err (see internal).
func Internal(err error) error { return (&Store{}).internal("test", err) }

// NeverPing returns o with a PostgreSQL pool that reuses an idle
// connection without pinging it first, whatever its idle time, so that a
// test sees the error of a connection that died while idle.
func NeverPing(o Options) Options {
	o.shouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	return o
}
