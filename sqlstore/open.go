package sqlstore

import (
	"context"
	"crypto/x509"
	"database/sql"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"

	icymorning "github.com/icy-morning/icy-morning"
)

// Options tune a store.
type Options struct {
	// MaxConns caps the connection pool; 0 keeps the driver's default.
	MaxConns int
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// The rest apply to PostgreSQL only.

	// QueryExecMode is pgx's query execution mode by name: "" or
	// "cache_statement" (the default: server-side prepared statements,
	// fastest on a direct connection), "cache_describe", "describe_exec",
	// "exec" or "simple_protocol". Behind RDS Proxy use "exec" or
	// "describe_exec": named prepared statements pin a client to one
	// database connection and defeat the proxy's multiplexing.
	QueryExecMode string
	// Credentials, when set, gives the user and password for every new
	// connection, overriding the URL's. It is how short-lived secrets (RDS
	// IAM tokens, a rotated Secrets Manager password) reach the pool without
	// ever being part of a URL. retry is true when the previous connection
	// attempt failed, which is when a cached secret may have been rotated
	// and should be read again.
	Credentials func(ctx context.Context, retry bool) (user, password string, err error)
	// RootCAs, when set, are the authorities a server's certificate must
	// chain to under sslmode=verify-ca or verify-full, unless the URL names
	// its own sslrootcert. The Lambda mode passes the RDS authorities, which
	// are in no system trust store.
	RootCAs *x509.CertPool
	// PingTimeout bounds the liveness ping of a connection that has been
	// idle for over a second before it is reused; 0 means no separate bound.
	// In Lambda the process may have been frozen for minutes and a dead
	// connection should be replaced quickly, not waited on.
	PingTimeout time.Duration
}

// queryExecModes are pgx's modes by the names its connection strings use.
var queryExecModes = map[string]pgx.QueryExecMode{
	"":                pgx.QueryExecModeCacheStatement,
	"cache_statement": pgx.QueryExecModeCacheStatement,
	"cache_describe":  pgx.QueryExecModeCacheDescribe,
	"describe_exec":   pgx.QueryExecModeDescribeExec,
	"exec":            pgx.QueryExecModeExec,
	"simple_protocol": pgx.QueryExecModeSimpleProtocol,
}

// ValidQueryExecMode reports whether mode names one of pgx's modes.
func ValidQueryExecMode(mode string) bool {
	_, ok := queryExecModes[mode]
	return ok
}

// Location is a parsed database URL.
type Location struct {
	Dialect Dialect
	// URL is the PostgreSQL connection string, or the SQLite file path
	// (":memory:" for a throwaway in-memory database).
	URL string
}

// ParseURL reads a database URL: postgres:// or postgresql:// for
// PostgreSQL, and SQLAlchemy's SQLite forms sqlite:///relative.db,
// sqlite:////absolute.db and sqlite://:memory:. SQLAlchemy driver suffixes
// (postgresql+asyncpg://, sqlite+aiosqlite://) are dropped, so the Python
// service's settings keep working.
func ParseURL(raw string) (Location, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return Location{}, fmt.Errorf("database URL has no scheme (want postgres://... or sqlite:///...)")
	}
	scheme, _, _ = strings.Cut(strings.ToLower(scheme), "+")
	switch scheme {
	case "postgres", "postgresql":
		return Location{Dialect: Postgres, URL: scheme + "://" + rest}, nil
	case "sqlite":
		path, _, _ := strings.Cut(rest, "?")
		switch {
		case path == "" || path == ":memory:" || path == "/:memory:":
			return Location{Dialect: SQLite, URL: ":memory:"}, nil
		case strings.HasPrefix(path, "/"):
			// SQLAlchemy: three slashes, then a relative path; four, an
			// absolute one. What follows "sqlite://" is that path behind one
			// more slash.
			p, err := url.PathUnescape(path[1:])
			if err != nil || p == "" {
				return Location{}, fmt.Errorf("sqlite URL has a bad path")
			}
			return Location{Dialect: SQLite, URL: p}, nil
		}
		return Location{}, fmt.Errorf("sqlite URL needs three slashes (sqlite:///file.db) or four for an absolute path")
	}
	return Location{}, fmt.Errorf("unsupported database URL scheme %q (want postgres, postgresql or sqlite)", scheme)
}

// Open connects to the database at rawURL. It does not migrate.
func Open(ctx context.Context, rawURL string, o Options) (*Store, error) {
	loc, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if loc.Dialect == Postgres {
		return openPostgres(ctx, loc.URL, o)
	}
	return openSQLite(ctx, loc.URL, o)
}

func openPostgres(ctx context.Context, connString string, o Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		// pgx's message may quote the connection string, password and all.
		return nil, fmt.Errorf("sqlstore: invalid PostgreSQL connection string")
	}
	if o.MaxConns > 0 {
		cfg.MaxConns = int32(o.MaxConns)
	}
	mode, ok := queryExecModes[o.QueryExecMode]
	if !ok {
		return nil, fmt.Errorf("sqlstore: unknown query exec mode %q (want cache_statement, cache_describe, describe_exec, exec or simple_protocol)", o.QueryExecMode)
	}
	if o.QueryExecMode != "" {
		cfg.ConnConfig.DefaultQueryExecMode = mode
	}
	cfg.PingTimeout = o.PingTimeout
	if o.RootCAs != nil && !hasQueryParam(connString, "sslrootcert") {
		// pgx verifies through these tls.Configs (verify-ca reads RootCAs
		// when it verifies), so setting the pool here is enough.
		if tc := cfg.ConnConfig.TLSConfig; tc != nil {
			tc.RootCAs = o.RootCAs
		}
		for _, fb := range cfg.ConnConfig.Fallbacks {
			if fb.TLSConfig != nil {
				fb.TLSConfig.RootCAs = o.RootCAs
			}
		}
	}
	if creds := o.Credentials; creds != nil {
		// An attempt that never reaches AfterConnect failed. pgx does not
		// say why, so any failure (not only a refused password) makes the
		// next attempt a retry; a needless re-read of a secret is cheap.
		var failing atomic.Bool
		cfg.AfterConnect = func(context.Context, *pgx.Conn) error {
			failing.Store(false)
			return nil
		}
		cfg.BeforeConnect = func(ctx context.Context, cc *pgx.ConnConfig) error {
			user, password, err := creds(ctx, failing.Swap(true))
			if err != nil {
				return fmt.Errorf("database credentials: %w", err)
			}
			if user != "" {
				cc.User = user
			}
			cc.Password = password
			return nil
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: connect to PostgreSQL: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("sqlstore: connect to PostgreSQL: %w", err)
	}
	p := newPgxPool(pool)
	return &Store{
		dialect: Postgres,
		r:       p, w: p, db: p,
		ping:  pool.Ping,
		close: func() error { pool.Close(); return nil },
		// pgx encodes a time.Time into a date parameter; the store passes
		// the date at UTC midnight so no zone can shift the day.
		dateArg:     func(d icymorning.Date) any { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) },
		isForeignKy: pgIsForeignKey,
		now:         o.Now,
		migrations:  func() *sql.DB { return stdlib.OpenDBFromPool(pool) },
	}, nil
}

// hasQueryParam reports whether the URL connString sets param.
func hasQueryParam(connString, param string) bool {
	u, err := url.Parse(connString)
	return err == nil && u.Query().Has(param)
}

// sqliteParams: a busy timeout instead of instant SQLITE_BUSY (first: the
// pragmas run in order, and switching a new file to WAL needs a lock that
// another process opening it at the same moment may hold), foreign keys on
// (SQLite leaves them off), WAL so readers never wait for the writer,
// synchronous FULL so a committed write survives power loss, time values
// written in SQLite's own text format, and BEGIN IMMEDIATE so a transaction
// takes the write lock up front instead of failing when it upgrades.
const sqliteParams = "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)" +
	"&_pragma=synchronous(FULL)&_time_format=sqlite&_txlock=immediate"

// pingSQLite opens the first connection, which runs the pragmas. When
// several processes open a new file at once, switching it to WAL can fail
// with SQLITE_BUSY without SQLite calling the busy handler (the busy
// timeout does not cover it), so that error is retried for a while.
func pingSQLite(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := db.PingContext(ctx)
		if err == nil || sqliteCode(err)&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func openSQLite(ctx context.Context, path string, o Options) (*Store, error) {
	writer, err := sql.Open("sqlite", path+"?"+sqliteParams)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open SQLite: %w", err)
	}
	// One writer connection: SQLite admits one writer at a time anyway, and
	// queueing in Go is fairer and cheaper than retrying on SQLITE_BUSY. An
	// in-memory database lives in one connection, which must never close.
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	if err := pingSQLite(ctx, writer); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlstore: open SQLite %s: %w", path, err)
	}
	w := newSQLDB(writer)
	s := &Store{
		dialect: SQLite,
		r:       w, w: w, db: w,
		ping:        writer.PingContext,
		close:       writer.Close,
		dateArg:     func(d icymorning.Date) any { return d.String() },
		isForeignKy: sqliteIsForeignKey,
		now:         o.Now,
		migrations:  func() *sql.DB { return writer },
		lockPath:    path + ".migrate-lock",
	}
	if path == ":memory:" {
		s.lockPath = ""
		return s, nil
	}
	reader, err := sql.Open("sqlite", path+"?"+sqliteParams+"&_pragma=query_only(1)")
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlstore: open SQLite: %w", err)
	}
	n := o.MaxConns
	if n <= 0 {
		n = max(4, runtime.GOMAXPROCS(0))
	}
	reader.SetMaxOpenConns(n)
	reader.SetMaxIdleConns(n)
	s.r = sqlQ{q: reader}
	s.ping = reader.PingContext
	s.close = func() error {
		rerr := reader.Close()
		if err := writer.Close(); err != nil {
			return err
		}
		return rerr
	}
	return s, nil
}
