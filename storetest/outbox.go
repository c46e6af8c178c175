package storetest

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
)

// pendingEvents returns every event not yet fanned out.
func pendingEvents(t *testing.T, s icymorning.Tx) []icymorning.Event {
	t.Helper()
	events, err := s.PendingEvents(ctx, icymorning.MaxPageLimit)
	must(t, err)
	return events
}

func countTopic(events []icymorning.Event, topic icymorning.Topic) int {
	n := 0
	for _, e := range events {
		if e.Topic == topic {
			n++
		}
	}
	return n
}

// public is a as an event holds it: its public members only.
func public(a icymorning.Asset) icymorning.Asset {
	a.CreatedAt, a.UpdatedAt, a.Version = time.Time{}, time.Time{}, 0
	if a.Description != nil { // compared by value, not by pointer
		d := *a.Description
		a.Description = &d
	}
	return a
}

func sameAsset(a, b icymorning.Asset) bool {
	da, db := a.Description, b.Description
	a.Description, b.Description = nil, nil
	return a == b && (da == nil) == (db == nil) && (da == nil || *da == *db)
}

// wantEvent fails unless e is an event of topic about asset a at time at.
func wantEvent(t *testing.T, e icymorning.Event, topic icymorning.Topic, a icymorning.Asset, at time.Time) {
	t.Helper()
	if e.Topic != topic || e.AssetID != a.ID || e.AnalystID != a.AnalystID || !e.OccurredAt.Equal(at) ||
		e.FannedOutAt != nil || !sameAsset(e.Asset, public(a)) {
		t.Fatalf("event %+v,\nwant %s of %+v at %v", e, topic, public(a), at)
	}
}

// Each change that commits records one event holding the asset's public
// members; failed changes and changes that change nothing record none.
func testEventsRecordedWithChanges(t *testing.T, s icymorning.Store, clock *clock) {
	ada := newAnalyst(t, s, "Ada")
	grace := newAnalyst(t, s, "Grace")
	desc := "A fund"
	a := &icymorning.Asset{Name: "Fund", Description: &desc, InceptionDate: icymorning.Date{Year: 1, Month: 1, Day: 1}, IsActive: true, AnalystID: ada.ID}
	must(t, s.CreateAsset(ctx, a))
	created := stamp(clock.Now())

	tests := []struct {
		name   string
		change func() (*icymorning.Asset, error)
		// wantTopic is the event the change must record; "" for none.
		wantTopic icymorning.Topic
		wantCode  string
	}{
		{"rename", func() (*icymorning.Asset, error) {
			return s.UpdateAsset(ctx, a.ID, icymorning.AssetUpdate{Name: icymorning.Set("Fund II")})
		}, icymorning.TopicAssetUpdate, ""},
		{"the same name again", func() (*icymorning.Asset, error) {
			return s.UpdateAsset(ctx, a.ID, icymorning.AssetUpdate{Name: icymorning.Set("Fund II")})
		}, "", ""},
		{"an empty update", func() (*icymorning.Asset, error) {
			return s.UpdateAsset(ctx, a.ID, icymorning.AssetUpdate{})
		}, "", ""},
		{"a whole replacement equal to the asset", func() (*icymorning.Asset, error) {
			return s.UpdateAsset(ctx, a.ID, icymorning.AssetUpdate{Name: icymorning.Set("Fund II"), Description: icymorning.Set(&desc),
				InceptionDate: icymorning.Set(a.InceptionDate), IsActive: icymorning.Set(true), AnalystID: icymorning.Set(ada.ID)})
		}, "", ""},
		{"the description removed", func() (*icymorning.Asset, error) {
			return s.UpdateAsset(ctx, a.ID, icymorning.AssetUpdate{Description: icymorning.Set[*string](nil)})
		}, icymorning.TopicAssetUpdate, ""},
		{"deactivated", func() (*icymorning.Asset, error) {
			return s.UpdateAsset(ctx, a.ID, icymorning.AssetUpdate{IsActive: icymorning.Set(false)})
		}, icymorning.TopicAssetUpdate, ""},
		{"another date", func() (*icymorning.Asset, error) {
			return s.UpdateAsset(ctx, a.ID, icymorning.AssetUpdate{InceptionDate: icymorning.Set(icymorning.Date{Year: 2024, Month: 2, Day: 29})})
		}, icymorning.TopicAssetUpdate, ""},
		{"another analyst: the event names the new one", func() (*icymorning.Asset, error) {
			return s.UpdateAsset(ctx, a.ID, icymorning.AssetUpdate{AnalystID: icymorning.Set(grace.ID)})
		}, icymorning.TopicAssetUpdate, ""},
		{"an analyst who does not exist", func() (*icymorning.Asset, error) {
			return s.UpdateAsset(ctx, a.ID, icymorning.AssetUpdate{AnalystID: icymorning.Set[int64](77)})
		}, "", icymorning.EINVALID},
		{"an asset that does not exist", func() (*icymorning.Asset, error) {
			return s.UpdateAsset(ctx, 77, icymorning.AssetUpdate{Name: icymorning.Set("x")})
		}, "", icymorning.ENOTFOUND},
		{"a creation that fails", func() (*icymorning.Asset, error) {
			b := &icymorning.Asset{Name: "Orphan", InceptionDate: a.InceptionDate, AnalystID: 77}
			return b, s.CreateAsset(ctx, b)
		}, "", icymorning.EINVALID},
		{"a deletion of nothing", func() (*icymorning.Asset, error) {
			return s.DeleteAsset(ctx, 77, 0)
		}, "", icymorning.ENOTFOUND},
		{"deletion: the event holds the asset as it was", func() (*icymorning.Asset, error) {
			return s.DeleteAsset(ctx, a.ID, 0)
		}, icymorning.TopicAssetDeletion, ""},
	}

	events := pendingEvents(t, s)
	if len(events) != 1 {
		t.Fatalf("after the creation: %+v", events)
	}
	wantEvent(t, events[0], icymorning.TopicAssetCreation, *a, created)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.Advance(time.Second)
			got, err := tt.change()
			wantCode(t, err, tt.wantCode)
			after := pendingEvents(t, s)
			if tt.wantTopic == "" {
				if len(after) != len(events) {
					t.Fatalf("recorded %+v", after[len(events):])
				}
				return
			}
			if len(after) != len(events)+1 {
				t.Fatalf("%d events recorded, want 1", len(after)-len(events))
			}
			wantEvent(t, after[len(events)], tt.wantTopic, *got, stamp(clock.Now()))
			if after[len(events)].ID <= events[len(events)-1].ID {
				t.Fatal("events are not listed oldest first")
			}
			events = after
		})
	}
	page, err := s.PendingEvents(ctx, 2)
	must(t, err)
	if len(page) != 2 || page[0].ID != events[0].ID || page[1].ID != events[1].ID {
		t.Fatalf("a limited list: %+v", page)
	}
}

// A change that commits always has its event; one rolled back never does,
// also when it runs in a transaction of the caller's.
func testEventsFollowTransactions(t *testing.T, s icymorning.Store, _ *clock) {
	an := newAnalyst(t, s, "Ada")
	kept := newAsset(t, s, "Kept", an.ID, true)
	before := pendingEvents(t, s)
	boom := errors.New("boom")
	changes := func(tx icymorning.Tx) {
		a := newAsset(t, tx, "Fund", an.ID, true)
		_, err := tx.UpdateAsset(ctx, a.ID, icymorning.AssetUpdate{Name: icymorning.Set("Fund II")})
		must(t, err)
		_, err = tx.UpdateAsset(ctx, kept.ID, icymorning.AssetUpdate{IsActive: icymorning.Set(false)})
		must(t, err)
		_, err = tx.DeleteAsset(ctx, a.ID, 0)
		must(t, err)
		if n := len(pendingEvents(t, tx)) - len(before); n != 4 {
			t.Errorf("inside the transaction %d events are visible, want 4", n)
		}
	}
	err := s.InTx(ctx, func(tx icymorning.Tx) error {
		changes(tx)
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want boom", err)
	}
	if after := pendingEvents(t, s); len(after) != len(before) {
		t.Fatalf("a rolled-back transaction left events: %+v", after[len(before):])
	}
	if got, _ := s.Asset(ctx, kept.ID); !got.IsActive {
		t.Fatal("a rolled-back update is visible")
	}
	must(t, s.InTx(ctx, func(tx icymorning.Tx) error {
		changes(tx)
		return nil
	}))
	after := pendingEvents(t, s)
	var topics []icymorning.Topic
	for _, e := range after[len(before):] {
		topics = append(topics, e.Topic)
	}
	want := []icymorning.Topic{icymorning.TopicAssetCreation, icymorning.TopicAssetUpdate, icymorning.TopicAssetUpdate, icymorning.TopicAssetDeletion}
	if !slices.Equal(topics, want) {
		t.Fatalf("committed events %v, want %v", topics, want)
	}
}

// newAudience subscribes to each topic for every analyst, for ada or for
// grace, in every status, and returns the subscriptions' ids by name, in
// the order of their ids: the audience of testFanOut and
// testFanOutPending.
func newAudience(t *testing.T, s icymorning.Tx, ada, grace int64) map[string]int64 {
	t.Helper()
	subs := map[string]int64{}
	for _, sub := range []struct {
		name    string
		topic   icymorning.Topic
		analyst *int64
		status  icymorning.SubscriptionStatus
	}{
		{"creation", icymorning.TopicAssetCreation, nil, icymorning.SubscriptionActive},
		{"creation by Ada", icymorning.TopicAssetCreation, &ada, icymorning.SubscriptionActive},
		{"creation by Grace", icymorning.TopicAssetCreation, &grace, icymorning.SubscriptionActive},
		{"update", icymorning.TopicAssetUpdate, nil, icymorning.SubscriptionActive},
		{"deletion by Ada", icymorning.TopicAssetDeletion, &ada, icymorning.SubscriptionActive},
		{"pending creation", icymorning.TopicAssetCreation, nil, icymorning.SubscriptionPending},
		{"unsubscribed creation", icymorning.TopicAssetCreation, nil, icymorning.SubscriptionUnsubscribed},
		{"suppressed creation", icymorning.TopicAssetCreation, nil, icymorning.SubscriptionSuppressed},
		{"suppressed deletion by Ada", icymorning.TopicAssetDeletion, &ada, icymorning.SubscriptionSuppressed},
	} {
		id := newSubscription(t, s, strings.ReplaceAll(sub.name, " ", ".")+"@example.com", sub.topic, sub.analyst).ID
		setStatus(t, s, id, sub.status)
		subs[sub.name] = id
	}
	return subs
}

// FanOut gives each event to the active subscriptions of its topic, for
// every analyst or for the event's, once.
func testFanOut(t *testing.T, s icymorning.Store, clock *clock) {
	ada, grace := newAnalyst(t, s, "Ada").ID, newAnalyst(t, s, "Grace").ID
	subs := newAudience(t, s, ada, grace)
	adas := newAsset(t, s, "Ada's", ada, true)
	_, err := s.UpdateAsset(ctx, adas.ID, icymorning.AssetUpdate{Name: icymorning.Set("Ada's II")})
	must(t, err)
	_, err = s.DeleteAsset(ctx, adas.ID, 0)
	must(t, err)
	newAsset(t, s, "Grace's", grace, true)
	events := pendingEvents(t, s)
	if len(events) != 4 {
		t.Fatalf("events: %+v", events)
	}

	tests := []struct {
		event icymorning.Event
		want  []string // the subscriptions it goes to
	}{
		{events[0], []string{"creation", "creation by Ada"}},
		{events[1], []string{"update"}},
		{events[2], []string{"deletion by Ada"}},
		{events[3], []string{"creation", "creation by Grace"}},
	}
	var all []icymorning.Delivery
	for _, tt := range tests {
		t.Run(string(tt.event.Topic), func(t *testing.T) {
			clock.Advance(time.Minute)
			at := stamp(clock.Now())
			n, err := s.FanOut(ctx, tt.event.ID)
			must(t, err)
			if n != len(tt.want) {
				t.Fatalf("%d deliveries, want %d", n, len(tt.want))
			}
			ds, err := s.Deliveries(ctx, icymorning.DeliveryFilter{Page: icymorning.Page{Limit: 100}})
			must(t, err)
			if len(ds) != len(all)+n {
				t.Fatalf("%d deliveries in the log, want %d", len(ds), len(all)+n)
			}
			var got, want []int64
			for _, d := range ds[len(all):] {
				if d.EventID != tt.event.ID || d.Status != icymorning.DeliveryPending || d.Attempts != 0 || d.LastError != "" ||
					d.ProviderMessageID != "" || d.SentAt != nil ||
					!d.CreatedAt.Equal(at) || !d.UpdatedAt.Equal(at) || !d.NextAttemptAt.Equal(at) {
					t.Fatalf("delivery %+v", d)
				}
				got = append(got, d.SubscriptionID)
			}
			for _, name := range tt.want {
				want = append(want, subs[name])
			}
			slices.Sort(got)
			slices.Sort(want)
			if !equal(got, want) {
				t.Fatalf("delivered to %v, want %v", got, want)
			}
			all = ds
		})
	}
	if left := pendingEvents(t, s); len(left) != 0 {
		t.Fatalf("events still pending after their fan-out: %+v", left)
	}

	// Idempotent: a second fan-out, even after a new subscription, adds
	// nothing; two at once add the deliveries once.
	newSubscription(t, s, "late@example.com", icymorning.TopicAssetCreation, nil)
	for _, e := range events {
		n, err := s.FanOut(ctx, e.ID)
		must(t, err)
		if n != 0 {
			t.Fatalf("a second fan-out of event %d created %d", e.ID, n)
		}
	}
	fresh := newAsset(t, s, "Fresh", ada, true)
	e := pendingEvents(t, s)[0]
	if e.AssetID != fresh.ID {
		t.Fatalf("pending %+v", e)
	}
	var wg sync.WaitGroup
	counts := make([]int, 4)
	for i := range counts {
		wg.Go(func() {
			n, err := s.FanOut(ctx, e.ID)
			if err != nil {
				t.Error(err)
			}
			counts[i] = n
		})
	}
	wg.Wait()
	slices.Sort(counts)
	if !slices.Equal(counts, []int{0, 0, 0, 3}) { // creation, creation by Ada, late
		t.Fatalf("concurrent fan-outs created %v", counts)
	}
	ds, err := s.Deliveries(ctx, icymorning.DeliveryFilter{Page: icymorning.Page{Limit: 100}})
	must(t, err)
	if len(ds) != len(all)+3 {
		t.Fatalf("%d deliveries, want %d", len(ds), len(all)+3)
	}
	_, err = s.FanOut(ctx, 999)
	wantCode(t, err, icymorning.ENOTFOUND)
}

// The log lists deliveries by status, event and subscription, a page at a
// time, and a rolled-back fan-out leaves the event pending.
func testDeliveryFilters(t *testing.T, s icymorning.Store, _ *clock) {
	an := newAnalyst(t, s, "Ada").ID
	var subs []int64
	for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		subs = append(subs, newSubscription(t, s, email, icymorning.TopicAssetCreation, nil).ID)
	}
	newAsset(t, s, "One", an, true)
	newAsset(t, s, "Two", an, true)
	events := pendingEvents(t, s)
	boom := errors.New("boom")
	err := s.InTx(ctx, func(tx icymorning.Tx) error {
		if n, err := tx.FanOut(ctx, events[0].ID); n != 3 || err != nil {
			t.Errorf("fan-out in a transaction: %d, %v", n, err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v", err)
	}
	if got := pendingEvents(t, s); len(got) != 2 {
		t.Fatalf("a rolled-back fan-out took effect: %d pending", len(got))
	}
	for _, e := range events {
		_, err := s.FanOut(ctx, e.ID)
		must(t, err)
	}

	// Ids are not known in advance: PostgreSQL does not give back those
	// the rolled-back fan-out took.
	all, err := s.Deliveries(ctx, icymorning.DeliveryFilter{Page: icymorning.Page{Limit: 100}})
	must(t, err)
	if len(all) != 6 {
		t.Fatalf("%d deliveries, want 6", len(all))
	}
	ids := make([]int64, len(all))
	for i, d := range all {
		ids[i] = d.ID
	}
	// where lists the ids of the deliveries that keep says to, in order.
	where := func(keep func(d icymorning.Delivery) bool) []int64 {
		out := []int64{}
		for _, d := range all {
			if keep(d) {
				out = append(out, d.ID)
			}
		}
		return out
	}
	pending, dead := icymorning.DeliveryPending, icymorning.DeliveryDead
	second, b, unknown := events[1].ID, subs[1], int64(999)
	ofSecond := where(func(d icymorning.Delivery) bool { return d.EventID == second })
	toB := where(func(d icymorning.Delivery) bool { return d.SubscriptionID == b })
	if len(ofSecond) != 3 || len(toB) != 2 {
		t.Fatalf("the fixture: %d deliveries of the second event, %d to b", len(ofSecond), len(toB))
	}
	page := icymorning.Page{Limit: 100}
	checkLists(t, []listCase[icymorning.DeliveryFilter]{
		{"a page", icymorning.DeliveryFilter{Page: icymorning.Page{After: ids[1], Limit: 3}}, ids[2:5]},
		{"pending", icymorning.DeliveryFilter{Status: &pending, Page: icymorning.Page{After: ids[3], Limit: 100}}, ids[4:]},
		{"dead", icymorning.DeliveryFilter{Status: &dead, Page: page}, []int64{}},
		{"an event", icymorning.DeliveryFilter{EventID: &second, Page: page}, ofSecond},
		{"an event, a page", icymorning.DeliveryFilter{EventID: &second, Page: icymorning.Page{After: ofSecond[0], Limit: 1}}, ofSecond[1:2]},
		{"an event, the last page", icymorning.DeliveryFilter{EventID: &second, Page: icymorning.Page{After: ofSecond[1], Limit: 5}}, ofSecond[2:]},
		{"an event that has none", icymorning.DeliveryFilter{EventID: &unknown, Page: page}, []int64{}},
		{"a subscription", icymorning.DeliveryFilter{SubscriptionID: &b, Page: page}, toB},
		{"a subscription, a page", icymorning.DeliveryFilter{SubscriptionID: &b, Page: icymorning.Page{Limit: 1}}, toB[:1]},
		{"a subscription, the next page", icymorning.DeliveryFilter{SubscriptionID: &b, Page: icymorning.Page{After: toB[0], Limit: 1}}, toB[1:]},
		{"an event and a subscription", icymorning.DeliveryFilter{EventID: &second, SubscriptionID: &b, Page: page},
			where(func(d icymorning.Delivery) bool { return d.EventID == second && d.SubscriptionID == b })},
		{"an event and a status", icymorning.DeliveryFilter{EventID: &second, Status: &pending, Page: page}, ofSecond},
		{"an event and another status", icymorning.DeliveryFilter{EventID: &second, Status: &dead, Page: page}, []int64{}},
	}, func(f icymorning.DeliveryFilter) ([]icymorning.Delivery, error) { return s.Deliveries(ctx, f) },
		func(d icymorning.Delivery) int64 { return d.ID })
}
