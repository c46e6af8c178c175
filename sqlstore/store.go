// Package sqlstore keeps Icy Morning's data in PostgreSQL (through pgx) or
// in SQLite (through the CGO-free modernc driver), behind the domain's Store
// interface. The SQL is shared; only connection set-up, date parameters and
// error codes differ by dialect.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
)

// Dialect names a database engine.
type Dialect string

// The supported dialects.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// Store implements icymorning.Store.
type Store struct {
	dialect Dialect
	r, w    querier  // reads and writes: the same pool but for SQLite
	db      beginner // nil inside a transaction
	ping    func(context.Context) error
	close   func() error
	// dialect hooks
	dateArg      func(icymorning.Date) any
	isForeignKey func(error) bool
	// now is the clock of created_at/updated_at, truncated to microseconds:
	// PostgreSQL keeps no more, and both stores must give the same values.
	now func() time.Time
	// migrations opens the database/sql handle goose runs on.
	migrations func() *sql.DB
	// lockPath is the file locked while SQLite migrates ("" in memory).
	lockPath string

	// committer runs SQLite's writes, batched into group commits
	// (groupcommit.go); nil on PostgreSQL.
	committer *committer
	// creates runs PostgreSQL's asset creates, batched into multi-row
	// statements (pgcreates.go); nil on SQLite.
	creates *creates
	// idemPruned is when expired idempotency answers were last deleted
	// (idempotency.go), in Unix nanoseconds; shared by a transaction's copy.
	idemPruned *atomic.Int64
}

var _ icymorning.Store = (*Store)(nil)

// Dialect reports which engine the store runs on.
func (s *Store) Dialect() Dialect { return s.dialect }

// Ping implements icymorning.Store.
func (s *Store) Ping(ctx context.Context) error { return s.ping(ctx) }

// Close implements icymorning.Store.
func (s *Store) Close() error { return s.close() }

// InTx implements icymorning.Store. On SQLite the whole of fn is one write
// of a group commit, in its own savepoint.
func (s *Store) InTx(ctx context.Context, fn func(tx icymorning.Tx) error) error {
	return s.atomic(ctx, func(q querier) error {
		txs := *s
		txs.r, txs.w, txs.db = q, q, nil
		return fn(txHandle{&txs})
	})
}

// withTx runs fn in a new transaction: committed when fn returns nil,
// rolled back otherwise.
func (s *Store) withTx(ctx context.Context, fn func(q querier) error) (err error) {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return s.internal("begin transaction", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.rollback(context.WithoutCancel(ctx))
			panic(p)
		}
		if err != nil {
			_ = tx.rollback(context.WithoutCancel(ctx))
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.commit(ctx); err != nil {
		return s.internal("commit", err)
	}
	return nil
}

// atomic runs fn, which changes data, so that its statements are one
// transaction: inside InTx they join the caller's; on SQLite they are one
// write of a group commit; on PostgreSQL they get a transaction of their
// own.
func (s *Store) atomic(ctx context.Context, fn func(q querier) error) error {
	switch {
	case s.db == nil:
		return fn(s.w)
	case s.committer != nil:
		return s.committer.do(ctx, fn)
	}
	return s.withTx(ctx, fn)
}

// write runs fn, which changes data, on the writer: inside InTx in the
// caller's transaction; on SQLite as one write of a group commit, answered
// after the commit that holds it; on PostgreSQL statement by statement, as
// the pool runs them, for fn's statements need no transaction together
// there (use atomic when they do).
func (s *Store) write(ctx context.Context, fn func(q querier) error) error {
	if s.committer != nil && s.db != nil {
		return s.committer.do(ctx, fn)
	}
	return fn(s.w)
}

// txHandle is what InTx hands its function: the store's data methods on the
// transaction, and only those, so that not even a type assertion reaches
// the pool's Close, Ping or another InTx.
type txHandle struct{ icymorning.Tx }

func (s *Store) timestamp() time.Time {
	return s.now().UTC().Truncate(time.Microsecond)
}

// internal wraps a driver error that the domain has no code for, except
// that an outage of the database becomes EUNAVAILABLE (see unavailable)
// with the driver's error still in the chain. The wrapped text reaches
// logs only: the HTTP layer answers with the domain error's message, or
// a generic one. A caller that gave up (context.Canceled) gets its own
// error back, and an error classified already passes through.
func (s *Store) internal(what string, err error) error {
	var known *icymorning.Error
	if errors.Is(err, context.Canceled) || errors.As(err, &known) {
		return err
	}
	if u := unavailable(err); u != nil {
		return fmt.Errorf("sqlstore: %s: %w: %w", what, u, err)
	}
	return fmt.Errorf("sqlstore: %s: %w", what, err)
}

func notFound(kind string, id int64) error {
	return icymorning.Errorf(icymorning.ENOTFOUND, "%s %d not found", kind, id)
}

func fromTime(t time.Time) icymorning.Date { return icymorning.DateOf(t.UTC()) }

// limitClause writes a page's limit into the SQL as a literal. With
// "LIMIT $n" PostgreSQL's cached generic plan cannot know the limit and
// assumes a tenth of the table, which on a large table makes it re-plan
// every page; a literal keeps one cheap plan per limit. The limit is an int
// validated by the caller, so nothing from the client reaches the SQL text.
func limitClause(limit int) string {
	return "LIMIT " + strconv.Itoa(max(limit, 0))
}
