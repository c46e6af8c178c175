package sqlstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/internal/testdb"
	"github.com/icy-morning/icy-morning/sqlstore"
)

// acting is ctx carrying the principal subject, or none for "".
func acting(subject string) context.Context {
	if subject == "" {
		return context.Background()
	}
	return icymorning.WithPrincipal(context.Background(), &icymorning.Principal{Subject: subject})
}

// wantAudit fails unless row id of table records created and updated as
// its creator and last changer ("" for NULL).
func wantAudit(t *testing.T, s *sqlstore.Store, table string, id int64, created, updated string) {
	t.Helper()
	c, u, err := sqlstore.Audit(context.Background(), s, table, id)
	mustDo(t, err)
	orNull := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	nullable := func(p *string, want string) bool { return (p == nil) == (want == "") && orNull(p) == want }
	if !nullable(c, created) || !nullable(u, updated) {
		t.Errorf("%s %d: created_by %q, updated_by %q (\"\" is NULL); want %q, %q", table, id, orNull(c), orNull(u), created, updated)
	}
}

// The creates of one PostgreSQL batch (one multi-row statement) each
// record their own caller's principal, or NULL for a caller without one.
func TestPostgresCreatesBatchAudit(t *testing.T) {
	ctx := context.Background()
	s := openMigrated(t, testdb.Postgres(t), sqlstore.Options{MaxConns: 8})
	analyst := &icymorning.Analyst{Name: "Ada", Company: "Acme"}
	mustDo(t, s.CreateAnalyst(ctx, analyst))
	subjects := []string{"alice", "bob", "", "carol@example.com", "alice", "", "dave"}
	assets := make([]*icymorning.Asset, len(subjects))
	creates := make([]func() error, len(subjects))
	for i, who := range subjects {
		assets[i] = newTestAsset(fmt.Sprintf("a%d", i), analyst.ID)
		creates[i] = func() error { return s.CreateAsset(acting(who), assets[i]) }
	}
	statements0, _ := sqlstore.Commits(s)
	results, release := queueCreates(t, s, analyst.ID, creates...)
	release()
	for _, r := range results {
		mustDo(t, <-r)
	}
	statements, _ := sqlstore.Commits(s)
	if n := statements - statements0; n != int64(sqlstore.Inserters(s))+1 {
		t.Errorf("%d statements, want the held creates' and one for the batch", n)
	}
	for i, who := range subjects {
		wantAudit(t, s, "assets", assets[i].ID, who, who)
	}
	// The held creates had no principal.
	if n := count(t, s, `SELECT count(*) FROM assets WHERE name LIKE 'held-%' AND created_by IS NULL AND updated_by IS NULL`); n != int64(sqlstore.Inserters(s)) {
		t.Errorf("%d held creates with NULL audit columns, want %d", n, sqlstore.Inserters(s))
	}
}

// The writes of one SQLite group commit each record their own caller's
// principal: creates and updates of analysts and assets.
func TestSQLiteGroupCommitAudit(t *testing.T) {
	s := openMigrated(t, "sqlite:///"+filepath.Join(t.TempDir(), "audit.db"), sqlstore.Options{})
	analyst := &icymorning.Analyst{Name: "Ada", Company: "Acme"}
	mustDo(t, s.CreateAnalyst(acting("owner"), analyst))
	asset := newTestAsset("fund", analyst.ID)
	mustDo(t, s.CreateAsset(acting("owner"), asset))

	grace := &icymorning.Analyst{Name: "Grace", Company: "Acme"}
	fresh := newTestAsset("new", analyst.ID)
	writes := []struct {
		who              string
		do               func(ctx context.Context) error
		table            string
		id               *int64 // known once the write is done
		created, updated string
	}{
		{"alice", func(ctx context.Context) error { return s.CreateAnalyst(ctx, grace) },
			"analysts", &grace.ID, "alice", "alice"},
		{"bob", func(ctx context.Context) error { return s.CreateAsset(ctx, fresh) },
			"assets", &fresh.ID, "bob", "bob"},
		{"carol", func(ctx context.Context) error {
			_, err := s.UpdateAnalyst(ctx, analyst.ID, icymorning.AnalystUpdate{Company: icymorning.Set("Initech")})
			return err
		}, "analysts", &analyst.ID, "owner", "carol"},
		{"", func(ctx context.Context) error {
			_, err := s.UpdateAsset(ctx, asset.ID, icymorning.AssetUpdate{IsActive: icymorning.Set(true)})
			return err
		}, "assets", &asset.ID, "owner", ""},
	}
	fns := make([]func() error, len(writes))
	for i, w := range writes {
		fns[i] = func() error { return w.do(acting(w.who)) }
	}
	commits0, _ := sqlstore.Commits(s)
	results, release := holdBatch(t, s, fns...)
	release()
	for _, r := range results {
		mustDo(t, <-r)
	}
	if commits, _ := sqlstore.Commits(s); commits-commits0 != 2 {
		t.Errorf("%d commits, want the held one and one for the batch", commits-commits0)
	}
	for _, w := range writes {
		wantAudit(t, s, w.table, *w.id, w.created, w.updated)
	}
}
