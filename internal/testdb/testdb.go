// Package testdb gives tests an empty PostgreSQL database of their own.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
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
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to TEST_DATABASE_URL: %v", err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
