package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/internal/testdb"
	"github.com/icy-morning/icy-morning/sqlstore"
)

// queueCreates holds every inserter of s (each busy with a create of its
// own, named held-N), then queues creates behind them, in order, and
// returns once all of them wait: released, they form one batch. Each
// create's answer arrives on results[i].
func queueCreates(t *testing.T, s *sqlstore.Store, analyst int64, creates ...func() error) (results []chan error, release func()) {
	t.Helper()
	ctx := context.Background()
	n := sqlstore.Inserters(s)
	held, resume := sqlstore.HoldInserters(s, n)
	t.Cleanup(resume)
	first := make(chan error, n)
	for i := range n {
		go func() { first <- s.CreateAsset(ctx, newTestAsset(fmt.Sprintf("held-%d", i), analyst)) }()
	}
	<-held
	out := make([]chan error, len(creates))
	for i, c := range creates {
		out[i] = make(chan error, 1)
		go func() { out[i] <- c() }()
		waitFor(t, func() bool { return sqlstore.Queued(s) == i+1 })
	}
	return out, func() {
		resume()
		for range n {
			mustDo(t, <-first)
		}
	}
}

// Creates queued together go in one statement, each answered with its own
// row and event; one naming an unknown analyst is answered so and left
// out, and one whose caller gave up while queued is not run.
func TestPostgresCreatesBatch(t *testing.T) {
	ctx := context.Background()
	s := openMigrated(t, testdb.Postgres(t), sqlstore.Options{MaxConns: 8})
	analyst := &icymorning.Analyst{Name: "Ada", Company: "Acme"}
	mustDo(t, s.CreateAnalyst(ctx, analyst))
	other := &icymorning.Analyst{Name: "Bob", Company: "Acme"}
	mustDo(t, s.CreateAnalyst(ctx, other))

	gone, cancel := context.WithCancel(ctx)
	defer cancel()
	const good = 20
	assets := make([]*icymorning.Asset, good)
	creates := []func() error{
		func() error { return s.CreateAsset(gone, newTestAsset("gone", analyst.ID)) },
		func() error { return s.CreateAsset(ctx, newTestAsset("unknown analyst", 9999)) },
	}
	for i := range assets {
		a := newTestAsset(fmt.Sprintf("a%02d", i), []int64{analyst.ID, other.ID}[i%2])
		if i%3 == 0 {
			desc := fmt.Sprintf("described %d", i)
			a.Description, a.IsActive = &desc, true
		}
		assets[i] = a
		creates = append(creates, func() error { return s.CreateAsset(ctx, a) })
	}
	statements0, created0 := sqlstore.Commits(s)
	results, release := queueCreates(t, s, analyst.ID, creates...)
	cancel()
	if err := <-results[0]; !errors.Is(err, context.Canceled) {
		t.Fatalf("a create whose caller gave up while queued: err = %v, want context.Canceled", err)
	}
	release()
	if err := <-results[1]; icymorning.ErrorCode(err) != icymorning.EINVALID {
		t.Fatalf("a create naming an unknown analyst: err = %v, want %s", err, icymorning.EINVALID)
	}
	for i, r := range results[2:] {
		if err := <-r; err != nil {
			t.Fatalf("create %s: %v", assets[i].Name, err)
		}
	}

	statements, created := sqlstore.Commits(s)
	inserters := int64(sqlstore.Inserters(s))
	if statements-statements0 != inserters+1 || created-created0 != inserters+good {
		t.Errorf("%d statements committed %d creates, want %d and %d: the queued creates were not one statement",
			statements-statements0, created-created0, inserters+1, inserters+good)
	}
	ids := map[int64]bool{}
	for _, a := range assets {
		if ids[a.ID] {
			t.Fatalf("id %d answered twice", a.ID)
		}
		ids[a.ID] = true
		got, err := s.Asset(ctx, a.ID)
		mustDo(t, err)
		if !equalAssets(got, a) {
			t.Errorf("answered %+v, stored %+v", a, got)
		}
		var name string
		var analystID int64
		mustDo(t, sqlstore.QueryRow(ctx, s, `SELECT asset->>'name', analyst_id FROM events WHERE topic = $1 AND asset_id = $2`,
			[]any{&name, &analystID}, string(icymorning.TopicAssetCreation), a.ID))
		if name != a.Name || analystID != a.AnalystID {
			t.Errorf("asset %d (%s, analyst %d): its event says %s, analyst %d", a.ID, a.Name, a.AnalystID, name, analystID)
		}
	}
	if n := count(t, s, "SELECT count(*) FROM assets WHERE name IN ('gone', 'unknown analyst')"); n != 0 {
		t.Errorf("%d assets stored that were answered as not created", n)
	}
	if n, want := count(t, s, "SELECT count(*) FROM events WHERE topic LIKE 'asset::%'"), inserters+good; n != want {
		t.Errorf("%d events, want one per stored asset (%d)", n, want)
	}
}

func equalAssets(a, b *icymorning.Asset) bool {
	descA, descB := "", ""
	if a.Description != nil {
		descA = "+" + *a.Description
	}
	if b.Description != nil {
		descB = "+" + *b.Description
	}
	return a.ID == b.ID && a.Name == b.Name && descA == descB && a.InceptionDate == b.InceptionDate &&
		a.IsActive == b.IsActive && a.AnalystID == b.AnalystID && a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
}

// When the server refuses a batch's statement (here a check constraint
// that one create breaks), none of it was committed, and each create runs
// again alone: the one at fault fails, the others are stored once.
func TestPostgresCreatesRefusedBatchRunsAlone(t *testing.T) {
	ctx := context.Background()
	s := openMigrated(t, testdb.Postgres(t), sqlstore.Options{MaxConns: 8})
	analyst := &icymorning.Analyst{Name: "Ada", Company: "Acme"}
	mustDo(t, s.CreateAnalyst(ctx, analyst))
	if _, err := sqlstore.Exec(ctx, s, `ALTER TABLE assets ADD CONSTRAINT not_refused CHECK (name <> 'refused')`); err != nil {
		t.Fatal(err)
	}
	names := []string{"first", "refused", "second", "third"}
	creates := make([]func() error, len(names))
	for i, name := range names {
		creates[i] = func() error { return s.CreateAsset(ctx, newTestAsset(name, analyst.ID)) }
	}
	statements0, created0 := sqlstore.Commits(s)
	results, release := queueCreates(t, s, analyst.ID, creates...)
	release()
	for i, r := range results {
		err := <-r
		if names[i] == "refused" {
			if err == nil || icymorning.ErrorCode(err) == icymorning.EINVALID {
				t.Errorf("the refused create: err = %v, want an internal error", err)
			}
			continue
		}
		mustDo(t, err)
	}
	inserters := int64(sqlstore.Inserters(s))
	statements, created := sqlstore.Commits(s)
	if statements-statements0 != inserters+3 || created-created0 != inserters+3 {
		t.Errorf("%d statements committed %d creates, want %d and %d (each of the refused batch alone)",
			statements-statements0, created-created0, inserters+3, inserters+3)
	}
	if n := count(t, s, "SELECT count(*) FROM assets WHERE name IN ('first', 'second', 'third')"); n != 3 {
		t.Errorf("%d of the refused statement's good creates stored, want 3", n)
	}
	if n := count(t, s, "SELECT count(*) FROM assets WHERE name = 'refused'"); n != 0 {
		t.Error("the refused create was stored")
	}
}

// Closing the store answers the creates still queued with an error, does
// not store them, and later creates fail at once.
func TestPostgresCreatesClose(t *testing.T) {
	ctx := context.Background()
	url := testdb.Postgres(t)
	s := openMigrated(t, url, sqlstore.Options{MaxConns: 8})
	analyst := &icymorning.Analyst{Name: "Ada", Company: "Acme"}
	mustDo(t, s.CreateAnalyst(ctx, analyst))
	results, release := queueCreates(t, s, analyst.ID,
		func() error { return s.CreateAsset(ctx, newTestAsset("queued", analyst.ID)) })
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	waitFor(t, func() bool { return sqlstore.Closing(s) }) // and waits for the held creates
	release()
	mustDo(t, <-closed)
	if err := <-results[0]; err == nil {
		t.Fatal("a create queued at Close was answered as done")
	}
	if err := s.CreateAsset(ctx, newTestAsset("late", analyst.ID)); err == nil {
		t.Fatal("a create after Close was answered as done")
	}
	again := openMigrated(t, url, sqlstore.Options{})
	if n := count(t, again, "SELECT count(*) FROM assets WHERE name IN ('queued', 'late')"); n != 0 {
		t.Errorf("%d creates answered as failed were stored", n)
	}
}
