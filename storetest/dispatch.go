package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
)

// allDeliveries returns the whole delivery log, in id order.
func allDeliveries(t *testing.T, s icymorning.Tx) []icymorning.Delivery {
	t.Helper()
	var all []icymorning.Delivery
	for {
		var after int64
		if len(all) > 0 {
			after = all[len(all)-1].ID
		}
		ds, err := s.Deliveries(ctx, icymorning.DeliveryFilter{Page: icymorning.Page{After: after, Limit: icymorning.MaxPageLimit}})
		must(t, err)
		all = append(all, ds...)
		if len(ds) < icymorning.MaxPageLimit {
			return all
		}
	}
}

func deliveriesByID(t *testing.T, s icymorning.Tx) map[int64]icymorning.Delivery {
	t.Helper()
	m := map[int64]icymorning.Delivery{}
	for _, d := range allDeliveries(t, s) {
		m[d.ID] = d
	}
	return m
}

// sameDelivery compares a and b by value.
func sameDelivery(a, b icymorning.Delivery) bool {
	if (a.SentAt == nil) != (b.SentAt == nil) || a.SentAt != nil && !a.SentAt.Equal(*b.SentAt) ||
		!a.CreatedAt.Equal(b.CreatedAt) || !a.UpdatedAt.Equal(b.UpdatedAt) || !a.NextAttemptAt.Equal(b.NextAttemptAt) {
		return false
	}
	a.SentAt, b.SentAt = nil, nil
	a.CreatedAt, a.UpdatedAt, a.NextAttemptAt = time.Time{}, time.Time{}, time.Time{}
	b.CreatedAt, b.UpdatedAt, b.NextAttemptAt = time.Time{}, time.Time{}, time.Time{}
	return a == b
}

func sameDeliveries(a, b map[int64]icymorning.Delivery) bool {
	if len(a) != len(b) {
		return false
	}
	for id, d := range a {
		if e, ok := b[id]; !ok || !sameDelivery(d, e) {
			return false
		}
	}
	return true
}

// deliveryTo is the delivery of ds to subscription sub.
func deliveryTo(t *testing.T, ds []icymorning.Delivery, sub int64) icymorning.Delivery {
	t.Helper()
	for _, d := range ds {
		if d.SubscriptionID == sub {
			return d
		}
	}
	t.Fatalf("no delivery to subscription %d in %+v", sub, ds)
	return icymorning.Delivery{}
}

// fanOutAsset creates an asset of analyst and fans out the event of its
// creation: it returns the asset and the deliveries made, in id order.
func fanOutAsset(t *testing.T, s icymorning.Tx, name string, analyst int64) (*icymorning.Asset, []icymorning.Delivery) {
	t.Helper()
	a := newAsset(t, s, name, analyst, true)
	var event *icymorning.Event
	for _, e := range pendingEvents(t, s) {
		if e.AssetID == a.ID && e.Topic == icymorning.TopicAssetCreation {
			event = &e
		}
	}
	if event == nil {
		t.Fatalf("no pending event of the creation of %+v", a)
	}
	n, err := s.FanOut(ctx, event.ID)
	must(t, err)
	var ds []icymorning.Delivery
	for _, d := range allDeliveries(t, s) {
		if d.EventID == event.ID {
			ds = append(ds, d)
		}
	}
	if len(ds) != n {
		t.Fatalf("the fan-out made %d deliveries, the log has %d", n, len(ds))
	}
	return a, ds
}

func claim(t *testing.T, s icymorning.Tx, lease time.Duration, limit int) []icymorning.DeliveryJob {
	t.Helper()
	jobs, err := s.ClaimDeliveries(ctx, lease, limit)
	must(t, err)
	return jobs
}

// jobIDs are the ids of the jobs' deliveries, sorted.
func jobIDs(jobs []icymorning.DeliveryJob) []int64 {
	ids := []int64{}
	for _, j := range jobs {
		ids = append(ids, j.Delivery.ID)
	}
	slices.Sort(ids)
	return ids
}

// deliveryIDs are the ids of ds, sorted.
func deliveryIDs(ds []icymorning.Delivery) []int64 {
	ids := []int64{}
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	slices.Sort(ids)
	return ids
}

// A claim takes the deliveries due, the longest due first, and leases them:
// no claim gets them again until the lease ends.
func testClaimDeliveries(t *testing.T, s icymorning.Store, clock *clock) {
	ada := newAnalyst(t, s, "Ada").ID
	everyone := newSubscription(t, s, "all@example.com", icymorning.TopicAssetCreation, nil)
	adas := newSubscription(t, s, "ada@example.com", icymorning.TopicAssetCreation, &ada)
	var ds []icymorning.Delivery            // in the order they fall due
	assets := map[int64]*icymorning.Asset{} // by event id
	fannedOut := map[int64]time.Time{}      // by event id
	for _, name := range []string{"One", "Two", "Three"} {
		clock.Advance(time.Minute)
		a, made := fanOutAsset(t, s, name, ada)
		if len(made) != 2 {
			t.Fatalf("%d deliveries of %s, want 2", len(made), name)
		}
		assets[made[0].EventID], fannedOut[made[0].EventID] = a, stamp(clock.Now())
		ds = append(ds, made...)
	}
	// A job holds its subscription as it is when claimed.
	gone, err := s.DeleteSubscription(ctx, adas.ID)
	must(t, err)
	subs := map[int64]icymorning.Subscription{everyone.ID: *everyone, adas.ID: *gone}
	clock.Advance(time.Minute)

	// A lease beyond the microsecond: the store keeps microseconds, of the
	// lease's end as of every time.
	const lease = 5*time.Minute + 999*time.Nanosecond
	leaseEnd := lease.Truncate(time.Microsecond) // after the claim
	// checkJobs fails unless jobs are the claims of want, each now at its
	// attempt attempts, still of status (a claim does not change it), with
	// its event and subscription.
	checkJobs := func(t *testing.T, jobs []icymorning.DeliveryJob, want []icymorning.Delivery, status icymorning.DeliveryStatus, attempts int) {
		t.Helper()
		if got, want := jobIDs(jobs), deliveryIDs(want); !equal(got, want) {
			t.Fatalf("claimed %v, want %v", got, want)
		}
		now := stamp(clock.Now())
		created := map[int64]time.Time{}
		for _, d := range ds {
			created[d.ID] = d.CreatedAt
		}
		log := deliveriesByID(t, s)
		for _, j := range jobs {
			d, e := j.Delivery, j.Event
			if d.Status != status || d.Attempts != attempts || !d.CreatedAt.Equal(created[d.ID]) ||
				!d.UpdatedAt.Equal(now) || !d.NextAttemptAt.Equal(now.Add(leaseEnd)) || d.SentAt != nil {
				t.Fatalf("claimed %+v: want %s, attempt %d, updated %v, next attempt %v", d, status, attempts, now, now.Add(leaseEnd))
			}
			if !sameDelivery(d, log[d.ID]) {
				t.Fatalf("the job's delivery %+v,\nthe log's %+v", d, log[d.ID])
			}
			a := assets[d.EventID]
			if a == nil || e.ID != d.EventID || e.Topic != icymorning.TopicAssetCreation || e.AssetID != a.ID ||
				e.AnalystID != a.AnalystID || !sameAsset(e.Asset, public(*a)) || !e.OccurredAt.Equal(a.CreatedAt) ||
				e.FannedOutAt == nil || !e.FannedOutAt.Equal(fannedOut[d.EventID]) {
				t.Fatalf("delivery %d's event %+v, want the creation of %+v", d.ID, e, a)
			}
			if !sameSubscription(j.Subscription, subs[d.SubscriptionID]) {
				t.Fatalf("delivery %d's subscription %+v, want %+v", d.ID, j.Subscription, subs[d.SubscriptionID])
			}
		}
	}

	start := stamp(clock.Now())
	tests := []struct {
		name     string
		at       time.Duration // after start
		limit    int
		want     []icymorning.Delivery
		attempts int
	}{
		{"a limit of 0 claims nothing", 0, 0, nil, 0},
		{"nor does a negative one", 0, -1, nil, 0},
		{"the longest due first, at most limit", 0, 3, ds[:3], 1},
		{"then the others", 0, 10, ds[3:], 1},
		{"none while leased", time.Minute, 10, nil, 0},
		{"none a microsecond before the lease ends", leaseEnd - time.Microsecond, 10, nil, 0},
		{"all again once it has ended", leaseEnd, 10, ds, 2},
		{"none of them again", leaseEnd, 10, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.AdvanceTo(t, start.Add(tt.at))
			checkJobs(t, claim(t, s, lease, tt.limit), tt.want, icymorning.DeliveryPending, tt.attempts)
		})
	}
	for _, d := range allDeliveries(t, s) {
		if d.Attempts != 2 {
			t.Fatalf("%+v: 2 claims took it, want 2 attempts", d)
		}
	}

	// The longest due, not the lowest id: the last delivery falls due a
	// second before the first.
	must(t, s.RecordDeliveries(ctx, []icymorning.DeliveryOutcome{
		{ID: ds[0].ID, Status: icymorning.DeliveryFailed, Error: "421 busy", RetryAfter: time.Second},
		{ID: ds[5].ID, Status: icymorning.DeliveryFailed, Error: "421 busy"},
	}))
	clock.Advance(time.Second)
	failed := icymorning.DeliveryFailed
	checkJobs(t, claim(t, s, lease, 1), ds[5:], failed, 3)
	checkJobs(t, claim(t, s, lease, 1), ds[:1], failed, 3)
	checkJobs(t, claim(t, s, lease, 1), nil, failed, 0)
}

// Concurrent claims take disjoint sets of deliveries, which together are
// all of them: PostgreSQL's claimers skip each other's rows, SQLite's take
// turns.
func testClaimDeliveriesConcurrently(t *testing.T, s icymorning.Store, _ *clock) {
	const subscribers, assets, claimers, batch = 50, 10, 8, 10
	ada := newAnalyst(t, s, "Ada").ID
	for i := range subscribers {
		newSubscription(t, s, fmt.Sprintf("s%02d@example.com", i), icymorning.TopicAssetCreation, nil)
	}
	for i := range assets {
		fanOutAsset(t, s, fmt.Sprintf("Fund %d", i), ada)
	}
	due := deliveryIDs(allDeliveries(t, s))
	if len(due) != subscribers*assets {
		t.Fatalf("%d deliveries, want %d", len(due), subscribers*assets)
	}

	var mu sync.Mutex
	var claimed []int64
	var wg sync.WaitGroup
	for range claimers {
		wg.Go(func() {
			for {
				jobs, err := s.ClaimDeliveries(ctx, time.Hour, batch)
				if err != nil {
					t.Error(err)
					return
				}
				if len(jobs) == 0 || len(jobs) > batch {
					if len(jobs) > batch {
						t.Errorf("claimed %d, over the limit of %d", len(jobs), batch)
					}
					return
				}
				mu.Lock()
				for _, j := range jobs {
					claimed = append(claimed, j.Delivery.ID)
					if j.Delivery.Attempts != 1 {
						t.Errorf("delivery %d claimed at attempt %d: claimed twice", j.Delivery.ID, j.Delivery.Attempts)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(claimed)
	if !equal(claimed, due) {
		dup := 0
		for i := 1; i < len(claimed); i++ {
			if claimed[i] == claimed[i-1] {
				dup++
			}
		}
		t.Fatalf("%d claims of %d deliveries, %d of them a second claim of one", len(claimed), len(due), dup)
	}
	for _, d := range allDeliveries(t, s) {
		if d.Attempts != 1 {
			t.Fatalf("%+v: claimed once, want 1 attempt", d)
		}
	}
}

// Outcomes are stored as told, except that a sent delivery stays sent; a
// failed one comes back when its wait is over, the others never.
func testRecordDeliveries(t *testing.T, s icymorning.Store, clock *clock) {
	// A backoff with jitter, as the dispatcher's, is not whole microseconds.
	const jittered = 7*time.Minute + 12_345_678_912*time.Nanosecond
	sent, failed, dead, suppressed := icymorning.DeliverySent, icymorning.DeliveryFailed, icymorning.DeliveryDead, icymorning.DeliverySuppressed
	tests := []struct {
		name string
		// outcomes of the case's delivery, each recorded in a call of its
		// own, a second after the one before (their IDs are filled in)
		outcomes                  []icymorning.DeliveryOutcome
		wantStatus                icymorning.DeliveryStatus
		wantError, wantProviderID string
		// sentAt and updatedAt: the outcome recorded at the delivery's
		// SentAt (-1: nil) and UpdatedAt
		sentAt, updatedAt int
		// wait is how long after UpdatedAt a failed delivery is due.
		wait time.Duration
	}{
		{"sent", []icymorning.DeliveryOutcome{
			{Status: sent, ProviderMessageID: "<0100018e@eu-west-1.amazonses.com>"},
		}, sent, "", "<0100018e@eu-west-1.amazonses.com>", 0, 0, 0},
		{"sent after a failure: the error cleared", []icymorning.DeliveryOutcome{
			{Status: failed, Error: "421 4.4.2 timeout", RetryAfter: time.Minute},
			{Status: sent, ProviderMessageID: "msg-2"},
		}, sent, "", "msg-2", 1, 1, 0},
		{"failed, a jittered wait", []icymorning.DeliveryOutcome{
			{Status: failed, Error: "421 4.4.2 timeout", RetryAfter: jittered},
		}, failed, "421 4.4.2 timeout", "", -1, 0, jittered},
		{"failed, no wait", []icymorning.DeliveryOutcome{
			{Status: failed, Error: "connection reset"},
		}, failed, "connection reset", "", -1, 0, 0},
		{"failed twice: the last error and wait", []icymorning.DeliveryOutcome{
			{Status: failed, Error: "first", RetryAfter: time.Minute},
			{Status: failed, Error: "second", RetryAfter: 2 * time.Minute},
		}, failed, "second", "", -1, 1, 2 * time.Minute},
		{"dead", []icymorning.DeliveryOutcome{
			{Status: dead, Error: "550 5.1.1 no such user"},
		}, dead, "550 5.1.1 no such user", "", -1, 0, 0},
		{"suppressed", []icymorning.DeliveryOutcome{
			{Status: suppressed, Error: "not sent: the subscription is unsubscribed"},
		}, suppressed, "not sent: the subscription is unsubscribed", "", -1, 0, 0},
		{"a duplicate failing after the send: still sent", []icymorning.DeliveryOutcome{
			{Status: sent, ProviderMessageID: "msg-3"},
			{Status: failed, Error: "421 4.4.2 timeout"},
		}, sent, "", "msg-3", 0, 0, 0},
		{"a duplicate's second send: the first kept", []icymorning.DeliveryOutcome{
			{Status: sent, ProviderMessageID: "msg-4"},
			{Status: sent, ProviderMessageID: "msg-4-again"},
		}, sent, "", "msg-4", 0, 0, 0},
	}
	ada := newAnalyst(t, s, "Ada").ID
	var subs []int64
	for i := range tests {
		subs = append(subs, newSubscription(t, s, fmt.Sprintf("r%d@example.com", i), icymorning.TopicAssetCreation, nil).ID)
	}
	_, made := fanOutAsset(t, s, "Fund", ada)
	if n := len(claim(t, s, time.Hour, 100)); n != len(tests) {
		t.Fatalf("claimed %d, want %d", n, len(tests))
	}
	claimed := deliveriesByID(t, s)
	dueAt := map[int64]time.Time{} // of the failed ones
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := deliveryTo(t, made, subs[i]).ID
			var at []time.Time
			for _, o := range tt.outcomes {
				clock.Advance(time.Second)
				at = append(at, stamp(clock.Now()))
				o.ID = id
				must(t, s.RecordDeliveries(ctx, []icymorning.DeliveryOutcome{o}))
			}
			got := deliveriesByID(t, s)[id]
			want := claimed[id]
			want.Status, want.LastError, want.ProviderMessageID = tt.wantStatus, tt.wantError, tt.wantProviderID
			want.UpdatedAt, want.SentAt = at[tt.updatedAt], nil
			if tt.sentAt >= 0 {
				want.SentAt = &at[tt.sentAt]
			}
			if tt.wantStatus == icymorning.DeliveryFailed {
				want.NextAttemptAt = stamp(at[tt.updatedAt].Add(tt.wait))
				dueAt[id] = want.NextAttemptAt
			} else {
				want.NextAttemptAt = got.NextAttemptAt // no matter: it is not due
			}
			if !sameDelivery(got, want) {
				t.Fatalf("stored %+v,\nwant %+v", got, want)
			}
		})
	}

	before := deliveriesByID(t, s)
	must(t, s.RecordDeliveries(ctx, nil))
	must(t, s.RecordDeliveries(ctx, []icymorning.DeliveryOutcome{}))
	if !sameDeliveries(deliveriesByID(t, s), before) {
		t.Fatal("recording no outcomes changed the log")
	}

	// claimDue claims, and fails unless it gets exactly the failed
	// deliveries due by now that no claim has got yet.
	claimDue := func() {
		t.Helper()
		now := stamp(clock.Now())
		want := []int64{}
		for id, at := range dueAt {
			if !at.After(now) {
				want = append(want, id)
				delete(dueAt, id)
			}
		}
		slices.Sort(want)
		if got := jobIDs(claim(t, s, 24*time.Hour, 100)); !equal(got, want) {
			t.Fatalf("at %v claimed %v, want %v", now, got, want)
		}
	}
	claimDue()
	var times []time.Time
	for _, at := range dueAt {
		times = append(times, at)
	}
	slices.SortFunc(times, time.Time.Compare)
	for _, at := range times {
		clock.AdvanceTo(t, at.Add(-time.Microsecond))
		claimDue()
		clock.AdvanceTo(t, at)
		claimDue()
	}
	clock.Advance(time.Hour)
	claimDue()
}

// An operator puts a dead or failed delivery back in line; nothing else.
func testRetryDelivery(t *testing.T, s icymorning.Store, clock *clock) {
	tests := []struct {
		name string
		// outcome is recorded after the delivery's claim; nil leaves it
		// pending.
		outcome  *icymorning.DeliveryOutcome
		wantCode string
	}{
		{"dead", &icymorning.DeliveryOutcome{Status: icymorning.DeliveryDead, Error: "550 5.1.1 no such user"}, ""},
		{"failed", &icymorning.DeliveryOutcome{Status: icymorning.DeliveryFailed, Error: "421 busy", RetryAfter: time.Hour}, ""},
		{"sent", &icymorning.DeliveryOutcome{Status: icymorning.DeliverySent, ProviderMessageID: "msg-1"}, icymorning.ECONFLICT},
		{"suppressed", &icymorning.DeliveryOutcome{Status: icymorning.DeliverySuppressed, Error: "suppressed"}, icymorning.ECONFLICT},
		{"pending", nil, icymorning.ECONFLICT},
	}
	ada := newAnalyst(t, s, "Ada").ID
	var subs []int64
	for i := range tests {
		subs = append(subs, newSubscription(t, s, fmt.Sprintf("r%d@example.com", i), icymorning.TopicAssetCreation, nil).ID)
	}
	_, made := fanOutAsset(t, s, "Fund", ada)
	if n := len(claim(t, s, time.Hour, 100)); n != len(tests) {
		t.Fatalf("claimed %d, want %d", n, len(tests))
	}
	ids := make([]int64, len(tests))
	var outcomes []icymorning.DeliveryOutcome
	for i, tt := range tests {
		ids[i] = deliveryTo(t, made, subs[i]).ID
		if tt.outcome != nil {
			o := *tt.outcome
			o.ID = ids[i]
			outcomes = append(outcomes, o)
		}
	}
	must(t, s.RecordDeliveries(ctx, outcomes))
	clock.Advance(time.Minute)

	var retried []int64
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := deliveriesByID(t, s)[ids[i]]
			if tt.outcome != nil && before.Status != tt.outcome.Status {
				t.Fatalf("the fixture is %+v, want %s", before, tt.outcome.Status)
			}
			got, err := s.RetryDelivery(ctx, ids[i])
			wantCode(t, err, tt.wantCode)
			stored := deliveriesByID(t, s)[ids[i]]
			if err != nil {
				if !sameDelivery(stored, before) {
					t.Fatalf("a refused retry changed %+v into %+v", before, stored)
				}
				return
			}
			now := stamp(clock.Now())
			want := before
			want.Status, want.Attempts, want.NextAttemptAt, want.UpdatedAt = icymorning.DeliveryPending, 0, now, now
			want.LastError = got.LastError // the last failure's, or none: either will do
			if !sameDelivery(*got, want) || !sameDelivery(stored, *got) {
				t.Fatalf("retried: answered %+v, stored %+v,\nwant %+v", got, stored, want)
			}
			_, err = s.RetryDelivery(ctx, ids[i])
			wantCode(t, err, icymorning.ECONFLICT) // pending now
			retried = append(retried, ids[i])
		})
	}
	_, err := s.RetryDelivery(ctx, 999)
	wantCode(t, err, icymorning.ENOTFOUND)

	// The retried ones are due at once; the pending one is still leased.
	jobs := claim(t, s, time.Hour, 100)
	slices.Sort(retried)
	if got := jobIDs(jobs); !equal(got, retried) {
		t.Fatalf("claimed %v after the retries, want %v", got, retried)
	}
	for _, j := range jobs {
		if j.Delivery.Attempts != 1 {
			t.Fatalf("%+v: want the first attempt since the retry", j.Delivery)
		}
	}
}
