package sqlstore

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// PingOnEveryReuse returns o with a PostgreSQL pool that pings each idle
// connection before reusing it, as pgx does by default only after a second
// of idleness: a test sees a connection that died while idle replaced
// without waiting that second out.
func PingOnEveryReuse(o Options) Options {
	o.shouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return true }
	return o
}
