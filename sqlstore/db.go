package sqlstore

import (
	"context"
	"database/sql"
	"sync/atomic"

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

// maxCachedStmts bounds the statements a stmtCache keeps prepared. The
// store's SQL is a fixed set of constants, well under it; past it, a
// statement runs unprepared, as every statement did before the cache.
const maxCachedStmts = 64

// stmtCache runs statements on one database/sql connection, each SQL text
// prepared once and reused: modernc's SQLite parses and plans a statement
// on every Exec or Query unless a prepared one is reused, and that was
// about a quarter of the write path's CPU. It is used by one goroutine at a
// time (the committer hands it from write to write), so it has no lock.
// Its statements die with the connection: close closes them first.
type stmtCache struct {
	conn  *sql.Conn
	stmts map[string]*cachedStmt
	// prepared counts the statements prepared, for tests.
	prepared *atomic.Int64
}

type cachedStmt struct {
	st *sql.Stmt
	// busy: rows of st are open. SQLite steps a prepared statement's rows
	// in place, so a use of the same SQL while they are open (a nested
	// query) runs unprepared instead of resetting them.
	busy bool
}

func newStmtCache(conn *sql.Conn, prepared *atomic.Int64) *stmtCache {
	return &stmtCache{conn: conn, stmts: make(map[string]*cachedStmt), prepared: prepared}
}

// stmt returns q's prepared statement, preparing it on first use, or nil
// when q is to run unprepared: the cache is full, the statement's rows are
// open, or it does not prepare (run unprepared, it fails with the same
// error it always did, from the same place).
func (c *stmtCache) stmt(ctx context.Context, q string) *cachedStmt {
	if cs, ok := c.stmts[q]; ok {
		if cs.busy {
			return nil
		}
		return cs
	}
	if len(c.stmts) >= maxCachedStmts {
		return nil
	}
	st, err := c.conn.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	c.prepared.Add(1)
	cs := &cachedStmt{st: st}
	c.stmts[q] = cs
	return cs
}

func (c *stmtCache) queryRow(ctx context.Context, q string, args ...any) row {
	cs := c.stmt(ctx, q)
	if cs == nil {
		return c.conn.QueryRowContext(ctx, q, args...)
	}
	cs.busy = true
	return cachedRow{cs.st.QueryRowContext(ctx, args...), cs}
}

func (c *stmtCache) query(ctx context.Context, q string, args ...any) (rows, error) {
	cs := c.stmt(ctx, q)
	if cs == nil {
		return sqlQ{q: c.conn}.query(ctx, q, args...)
	}
	r, err := cs.st.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	cs.busy = true
	return cachedRows{sqlRows{r}, cs}, nil
}

func (c *stmtCache) exec(ctx context.Context, q string, args ...any) (int64, error) {
	cs := c.stmt(ctx, q)
	if cs == nil {
		return sqlQ{q: c.conn}.exec(ctx, q, args...)
	}
	res, err := cs.st.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// close closes the statements, then returns the connection to its pool.
func (c *stmtCache) close() {
	for q, cs := range c.stmts {
		_ = cs.st.Close() // nothing to do about a failed finalize but go on
		delete(c.stmts, q)
	}
	_ = c.conn.Close()
}

// cachedRow frees its statement once scanned, as *sql.Row closes its rows.
type cachedRow struct {
	*sql.Row
	cs *cachedStmt
}

func (r cachedRow) Scan(dest ...any) error {
	defer func() { r.cs.busy = false }()
	return r.Row.Scan(dest...)
}

type cachedRows struct {
	sqlRows
	cs *cachedStmt
}

func (r cachedRows) Close() {
	r.sqlRows.Close()
	r.cs.busy = false
}

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
