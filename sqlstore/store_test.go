package sqlstore_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/jackc/pgx/v5"

	"github.com/icy-morning/icy-morning/internal/testdb"
	"github.com/icy-morning/icy-morning/sqlstore"
	"github.com/icy-morning/icy-morning/storetest"
)

// openMigrated opens the store at url and migrates it; the test closes it.
func openMigrated(t *testing.T, url string, o sqlstore.Options) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), url, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.MigrateUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// conformance runs the store suite on stores opened at the URLs that url
// gives, with options o and the suite's clock.
func conformance(t *testing.T, url func(t *testing.T) string, o sqlstore.Options) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) icymorning.Store {
		o := o
		o.Now = now
		return audited{openMigrated(t, url(t), o)}
	})
}

// audited is a store that shows the conformance suite its audit columns
// (storetest.Auditor) through a test-only helper: nothing outside tests
// reads them, so the store has no method for it.
type audited struct{ *sqlstore.Store }

func (a audited) Audit(ctx context.Context, table string, id int64) (createdBy, updatedBy *string, err error) {
	return sqlstore.Audit(ctx, a.Store, table, id)
}

func TestConformanceSQLiteFile(t *testing.T) {
	conformance(t, func(t *testing.T) string {
		return "sqlite:///" + filepath.Join(t.TempDir(), "test.db")
	}, sqlstore.Options{})
}

func TestConformanceSQLiteMemory(t *testing.T) {
	conformance(t, func(*testing.T) string { return "sqlite://:memory:" }, sqlstore.Options{})
}

func TestConformancePostgres(t *testing.T) {
	conformance(t, func(t *testing.T) string { return testdb.Postgres(t) }, sqlstore.Options{})
}

// The modes that work through RDS Proxy without pinning (no named prepared
// statements) must behave exactly like the default. The mode is set in the
// URL, as the Lambda mode sets it.
func TestConformancePostgresQueryExecModes(t *testing.T) {
	for _, mode := range []string{"exec", "describe_exec", "simple_protocol"} {
		t.Run(mode, func(t *testing.T) {
			conformance(t, func(t *testing.T) string {
				return withParam(t, testdb.Postgres(t), "default_query_exec_mode", mode)
			}, sqlstore.Options{MaxConns: 2})
		})
	}
}

// withParam is url with the connection-string parameter key set to value.
func withParam(t *testing.T, url, key, value string) string {
	t.Helper()
	loc, err := sqlstore.ParseURL(url)
	if err == nil {
		loc, err = loc.WithParam(key, value)
	}
	if err != nil {
		t.Fatal(err)
	}
	return loc.URL
}

// wantOpen opens the store at url and closes it, and fails the test unless
// Open's error contains wantErr ("" for no error).
func wantOpen(t *testing.T, url string, o sqlstore.Options, wantErr string) {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), url, o)
	if err == nil {
		s.Close()
	}
	switch {
	case wantErr == "" && err != nil:
		t.Fatal(err)
	case wantErr != "" && err == nil:
		t.Fatalf("opened, want an error with %q", wantErr)
	case wantErr != "" && !strings.Contains(err.Error(), wantErr):
		t.Fatalf("err = %v, want %q", err, wantErr)
	}
}

// terminate ends the server side of every connection named app, waiting
// until each has gone, and reports how many there were.
func terminate(t *testing.T, dbURL, app string) int {
	t.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	rows, err := admin.Query(ctx, `SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE application_name = $1`, app)
	if err != nil {
		t.Fatal(err)
	}
	gone, err := pgx.CollectRows(rows, pgx.RowTo[bool])
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gone {
		if !g {
			t.Fatal("a connection outlived pg_terminate_backend's wait")
		}
	}
	return len(gone)
}

// splitPassword returns the URL raw without its password, and the user and
// password it held.
func splitPassword(t *testing.T, raw string) (bare, user, password string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	user = u.User.Username()
	password, _ = u.User.Password()
	u.User = url.User(user)
	return u.String(), user, password
}

// Credentials supplies the password of every new connection; the URL holds
// none. A failing source fails the connection without leaking the URL.
func TestPostgresCredentials(t *testing.T) {
	bare, user, password := splitPassword(t, testdb.Postgres(t))

	var calls atomic.Int32
	creds := func(ctx context.Context, retry bool) (string, string, error) {
		calls.Add(1)
		return user, password, nil
	}
	s := openMigrated(t, bare, sqlstore.Options{Credentials: creds, MaxConns: 2, PingTimeout: 2 * time.Second})
	if _, err := s.Analysts(context.Background(), icymorning.Page{}); err != nil {
		t.Fatal(err)
	}
	if calls.Load() == 0 {
		t.Fatal("credentials were never asked for")
	}

	wrong := func(ctx context.Context, retry bool) (string, string, error) { return user, "not-the-password", nil }
	if _, err := sqlstore.Open(context.Background(), bare, sqlstore.Options{Credentials: wrong}); err == nil {
		t.Fatal("a wrong password connected")
	} else if strings.Contains(err.Error(), "not-the-password") {
		t.Fatalf("error leaks the password: %v", err)
	}

	broken := func(ctx context.Context, retry bool) (string, string, error) {
		return "", "", errors.New("secret unavailable")
	}
	if _, err := sqlstore.Open(context.Background(), bare, sqlstore.Options{Credentials: broken}); err == nil ||
		!strings.Contains(err.Error(), "secret unavailable") {
		t.Fatalf("err = %v, want the credential source's error", err)
	}
}

// A Lambda environment can be frozen for minutes, during which the server
// or a proxy drops its connections. After the thaw, the first query must
// get a live connection, not the error of a dead one: pgx pings a
// connection idle for over a second before reusing it, and the store
// replaces one that does not answer. Here the server kills the only pooled
// connection while it is idle, and the pool pings on every reuse, so the
// test need not wait out the second.
func TestPostgresReplacesConnectionsKilledWhileIdle(t *testing.T) {
	dbURL := testdb.Postgres(t)
	// Name the pool's connections so that only they are killed: other
	// packages' tests share this server.
	app := fmt.Sprintf("icy-freeze-test-%d", time.Now().UnixNano())
	s := openMigrated(t, withParam(t, dbURL, "application_name", app),
		sqlstore.PingOnEveryReuse(sqlstore.Options{MaxConns: 1, PingTimeout: 2 * time.Second}))
	ctx := context.Background()
	if _, err := s.Analysts(ctx, icymorning.Page{}); err != nil {
		t.Fatal(err)
	}
	if n := terminate(t, dbURL, app); n != 1 {
		t.Fatalf("%d connections terminated, want the pool's one", n)
	}
	if _, err := s.Analysts(ctx, icymorning.Page{}); err != nil {
		t.Fatalf("first query after the connection died: %v", err)
	}
}

// After a password rotation, a pool whose credential source still holds the
// old password fails one connection attempt; the next attempt is marked as
// a retry, so the source can read the new password, and it connects.
func TestPostgresCredentialsRetryAfterRefusal(t *testing.T) {
	dbURL := testdb.Postgres(t)
	bare, user, password := splitPassword(t, dbURL)
	app := fmt.Sprintf("icy-rotation-test-%d", time.Now().UnixNano())

	var rotated atomic.Bool
	var retries atomic.Int32
	creds := func(ctx context.Context, retry bool) (string, string, error) {
		if retry {
			retries.Add(1)
		}
		if rotated.Load() && !retry {
			return user, "the-old-password", nil // a stale cached secret
		}
		return user, password, nil
	}
	s := openMigrated(t, withParam(t, bare, "application_name", app),
		sqlstore.PingOnEveryReuse(sqlstore.Options{Credentials: creds, MaxConns: 1, PingTimeout: 2 * time.Second}))
	ctx := context.Background()

	rotated.Store(true)
	terminate(t, dbURL, app)
	if _, err := s.Analysts(ctx, icymorning.Page{}); err == nil {
		t.Fatal("a stale password connected: the test proves nothing")
	}
	if _, err := s.Analysts(ctx, icymorning.Page{}); err != nil {
		t.Fatalf("the attempt after a refusal was not a retry: %v (retries: %d)", err, retries.Load())
	}
	if retries.Load() != 1 {
		t.Errorf("%d retries, want 1", retries.Load())
	}
}

// Under sslmode=verify-ca the server's certificate must chain to
// Options.RootCAs: the server's own (self-signed) certificate is accepted,
// the RDS authorities are not, and an sslrootcert in the URL wins over the
// option. This is how the Lambda mode verifies RDS with its embedded CAs.
func TestPostgresRootCAs(t *testing.T) {
	dbURL := testdb.Postgres(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	var ssl, certFile string
	if err := admin.QueryRow(ctx, "SELECT current_setting('ssl'), current_setting('ssl_cert_file')").Scan(&ssl, &certFile); err != nil {
		t.Fatal(err)
	}
	admin.Close(ctx)
	if ssl != "on" {
		if os.Getenv("ICY_REQUIRE_POSTGRES") != "" {
			t.Fatal("the test PostgreSQL has ssl off: the certificate checks cannot run")
		}
		t.Skip("SKIPPED: the test PostgreSQL has ssl off")
	}
	serverCert, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatalf("reading the server's certificate: %v", err)
	}
	own := x509.NewCertPool()
	if !own.AppendCertsFromPEM(serverCert) {
		t.Fatal("the server's certificate does not parse")
	}
	// The RDS authorities alone: this machine's system pool trusts the
	// server's snakeoil certificate (it sits in /etc/ssl/certs).
	bundle, err := os.ReadFile("../awscred/rds-ca-bundle.pem")
	if err != nil {
		t.Fatal(err)
	}
	rds := x509.NewCertPool()
	if !rds.AppendCertsFromPEM(bundle) {
		t.Fatal("the RDS bundle does not parse")
	}
	verifyCA := withParam(t, dbURL, "sslmode", "verify-ca")
	tests := []struct {
		name    string
		url     string
		pool    *x509.CertPool
		wantErr string
	}{
		{"the server's own authority", verifyCA, own, ""},
		{"RDS authorities refuse another server", verifyCA, rds, "certificate signed by unknown authority"},
		{"sslrootcert in the URL wins", withParam(t, verifyCA, "sslrootcert", certFile), rds, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantOpen(t, tt.url, sqlstore.Options{RootCAs: tt.pool, MaxConns: 1}, tt.wantErr)
		})
	}
}
