package sqlstore

import (
	"context"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Options tune a store.
type Options struct {
	// MaxConns caps the connection pool; 0 keeps the driver's default.
	MaxConns int
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// The rest apply to PostgreSQL only.

	// Credentials, when set, gives the user and password for every new
	// connection, overriding the URL's. It is how short-lived secrets (RDS
	// IAM tokens, a rotated Secrets Manager password) reach the pool without
	// ever being part of a URL. retry is true when the previous connection
	// attempt failed, which is when a cached secret may have been rotated
	// and should be read again.
	Credentials func(ctx context.Context, retry bool) (user, password string, err error)
	// RootCAs, when set, are the authorities a server's certificate must
	// chain to under sslmode=verify-ca or verify-full, unless pgx has root
	// certificates of its own: the URL's sslrootcert (or PGSSLROOTCERT, or
	// ~/.postgresql/root.crt). The Lambda mode passes the RDS authorities,
	// which are in no system trust store.
	RootCAs *x509.CertPool
	// PingTimeout bounds the liveness ping of a connection that has been
	// idle for over a second before it is reused; 0 means no separate bound.
	// In Lambda the process may have been frozen for minutes and a dead
	// connection should be replaced quickly, not waited on.
	PingTimeout time.Duration
	// ConnectWait is how long Open keeps trying to reach a PostgreSQL that
	// refuses or fails its first connection, with short pauses between
	// attempts; 0 tries once. The migrate command waits this way: a new
	// database, or a new RDS Proxy whose target is registered but not yet
	// available, refuses connections for a while after it is created.
	ConnectWait time.Duration

	// shouldPing replaces pgx's rule for pinging a connection before reuse
	// (idle for over a second); tests set it (export_test.go).
	shouldPing func(context.Context, pgxpool.ShouldPingParams) bool
}

// Open connects to the database at rawURL (see ParseURL). It does not
// migrate.
func Open(ctx context.Context, rawURL string, o Options) (*Store, error) {
	loc, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	return OpenLocation(ctx, loc, o)
}

// OpenLocation connects to the database at loc. It does not migrate.
func OpenLocation(ctx context.Context, loc Location, o Options) (*Store, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	switch loc.Dialect {
	case SQLite:
		return openSQLite(ctx, loc.URL, o)
	case Postgres:
		return openPostgres(ctx, loc.URL, o)
	}
	return nil, fmt.Errorf("sqlstore: no database at a location of dialect %q (use ParseURL)", loc.Dialect)
}
