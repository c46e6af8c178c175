//go:build linux

package sqlstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/icy-morning/icy-morning/internal/pgcluster"
	"github.com/icy-morning/icy-morning/sqlstore"
)

// This test starts a PostgreSQL cluster of its own, which pgcluster does
// on Linux only.

// Without rds_iam (on a PostgreSQL that is not RDS) IAM auth is refused
// with an error that says why. rds_iam cannot be dropped from the shared
// cluster, which other tests use: this cluster is the test's own.
func TestProvisionAppRoleWithoutRDSIAM(t *testing.T) {
	pg := pgcluster.New(t)
	pg.Start(t)
	owner := openMigrated(t, pg.URL(), sqlstore.Options{MaxConns: 2})
	err := owner.ProvisionAppRole(context.Background(), sqlstore.AppRoleAccess{IAMAuth: true})
	if err == nil || !strings.Contains(err.Error(), "role rds_iam does not exist") {
		t.Fatalf("err = %v", err)
	}
}
