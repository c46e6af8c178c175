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

func openMigrated(t *testing.T, url string) *sqlstore.Store {
	t.Helper()
	return openMigratedWith(t, url, sqlstore.Options{})
}

func openMigratedWith(t *testing.T, url string, o sqlstore.Options) *sqlstore.Store {
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

func TestConformanceSQLiteFile(t *testing.T) {
	storetest.Run(t, func(t *testing.T) icymorning.Store {
		return openMigrated(t, "sqlite:///"+filepath.Join(t.TempDir(), "test.db"))
	})
}

func TestConformanceSQLiteMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) icymorning.Store {
		return openMigrated(t, "sqlite://:memory:")
	})
}

func TestConformancePostgres(t *testing.T) {
	storetest.Run(t, func(t *testing.T) icymorning.Store {
		return openMigrated(t, testdb.Postgres(t))
	})
}

// The modes that work through RDS Proxy without pinning (no named prepared
// statements) must behave exactly like the default.
func TestConformancePostgresQueryExecModes(t *testing.T) {
	for _, mode := range []string{"exec", "describe_exec", "simple_protocol"} {
		t.Run(mode, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) icymorning.Store {
				return openMigratedWith(t, testdb.Postgres(t), sqlstore.Options{QueryExecMode: mode, MaxConns: 2})
			})
		})
	}
}

func TestUnknownQueryExecMode(t *testing.T) {
	_, err := sqlstore.Open(context.Background(), "postgres://u@127.0.0.1:1/db", sqlstore.Options{QueryExecMode: "prepared"})
	if err == nil || !strings.Contains(err.Error(), "unknown query exec mode") {
		t.Fatalf("err = %v, want unknown query exec mode", err)
	}
}

// Credentials supplies the password of every new connection; the URL holds
// none. A failing source fails the connection without leaking the URL.
func TestPostgresCredentials(t *testing.T) {
	full, err := url.Parse(testdb.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	user := full.User.Username()
	password, _ := full.User.Password()
	bare := *full
	bare.User = url.User(user)

	var calls atomic.Int32
	creds := func(ctx context.Context, retry bool) (string, string, error) {
		calls.Add(1)
		return user, password, nil
	}
	s := openMigratedWith(t, bare.String(), sqlstore.Options{Credentials: creds, MaxConns: 2, PingTimeout: 2 * time.Second})
	if _, err := s.Analysts(context.Background(), icymorning.Page{}); err != nil {
		t.Fatal(err)
	}
	if calls.Load() == 0 {
		t.Fatal("credentials were never asked for")
	}

	wrong := func(ctx context.Context, retry bool) (string, string, error) { return user, "not-the-password", nil }
	if _, err := sqlstore.Open(context.Background(), bare.String(), sqlstore.Options{Credentials: wrong}); err == nil {
		t.Fatal("a wrong password connected")
	} else if strings.Contains(err.Error(), "not-the-password") {
		t.Fatalf("error leaks the password: %v", err)
	}

	broken := func(ctx context.Context, retry bool) (string, string, error) {
		return "", "", errors.New("secret unavailable")
	}
	if _, err := sqlstore.Open(context.Background(), bare.String(), sqlstore.Options{Credentials: broken}); err == nil ||
		!strings.Contains(err.Error(), "secret unavailable") {
		t.Fatalf("err = %v, want the credential source's error", err)
	}
}

// A Lambda environment can be frozen for minutes, during which the server
// or a proxy drops its connections. After the thaw, the first query must
// get a live connection, not the error of a dead one: connections idle for
// over a second are pinged and replaced. Here the server kills the only
// pooled connection while it is idle.
func TestPostgresReplacesConnectionsKilledWhileIdle(t *testing.T) {
	dbURL := testdb.Postgres(t)
	// Name the pool's connections so that only they are killed: other
	// packages' tests share this server.
	app := fmt.Sprintf("icy-freeze-test-%d", time.Now().UnixNano())
	s := openMigratedWith(t, dbURL+"&application_name="+app, sqlstore.Options{MaxConns: 1, PingTimeout: 2 * time.Second})
	ctx := context.Background()
	if _, err := s.Analysts(ctx, icymorning.Page{}); err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	tag, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, app)
	if err != nil {
		t.Fatal(err)
	}
	if tag.RowsAffected() != 1 {
		t.Fatalf("%d connections terminated, want the pool's one", tag.RowsAffected())
	}
	time.Sleep(1100 * time.Millisecond) // idle for over a second, as after a freeze
	if _, err := s.Analysts(ctx, icymorning.Page{}); err != nil {
		t.Fatalf("first query after the connection died: %v", err)
	}
}

// After a password rotation, a pool whose credential source still holds the
// old password fails one connection attempt; the next attempt is marked as
// a retry, so the source can read the new password, and it connects.
func TestPostgresCredentialsRetryAfterRefusal(t *testing.T) {
	dbURL := testdb.Postgres(t)
	full, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	user := full.User.Username()
	password, _ := full.User.Password()
	bare := *full
	bare.User = url.User(user)
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
	s := openMigratedWith(t, bare.String()+"&application_name="+app, sqlstore.Options{Credentials: creds, MaxConns: 1, PingTimeout: 2 * time.Second})
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)

	rotated.Store(true)
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, app); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
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
	verifyCA := strings.Replace(dbURL, "sslmode=disable", "sslmode=verify-ca", 1)
	if verifyCA == dbURL {
		t.Fatalf("TEST_DATABASE_URL has no sslmode=disable to replace: %s", dbURL)
	}
	tests := []struct {
		name    string
		url     string
		pool    *x509.CertPool
		wantErr string
	}{
		{"the server's own authority", verifyCA, own, ""},
		{"RDS authorities refuse another server", verifyCA, rds, "certificate signed by unknown authority"},
		{"sslrootcert in the URL wins", verifyCA + "&sslrootcert=" + url.QueryEscape(certFile), rds, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := sqlstore.Open(ctx, tt.url, sqlstore.Options{RootCAs: tt.pool, MaxConns: 1})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				s.Close()
				return
			}
			if err == nil {
				s.Close()
				t.Fatal("connected: the certificate was not checked")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
