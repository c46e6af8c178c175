package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"syscall"

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
// what the first applied. flock is released by the kernel if the process
// dies, so a crash cannot leave a stale lock.
type fileLocker struct {
	path string
	f    *os.File // held while locked
}

var _ lock.Locker = (*fileLocker)(nil)

func (l *fileLocker) Lock(ctx context.Context, _ *sql.DB) error {
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }()
	select {
	case err := <-done:
		if err != nil {
			f.Close()
			return err
		}
		l.f = f
		return nil
	case <-ctx.Done():
		f.Close() // releases the lock if the goroutine gets it later
		return ctx.Err()
	}
}

func (l *fileLocker) Unlock(context.Context, *sql.DB) error {
	if l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	return f.Close() // closing the descriptor drops the flock
}
