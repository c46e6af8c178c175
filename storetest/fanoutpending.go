package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
)

// pendingIDs are the ids of the events not yet fanned out, in order.
func pendingIDs(t *testing.T, s icymorning.Tx) []int64 {
	t.Helper()
	ids := []int64{}
	for _, e := range pendingEvents(t, s) {
		ids = append(ids, e.ID)
	}
	return ids
}

// pair is a delivery's event and subscription.
type pair struct{ event, subscription int64 }

// FanOutPending fans out the oldest pending events, at most its limit, to
// whom FanOut would, in one go: the deliveries of each call come in
// (event, subscription) order, and an event fanned out before gets none.
func testFanOutPending(t *testing.T, s icymorning.Store, clock *clock) {
	ada, grace := newAnalyst(t, s, "Ada").ID, newAnalyst(t, s, "Grace").ID
	subs := newAudience(t, s, ada, grace)
	adas := newAsset(t, s, "Ada's", ada, true)
	_, err := s.UpdateAsset(ctx, adas.ID, icymorning.AssetUpdate{Name: icymorning.Set("Ada's II")})
	must(t, err)
	_, err = s.DeleteAsset(ctx, adas.ID, 0)
	must(t, err)
	graces := newAsset(t, s, "Grace's", grace, true)
	_, err = s.DeleteAsset(ctx, graces.ID, 0) // no one follows Grace's deletions
	must(t, err)
	events := pendingIDs(t, s)
	if len(events) != 5 {
		t.Fatalf("events: %v", events)
	}
	// The update is fanned out on its own first; a subscription that
	// comes after it must not get it from a later page.
	if n, err := s.FanOut(ctx, events[1]); err != nil || n != 1 {
		t.Fatalf("FanOut of the update: %d, %v", n, err)
	}
	newSubscription(t, s, "late.update@example.com", icymorning.TopicAssetUpdate, nil)
	before := allDeliveries(t, s)

	type to struct {
		event int // index in events
		sub   string
	}
	tests := []struct {
		name        string
		limit       int
		wantEvents  int
		want        []to
		wantPending []int // indexes in events
	}{
		{"a limit of zero fans out nothing", 0, 0, nil, []int{0, 2, 3, 4}},
		{"nor does a negative one", -1, 0, nil, []int{0, 2, 3, 4}},
		{"the oldest first, up to the limit, past the event fanned out already", 2, 2,
			[]to{{0, "creation"}, {0, "creation by Ada"}, {2, "deletion by Ada"}}, []int{3, 4}},
		{"the rest, fewer than the limit, one of them to no one", 10, 2,
			[]to{{3, "creation"}, {3, "creation by Grace"}}, []int{}},
		{"nothing left", 10, 0, nil, []int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.Advance(time.Minute)
			at := stamp(clock.Now())
			gotEvents, n, err := s.FanOutPending(ctx, tt.limit)
			must(t, err)
			if gotEvents != tt.wantEvents || n != len(tt.want) {
				t.Fatalf("fanned out %d events into %d deliveries, want %d into %d", gotEvents, n, tt.wantEvents, len(tt.want))
			}
			all := allDeliveries(t, s)
			if len(all) != len(before)+n {
				t.Fatalf("%d deliveries in the log, want %d", len(all), len(before)+n)
			}
			var got, want []pair
			for _, d := range all[len(before):] {
				if d.Status != icymorning.DeliveryPending || d.Attempts != 0 || d.LastError != "" || d.ProviderMessageID != "" ||
					d.SentAt != nil || !d.CreatedAt.Equal(at) || !d.UpdatedAt.Equal(at) || !d.NextAttemptAt.Equal(at) {
					t.Fatalf("delivery %+v, want pending since %v", d, at)
				}
				got = append(got, pair{d.EventID, d.SubscriptionID})
			}
			for _, w := range tt.want {
				want = append(want, pair{events[w.event], subs[w.sub]})
			}
			// In id order, the deliveries run event by event and, within
			// an event, subscription by subscription.
			slices.SortFunc(want, func(a, b pair) int {
				return cmp.Or(cmp.Compare(a.event, b.event), cmp.Compare(a.subscription, b.subscription))
			})
			if !slices.Equal(got, want) {
				t.Fatalf("deliveries (event, subscription) %v, want %v", got, want)
			}
			wantPending := []int64{}
			for _, i := range tt.wantPending {
				wantPending = append(wantPending, events[i])
			}
			if p := pendingIDs(t, s); !slices.Equal(p, wantPending) {
				t.Fatalf("pending events %v, want %v", p, wantPending)
			}
			before = all
		})
	}
}

// newOutboxHistory writes the same subscriptions and asset changes, so the
// same events, into every store it is given: three analysts, each topic
// followed for everyone and for each analyst in every status, and a few
// dozen creations, updates and deletions.
func newOutboxHistory(t *testing.T, s icymorning.Tx) {
	t.Helper()
	var analysts []int64
	for _, name := range []string{"Ada", "Grace", "Edsger"} {
		analysts = append(analysts, newAnalyst(t, s, name).ID)
	}
	k := 0
	for _, topic := range icymorning.Topics {
		for i := -1; i < len(analysts); i++ {
			var analyst *int64
			if i >= 0 {
				analyst = &analysts[i]
			}
			for _, st := range icymorning.SubscriptionStatuses {
				k++
				if st != icymorning.SubscriptionActive && k%3 != 0 {
					continue // mostly active, but some of each other status
				}
				sub := newSubscription(t, s, fmt.Sprintf("s%d@example.com", k), topic, analyst)
				setStatus(t, s, sub.ID, st)
				if k%4 == 0 { // and some active twice, by two addresses
					newSubscription(t, s, fmt.Sprintf("t%d@example.com", k), topic, analyst)
				}
			}
		}
	}
	var live []*icymorning.Asset
	for i := range 40 {
		switch {
		case i%5 == 3 && len(live) > 0:
			a := live[0]
			_, err := s.UpdateAsset(ctx, a.ID, icymorning.AssetUpdate{AnalystID: icymorning.Set(analysts[i%3])})
			must(t, err)
		case i%7 == 6 && len(live) > 1:
			_, err := s.DeleteAsset(ctx, live[1].ID, 0)
			must(t, err)
			live = slices.Delete(live, 1, 2)
		default:
			live = append(live, newAsset(t, s, fmt.Sprintf("Fund %d", i), analysts[i%3], true))
		}
	}
}

// Fanning out the same events to the same subscriptions gives the very
// same deliveries, ids included, one event at a time with FanOut as a page
// at a time with FanOutPending.
func testFanOutPendingMatchesFanOut(t *testing.T, each, paged icymorning.Store, clock *clock) {
	newOutboxHistory(t, each)
	newOutboxHistory(t, paged)
	events := pendingIDs(t, each)
	if p := pendingIDs(t, paged); !slices.Equal(events, p) || len(events) < 30 {
		t.Fatalf("the stores' events differ: %v and %v", events, p)
	}
	// One event fanned out ahead of the rest, in both.
	clock.Advance(time.Minute)
	for _, s := range []icymorning.Store{each, paged} {
		_, err := s.FanOut(ctx, events[5])
		must(t, err)
	}
	clock.Advance(time.Minute)
	var byEach int
	for _, id := range pendingIDs(t, each) {
		n, err := each.FanOut(ctx, id)
		must(t, err)
		byEach += n
	}
	var byPages, pages, fannedOut int
	for {
		ev, n, err := paged.FanOutPending(ctx, 7)
		must(t, err)
		if ev == 0 {
			break
		}
		pages, fannedOut, byPages = pages+1, fannedOut+ev, byPages+n
	}
	if fannedOut != len(events)-1 || pages != (len(events)-1+6)/7 {
		t.Fatalf("%d events in %d pages, want %d in pages of 7", fannedOut, pages, len(events)-1)
	}
	if byEach != byPages || byEach < 50 {
		t.Fatalf("FanOut created %d deliveries, FanOutPending %d", byEach, byPages)
	}
	a, b := deliveriesByID(t, each), deliveriesByID(t, paged)
	if !sameDeliveries(a, b) {
		t.Fatalf("the deliveries differ:\n%+v\n%+v", allDeliveries(t, each), allDeliveries(t, paged))
	}
	if p := pendingIDs(t, paged); len(p) != 0 {
		t.Fatalf("still pending: %v", p)
	}
}

// Two callers at once share the events out: each event is fanned out by
// one of them, and each delivery is made once.
func testFanOutPendingConcurrently(t *testing.T, s icymorning.Store, _ *clock) {
	const events, subscribers = 500, 3
	an := newAnalyst(t, s, "Ada").ID
	for i := range subscribers {
		newSubscription(t, s, fmt.Sprintf("s%d@example.com", i), icymorning.TopicAssetCreation, nil)
	}
	must(t, s.InTx(ctx, func(tx icymorning.Tx) error {
		for i := range events {
			newAsset(t, tx, fmt.Sprintf("Fund %d", i), an, true)
		}
		return nil
	}))
	var (
		start   = make(chan struct{})
		wg      sync.WaitGroup
		evs, ds [2]int
		calls   [2]int
	)
	for i := range 2 {
		wg.Go(func() {
			<-start
			for {
				ev, n, err := s.FanOutPending(ctx, 20)
				if err != nil {
					t.Error(err)
					return
				}
				calls[i]++
				evs[i], ds[i] = evs[i]+ev, ds[i]+n
				if ev == 0 {
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	t.Logf("events fanned out by each: %v in %v calls", evs, calls)
	if evs[0]+evs[1] != events || ds[0]+ds[1] != events*subscribers {
		t.Fatalf("fanned out %v events into %v deliveries, want %d into %d in all", evs, ds, events, events*subscribers)
	}
	seen := map[pair]bool{}
	perEvent := map[int64]int{}
	for _, d := range allDeliveries(t, s) {
		p := pair{d.EventID, d.SubscriptionID}
		if seen[p] {
			t.Fatalf("delivered twice: %+v", p)
		}
		seen[p] = true
		perEvent[d.EventID]++
	}
	if len(seen) != events*subscribers || len(perEvent) != events {
		t.Fatalf("%d deliveries of %d events, want %d of %d", len(seen), len(perEvent), events*subscribers, events)
	}
	if p := pendingIDs(t, s); len(p) != 0 {
		t.Fatalf("still pending: %v", p)
	}
}
