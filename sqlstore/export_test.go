package sqlstore

import (
	"context"
	"fmt"
	"sync"

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

// QueryRow runs a query of one row on s's writer and scans it into dest.
func QueryRow(ctx context.Context, s *Store, sql string, dest []any, args ...any) error {
	return s.w.queryRow(ctx, sql, args...).Scan(dest...)
}

// QueryInt runs a query of one integer on s's writer.
func QueryInt(ctx context.Context, s *Store, sql string, args ...any) (int64, error) {
	var n int64
	err := s.w.queryRow(ctx, sql, args...).Scan(&n)
	return n, err
}

// Commits reports how many transactions s's group commit has committed, and
// how many writes they held; on PostgreSQL, how many statements of asset
// creates committed, and how many creates they held.
func Commits(s *Store) (commits, writes int64) {
	if s.creates != nil {
		return s.creates.statements.Load(), s.creates.committed.Load()
	}
	return s.committer.commits.Load(), s.committer.committed.Load()
}

// Queued reports how many writes wait for s's committer (on PostgreSQL,
// how many creates wait for an inserter) to take them.
func Queued(s *Store) int {
	if s.creates != nil {
		return len(s.creates.queue)
	}
	return len(s.committer.queue)
}

// Inserters is how many creates a PostgreSQL store runs at once.
func Inserters(s *Store) int { return createInserters(int(s.db.(*pgxPool).pool.Config().MaxConns)) }

// HoldInserters stops each of s's PostgreSQL inserters as it starts its
// next batch, until release is called: held is closed when n of them have
// stopped there.
func HoldInserters(s *Store, n int) (held <-chan struct{}, release func()) {
	stopped, resume := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	count := 0
	hold := func() {
		mu.Lock()
		if count++; count == n {
			close(stopped)
		}
		mu.Unlock()
		<-resume
	}
	s.creates.beforeInsert.Store(&hold)
	var releaseOnce sync.Once
	return stopped, func() { releaseOnce.Do(func() { close(resume) }) }
}

// HoldNextCommit stops s's committer before the COMMIT of its next batch
// that has something to commit: held is closed when it stops there, and
// release lets it go on. Later batches are not held.
func HoldNextCommit(s *Store) (held <-chan struct{}, release func()) {
	stopped, resume := make(chan struct{}), make(chan struct{})
	var once sync.Once
	hold := func() {
		once.Do(func() {
			close(stopped)
			<-resume
		})
	}
	s.committer.beforeCommit.Store(&hold)
	var releaseOnce sync.Once
	return stopped, func() { releaseOnce.Do(func() { close(resume) }) }
}

// WriteSQL runs statements, in order, as one write of s's group commit: for
// tests that need a write no store method makes (one whose COMMIT fails).
func WriteSQL(ctx context.Context, s *Store, statements ...string) error {
	return s.committer.do(ctx, func(q querier) error {
		for _, st := range statements {
			if _, err := q.exec(ctx, st); err != nil {
				return err
			}
		}
		return nil
	})
}

// Closing reports whether Close has begun to stop s's committer (on
// PostgreSQL, its inserters).
func Closing(s *Store) bool {
	var quit chan struct{}
	if s.creates != nil {
		quit = s.creates.quit
	} else {
		quit = s.committer.quit
	}
	select {
	case <-quit:
		return true
	default:
		return false
	}
}

// Prepared reports how many statements s's committer has prepared on the
// writer connection.
func Prepared(s *Store) int64 { return s.committer.prepared.Load() }

// Audit reads who created row id of table (analysts or assets) and who last
// changed it: columns that no domain type carries (audit.go), so only
// tests read them.
func Audit(ctx context.Context, s *Store, table string, id int64) (createdBy, updatedBy *string, err error) {
	switch table {
	case "analysts", "assets":
	default:
		return nil, nil, fmt.Errorf("no audit columns in %q", table)
	}
	err = s.r.queryRow(ctx, `SELECT created_by, updated_by FROM `+table+` WHERE id = $1`, id).Scan(&createdBy, &updatedBy)
	return createdBy, updatedBy, err
}
