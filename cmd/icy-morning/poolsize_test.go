package main

import (
	"testing"

	"github.com/icy-morning/icy-morning/sqlstore"
)

func TestServePoolSize(t *testing.T) {
	pg := func(url string) sqlstore.Location {
		loc, err := sqlstore.ParseURL(url)
		if err != nil {
			t.Fatal(err)
		}
		return loc
	}
	for _, tt := range []struct {
		name string
		set  int
		db   sqlstore.Location
		want int
	}{
		{"PostgreSQL, unset", 0, pg("postgres://u:p@127.0.0.1:5432/d"), servePGMaxConns},
		{"PostgreSQL, DB_MAX_CONNS", 3, pg("postgres://u:p@127.0.0.1:5432/d"), 3},
		{"PostgreSQL, pool_max_conns in the URL", 0, pg("postgres://u:p@127.0.0.1:5432/d?pool_max_conns=5"), 0},
		{"SQLite, unset", 0, pg("sqlite://:memory:"), 0},
	} {
		if got := servePoolSize(tt.set, tt.db); got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, got, tt.want)
		}
	}
}
