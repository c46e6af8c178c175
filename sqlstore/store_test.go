package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/internal/testdb"
	"github.com/icy-morning/icy-morning/sqlstore"
	"github.com/icy-morning/icy-morning/storetest"
)

func openMigrated(t *testing.T, url string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), url, sqlstore.Options{})
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
