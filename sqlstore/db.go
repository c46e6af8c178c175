package sqlstore

import (
	"context"
	"database/sql"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The store's SQL is written once and runs on both databases: modernc's
// SQLite binds $1..$n by number and supports RETURNING and ON CONFLICT, as
// PostgreSQL does. What differs is the client API (pgx's native interface is
// markedly faster than database/sql for PostgreSQL), so these few interfaces
// are the seam: querier is satisfied by a pool or a transaction of either.
type querier interface {
	queryRow(ctx context.Context, sql string, args ...any) row
	query(ctx context.Context, sql string, args ...any) (rows, error)
	// exec runs a statement that returns no rows and reports how many
	// rows it changed.
	exec(ctx context.Context, sql string, args ...any) (int64, error)
}

type row interface{ Scan(dest ...any) error }

type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// beginner starts transactions; both pools implement it.
type beginner interface {
	begin(ctx context.Context) (txQuerier, error)
}

type txQuerier interface {
	querier
	commit(ctx context.Context) error
	rollback(ctx context.Context) error
}

// pgxQ adapts a pgx pool or transaction.
type pgxQ struct {
	q interface {
		QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
		Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
		Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	}
}

func (p pgxQ) queryRow(ctx context.Context, s string, args ...any) row {
	return p.q.QueryRow(ctx, s, args...)
}

func (p pgxQ) query(ctx context.Context, s string, args ...any) (rows, error) {
	r, err := p.q.Query(ctx, s, args...)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (p pgxQ) exec(ctx context.Context, s string, args ...any) (int64, error) {
	tag, err := p.q.Exec(ctx, s, args...)
	return tag.RowsAffected(), err
}

type pgxPool struct {
	pgxQ
	pool *pgxpool.Pool
}

func newPgxPool(pool *pgxpool.Pool) *pgxPool {
	return &pgxPool{pgxQ: pgxQ{q: pool}, pool: pool}
}

func (p *pgxPool) begin(ctx context.Context) (txQuerier, error) {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return pgxTx{pgxQ: pgxQ{q: tx}, tx: tx}, nil
}

type pgxTx struct {
	pgxQ
	tx pgx.Tx
}

func (t pgxTx) commit(ctx context.Context) error   { return t.tx.Commit(ctx) }
func (t pgxTx) rollback(ctx context.Context) error { return t.tx.Rollback(ctx) }

// sqlQ adapts a database/sql handle or transaction (used for SQLite).
type sqlQ struct {
	q interface {
		QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
		ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	}
}

func (s sqlQ) queryRow(ctx context.Context, q string, args ...any) row {
	return s.q.QueryRowContext(ctx, q, args...)
}

func (s sqlQ) query(ctx context.Context, q string, args ...any) (rows, error) {
	r, err := s.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{r}, nil
}

func (s sqlQ) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := s.q.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

type sqlRows struct{ *sql.Rows }

// Close drops database/sql's close error: Err, checked after the loop, has
// already reported any failure that matters.
func (r sqlRows) Close() { _ = r.Rows.Close() }

// sqlDB is a database/sql pool that can begin transactions. For SQLite it
// is the single writer connection (see openSQLite).
type sqlDB struct {
	sqlQ
	db *sql.DB
}

func newSQLDB(db *sql.DB) *sqlDB { return &sqlDB{sqlQ: sqlQ{q: db}, db: db} }

func (s *sqlDB) begin(ctx context.Context) (txQuerier, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return sqlTx{sqlQ: sqlQ{q: tx}, tx: tx}, nil
}

type sqlTx struct {
	sqlQ
	tx *sql.Tx
}

func (t sqlTx) commit(context.Context) error   { return t.tx.Commit() }
func (t sqlTx) rollback(context.Context) error { return t.tx.Rollback() }

// list runs a query and scans every row with scan. capHint sizes the slice:
// callers pass the page limit, which bounds the rows.
func list[T any](ctx context.Context, q querier, capHint int, scan func(row, *T) error, sql string, args ...any) ([]T, error) {
	rs, err := q.query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := make([]T, 0, max(0, min(capHint, 1024)))
	for rs.Next() {
		var v T
		if err := scan(rs, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rs.Err()
}
