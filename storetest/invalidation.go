package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
)

// invalidations is s's InvalidationStore, or skips the test.
func invalidations(t *testing.T, s icymorning.Store) icymorning.InvalidationStore {
	t.Helper()
	is, ok := s.(icymorning.InvalidationStore)
	if !ok {
		t.Skip("the store keeps no invalidation cursor (icymorning.InvalidationStore)")
	}
	return is
}

// allChanges is every change recorded, read from a cursor that has read
// nothing.
func allChanges(t *testing.T, is icymorning.InvalidationStore) []icymorning.Change {
	t.Helper()
	got, err := is.ChangesAfter(ctx, &icymorning.InvalidationCursor{High: -1}, 10_000)
	must(t, err)
	return got
}

func topicsOf(changes []icymorning.Change) []icymorning.Topic {
	out := make([]icymorning.Topic, 0, len(changes))
	for _, c := range changes {
		out = append(out, c.Topic)
	}
	return out
}

// Each committed write of an analyst records a change, in the order of
// the writes, beside the assets', and so does an asset update that changes
// no member (its version moves); failed and rolled-back writes record
// none. These events reach no subscriber: they are never pending, and
// fanning out finds nothing to do, even with a subscriber to every asset
// topic.
func testUnmailedChangesFanOutToNobody(t *testing.T, s icymorning.Store, _ *clock) {
	is := invalidations(t, s)
	for _, topic := range icymorning.Topics {
		_, err := s.CreateSubscription(ctx, &icymorning.Subscription{Email: "all@example.com", Topic: topic})
		must(t, err)
	}
	ada := newAnalyst(t, s, "Ada")
	grace := newAnalyst(t, s, "Grace")
	_, err := s.UpdateAnalyst(ctx, ada.ID, icymorning.AnalystUpdate{Company: icymorning.Set("Engines")})
	must(t, err)
	asset := newAsset(t, s, "Fund", ada.ID, true)
	same, err := s.UpdateAsset(ctx, asset.ID, icymorning.AssetUpdate{Name: icymorning.Set(asset.Name)})
	must(t, err)
	if same.Version != asset.Version+1 {
		t.Fatalf("a no-op update: version %d, want %d", same.Version, asset.Version+1)
	}
	_, err = s.DeleteAnalyst(ctx, ada.ID, 0) // covers an asset: refused
	wantCode(t, err, icymorning.ECONFLICT)
	_, err = s.UpdateAnalyst(ctx, grace.ID, icymorning.AnalystUpdate{Company: icymorning.Set("Navy"), IfVersion: 7})
	wantCode(t, err, icymorning.ESTALE)
	rolledBack := errors.New("roll back")
	err = s.InTx(ctx, func(tx icymorning.Tx) error {
		newAnalyst(t, tx, "Lost")
		return rolledBack
	})
	if !errors.Is(err, rolledBack) {
		t.Fatalf("InTx = %v", err)
	}
	_, err = s.DeleteAnalyst(ctx, grace.ID, 0)
	must(t, err)

	want := []icymorning.Topic{icymorning.TopicAnalystCreation, icymorning.TopicAnalystCreation, icymorning.TopicAnalystUpdate,
		icymorning.TopicAssetCreation, icymorning.TopicAssetTouch, icymorning.TopicAnalystDeletion}
	changes := allChanges(t, is)
	if got := topicsOf(changes); !slices.Equal(got, want) {
		t.Fatalf("changes %v, want %v", got, want)
	}
	if !slices.IsSortedFunc(changes, func(a, b icymorning.Change) int { return int(a.EventID - b.EventID) }) {
		t.Fatalf("changes out of id order: %+v", changes)
	}
	pending := pendingEvents(t, s)
	if len(pending) != 1 || pending[0].Topic != icymorning.TopicAssetCreation || pending[0].AssetID != asset.ID {
		t.Fatalf("pending events %+v, want the asset's creation only", pending)
	}
	events, deliveries, err := s.FanOutPending(ctx, 100)
	must(t, err)
	if events != 1 || deliveries != 1 {
		t.Fatalf("fan-out: %d events, %d deliveries; want the asset's one event to its one subscriber", events, deliveries)
	}
	ds, err := s.Deliveries(ctx, icymorning.DeliveryFilter{Page: icymorning.Page{Limit: 100}})
	must(t, err)
	if len(ds) != 1 || ds[0].EventID != changes[3].EventID {
		t.Fatalf("deliveries %+v, want one of event %d", ds, changes[3].EventID)
	}
}

// The cursor: claimed by one consumer at a time, with a note to look again
// for the holder when another tried; moved only by its holder; free again
// after its lease; and reading what lies past it and in its gaps.
func testInvalidationCursor(t *testing.T, s icymorning.Store, clock *clock) {
	is := invalidations(t, s)
	due := func(want bool) {
		t.Helper()
		got, err := is.InvalidationDue(ctx)
		must(t, err)
		if got != want {
			t.Fatalf("InvalidationDue = %v, want %v", got, want)
		}
	}
	claim := func(token string) *icymorning.InvalidationCursor {
		t.Helper()
		c, err := is.ClaimInvalidation(ctx, token, time.Minute)
		must(t, err)
		return c
	}
	release := func(c *icymorning.InvalidationCursor, isDue, want bool) {
		t.Helper()
		again, err := is.ReleaseInvalidation(ctx, c, time.Minute, isDue)
		must(t, err)
		if again != want {
			t.Fatalf("ReleaseInvalidation(due %v) = again %v, want %v", isDue, again, want)
		}
	}

	// Never read: due, with nothing recorded yet.
	due(true)
	a := claim("a")
	if a == nil || a.High != -1 || len(a.Gaps) != 0 || !a.LastSent.IsZero() || len(a.Epoch) < 16 || a.Token != "a" {
		t.Fatalf("first claim %+v", a)
	}
	if b := claim("b"); b != nil {
		t.Fatalf("a second consumer claimed a held cursor: %+v", b)
	}
	if last, err := is.LastEventID(ctx); err != nil || last != 0 {
		t.Fatalf("LastEventID = %d, %v; want 0", last, err)
	}
	a.High = 0
	a.LastSent = clock.Now()
	ok, err := is.AdvanceInvalidation(ctx, a, time.Minute)
	if err != nil || !ok {
		t.Fatalf("AdvanceInvalidation by the holder = %v, %v", ok, err)
	}
	release(a, false, true) // b asked to look again: a keeps the lease
	release(a, false, false)
	due(false) // nothing past the cursor, no gaps, no note

	// Writes put changes past it; the lease frees after its time.
	ada := newAnalyst(t, s, "Ada")
	first := newAsset(t, s, "First", ada.ID, true)
	second := newAsset(t, s, "Second", ada.ID, true)
	_, err = s.DeleteAsset(ctx, first.ID, 0)
	must(t, err)
	due(true)
	all := allChanges(t, is)
	if len(all) != 4 {
		t.Fatalf("%d changes, want 4: %+v", len(all), all)
	}
	if last, err := is.LastEventID(ctx); err != nil || last != all[3].EventID {
		t.Fatalf("LastEventID = %d, %v; want %d", last, err, all[3].EventID)
	}
	c := claim("c")
	if c == nil || c.High != 0 || !c.LastSent.Equal(stamp(a.LastSent)) {
		t.Fatalf("claim after release: %+v, want high 0 and last sent %v", c, stamp(a.LastSent))
	}
	clock.Advance(time.Minute + time.Second)
	d := claim("d")
	if d == nil {
		t.Fatal("a lease past its time was not given to the next consumer")
	}
	if ok, err := is.AdvanceInvalidation(ctx, c, time.Minute); err != nil || ok {
		t.Fatalf("AdvanceInvalidation by a former holder = %v, %v; want false", ok, err)
	}
	if again, err := is.ReleaseInvalidation(ctx, c, time.Minute, false); err != nil || again {
		t.Fatalf("ReleaseInvalidation by a former holder = %v, %v; want false", again, err)
	}

	// Reading past the cursor and in its gaps, in id order, up to a limit.
	d.High = all[1].EventID
	gapAt := stamp(clock.Now())
	d.Gaps = []icymorning.InvalidationGap{{ID: all[0].EventID, Since: gapAt}, {ID: all[3].EventID + 100, Since: gapAt}}
	got, err := is.ChangesAfter(ctx, d, 100)
	must(t, err)
	if want := []icymorning.Change{all[0], all[2], all[3]}; !slices.Equal(got, want) {
		t.Fatalf("ChangesAfter = %+v, want %+v", got, want)
	}
	got, err = is.ChangesAfter(ctx, d, 2)
	must(t, err)
	if want := []icymorning.Change{all[0], all[2]}; !slices.Equal(got, want) {
		t.Fatalf("ChangesAfter, limit 2 = %+v, want %+v", got, want)
	}
	_ = second

	// The holder stores the cursor; letting go with work left due leaves
	// the note for the next, who finds the cursor as stored.
	d.High, d.LastSent = all[3].EventID, clock.Now()
	if ok, err := is.AdvanceInvalidation(ctx, d, time.Minute); err != nil || !ok {
		t.Fatalf("AdvanceInvalidation = %v, %v", ok, err)
	}
	release(d, true, false)
	due(true) // the gaps, and the note
	e := claim("e")
	if e == nil || e.High != all[3].EventID || e.Epoch != a.Epoch || !e.LastSent.Equal(stamp(d.LastSent)) ||
		!slices.Equal(e.Gaps, d.Gaps) {
		t.Fatalf("cursor read back as %+v, want high %d, gaps %+v, last sent %v", e, all[3].EventID, d.Gaps, stamp(d.LastSent))
	}
	e.Gaps = nil
	if ok, err := is.AdvanceInvalidation(ctx, e, time.Minute); err != nil || !ok {
		t.Fatalf("AdvanceInvalidation = %v, %v", ok, err)
	}
	release(e, false, false)
	due(false)
}

// Of consumers that claim at once, exactly one holds the cursor.
func testInvalidationClaimConcurrently(t *testing.T, s icymorning.Store, _ *clock) {
	is := invalidations(t, s)
	const consumers = 8
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		holders []string
	)
	for i := range consumers {
		wg.Go(func() {
			token := string(rune('a' + i))
			c, err := is.ClaimInvalidation(ctx, token, time.Minute)
			if err != nil {
				t.Error(err)
				return
			}
			if c != nil {
				mu.Lock()
				holders = append(holders, c.Token)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(holders) != 1 {
		t.Fatalf("holders %v, want exactly one", holders)
	}
}

// Writes never touch the cursor: without a consumer (no CDN) it stays as
// the migration made it, whatever is written.
func testWritesLeaveTheCursorAlone(t *testing.T, s icymorning.Store, clock *clock) {
	is := invalidations(t, s)
	ada := newAnalyst(t, s, "Ada")
	a := newAsset(t, s, "Fund", ada.ID, true)
	clock.Advance(time.Hour)
	_, err := s.UpdateAsset(ctx, a.ID, icymorning.AssetUpdate{Name: icymorning.Set("Fund 2")})
	must(t, err)
	_, err = s.UpdateAsset(ctx, a.ID, icymorning.AssetUpdate{Name: icymorning.Set("Fund 2")})
	must(t, err)
	_, err = s.DeleteAsset(ctx, a.ID, 0)
	must(t, err)
	_, err = s.DeleteAnalyst(ctx, ada.ID, 0)
	must(t, err)
	c, err := is.ClaimInvalidation(ctx, "only", time.Minute)
	must(t, err)
	if c == nil || c.High != -1 || len(c.Gaps) != 0 || !c.LastSent.IsZero() {
		t.Fatalf("cursor after writes with no consumer: %+v, want it as created", c)
	}
	if got := len(allChanges(t, is)); got != 6 {
		t.Fatalf("%d changes recorded, want 6", got)
	}
}
