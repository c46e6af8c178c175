package sqlstore

import (
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

func isNoRows(err error) bool {
	return errors.Is(err, pgx.ErrNoRows) || errors.Is(err, sql.ErrNoRows)
}

// PostgreSQL SQLSTATEs (Appendix A of its manual).
const pgForeignKeyViolation = "23503"

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
