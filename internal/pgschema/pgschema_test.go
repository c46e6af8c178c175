package pgschema_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/icy-morning/icy-morning/internal/pgschema"
	"github.com/icy-morning/icy-morning/internal/testdb"
)

func TestCreate(t *testing.T) {
	base := testdb.Postgres(t) // a schema of its own, in which this test makes another
	ctx := context.Background()
	u, drop, err := pgschema.Create(ctx, base, "pgschema_test_")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = drop() }) // a second drop, after the one below, fails harmlessly
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	var schema string
	if _, err := conn.Exec(ctx, "CREATE TABLE t (id int)"); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if !strings.HasPrefix(schema, "pgschema_test_") {
		t.Errorf("current_schema() = %q through the returned URL", schema)
	}
	if err := drop(); err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var n int
	if err := admin.QueryRow(ctx, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", schema).Scan(&n); err != nil || n != 0 {
		t.Errorf("schema %s still there after drop (%d, %v)", schema, n, err)
	}
}

func TestCreateRefuses(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct{ url, prefix string }{
		{"postgres://127.0.0.1/x", "Bad-Prefix"},
		{"postgres://127.0.0.1/x", "x; DROP"},
		{"host=127.0.0.1 dbname=x", "ok_"},
		{"sqlite:///x.db", "ok_"},
	} {
		if _, _, err := pgschema.Create(ctx, tt.url, tt.prefix); err == nil {
			t.Errorf("Create(%q, %q) succeeded", tt.url, tt.prefix)
		}
	}
}
