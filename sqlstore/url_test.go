package sqlstore

import "testing"

func TestParseURL(t *testing.T) {
	tests := []struct {
		in      string
		dialect Dialect
		url     string
		wantErr bool
	}{
		{"postgres://u:p@h:5432/db", Postgres, "postgres://u:p@h:5432/db", false},
		{"postgresql://u:p@h/db?sslmode=require", Postgres, "postgresql://u:p@h/db?sslmode=require", false},
		{"postgresql+asyncpg://u:p@h:5432/db", Postgres, "postgresql://u:p@h:5432/db", false},
		{"sqlite:///icy.db", SQLite, "icy.db", false},
		{"sqlite:///data/icy.db", SQLite, "data/icy.db", false},
		{"sqlite:////var/lib/icy.db", SQLite, "/var/lib/icy.db", false},
		{"sqlite+aiosqlite:///./db.sqlite", SQLite, "./db.sqlite", false},
		{"sqlite://:memory:", SQLite, ":memory:", false},
		{"sqlite://", SQLite, ":memory:", false},
		{"sqlite://relative.db", "", "", true},
		{"mysql://x", "", "", true},
		{"icy.db", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			loc, err := ParseURL(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if loc.Dialect != tt.dialect || loc.URL != tt.url {
				t.Fatalf("got %+v, want %s %s", loc, tt.dialect, tt.url)
			}
		})
	}
}
