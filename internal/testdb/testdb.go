// Package testdb gives tests an empty PostgreSQL database of their own.
package testdb

import (
	"context"
	"net/url"
	"os"
	"testing"

	"github.com/icy-morning/icy-morning/internal/pgschema"
)

// Wanted reports whether the PostgreSQL tests run here: TEST_DATABASE_URL
// is set, or ICY_REQUIRE_POSTGRES=1 demands them (then Postgres fails the
// test if it cannot give a database). A test that runs on several stores
// uses it to add PostgreSQL without skipping the others when it is absent.
func Wanted() bool {
	return os.Getenv("TEST_DATABASE_URL") != "" || os.Getenv("ICY_REQUIRE_POSTGRES") == "1"
}

// Postgres returns the URL of a new, empty schema in the PostgreSQL
// database named by TEST_DATABASE_URL, dropped when the test ends. Without
// TEST_DATABASE_URL the test is skipped loudly, or fails when
// ICY_REQUIRE_POSTGRES=1 (as in CI), so PostgreSQL coverage cannot vanish
// unnoticed.
func Postgres(t testing.TB) string {
	t.Helper()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		if os.Getenv("ICY_REQUIRE_POSTGRES") == "1" {
			t.Fatal("ICY_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is unset: PostgreSQL tests cannot run")
		}
		t.Skip("SKIPPED: PostgreSQL tests need TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/icy_test); `make test` via .ci/run sets it")
	}
	url, drop, err := pgschema.Create(context.Background(), base, "test_")
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Error(err)
		}
	})
	return url
}

// AppPassword is the password tests give the app role (sqlstore.AppRole).
// A role belongs to the whole cluster, and tests of several packages use
// it at once: with one password they cannot lock each other out. It holds
// what SQL and URLs quote (a quote, a backslash, a semicolon, a space), so
// that every test that signs in with it checks the quoting too.
const AppPassword = `it's a "test" pass\word; --`

// As returns the PostgreSQL URL raw (such as one Postgres returned) with
// its user and password replaced, keeping its database and search_path.
func As(t testing.TB, raw, user, password string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal("testdb: the database URL does not parse")
	}
	u.User = url.UserPassword(user, password)
	return u.String()
}
