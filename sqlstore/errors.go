package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	icymorning "github.com/icy-morning/icy-morning"
)

func isNoRows(err error) bool {
	return errors.Is(err, pgx.ErrNoRows) || errors.Is(err, sql.ErrNoRows)
}

// PostgreSQL SQLSTATEs (Appendix A of its manual).
const (
	pgForeignKeyViolation = "23503"

	// A server that cannot serve now.
	pgClassConnectionException = "08"    // the connection failed or broke
	pgAdminShutdown            = "57P01" // shutting down, or this backend was terminated
	pgCrashShutdown            = "57P02" // another backend crashed: every session is reset
	pgCannotConnectNow         = "57P03" // starting up, recovering or shutting down
	pgIdleSessionTimeout       = "57P05" // an idle pooled session was ended by the server
	pgTooManyConnections       = "53300"
	pgDiskFull                 = "53100"
)

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func pgIsForeignKey(err error) bool { return pgCode(err) == pgForeignKeyViolation }

func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// ON DELETE RESTRICT is enforced by SQLite as a built-in trigger and fails
// with SQLITE_CONSTRAINT_TRIGGER; the schema has no triggers of its own, so
// that code means a foreign key too.
func sqliteIsForeignKey(err error) bool {
	c := sqliteCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY || c == sqlite3.SQLITE_CONSTRAINT_TRIGGER
}

// The database's failures that say nothing about the request or the code
// (it cannot be reached, it is restarting, it is out of connections or of
// disk, it did not answer in time) are EUNAVAILABLE: the client may try
// the same request again shortly, and the cause goes to the log.
const (
	msgUnavailable = "the database is unavailable; try again shortly"
	msgTimedOut    = "the database did not answer in time; try again shortly"
)

// The waits those answers suggest. A restarted PostgreSQL accepts
// connections within seconds, and the pool connects again on the next
// request, so a client back this soon finds the database as soon as it
// is; a database too slow to answer gets a little longer.
const (
	unavailableRetryAfter = 2 * time.Second
	timedOutRetryAfter    = 5 * time.Second
)

// unavailable returns the EUNAVAILABLE error that err stands for, or nil
// when err is not an availability problem. Errors that may be bugs (a
// constraint, a syntax error, a closed store, SQLITE_LOCKED, which only
// a statement conflicting with another on the same connection raises,
// SQLITE_CORRUPT) are not, so they still reach the log as internal errors.
func unavailable(err error) *icymorning.Error {
	switch {
	case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
		return &icymorning.Error{Code: icymorning.EUNAVAILABLE, Message: msgTimedOut, RetryAfter: timedOutRetryAfter}
	case pgUnavailable(err) || sqliteUnavailable(err):
		return &icymorning.Error{Code: icymorning.EUNAVAILABLE, Message: msgUnavailable, RetryAfter: unavailableRetryAfter}
	}
	return nil
}

// pgUnavailable: PostgreSQL said it cannot serve now, or it said nothing
// because the connection could not be made or broke. An error from the
// server is judged by its SQLSTATE alone, so a refused password or an
// unknown database (configuration, not an outage) stays internal.
func pgUnavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case pgAdminShutdown, pgCrashShutdown, pgCannotConnectNow, pgIdleSessionTimeout,
			pgTooManyConnections, pgDiskFull:
			return true
		}
		return strings.HasPrefix(pe.Code, pgClassConnectionException)
	}
	var ne net.Error
	return errors.As(err, &ne) || // refused, reset, unreachable, a dial timeout
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || // the server hung up
		errors.Is(err, pgconn.ErrConnClosed) // pgx had closed the connection after a failure
}

// sqliteUnavailable: the write lock stayed taken past the busy timeout
// (another process holds it), or the disk failed or is full.
func sqliteUnavailable(err error) bool {
	switch sqliteCode(err) & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL:
		return true
	}
	return false
}
