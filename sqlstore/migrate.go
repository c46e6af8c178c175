package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/gofrs/flock"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations
var migrationFiles embed.FS

// Migrations is how many migrations the binary carries for dialect d: what
// a new database gets, for tests and tools that should not name a number.
func Migrations(d Dialect) int {
	files, _ := fs.Glob(migrationFiles, "migrations/"+string(d)+"/*.sql")
	return len(files)
}

// MigrationState is one migration and whether it is applied.
type MigrationState struct {
	Version int64
	Source  string
	Applied bool
}

// migrate runs fn with a goose provider over the store's migrations for its
// dialect. Concurrent runs are serialised: on PostgreSQL by an advisory
// lock held for the session, on SQLite by an exclusive lock on a file beside
// the database (goose ships no SQLite locker; see fileLocker).
func (s *Store) migrate(ctx context.Context, fn func(*goose.Provider) error) error {
	sub, err := fs.Sub(migrationFiles, "migrations/"+string(s.dialect))
	if err != nil {
		return err
	}
	db := s.migrations()
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	dialect := goose.DialectSQLite3
	if s.dialect == Postgres {
		// OpenDBFromPool wraps the pool in a new handle; closing it leaves
		// the pool open.
		defer db.Close()
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	} else if s.lockPath != "" {
		opts = append(opts, goose.WithLocker(&fileLocker{path: s.lockPath}))
	}
	p, err := goose.NewProvider(dialect, db, sub, opts...)
	if err != nil {
		return fmt.Errorf("sqlstore: migrations: %w", err)
	}
	return fn(p)
}

// MigrateUp applies every pending migration and returns how many it applied.
func (s *Store) MigrateUp(ctx context.Context) (int, error) {
	var n int
	err := s.migrate(ctx, func(p *goose.Provider) error {
		res, err := p.Up(ctx)
		n = len(res)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("sqlstore: migrate up: %w", err)
	}
	return n, nil
}

// MigrateDown rolls back the latest applied migration.
func (s *Store) MigrateDown(ctx context.Context) error {
	err := s.migrate(ctx, func(p *goose.Provider) error {
		_, err := p.Down(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: migrate down: %w", err)
	}
	return nil
}

// MigrationStatus lists every migration the binary holds and its state.
func (s *Store) MigrationStatus(ctx context.Context) ([]MigrationState, error) {
	var out []MigrationState
	err := s.migrate(ctx, func(p *goose.Provider) error {
		st, err := p.Status(ctx)
		for _, m := range st {
			out = append(out, MigrationState{
				Version: m.Source.Version,
				Source:  m.Source.Path,
				Applied: m.State == goose.StateApplied,
			})
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: migration status: %w", err)
	}
	return out, nil
}

// fileLocker makes concurrent SQLite migrations wait for each other. SQLite
// serialises each migration's transaction, but two processes starting on a
// new file would both read "version 0" and the second would fail replaying
// what the first applied.
//
// The lock is gofrs/flock's: flock(2) on Unix, LockFileEx on Windows (which
// has no flock), both held by the open file, not the process, so two
// migrations in one process exclude each other as two processes do; and
// both released by the system if the process dies, so a crash cannot leave
// a stale lock. Waiting polls (TryLock every lockRetry) rather than blocks,
// which is how the library lets a context cancel the wait.
type fileLocker struct {
	path string
	lock *flock.Flock // held while locked
}

// lockRetry is how often a waiting migration tries the lock again: far
// less than a migration of a new database takes, and a cheap open and
// close each time.
const lockRetry = 20 * time.Millisecond

var _ lock.Locker = (*fileLocker)(nil)

func (l *fileLocker) Lock(ctx context.Context, _ *sql.DB) error {
	fl := flock.New(l.path, flock.SetFlag(os.O_CREATE|os.O_RDWR), flock.SetPermissions(0o600))
	if _, err := fl.TryLockContext(ctx, lockRetry); err != nil {
		return err // not locked: TryLockContext reports false only with an error
	}
	l.lock = fl
	return nil
}

func (l *fileLocker) Unlock(context.Context, *sql.DB) error {
	if l.lock == nil {
		return nil
	}
	fl := l.lock
	l.lock = nil
	return fl.Unlock() // unlocks and closes the file
}
