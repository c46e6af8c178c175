package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"

	icymorning "github.com/icy-morning/icy-morning"
)

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
	// queueing in Go is fairer and cheaper than retrying on SQLITE_BUSY.
	// The committer (groupcommit.go) runs every write on it, many to a
	// transaction; migrations, which run before the store serves, take it
	// through this pool of one between batches. An in-memory database
	// lives in one connection, which must never close.
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
		idemPruned: new(atomic.Int64),
		dialect:    SQLite,
		r:          w, w: w, db: w,
		ping:         writer.PingContext,
		dateArg:      func(d icymorning.Date) any { return d.String() },
		isForeignKey: sqliteIsForeignKey,
		now:          o.Now,
		migrations:   func() *sql.DB { return writer },
		lockPath:     path + ".migrate-lock",
	}
	s.committer = newCommitter(writer, s.internal)
	s.close = func() error {
		s.committer.stop()
		return writer.Close()
	}
	if path == ":memory:" {
		s.lockPath = ""
		return s, nil
	}
	reader, err := sql.Open("sqlite", path+"?"+sqliteParams+"&_pragma=query_only(1)")
	if err != nil {
		s.Close()
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
		s.committer.stop()
		rerr := reader.Close()
		if err := writer.Close(); err != nil {
			return err
		}
		return rerr
	}
	return s, nil
}
