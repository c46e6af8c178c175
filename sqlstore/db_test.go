package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"sync/atomic"
	"testing"
)

// newTestStmtCache is a stmtCache on a fresh in-memory database holding
// the numbers 1 to 3.
func newTestStmtCache(t *testing.T) (*stmtCache, *atomic.Int64) {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var prepared atomic.Int64
	c := newStmtCache(conn, &prepared)
	t.Cleanup(c.close)
	for _, q := range []string{"CREATE TABLE n (x INTEGER)", "INSERT INTO n VALUES (1), (2), (3)"} {
		if _, err := c.exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	return c, &prepared
}

func TestStmtCache(t *testing.T) {
	ctx := context.Background()
	const all = "SELECT x FROM n ORDER BY x"

	t.Run("prepares each statement once", func(t *testing.T) {
		c, prepared := newTestStmtCache(t)
		before := prepared.Load()
		for x := range 10 {
			if _, err := c.exec(ctx, "INSERT INTO n VALUES ($1)", x); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := c.queryRow(ctx, "SELECT count(*) FROM n WHERE x = $1", x).Scan(&n); err != nil {
				t.Fatal(err)
			}
		}
		if n := prepared.Load() - before; n != 2 {
			t.Fatalf("prepared %d statements, want 2", n)
		}
	})

	// A statement whose rows are open runs unprepared when its SQL is used
	// again, so that the open rows go on where they were.
	t.Run("nested use of open rows", func(t *testing.T) {
		c, _ := newTestStmtCache(t)
		rs, err := c.query(ctx, all)
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for rs.Next() {
			var x, first int
			if err := rs.Scan(&x); err != nil {
				t.Fatal(err)
			}
			if err := c.queryRow(ctx, all).Scan(&first); err != nil {
				t.Fatal(err)
			}
			if first != 1 {
				t.Fatalf("nested query's first row %d, want 1", first)
			}
			got = append(got, x)
		}
		if err := rs.Err(); err != nil {
			t.Fatal(err)
		}
		rs.Close()
		if len(got) != 3 || got[0] != 1 || got[2] != 3 {
			t.Fatalf("outer rows %v, want [1 2 3]", got)
		}
		if cs := c.stmts[all]; cs == nil || cs.busy {
			t.Fatalf("the statement is not cached and free after its rows closed: %+v", cs)
		}
	})

	// A statement that does not prepare fails as it would unprepared, and
	// is not cached.
	t.Run("a statement that fails", func(t *testing.T) {
		c, _ := newTestStmtCache(t)
		_, err := c.exec(ctx, "INSERT INTO missing VALUES (1)")
		_, want := sqlQ{q: c.conn}.exec(ctx, "INSERT INTO missing VALUES (1)")
		if err == nil || want == nil || err.Error() != want.Error() {
			t.Fatalf("error %v, want %v", err, want)
		}
		if len(c.stmts) != 2 {
			t.Fatalf("%d statements cached, want the 2 that prepared", len(c.stmts))
		}
	})

	t.Run("bounded", func(t *testing.T) {
		c, _ := newTestStmtCache(t)
		for i := range maxCachedStmts + 10 {
			var n int
			q := "SELECT count(*) + " + strconv.Itoa(i) + " FROM n"
			if err := c.queryRow(ctx, q).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 3+i {
				t.Fatalf("%s: %d, want %d", q, n, 3+i)
			}
		}
		if len(c.stmts) != maxCachedStmts {
			t.Fatalf("%d statements cached, want %d", len(c.stmts), maxCachedStmts)
		}
	})
}
