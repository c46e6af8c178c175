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

// Exec runs a statement on s's writer: for tests that write rows the way an
// older version of the store did.
func Exec(ctx context.Context, s *Store, sql string, args ...any) (int64, error) {
	return s.w.exec(ctx, sql, args...)
}

// QueryInt runs a query of one integer on s's writer.
func QueryInt(ctx context.Context, s *Store, sql string, args ...any) (int64, error) {
	var n int64
	err := s.w.queryRow(ctx, sql, args...).Scan(&n)
	return n, err
}
