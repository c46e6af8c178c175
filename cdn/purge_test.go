package cdn_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/cdn"
	"github.com/icy-morning/icy-morning/internal/awstest"
	"github.com/icy-morning/icy-morning/internal/testdb"
	"github.com/icy-morning/icy-morning/sqlstore"
)

// These tests run the purger over real stores (SQLite and PostgreSQL) and
// the AWS SDK's CloudFront client, which sends its real requests to a
// stand-in of CloudFront's API on 127.0.0.1.

const distribution = "E2ICYMORNINGTEST"

var stores = []struct {
	name string
	url  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return "sqlite:///" + filepath.Join(t.TempDir(), "cdn.db") }},
	{"postgres", func(t *testing.T) string { return testdb.Postgres(t) }},
}

func forEachStore(t *testing.T, fn func(t *testing.T, s *sqlstore.Store)) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) { fn(t, openStore(t, st.url(t))) })
	}
}

func openStore(t *testing.T, url string) *sqlstore.Store {
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

// client is the SDK's CloudFront client, pointed at the stand-in with
// BaseEndpoint.
func client(cf *awstest.CloudFrontStandIn) *cdn.CloudFront {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "SECRET", "")}
	return cdn.NewCloudFront(cfg, distribution, func(o *cloudfront.Options) { o.BaseEndpoint = aws.String(cf.URL) })
}

func newPurger(t *testing.T, s *sqlstore.Store, cf *awstest.CloudFrontStandIn, opts cdn.Options) (*cdn.Purger, *lockedBuffer) {
	t.Helper()
	log := &lockedBuffer{}
	return cdn.NewPurger(s, client(cf), slog.New(slog.NewJSONHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug})), opts), log
}

// lockedBuffer is a log that purgers write and tests read at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Contains(s string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Contains(b.buf.Bytes(), []byte(s))
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func sweep(t *testing.T, p *cdn.Purger) cdn.Result {
	t.Helper()
	res, err := p.Sweep(context.Background())
	must(t, err)
	return res
}

func newAnalyst(t *testing.T, s *sqlstore.Store) *icymorning.Analyst {
	t.Helper()
	a := &icymorning.Analyst{Name: "Ada", Company: "Engines"}
	must(t, s.CreateAnalyst(context.Background(), a))
	return a
}

func newAsset(t *testing.T, s icymorning.Tx, analyst int64, name string) *icymorning.Asset {
	t.Helper()
	a := &icymorning.Asset{Name: name, InceptionDate: icymorning.Date{Year: 2024, Month: 1, Day: 31}, IsActive: true, AnalystID: analyst}
	must(t, s.CreateAsset(context.Background(), a))
	return a
}

func wantMade(t *testing.T, cf *awstest.CloudFrontStandIn, want ...[]string) {
	t.Helper()
	made := cf.Made()
	var got [][]string
	for _, m := range made {
		got = append(got, m.Paths)
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("invalidations %v, want %v", got, want)
	}
}

func due(t *testing.T, s *sqlstore.Store) bool {
	t.Helper()
	d, err := s.InvalidationDue(context.Background())
	must(t, err)
	return d
}

var (
	assets   = []string{"/api/v1/assets*"}
	analysts = []string{"/api/v1/analysts*"}
	both     = []string{"/api/v1/analysts*", "/api/v1/assets*"}
)

// The first sweep invalidates everything (whatever was cached before the
// purger ran); after that each write invalidates its collection, and a
// sweep with nothing to do calls nobody.
func TestPurgerInvalidatesWhatWritesChanged(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		cf := awstest.CloudFront(t, distribution)
		p, log := newPurger(t, s, cf, cdn.Options{Interval: time.Millisecond})
		ada := newAnalyst(t, s)

		if res := sweep(t, p); res.Invalidations != 1 || res.Busy {
			t.Fatalf("first sweep: %+v", res)
		}
		wantMade(t, cf, both)
		if due(t, s) {
			t.Fatal("due after the first sweep")
		}
		if res := sweep(t, p); res.Invalidations != 0 || len(cf.Calls()) != 1 {
			t.Fatalf("a sweep with nothing to do: %+v, %d calls", res, len(cf.Calls()))
		}

		steps := []struct {
			name  string
			write func()
			want  []string
		}{
			{"asset created", func() { newAsset(t, s, ada.ID, "Fund A") }, assets},
			{"asset updated", func() {
				_, err := s.UpdateAsset(ctx, 1, icymorning.AssetUpdate{Name: icymorning.Set("Fund A2")})
				must(t, err)
			}, assets},
			{"asset updated to what it was (only its version moves)", func() {
				_, err := s.UpdateAsset(ctx, 1, icymorning.AssetUpdate{Name: icymorning.Set("Fund A2")})
				must(t, err)
			}, assets},
			{"analyst updated", func() {
				_, err := s.UpdateAnalyst(ctx, ada.ID, icymorning.AnalystUpdate{Company: icymorning.Set("Looms")})
				must(t, err)
			}, analysts},
			{"an analyst and an asset", func() {
				grace := newAnalyst(t, s)
				newAsset(t, s, grace.ID, "Fund G")
			}, both},
			{"asset deleted", func() {
				_, err := s.DeleteAsset(ctx, 1, 0)
				must(t, err)
			}, assets},
			{"analyst deleted", func() {
				_, err := s.DeleteAnalyst(ctx, newAnalyst(t, s).ID, 0)
				must(t, err)
			}, analysts},
		}
		for i, st := range steps {
			st.write()
			if !due(t, s) {
				t.Fatalf("%s: not due", st.name)
			}
			if res := sweep(t, p); res.Invalidations != 1 {
				t.Fatalf("%s: %+v", st.name, res)
			}
			made := cf.Made()
			if len(made) != i+2 || !slices.Equal(made[i+1].Paths, st.want) {
				t.Fatalf("%s: invalidations %+v, want the last of %v", st.name, made, st.want)
			}
			if due(t, s) {
				t.Fatalf("%s: still due", st.name)
			}
		}
		// Every invalidation had a reference of its own.
		refs := map[string]bool{}
		for _, c := range cf.Calls() {
			if refs[c.CallerReference] {
				t.Fatalf("caller reference %s sent twice", c.CallerReference)
			}
			refs[c.CallerReference] = true
		}
		if !log.Contains(`"msg":"cdn invalidation"`) {
			t.Errorf("invalidations are not logged:\n%s", log)
		}
	})
}

// An invalidation CloudFront refuses leaves the cursor where it was: the
// write stays due, and the next sweep invalidates it. Writes meanwhile
// are not held up.
func TestPurgerRetriesAFailedInvalidation(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		cf := awstest.CloudFront(t, distribution)
		p, log := newPurger(t, s, cf, cdn.Options{Interval: time.Millisecond})
		ada := newAnalyst(t, s)
		sweep(t, p)

		cf.SetFailing(true)
		newAsset(t, s, ada.ID, "Fund A")
		for range 3 {
			if _, err := p.Sweep(context.Background()); err == nil {
				t.Fatal("a sweep whose invalidation failed reports no error")
			}
			if !due(t, s) {
				t.Fatal("the write is no longer due after a failed invalidation")
			}
		}
		start := time.Now()
		newAsset(t, s, ada.ID, "Fund B") // the write does not wait on CloudFront
		if d := time.Since(start); d > time.Second {
			t.Fatalf("a write took %v while CloudFront failed", d)
		}
		if n := len(cf.Calls()); n != 4 || len(cf.Made()) != 1 {
			t.Fatalf("%d calls, %d made; want 4 and the first", n, len(cf.Made()))
		}
		if !log.Contains("TooManyInvalidationsInProgress") {
			t.Errorf("the failure is not logged with CloudFront's error:\n%s", log)
		}

		cf.SetFailing(false)
		if res := sweep(t, p); res.Invalidations != 1 || res.Changes != 2 {
			t.Fatalf("after CloudFront is back: %+v, want one invalidation of both writes", res)
		}
		wantMade(t, cf, both, assets)
		if due(t, s) {
			t.Fatal("still due")
		}
	})
}

// While one purger waits out the interval, the others find the cursor
// taken, and leave it a note: it looks again before it lets go, so the
// write whose nudge they answered is not left for the next sweep.
func TestPurgerBusyLeavesANote(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		cf := awstest.CloudFront(t, distribution)
		const interval = 400 * time.Millisecond
		p, log := newPurger(t, s, cf, cdn.Options{Interval: interval})
		ada := newAnalyst(t, s)
		sweep(t, p) // the first: everything, now

		newAsset(t, s, ada.ID, "Fund A")
		done := make(chan cdn.Result)
		go func() {
			res, err := p.Sweep(context.Background())
			if err != nil {
				t.Error(err)
			}
			done <- res
		}()
		for deadline := time.Now().Add(interval); !log.Contains("waits for its interval"); { // the first holds the cursor
			if time.Now().After(deadline) {
				t.Fatalf("the first purger did not wait for its interval:\n%s", log)
			}
			time.Sleep(time.Millisecond)
		}
		other, _ := newPurger(t, s, cf, cdn.Options{Interval: interval})
		newAnalyst(t, s)
		if res := sweep(t, other); !res.Busy {
			t.Fatalf("a second purger while the first holds the cursor: %+v, want busy", res)
		}
		res := <-done
		if res.Invalidations < 1 || res.Changes != 2 {
			t.Fatalf("the holder: %+v, want both writes", res)
		}
		if due(t, s) {
			t.Fatal("still due after the holder let go")
		}
		made := cf.Made()
		for i := 1; i < len(made); i++ {
			if gap := made[i].At.Sub(made[i-1].At); gap < interval-50*time.Millisecond {
				t.Errorf("invalidations %d and %d %v apart, want at least the interval %v", i-1, i, gap, interval)
			}
		}
	})
}

// A burst of 1,000 writes from many clients, with a purger sweeping on
// every tenth (as the worker answers SQS batches of ten nudges), makes one
// invalidation per interval at most, and the last covers the last write.
func TestPurgerCoalescesABurst(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		cf := awstest.CloudFront(t, distribution)
		const interval = 250 * time.Millisecond
		p, _ := newPurger(t, s, cf, cdn.Options{Interval: interval})
		ada := newAnalyst(t, s)
		sweep(t, p)
		before := len(cf.Made())

		const writes, writers = 1000, 20
		var (
			next     atomic.Int64
			wg       sync.WaitGroup
			sweeping sync.WaitGroup
		)
		start := time.Now()
		for range writers {
			wg.Go(func() {
				for {
					i := next.Add(1)
					if i > writes {
						return
					}
					newAsset(t, s, ada.ID, fmt.Sprintf("Fund %d", i))
					if i%10 == 0 {
						sweeping.Go(func() {
							if _, err := p.Sweep(context.Background()); err != nil {
								t.Error(err)
							}
						})
					}
				}
			})
		}
		wg.Wait()
		burst := time.Since(start)
		sweeping.Wait()
		sweep(t, p) // the schedule's sweep: nothing may be left
		calls := len(cf.Made()) - before
		// One per interval while the writes came, one more for the last
		// of them, and one for rounding.
		bound := int(burst/interval) + 2
		t.Logf("%d writes in %v: %d invalidations (bound %d, interval %v)", writes, burst.Round(time.Millisecond), calls, bound, interval)
		if calls < 1 || calls > bound {
			t.Fatalf("%d invalidations for %d writes in %v, want 1 to %d", calls, writes, burst, bound)
		}
		if due(t, s) {
			t.Fatal("writes left uninvalidated")
		}
		for _, m := range cf.Made()[before:] {
			if !slices.Equal(m.Paths, assets) {
				t.Fatalf("invalidation %+v, want only %v", m, assets)
			}
		}
	})
}

// PostgreSQL hands out event ids in the order the inserts ask for them,
// not in the order they commit: a write whose transaction commits after
// a later write's must still be invalidated, although the cursor has
// passed its id.
func TestPurgerWaitsForEarlierIDsThatCommitLater(t *testing.T) {
	s := openStore(t, testdb.Postgres(t))
	ctx := context.Background()
	cf := awstest.CloudFront(t, distribution)
	p, _ := newPurger(t, s, cf, cdn.Options{Interval: time.Millisecond})
	ada := newAnalyst(t, s)
	sweep(t, p)

	inserted, commit := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.InTx(ctx, func(tx icymorning.Tx) error {
			newAsset(t, tx, ada.ID, "slow") // takes its event id now...
			close(inserted)
			<-commit // ...and commits later
			return nil
		})
	}()
	<-inserted
	newAnalyst(t, s) // a later id, committed first
	if res := sweep(t, p); res.Invalidations != 1 {
		t.Fatalf("sweep past the uncommitted id: %+v", res)
	}
	wantMade(t, cf, both, analysts)
	if !due(t, s) {
		t.Fatal("the uncommitted id is not kept as a gap")
	}
	if res := sweep(t, p); res.Invalidations != 0 {
		t.Fatalf("a sweep while the gap is still open: %+v, want none", res)
	}
	close(commit)
	must(t, <-done)
	if res := sweep(t, p); res.Invalidations != 1 || res.Changes != 1 {
		t.Fatalf("sweep after the slow commit: %+v, want its one change", res)
	}
	wantMade(t, cf, both, analysts, assets)
	if due(t, s) {
		t.Fatal("still due after the gap was filled")
	}
}

// A gap that never fills (its transaction rolled back) is given up after
// GapTimeout, and nothing is due any more.
func TestPurgerGivesUpGapsOfRollbacks(t *testing.T) {
	s := openStore(t, testdb.Postgres(t))
	ctx := context.Background()
	cf := awstest.CloudFront(t, distribution)
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	p, _ := newPurger(t, s, cf, cdn.Options{Interval: time.Millisecond, GapTimeout: time.Minute, Now: clock})
	ada := newAnalyst(t, s)
	sweep(t, p)
	inserted, rollback := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.InTx(ctx, func(tx icymorning.Tx) error {
			newAsset(t, tx, ada.ID, "doomed")
			close(inserted)
			<-rollback
			return context.Canceled
		})
	}()
	<-inserted
	newAnalyst(t, s)
	sweep(t, p)
	close(rollback)
	<-done
	sweep(t, p)
	if !due(t, s) {
		t.Fatal("the gap was dropped before its time")
	}
	now.Add(int64(2 * time.Minute))
	if res := sweep(t, p); res.Invalidations != 0 {
		t.Fatalf("giving up a gap: %+v, want no invalidation", res)
	}
	if due(t, s) {
		t.Fatal("still due after the gap timed out")
	}
}

// Run, the loop of serve and worker, invalidates a write soon after it
// commits, and calls nobody while
// nothing is written.
func TestPurgerRun(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		cf := awstest.CloudFront(t, distribution)
		p, _ := newPurger(t, s, cf, cdn.Options{Interval: 10 * time.Millisecond, Poll: 10 * time.Millisecond})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); p.Run(ctx) }()
		defer func() { cancel(); <-done }()
		waitFor := func(n int) {
			t.Helper()
			deadline := time.Now().Add(5 * time.Second)
			for len(cf.Made()) < n {
				if time.Now().After(deadline) {
					t.Fatalf("%d invalidations after 5 s, want %d", len(cf.Made()), n)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		waitFor(1)
		time.Sleep(100 * time.Millisecond)
		if n := len(cf.Calls()); n != 1 {
			t.Fatalf("%d calls while idle, want the first one only", n)
		}
		newAnalyst(t, s)
		waitFor(2)
		wantMade(t, cf, both, analysts)
	})
}

// A day's path budget: past it, changes are passed over (nothing is
// sent, nothing piles up), and the next UTC day invalidates again. The
// count is kept in the cursor, so every purger shares it.
func TestPurgerKeepsTheDailyBudget(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		cf := awstest.CloudFront(t, distribution)
		now := time.Date(2026, 11, 29, 22, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		opts := cdn.Options{Interval: time.Millisecond, DailyPaths: 3, Now: clock}
		p, log := newPurger(t, s, cf, opts)
		ada := newAnalyst(t, s)
		sweep(t, p) // the first: both collections, 2 of the day's 3 paths
		wantMade(t, cf, both)

		newAsset(t, s, ada.ID, "One")
		now = now.Add(time.Minute)
		sweep(t, p) // 3 of 3
		wantMade(t, cf, both, assets)

		newAsset(t, s, ada.ID, "Two")
		now = now.Add(time.Minute)
		if res := sweep(t, p); res.Invalidations != 0 {
			t.Fatalf("past the budget: %+v", res)
		}
		wantMade(t, cf, both, assets)
		if due(t, s) {
			t.Fatal("a change passed over by the budget is still due")
		}
		if !log.Contains("budget for today is spent") {
			t.Fatal("passing over changes was not logged")
		}

		// Another purger (another instance) shares the count.
		other, _ := newPurger(t, s, cf, opts)
		newAsset(t, s, ada.ID, "Three")
		sweep(t, other)
		wantMade(t, cf, both, assets)

		now = now.Add(3 * time.Hour) // past midnight UTC
		newAnalyst(t, s)
		sweep(t, other)
		wantMade(t, cf, both, assets, analysts)
	})
}
