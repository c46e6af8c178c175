package sqlstore_test

import (
	"bytes"
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/icy-morning/icy-morning/internal/testdb"
	"github.com/icy-morning/icy-morning/sqlstore"
)

// Secret makes a key once per database and name: every call, from every
// store on the database, gets the same bytes.
func TestSecret(t *testing.T) {
	databases := []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite:///" + filepath.Join(t.TempDir(), "test.db") }},
		{"postgres", func(t *testing.T) string { return testdb.Postgres(t) }},
	}
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			url := db.url(t)
			first := openMigrated(t, url, sqlstore.Options{})
			second := openMigrated(t, url, sqlstore.Options{})
			secret := func(t *testing.T, s *sqlstore.Store, name string, size int) []byte {
				t.Helper()
				key, err := s.Secret(context.Background(), name, size)
				if err != nil {
					t.Fatal(err)
				}
				if len(key) != size || bytes.Equal(key, make([]byte, size)) {
					t.Fatalf("secret %q: %x, want %d random bytes", name, key, size)
				}
				return key
			}

			link := secret(t, first, "link-signing", 32)
			tests := []struct {
				name       string
				store      *sqlstore.Store
				secretName string
				size       int
				wantLink   bool // the same bytes as link; otherwise different ones
			}{
				{"the same name again", first, "link-signing", 32, true},
				{"the same name from another store on the database", second, "link-signing", 32, true},
				{"another name", second, "other", 32, false},
				{"another size", first, "short", 16, false},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					key := secret(t, tt.store, tt.secretName, tt.size)
					if bytes.Equal(key, link) != tt.wantLink {
						t.Fatalf("%q is %x, %q is %x: want the same=%v", tt.secretName, key, "link-signing", link, tt.wantLink)
					}
				})
			}
			if a, b := secret(t, first, "other", 32), secret(t, second, "other", 32); !bytes.Equal(a, b) {
				t.Fatalf("the stores disagree on %q: %x, %x", "other", a, b)
			}

			// Processes starting at once all get the key the first one made.
			keys := make([][]byte, 16)
			var wg sync.WaitGroup
			for i := range keys {
				s := []*sqlstore.Store{first, second}[i%2]
				wg.Go(func() {
					key, err := s.Secret(context.Background(), "raced", 32)
					if err != nil {
						t.Error(err)
					}
					keys[i] = key
				})
			}
			wg.Wait()
			for _, key := range keys {
				if len(key) != 32 || !bytes.Equal(key, keys[0]) {
					t.Fatalf("concurrent first calls got different keys: %x", keys)
				}
			}
		})
	}
}
