package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/internal/netaddr"
	"github.com/icy-morning/icy-morning/internal/testdb"
	"github.com/icy-morning/icy-morning/sqlstore"
)

// What the store tells a client when the database is out (the messages
// of sqlstore's unavailable).
const (
	wantUnavailable = "the database is unavailable; try again shortly"
	wantTimedOut    = "the database did not answer in time; try again shortly"
	wantInternal    = ""         // not an outage: an internal error, logged, 500
	wantCanceled    = "canceled" // the caller gave up: its own error back
)

// TestOutageErrors: the drivers' own errors when the database cannot be
// reached, is restarting, is busy or out of disk, or does not answer in
// time, each produced for real, become EUNAVAILABLE with a retry hint and
// the driver's error kept for the log; errors that may be bugs (a
// constraint, a syntax error, an unknown database, a closed store) stay
// internal.
func TestOutageErrors(t *testing.T) {
	tests := []struct {
		name string
		err  func(t *testing.T) error // the real failure
		want string
	}{
		{"PostgreSQL: nothing listens on the port", pgNothingListens, wantUnavailable},
		{"PostgreSQL: the server accepts but never answers (connect timeout)", pgNeverAnswers, wantTimedOut},
		{"PostgreSQL: the backend was terminated (pg_terminate_backend)", pgTerminated, wantUnavailable},
		{"PostgreSQL: a store's pooled connection was terminated while idle", pgStoreTerminated, wantUnavailable},
		{"PostgreSQL: a query ran past its context deadline", pgDeadline, wantTimedOut},
		{"PostgreSQL: the caller canceled", pgCanceled, wantCanceled},
		{"PostgreSQL: unique violation", pgStatement("INSERT INTO t VALUES (1)"), wantInternal},
		{"PostgreSQL: foreign key violation", pgStatement("INSERT INTO child VALUES (7)"), wantInternal},
		{"PostgreSQL: syntax error", pgStatement("SELEKT 1"), wantInternal},
		{"PostgreSQL: unknown database", pgUnknownDatabase, wantInternal},
		{"SQLite: write lock held past the busy timeout", sqliteBusy, wantUnavailable},
		{"SQLite: database full (max_page_count)", sqliteFull, wantUnavailable},
		{"SQLite: I/O error from the kernel (EIO)", sqliteIOError, wantUnavailable},
		{"SQLite: a query ran past its context deadline", sqliteDeadline, wantTimedOut},
		{"SQLite: unique violation", sqliteUnique, wantInternal},
		{"SQLite: closed store", sqliteClosed, wantInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cause := tt.err(t)
			if cause == nil {
				t.Fatal("no error to classify")
			}
			got := sqlstore.Internal(cause)
			if !errors.Is(got, cause) {
				t.Fatalf("%v: the driver's error is not kept for the log", got)
			}
			var e *icymorning.Error
			switch tt.want {
			case wantCanceled:
				if got != cause || !errors.Is(got, context.Canceled) {
					t.Fatalf("%v, want the caller's own context.Canceled back", got)
				}
			case wantInternal:
				if code := icymorning.ErrorCode(got); code != icymorning.EINTERNAL {
					t.Fatalf("%v: code %s, want internal", got, code)
				}
			default:
				if !errors.As(got, &e) || e.Code != icymorning.EUNAVAILABLE || e.Message != tt.want {
					t.Fatalf("%v: want EUNAVAILABLE %q", got, tt.want)
				}
				if e.RetryAfter < time.Second || e.RetryAfter > 5*time.Second {
					t.Errorf("RetryAfter %v, want 1-5 s", e.RetryAfter)
				}
				if !strings.Contains(got.Error(), cause.Error()) {
					t.Errorf("%q does not say the cause %q", got, cause)
				}
			}
			t.Logf("%v", got)
		})
	}
}

func pgNothingListens(t *testing.T) error {
	addr, err := netaddr.FreeLoopback()
	if err != nil {
		t.Fatal(err)
	}
	_, err = pgx.Connect(context.Background(), "postgres://postgres@"+addr+"/icy?sslmode=disable")
	return err
}

// pgNeverAnswers connects to a listener that takes the connection (the
// kernel completes the handshake) but never reads it: a hung server. The
// store's pool sets a connect timeout when the URL has none; this sets a
// short one.
func pgNeverAnswers(t *testing.T) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	_, err = pgx.Connect(context.Background(), "postgres://postgres@"+ln.Addr().String()+"/icy?sslmode=disable&connect_timeout=1")
	return err
}

// pgConn connects to a schema of the test's own, naming the connection
// app; the test closes it.
func pgConn(t *testing.T, app string) (conn *pgx.Conn, dbURL string) {
	t.Helper()
	dbURL = testdb.Postgres(t)
	conn, err := pgx.Connect(context.Background(), withParam(t, dbURL, "application_name", app))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn, dbURL
}

func appName() string {
	return fmt.Sprintf("icy-outage-test-%d", time.Now().UnixNano())
}

func pgTerminated(t *testing.T) error {
	app := appName()
	conn, dbURL := pgConn(t, app)
	if n := terminate(t, dbURL, app); n != 1 {
		t.Fatalf("%d connections terminated, want 1", n)
	}
	_, err := conn.Exec(context.Background(), "SELECT 1")
	return err
}

// pgStoreTerminated: through a store, whose pool reuses the dead idle
// connection without a ping; the store answers again at the next call,
// on a new connection.
func pgStoreTerminated(t *testing.T) error {
	dbURL := testdb.Postgres(t)
	app := appName()
	s := openMigrated(t, withParam(t, dbURL, "application_name", app), sqlstore.NeverPing(sqlstore.Options{MaxConns: 1}))
	ctx := context.Background()
	if _, err := s.Analysts(ctx, icymorning.Page{}); err != nil {
		t.Fatal(err)
	}
	if n := terminate(t, dbURL, app); n != 1 {
		t.Fatalf("%d connections terminated, want the pool's one", n)
	}
	_, err := s.Analysts(ctx, icymorning.Page{})
	if _, again := s.Analysts(ctx, icymorning.Page{}); again != nil {
		t.Errorf("the store did not recover on a new connection: %v", again)
	}
	return err
}

func pgDeadline(t *testing.T) error {
	conn, _ := pgConn(t, appName())
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := conn.Exec(ctx, "SELECT pg_sleep(10)")
	return err
}

func pgCanceled(t *testing.T) error {
	conn, _ := pgConn(t, appName())
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := conn.Exec(ctx, "SELECT pg_sleep(10)")
	return err
}

// pgStatement runs stmt after making a table t holding 1 and a table
// child whose rows must name a parent.
func pgStatement(stmt string) func(t *testing.T) error {
	return func(t *testing.T) error {
		conn, _ := pgConn(t, appName())
		ctx := context.Background()
		for _, s := range []string{
			"CREATE TABLE t (id int PRIMARY KEY)", "INSERT INTO t VALUES (1)",
			"CREATE TABLE child (parent int REFERENCES t (id))",
		} {
			if _, err := conn.Exec(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		_, err := conn.Exec(ctx, stmt)
		return err
	}
}

func pgUnknownDatabase(t *testing.T) error {
	_, err := pgx.Connect(context.Background(), withParam(t, testdb.Postgres(t), "dbname", "icy_no_such_database"))
	return err
}

// sqliteOpen opens a database/sql handle on the SQLite file at path, with
// the driver's parameters params.
func sqliteOpen(t *testing.T, path, params string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?"+params)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func sqliteExec(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
}

// sqliteBusy: another connection (another process, in life) holds the
// write lock for longer than this one's busy timeout.
func sqliteBusy(t *testing.T) error {
	path := filepath.Join(t.TempDir(), "busy.db")
	holder := sqliteOpen(t, path, "_pragma=journal_mode(WAL)&_txlock=immediate")
	sqliteExec(t, holder, "CREATE TABLE t (x)")
	tx, err := holder.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	_, err = sqliteOpen(t, path, "_pragma=busy_timeout(50)").Exec("INSERT INTO t VALUES (2)")
	return err
}

func sqliteFull(t *testing.T) error {
	db := sqliteOpen(t, filepath.Join(t.TempDir(), "full.db"), "")
	db.SetMaxOpenConns(1) // max_page_count is the connection's
	sqliteExec(t, db, "CREATE TABLE t (x)", "PRAGMA max_page_count = 16")
	for range 1000 {
		if _, err := db.Exec("INSERT INTO t VALUES (randomblob(1000))"); err != nil {
			return err
		}
	}
	t.Fatal("16 pages held 1000 kB")
	return nil
}

// sqliteIOError reads a "database" whose every read fails with EIO:
// /proc/self/mem at offset 0, which no process has mapped.
func sqliteIOError(t *testing.T) error {
	var n int
	return sqliteOpen(t, "/proc/self/mem", "").QueryRow("SELECT count(*) FROM sqlite_master").Scan(&n)
}

func sqliteDeadline(t *testing.T) error {
	db := sqliteOpen(t, filepath.Join(t.TempDir(), "slow.db"), "")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var n int
	return db.QueryRowContext(ctx, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c WHERE x < 0").Scan(&n)
}

func sqliteUnique(t *testing.T) error {
	db := sqliteOpen(t, filepath.Join(t.TempDir(), "unique.db"), "")
	sqliteExec(t, db, "CREATE TABLE t (id INTEGER PRIMARY KEY)", "INSERT INTO t VALUES (1)")
	_, err := db.Exec("INSERT INTO t VALUES (1)")
	return err
}

func sqliteClosed(t *testing.T) error {
	s := openMigrated(t, "sqlite:///"+filepath.Join(t.TempDir(), "closed.db"), sqlstore.Options{})
	s.Close()
	_, err := s.Analysts(context.Background(), icymorning.Page{})
	return err
}

// TestPostgresConnectTimeout: with no connect_timeout in its URL, a store
// gives up on a server that takes the connection but never answers within
// a few seconds, though its caller would wait longer: a connection attempt
// holds a place in the pool after the request that started it has ended.
func TestPostgresConnectTimeout(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	s, err := sqlstore.Open(ctx, "postgres://postgres@"+ln.Addr().String()+"/icy?sslmode=disable", sqlstore.Options{})
	took := time.Since(start)
	if err == nil {
		s.Close()
		t.Fatal("opened a store on a server that never answers")
	}
	if took < 4*time.Second || took > 8*time.Second {
		t.Fatalf("gave up after %v, want about 5 s: %v", took.Round(time.Millisecond), err)
	}
}
