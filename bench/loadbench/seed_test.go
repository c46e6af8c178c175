//go:build linux

package main

import (
	"context"
	"path/filepath"
	"testing"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/internal/testdb"
	"github.com/icy-morning/icy-morning/sqlstore"
)

// TestSeed seeds each database as the benchmark does, at a size that
// needs copies, and reads the rows back through the store: the seed must
// follow the migrations, and the copies must read as the store's own rows.
func TestSeed(t *testing.T) {
	const assets = 2*seedAssetsSmall + seedAssetsSmall/2 // two copies, the last one partial
	dbs := map[string]func(t *testing.T) string{
		"SQLite":     func(t *testing.T) string { return sqliteURL(filepath.Join(t.TempDir(), "seed.db")) },
		"PostgreSQL": func(t *testing.T) string { return testdb.Postgres(t) }, // skips without TEST_DATABASE_URL
	}
	for name, newDB := range dbs {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			url := newDB(t)
			st, err := sqlstore.Open(ctx, url, sqlstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if _, err := st.MigrateUp(ctx); err != nil {
				t.Fatal(err)
			}
			if err := seed(ctx, url, assets); err != nil {
				t.Fatal(err)
			}

			analysts, err := st.Analysts(ctx, icymorning.Page{After: seedAnalysts - 1, Limit: 10})
			if err != nil || len(analysts) != 1 || analysts[0].ID != seedAnalysts {
				t.Fatalf("analysts after id %d: %+v, %v; want only id %d", seedAnalysts-1, analysts, err, seedAnalysts)
			}
			var all []icymorning.Asset
			for after := int64(0); ; {
				page, err := st.Assets(ctx, icymorning.AssetFilter{Page: icymorning.Page{After: after, Limit: icymorning.MaxPageLimit}})
				if err != nil {
					t.Fatal(err)
				}
				if len(page) == 0 {
					break
				}
				all = append(all, page...)
				after = page[len(page)-1].ID
			}
			if len(all) != assets {
				t.Fatalf("%d assets, want %d", len(all), assets)
			}
			for i, a := range all {
				if a.ID != int64(i+1) {
					t.Fatalf("asset %d has id %d: ids are not 1..n", i+1, a.ID)
				}
				// A copy is its original's row but for the id.
				want := all[i%seedAssetsSmall]
				want.ID = a.ID
				if !equalAsset(a, want) {
					t.Fatalf("asset %d = %+v, want a copy of asset %d %+v", a.ID, a, i%seedAssetsSmall+1, want)
				}
				if i < seedAssetsSmall {
					s := seedAsset(i + 1)
					if a.Name != s.Name || a.InceptionDate != s.InceptionDate || a.IsActive != s.IsActive || a.AnalystID != s.AnalystID || (a.Description == nil) != (s.Description == nil) {
						t.Fatalf("asset %d = %+v, want what seedAsset wrote: %+v", a.ID, a, s)
					}
				}
			}
		})
	}
}

func equalAsset(a, b icymorning.Asset) bool {
	descEqual := (a.Description == nil && b.Description == nil) ||
		(a.Description != nil && b.Description != nil && *a.Description == *b.Description)
	return a.ID == b.ID && a.Name == b.Name && descEqual && a.InceptionDate == b.InceptionDate &&
		a.IsActive == b.IsActive && a.AnalystID == b.AnalystID &&
		a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
}
