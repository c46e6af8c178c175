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
		{"PostgreSQL, pool_max_conns as a keyword", 0, pg("postgres://u:p@127.0.0.1:5432/d?sslmode=disable&pool_max_conns=12"), 0},
		{"PostgreSQL, the words in another parameter", 0, pg("postgres://u:p@127.0.0.1:5432/d?application_name=pool_max_conns"), servePGMaxConns},
		{"PostgreSQL, the words in the password", 0, pg("postgres://u:pool_max_conns@127.0.0.1:5432/d"), servePGMaxConns},
		{"SQLite, unset", 0, pg("sqlite://:memory:"), 0},
	} {
		if got := servePoolSize(tt.set, tt.db); got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, got, tt.want)
		}
	}
}
