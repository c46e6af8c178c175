package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/internal/testdb"
	"github.com/icy-morning/icy-morning/sqlstore"
)

// newFanOutFixture gives s an analyst, subscribers active subscriptions to
// creations and the events of events creations, none fanned out.
func newFanOutFixture(tb testing.TB, s *sqlstore.Store, subscribers, events int) {
	tb.Helper()
	ctx := context.Background()
	an := &icymorning.Analyst{Name: "Ada", Company: "Engines"}
	if err := s.CreateAnalyst(ctx, an); err != nil {
		tb.Fatal(err)
	}
	for i := range subscribers {
		sub := &icymorning.Subscription{Email: fmt.Sprintf("s%d@example.com", i), Topic: icymorning.TopicAssetCreation}
		if _, err := s.CreateSubscription(ctx, sub); err != nil {
			tb.Fatal(err)
		}
	}
	err := s.InTx(ctx, func(tx icymorning.Tx) error {
		for i := range events {
			a := &icymorning.Asset{Name: fmt.Sprintf("Fund %d", i), InceptionDate: icymorning.Date{Year: 2020, Month: 1, Day: 1},
				IsActive: true, AnalystID: an.ID}
			if err := tx.CreateAsset(ctx, a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// On PostgreSQL a page being fanned out holds up no one: another caller
// skips its events and takes the next ones, and the events of a page
// rolled back are fanned out later.
func TestPostgresFanOutPendingSkipsHeldEvents(t *testing.T) {
	s := openMigrated(t, testdb.Postgres(t), sqlstore.Options{})
	ctx := context.Background()
	newFanOutFixture(t, s, 2, 30)
	held, release := make(chan struct{}), make(chan struct{})
	boom := errors.New("boom")
	done := make(chan error, 1)
	go func() {
		done <- s.InTx(ctx, func(tx icymorning.Tx) error {
			ev, n, err := tx.FanOutPending(ctx, 10)
			if err != nil || ev != 10 || n != 20 {
				err = fmt.Errorf("the held page: %d events, %d deliveries, %v", ev, n, err)
			} else {
				err = boom // roll back: the page's events are pending again
			}
			close(held)
			<-release
			return err
		})
	}()
	<-held
	wait, cancel := context.WithTimeout(ctx, 5*time.Second)
	ev, n, err := s.FanOutPending(wait, 10)
	cancel()
	close(release)
	if err := <-done; !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if err != nil || ev != 10 || n != 20 {
		t.Fatalf("beside the held page: %d events, %d deliveries, %v; want the next 10 at once", ev, n, err)
	}
	if ev, n, err := s.FanOutPending(ctx, 100); err != nil || ev != 20 || n != 40 {
		t.Fatalf("after the rollback: %d events, %d deliveries, %v; want the other 20", ev, n, err)
	}
	ds, err := s.Deliveries(ctx, icymorning.DeliveryFilter{Page: icymorning.Page{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	var last int64
	// The fixture's analyst took event 1 (analysts' changes are events
	// too, fanned out to nobody): the assets' are 2-31.
	const first = 2
	for i, d := range ds {
		// The page beside the held one took the assets' events 11-20; the
		// page after the rollback 1-10 and 21-30, in that order.
		want := int64(first - 1 + 11 + i/2)
		if i >= 20 {
			want = int64(first - 1 + 1 + (i-20)/2)
		}
		if i >= 40 {
			want = int64(first - 1 + 21 + (i-40)/2)
		}
		if d.EventID != want || d.ID <= last {
			t.Fatalf("delivery %d: %+v, want one of event %d", i, d, want)
		}
		last = d.ID
	}
	if len(ds) != 60 {
		t.Fatalf("%d deliveries, want 60", len(ds))
	}
}

// BenchmarkFanOut compares the dispatcher's fan-out of a backlog of
// 1,000 events to 10 subscribers each, as it was (a page of PendingEvents,
// then FanOut per event, each its own transaction) and as it is
// (FanOutPending, a page per transaction), on each database:
//
//	go test -run '^$' -bench FanOut -benchtime 5x -count 5 ./sqlstore | tee fanout.txt
//	benchstat -col /way fanout.txt
func BenchmarkFanOut(b *testing.B) {
	const events, subscribers, page = 1000, 10, 100
	urls := map[string]string{"sqlite-file": "sqlite:///" + filepath.Join(b.TempDir(), "fanout.db")}
	if testdb.Wanted() {
		urls["postgres"] = testdb.Postgres(b)
	}
	ctx := context.Background()
	ways := []struct {
		name   string
		fanOut func(b *testing.B, s *sqlstore.Store) (events, deliveries int)
	}{
		{"each", func(b *testing.B, s *sqlstore.Store) (ne, nd int) {
			for {
				evs, err := s.PendingEvents(ctx, page)
				if err != nil {
					b.Fatal(err)
				}
				for _, ev := range evs {
					n, err := s.FanOut(ctx, ev.ID)
					if err != nil {
						b.Fatal(err)
					}
					nd += n
				}
				if ne += len(evs); len(evs) < page {
					return ne, nd
				}
			}
		}},
		{"pending", func(b *testing.B, s *sqlstore.Store) (ne, nd int) {
			for {
				ev, n, err := s.FanOutPending(ctx, page)
				if err != nil {
					b.Fatal(err)
				}
				if ne, nd = ne+ev, nd+n; ev < page {
					return ne, nd
				}
			}
		}},
	}
	for _, db := range []string{"sqlite-file", "postgres"} {
		url, ok := urls[db]
		if !ok {
			continue
		}
		s, err := sqlstore.Open(ctx, url, sqlstore.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		if _, err := s.MigrateUp(ctx); err != nil {
			b.Fatal(err)
		}
		newFanOutFixture(b, s, subscribers, events)
		// reset makes the backlog pending again, with no deliveries, and
		// (PostgreSQL) clears the dead rows so every run starts alike.
		reset := []string{`DELETE FROM deliveries`, `UPDATE events SET fanned_out_at = NULL`}
		if s.Dialect() == sqlstore.Postgres {
			reset = append(reset, `VACUUM ANALYZE events, deliveries`)
		}
		for _, way := range ways {
			b.Run("db="+db+"/way="+way.name, func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					for _, q := range reset {
						if _, err := sqlstore.Exec(ctx, s, q); err != nil {
							b.Fatal(err)
						}
					}
					b.StartTimer()
					if ne, nd := way.fanOut(b, s); ne != events || nd != events*subscribers {
						b.Fatalf("fanned out %d events into %d deliveries", ne, nd)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*events), "µs/event")
			})
		}
	}
}
