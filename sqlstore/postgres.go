package sqlstore

import (
	"context"
	"crypto/tls"
	"database/sql"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	icymorning "github.com/icy-morning/icy-morning"
)

// defaultConnectTimeout bounds a connection attempt when the URL's
// connect_timeout does not.
const defaultConnectTimeout = 5 * time.Second

// openPostgres parses connString afresh, so the pool's configuration is
// its own: a copy of one (pgxpool.Config.Copy) would not do, because pgx's
// verify-ca check reads the root CAs of the tls.Config it was parsed with.
func openPostgres(ctx context.Context, connString string, o Options) (*Store, error) {
	cfg, err := parsePostgresConfig(connString)
	if err != nil {
		return nil, err
	}
	if o.MaxConns > 0 {
		cfg.MaxConns = int32(o.MaxConns)
	}
	cfg.PingTimeout = o.PingTimeout
	if cfg.ConnConfig.ConnectTimeout == 0 {
		// A connection attempt runs on after the request that started it
		// has given up, holding a place in the pool: one to a server that
		// does not answer must end well within a request's time.
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	if o.shouldPing != nil {
		cfg.ShouldPing = o.shouldPing
	}
	if o.RootCAs != nil {
		// pgx verifies through these tls.Configs (verify-ca reads RootCAs
		// when it verifies), so setting the pool here is enough. pgx sets
		// RootCAs only for an sslrootcert, which wins.
		trust := func(tc *tls.Config) {
			if tc != nil && tc.RootCAs == nil {
				tc.RootCAs = o.RootCAs
			}
		}
		trust(cfg.ConnConfig.TLSConfig)
		for _, fb := range cfg.ConnConfig.Fallbacks {
			trust(fb.TLSConfig)
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
	if err := pingUntil(ctx, pool.Ping, o.ConnectWait); err != nil {
		pool.Close()
		return nil, fmt.Errorf("sqlstore: connect to PostgreSQL: %w", err)
	}
	p := newPgxPool(pool)
	st := &Store{
		idemPruned: new(atomic.Int64),
		dialect:    Postgres,
		r:          p, w: p, db: p,
		ping: pool.Ping,
		// pgx encodes a time.Time into a date parameter; the store passes
		// the date at UTC midnight so no zone can shift the day.
		dateArg:      func(d icymorning.Date) any { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) },
		isForeignKey: pgIsForeignKey,
		now:          o.Now,
		migrations:   func() *sql.DB { return stdlib.OpenDBFromPool(pool) },
	}
	st.creates = newCreates(createInserters(int(cfg.MaxConns)), st)
	st.close = func() error {
		st.creates.stop()
		pool.Close()
		return nil
	}
	return st, nil
}

// pingUntil calls ping until it succeeds or wait has passed, pausing
// between attempts from 100 ms up to a second: short enough that a server
// coming up is found within a second of it, and long enough that one
// which is down is not hammered. With wait 0 it calls ping once. The error
// names the bound and the last attempt's error; pgx's connection errors
// name the host and user, never the password.
func pingUntil(ctx context.Context, ping func(context.Context) error, wait time.Duration) error {
	if wait <= 0 {
		return ping(ctx)
	}
	deadline := time.Now().Add(wait)
	wctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	pause := 100 * time.Millisecond
	var last error
	for attempt := 1; ; attempt++ {
		err := ping(wctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return err // the caller gave up
		}
		// An attempt cut short by the bound says less than the one before.
		if last == nil || wctx.Err() == nil {
			last = err
		}
		if wctx.Err() != nil {
			return fmt.Errorf("not reachable within %s (%d attempts), last error: %w", wait, attempt, last)
		}
		select {
		case <-time.After(min(pause, time.Until(deadline))):
		case <-wctx.Done():
		}
		pause = min(2*pause, time.Second)
	}
}

// createInserters is how many multi-row creates run at once
// (pgcreates.go): two, so that a batch gathers while another is in flight
// (a round trip to RDS is not free) and one slow statement does not hold
// up every create; one on a pool of fewer than four (Lambda's two), so
// that reads keep a connection. Measured at 32 connections on 2 cores: 1,
// 2 and 4 inserters gave about 8,600, 8,100 and 6,800 creates a second,
// p99 9.3, 9.3 and 15 ms: more inserters make smaller batches, which cost
// the server more per create.
func createInserters(maxConns int) int {
	return min(2, max(1, maxConns/2))
}
