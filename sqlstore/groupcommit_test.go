package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/internal/testdb"
	"github.com/icy-morning/icy-morning/sqlstore"
)

// sqliteStores are the SQLite stores the group commit tests run on.
var sqliteStores = []struct {
	name string
	url  func(t *testing.T) string
}{
	{"file", func(t *testing.T) string { return "sqlite:///" + filepath.Join(t.TempDir(), "gc.db") }},
	{"memory", func(*testing.T) string { return "sqlite://:memory:" }},
}

// count runs a query of one integer on s.
func count(t *testing.T, s *sqlstore.Store, sql string, args ...any) int64 {
	t.Helper()
	n, err := sqlstore.QueryInt(context.Background(), s, sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newTestAsset(name string, analyst int64) *icymorning.Asset {
	return &icymorning.Asset{Name: name, InceptionDate: icymorning.Date{Year: 2024, Month: 1, Day: 2}, AnalystID: analyst}
}

// Many writers at once, with failing writes mixed in: each failure gets its
// own error, every other write is stored exactly once (with its event) and
// answered with its own row, and the writes really were committed many to
// a transaction (on PostgreSQL, the asset creates many to a statement:
// pgcreates.go).
func TestGroupCommitFailuresStayAlone(t *testing.T) {
	ctx := context.Background()
	// kinds is the cycle of writes each writer makes; code is the error
	// code each must get ("" for none).
	kinds := []struct {
		name  string
		code  string
		write func(s *sqlstore.Store, keeper int64, name string) error
	}{
		{"create asset", "", func(s *sqlstore.Store, keeper int64, name string) error {
			a := newTestAsset(name, keeper)
			if err := s.CreateAsset(ctx, a); err != nil {
				return err
			}
			// The answer is this create's row, not a batch-mate's.
			got, err := s.Asset(ctx, a.ID)
			if err != nil {
				return err
			}
			if got.Name != name || a.Name != name || !got.CreatedAt.Equal(a.CreatedAt) {
				return fmt.Errorf("created %q, answered %+v, stored under its id %+v", name, a, got)
			}
			return nil
		}},
		{"create asset of an unknown analyst", icymorning.EINVALID, func(s *sqlstore.Store, _ int64, name string) error {
			return s.CreateAsset(ctx, newTestAsset(name, 9999))
		}},
		{"delete an analyst who has assets", icymorning.ECONFLICT, func(s *sqlstore.Store, keeper int64, _ string) error {
			_, err := s.DeleteAnalyst(ctx, keeper, 0)
			return err
		}},
		{"create analyst", "", func(s *sqlstore.Store, _ int64, name string) error {
			return s.CreateAnalyst(ctx, &icymorning.Analyst{Name: name, Company: "Acme"})
		}},
		{"update a missing asset", icymorning.ENOTFOUND, func(s *sqlstore.Store, _ int64, _ string) error {
			_, err := s.UpdateAsset(ctx, 1_000_000, icymorning.AssetUpdate{IsActive: icymorning.Set(true)})
			return err
		}},
	}
	// The cycle: mostly creates, each failure among them.
	cycle := []int{0, 1, 0, 2, 0, 3, 0, 4, 0}
	const writers, each = 32, 50

	stores := append(sqliteStores[:len(sqliteStores):len(sqliteStores)], struct {
		name string
		url  func(t *testing.T) string
	}{"postgres", func(t *testing.T) string { return testdb.Postgres(t) }})
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			s := openMigrated(t, st.url(t), sqlstore.Options{})
			keeper := &icymorning.Analyst{Name: "Keeper", Company: "Acme"}
			mustDo(t, s.CreateAnalyst(ctx, keeper))
			mustDo(t, s.CreateAsset(ctx, newTestAsset("kept", keeper.ID)))
			commits0, writes0 := sqlstore.Commits(s)

			type outcome struct {
				kind int
				name string
				err  error
			}
			outcomes := make(chan outcome, writers*each)
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					for i := range each {
						k := cycle[(w+i)%len(cycle)]
						name := fmt.Sprintf("w%d-%d", w, i)
						outcomes <- outcome{k, name, kinds[k].write(s, keeper.ID, name)}
					}
				})
			}
			wg.Wait()
			close(outcomes)

			wantAssets, wantAnalysts := map[string]bool{"kept": true}, map[string]bool{"Keeper": true}
			perKind := make([]int, len(kinds))
			for o := range outcomes {
				k := kinds[o.kind]
				perKind[o.kind]++
				if got := icymorning.ErrorCode(o.err); (k.code == "" && o.err != nil) || (k.code != "" && got != k.code) {
					t.Errorf("%s (%s): err = %v (code %q), want code %q", k.name, o.name, o.err, got, k.code)
				}
				switch o.kind {
				case 0:
					wantAssets[o.name] = true
				case 3:
					wantAnalysts[o.name] = true
				}
			}
			for i, n := range perKind {
				if n == 0 {
					t.Fatalf("no write of kind %q ran: the test proves nothing", kinds[i].name)
				}
			}

			// Each good write stored exactly once, each failed one not at all.
			for _, c := range []struct {
				table string
				want  map[string]bool
			}{{"assets", wantAssets}, {"analysts", wantAnalysts}} {
				if n := count(t, s, "SELECT count(*) FROM "+c.table); n != int64(len(c.want)) {
					t.Errorf("%s: %d rows, want %d", c.table, n, len(c.want))
				}
				if n := count(t, s, "SELECT count(DISTINCT name) FROM "+c.table); n != int64(len(c.want)) {
					t.Errorf("%s: %d distinct names, want %d", c.table, n, len(c.want))
				}
			}
			assets, err := s.Assets(ctx, icymorning.AssetFilter{Page: icymorning.Page{Limit: icymorning.MaxPageLimit}})
			mustDo(t, err)
			for _, a := range assets {
				if !wantAssets[a.Name] {
					t.Errorf("asset %q is stored but was not answered as created", a.Name)
				}
			}
			// A failed write's event went with it: one creation event per
			// stored asset.
			if n := count(t, s, "SELECT count(*) FROM events WHERE topic = $1", string(icymorning.TopicAssetCreation)); n != int64(len(wantAssets)) {
				t.Errorf("%d creation events, want %d", n, len(wantAssets))
			}

			commits, writes := sqlstore.Commits(s)
			commits, writes = commits-commits0, writes-writes0
			good := int64(len(wantAssets) + len(wantAnalysts) - 2)
			if s.Dialect() == sqlstore.Postgres {
				good = int64(len(wantAssets) - 1) // only creates of assets are batched there
			}
			if writes != good {
				t.Errorf("the group commit counted %d committed writes, want %d", writes, good)
			}
			if commits >= writes {
				t.Errorf("%d commits for %d writes: no batch formed", commits, writes)
			}
			t.Logf("%d writes (%d good) in %d commits", writers*each, good, commits)
		})
	}
}

// holdBatch queues writes, in order, behind a commit held by
// HoldNextCommit and returns once they all wait in the queue, so that they
// form one batch when release is called: the held commit is of a write of
// its own. Each write's error arrives on results[i].
func holdBatch(t *testing.T, s *sqlstore.Store, writes ...func() error) (results []chan error, release func()) {
	t.Helper()
	ctx := context.Background()
	held, resume := sqlstore.HoldNextCommit(s)
	t.Cleanup(resume)
	first := make(chan error, 1)
	go func() {
		first <- s.CreateAnalyst(ctx, &icymorning.Analyst{Name: "Held", Company: "Acme"})
	}()
	<-held
	out := make([]chan error, len(writes))
	for i, w := range writes {
		out[i] = make(chan error, 1)
		go func() { out[i] <- w() }()
		waitFor(t, func() bool { return sqlstore.Queued(s) == i+1 })
	}
	return out, func() {
		resume()
		mustDo(t, <-first)
	}
}

// waitFor waits up to 10 s for cond.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}

// A write is answered only after the commit that holds it: while a batch
// is held before its COMMIT, none of its writers has an answer and another
// connection sees none of its rows; after it, every answered write is there
// for another connection, and for the same file opened again.
func TestGroupCommitAnswersAfterCommit(t *testing.T) {
	ctx := context.Background()
	url := "sqlite:///" + filepath.Join(t.TempDir(), "durable.db")
	s := openMigrated(t, url, sqlstore.Options{})
	other := openMigrated(t, url, sqlstore.Options{}) // its own connections: it sees committed data only
	analyst := &icymorning.Analyst{Name: "Ada", Company: "Acme"}
	mustDo(t, s.CreateAnalyst(ctx, analyst))

	held, release := sqlstore.HoldNextCommit(s)
	t.Cleanup(release)
	const writers = 16
	answered := make(chan *icymorning.Asset, writers)
	for i := range writers {
		go func() {
			a := newTestAsset(fmt.Sprintf("a%d", i), analyst.ID)
			if err := s.CreateAsset(ctx, a); err != nil {
				t.Error(err)
			}
			answered <- a
		}()
	}
	<-held
	time.Sleep(50 * time.Millisecond) // time for a wrong early answer to show
	if n := len(answered); n != 0 {
		t.Fatalf("%d writes answered before their commit", n)
	}
	if n := count(t, other, "SELECT count(*) FROM assets"); n != 0 {
		t.Fatalf("another connection sees %d assets before the commit", n)
	}
	release()

	var ids []int64
	for range writers {
		a := <-answered
		// Answered means committed: another connection sees it at once.
		if _, err := other.Asset(ctx, a.ID); err != nil {
			t.Fatalf("answered asset %d (%s) is not visible to another connection: %v", a.ID, a.Name, err)
		}
		ids = append(ids, a.ID)
	}
	mustDo(t, s.Close())
	mustDo(t, other.Close())
	reopened := openMigrated(t, url, sqlstore.Options{})
	for _, id := range ids {
		if _, err := reopened.Asset(ctx, id); err != nil {
			t.Fatalf("answered asset %d is gone after reopening: %v", id, err)
		}
	}
}

// When a batch's COMMIT fails, no write of it is answered as done, none is
// stored, and the writer goes on with the next batch. Here the failure is a
// deferred foreign key, which SQLite checks only at COMMIT.
func TestGroupCommitFailedCommitFailsItsBatch(t *testing.T) {
	ctx := context.Background()
	for _, st := range sqliteStores {
		t.Run(st.name, func(t *testing.T) {
			s := openMigrated(t, st.url(t), sqlstore.Options{})
			analyst := &icymorning.Analyst{Name: "Ada", Company: "Acme"}
			mustDo(t, s.CreateAnalyst(ctx, analyst))
			creates := []func() error{
				func() error { return s.CreateAsset(ctx, newTestAsset("before", analyst.ID)) },
				func() error {
					return sqlstore.WriteSQL(ctx, s, `PRAGMA defer_foreign_keys = ON`,
						`INSERT INTO assets (name, inception_date, is_active, analyst_id, created_at, updated_at)
VALUES ('poison', '2024-01-02', 1, 9999, '2024-01-02 00:00:00', '2024-01-02 00:00:00')`)
				},
				func() error { return s.CreateAsset(ctx, newTestAsset("after", analyst.ID)) },
				func() error { return s.CreateAnalyst(ctx, &icymorning.Analyst{Name: "Grace", Company: "Acme"}) },
			}
			results, release := holdBatch(t, s, creates...)
			release()
			for _, r := range results {
				err := <-r
				if err == nil {
					t.Fatal("a write of a batch whose COMMIT failed was answered as done")
				}
				// Not an answer about the write itself (the failed
				// COMMIT's foreign key error is not the write's).
				switch code := icymorning.ErrorCode(err); code {
				case icymorning.EINVALID, icymorning.ENOTFOUND, icymorning.ECONFLICT:
					t.Errorf("err = %v (code %q), want the commit's error", err, code)
				}
			}
			if n := count(t, s, "SELECT count(*) FROM assets"); n != 0 {
				t.Fatalf("%d assets stored by a failed commit", n)
			}
			// The connection was not left inside the failed transaction.
			mustDo(t, s.CreateAsset(ctx, newTestAsset("later", analyst.ID)))
			if n := count(t, s, "SELECT count(*) FROM assets"); n != 1 {
				t.Fatalf("%d assets after the next write, want 1", n)
			}
		})
	}
}

// When a write takes the whole transaction with it (SQLite rolls back on
// an I/O error or a full disk; here the write says ROLLBACK itself), the
// writes that ran in that transaction fail with its error and are not run
// again; the writes after it run in a new transaction and commit.
func TestGroupCommitLostTransaction(t *testing.T) {
	ctx := context.Background()
	s := openMigrated(t, "sqlite://:memory:", sqlstore.Options{})
	analyst := &icymorning.Analyst{Name: "Ada", Company: "Acme"}
	mustDo(t, s.CreateAnalyst(ctx, analyst))
	create := func(name string) func() error {
		return func() error { return s.CreateAsset(ctx, newTestAsset(name, analyst.ID)) }
	}
	results, release := holdBatch(t, s,
		create("ran before"),
		func() error { return sqlstore.WriteSQL(ctx, s, `ROLLBACK`) },
		create("after 1"),
		create("after 2"),
	)
	release()
	for i, want := range []bool{false, false, true, true} {
		if err := <-results[i]; (err == nil) != want {
			t.Errorf("write %d: err = %v, want success %v", i, err, want)
		}
	}
	var names []string
	assets, err := s.Assets(ctx, icymorning.AssetFilter{Page: icymorning.Page{Limit: 10}})
	mustDo(t, err)
	for _, a := range assets {
		names = append(names, a.Name)
	}
	if fmt.Sprint(names) != "[after 1 after 2]" {
		t.Fatalf("stored %q, want the writes after the lost transaction only", names)
	}
}

// A write whose context ends while it waits for its turn returns at once
// with its context's error and is never run; its batch-mates commit.
func TestGroupCommitSkipsWritesWhoseContextEnded(t *testing.T) {
	ctx := context.Background()
	s := openMigrated(t, "sqlite://:memory:", sqlstore.Options{})
	analyst := &icymorning.Analyst{Name: "Ada", Company: "Acme"}
	mustDo(t, s.CreateAnalyst(ctx, analyst))
	gone, cancel := context.WithCancel(ctx)
	results, release := holdBatch(t, s,
		func() error { return s.CreateAsset(gone, newTestAsset("gone", analyst.ID)) },
		func() error { return s.CreateAsset(ctx, newTestAsset("kept", analyst.ID)) },
	)
	cancel()
	// The canceled write answers while the writer is still held.
	if err := <-results[0]; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	release()
	mustDo(t, <-results[1])
	if n := count(t, s, "SELECT count(*) FROM assets WHERE name = 'gone'"); n != 0 {
		t.Fatal("a write whose context ended before its turn was run")
	}
	if n := count(t, s, "SELECT count(*) FROM assets WHERE name = 'kept'"); n != 1 {
		t.Fatal("its batch-mate was not stored")
	}
}

// A transaction function that panics is rolled back alone and panics in its
// caller's goroutine, not the writer's; its batch-mates commit.
func TestGroupCommitPanicStaysWithItsWrite(t *testing.T) {
	ctx := context.Background()
	s := openMigrated(t, "sqlite://:memory:", sqlstore.Options{})
	analyst := &icymorning.Analyst{Name: "Ada", Company: "Acme"}
	mustDo(t, s.CreateAnalyst(ctx, analyst))
	results, release := holdBatch(t, s,
		func() (err error) {
			defer func() {
				if p := recover(); p != "boom" {
					err = fmt.Errorf("recovered %v, want the panic boom", p)
				}
			}()
			return s.InTx(ctx, func(tx icymorning.Tx) error {
				if err := tx.CreateAsset(ctx, newTestAsset("panicked", analyst.ID)); err != nil {
					return err
				}
				panic("boom")
			})
		},
		func() error { return s.CreateAsset(ctx, newTestAsset("kept", analyst.ID)) },
	)
	release()
	for _, r := range results {
		mustDo(t, <-r)
	}
	if n := count(t, s, "SELECT count(*) FROM assets WHERE name = 'panicked'"); n != 0 {
		t.Fatal("the panicking transaction's write was committed")
	}
	if n := count(t, s, "SELECT count(*) FROM assets WHERE name = 'kept'"); n != 1 {
		t.Fatal("its batch-mate was not stored")
	}
}

// Closing the store answers the writes still queued with an error instead
// of leaving them waiting, and later writes fail at once.
func TestGroupCommitClose(t *testing.T) {
	ctx := context.Background()
	s := openMigrated(t, "sqlite:///"+filepath.Join(t.TempDir(), "closing.db"), sqlstore.Options{})
	results, release := holdBatch(t, s,
		func() error { return s.CreateAnalyst(ctx, &icymorning.Analyst{Name: "Queued", Company: "Acme"}) },
	)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	waitFor(t, func() bool { return sqlstore.Closing(s) }) // and waits for the held batch
	release()
	mustDo(t, <-closed)
	if err := <-results[0]; err == nil {
		t.Fatal("a write queued at Close was answered as done")
	}
	if err := s.CreateAnalyst(ctx, &icymorning.Analyst{Name: "Late", Company: "Acme"}); err == nil {
		t.Fatal("a write after Close was answered as done")
	}
}

// A batch prepares each of its statements once: a batch of 50 creates
// prepares no more statements than one create alone does.
func TestGroupCommitPreparesOnce(t *testing.T) {
	ctx := context.Background()
	for _, st := range sqliteStores {
		t.Run(st.name, func(t *testing.T) {
			s := openMigrated(t, st.url(t), sqlstore.Options{})
			analyst := &icymorning.Analyst{Name: "Ada", Company: "Acme"}
			before := sqlstore.Prepared(s)
			mustDo(t, s.CreateAnalyst(ctx, analyst))
			oneAnalyst := sqlstore.Prepared(s) - before
			before = sqlstore.Prepared(s)
			mustDo(t, s.CreateAsset(ctx, newTestAsset("solo", analyst.ID)))
			oneAsset := sqlstore.Prepared(s) - before
			if oneAnalyst == 0 || oneAsset == 0 {
				t.Fatalf("prepared %d statements for an analyst and %d for an asset, want some", oneAnalyst, oneAsset)
			}

			const creates = 50
			writes := make([]func() error, creates)
			for i := range writes {
				writes[i] = func() error { return s.CreateAsset(ctx, newTestAsset(fmt.Sprintf("a%d", i), analyst.ID)) }
			}
			before = sqlstore.Prepared(s)
			results, release := holdBatch(t, s, writes...)
			release()
			for _, r := range results {
				mustDo(t, <-r)
			}
			if n, most := sqlstore.Prepared(s)-before, oneAnalyst+oneAsset; n > most {
				t.Errorf("a held analyst and %d creates behind it prepared %d statements, want at most %d", creates, n, most)
			}
			if n := count(t, s, "SELECT count(*) FROM assets"); n != creates+1 {
				t.Errorf("%d assets stored, want %d", n, creates+1)
			}
		})
	}
}
