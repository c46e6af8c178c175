// Package storetest is the conformance suite every icymorning.Store must
// pass. Each implementation's tests call Run with a function that opens a
// fresh, migrated, empty store.
package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/internal/testclock"
)

// Run runs the suite. open must return a new empty store for each call
// (some tests open two), whose clock (of created_at and updated_at) is
// now, and arrange its cleanup with t.Cleanup. A store that also
// implements Auditor gets the audit case too.
func Run(t *testing.T, open func(t *testing.T, now func() time.Time) icymorning.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s icymorning.Store, clock *clock)
	}{
		{"AnalystLifecycle", testAnalystLifecycle},
		{"AnalystValidation", testAnalystValidation},
		{"AssetLifecycle", testAssetLifecycle},
		{"AssetUnknownAnalyst", testAssetUnknownAnalyst},
		{"AssetFiltersAndPages", testAssetFiltersAndPages},
		{"DeleteAnalystWithAssets", testDeleteAnalystWithAssets},
		{"SubscriptionLifecycle", testSubscriptionLifecycle},
		{"SubscriptionUniqueness", testSubscriptionUniqueness},
		{"SubscriptionStatuses", testSubscriptionStatuses},
		{"SubscriptionFilters", testSubscriptionFilters},
		{"EventsRecordedWithChanges", testEventsRecordedWithChanges},
		{"EventsFollowTransactions", testEventsFollowTransactions},
		{"FanOut", testFanOut},
		{"FanOutPending", testFanOutPending},
		{"FanOutPendingConcurrently", testFanOutPendingConcurrently},
		{"DeliveryFilters", testDeliveryFilters},
		{"SignUp", testSignUp},
		{"ForgetConfirmation", testForgetConfirmation},
		{"ConfirmSubscription", testConfirmSubscription},
		{"ExpireSignUps", testExpireSignUps},
		{"SuppressEmail", testSuppressEmail},
		{"ClaimDeliveries", testClaimDeliveries},
		{"ClaimDeliveriesConcurrently", testClaimDeliveriesConcurrently},
		{"RecordDeliveries", testRecordDeliveries},
		{"RetryDelivery", testRetryDelivery},
		{"TransactionRollback", testTransactionRollback},
		{"TextRoundTrip", testTextRoundTrip},
		{"ConcurrentPartialUpdates", testConcurrentPartialUpdates},
		{"Audit", testAudit},
		{"Versions", testVersions},
		{"VersionRace", testVersionRace},
		{"IdempotencyKeys", testIdempotencyKeys},
		{"UnmailedChangesFanOutToNobody", testUnmailedChangesFanOutToNobody},
		{"InvalidationCursor", testInvalidationCursor},
		{"InvalidationClaimConcurrently", testInvalidationClaimConcurrently},
		{"WritesLeaveTheCursorAlone", testWritesLeaveTheCursorAlone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			tt.fn(t, open(t, c.Now), c)
		})
	}
	// Tests that compare what two stores make of the same calls.
	pairs := []struct {
		name string
		fn   func(t *testing.T, a, b icymorning.Store, clock *clock)
	}{
		{"FanOutPendingMatchesFanOut", testFanOutPendingMatchesFanOut},
	}
	for _, tt := range pairs {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			tt.fn(t, open(t, c.Now), open(t, c.Now), c)
		})
	}
}

// clockStart is where each test's clock starts: east of UTC and between
// microseconds, so that a store which neither converts to UTC nor
// truncates to microseconds (as it must, to give the same times on both
// databases) gives itself away.
var clockStart = time.Date(2024, 2, 29, 8, 30, 0, 123456789, time.FixedZone("UTC+10", 10*60*60))

// clock is a store's clock in the suite: it stands still until a test
// moves it, so a test knows every timestamp and never sleeps.
type clock struct{ *testclock.Clock }

func newClock() *clock { return &clock{testclock.At(clockStart)} }

// AdvanceTo moves the clock on until the store records the time at (a
// stamp), keeping the clock's nanoseconds beyond the microsecond.
func (c *clock) AdvanceTo(t *testing.T, at time.Time) {
	t.Helper()
	d := at.Sub(stamp(c.Now()))
	if d < 0 {
		t.Fatalf("the clock cannot go back to %v", at)
	}
	c.Advance(d)
}

// stamp is the time a store records when its clock reads now.
func stamp(now time.Time) time.Time { return now.UTC().Truncate(time.Microsecond) }

var ctx = context.Background()

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := icymorning.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

// wantInvalid fails unless err is EINVALID on field.
func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	var e *icymorning.Error
	if !errors.As(err, &e) || e.Code != icymorning.EINVALID || e.Field != field {
		t.Fatalf("err = %v, want EINVALID on %s", err, field)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newAnalyst(t *testing.T, s icymorning.Tx, name string) *icymorning.Analyst {
	t.Helper()
	a := &icymorning.Analyst{Name: name, Company: "Acme Research"}
	must(t, s.CreateAnalyst(ctx, a))
	return a
}

func newAsset(t *testing.T, s icymorning.Tx, name string, analyst int64, active bool) *icymorning.Asset {
	t.Helper()
	a := &icymorning.Asset{Name: name, InceptionDate: icymorning.Date{Year: 2020, Month: 2, Day: 29}, IsActive: active, AnalystID: analyst}
	must(t, s.CreateAsset(ctx, a))
	return a
}

func testAnalystLifecycle(t *testing.T, s icymorning.Store, clock *clock) {
	created := stamp(clock.Now())
	a := newAnalyst(t, s, "Ada")
	b := newAnalyst(t, s, "Grace")
	if a.ID != 1 || b.ID != 2 {
		t.Fatalf("ids = %d, %d; want 1, 2 on a fresh store", a.ID, b.ID)
	}
	if !a.CreatedAt.Equal(created) || !a.UpdatedAt.Equal(created) {
		t.Fatalf("timestamps = %v / %v", a.CreatedAt, a.UpdatedAt)
	}
	got, err := s.Analyst(ctx, a.ID)
	must(t, err)
	if *got != *a {
		t.Fatalf("read back %+v, want %+v", got, a)
	}
	page, err := s.Analysts(ctx, icymorning.Page{Limit: 1})
	must(t, err)
	if len(page) != 1 || page[0].ID != a.ID {
		t.Fatalf("first page = %+v", page)
	}
	page, err = s.Analysts(ctx, icymorning.Page{After: a.ID, Limit: 10})
	must(t, err)
	if len(page) != 1 || page[0].ID != b.ID {
		t.Fatalf("second page = %+v", page)
	}
	clock.Advance(time.Minute)
	up, err := s.UpdateAnalyst(ctx, a.ID, icymorning.AnalystUpdate{Company: icymorning.Set("Initech")})
	must(t, err)
	if up.Name != "Ada" || up.Company != "Initech" || !up.UpdatedAt.Equal(stamp(clock.Now())) || !up.CreatedAt.Equal(created) {
		t.Fatalf("after update: %+v (was %+v)", up, a)
	}
	_, err = s.UpdateAnalyst(ctx, 999, icymorning.AnalystUpdate{Name: icymorning.Set("x")})
	wantCode(t, err, icymorning.ENOTFOUND)
	del, err := s.DeleteAnalyst(ctx, a.ID, 0)
	must(t, err)
	if *del != *up {
		t.Fatalf("deleted %+v, want %+v", del, up)
	}
	_, err = s.DeleteAnalyst(ctx, a.ID, 0)
	wantCode(t, err, icymorning.ENOTFOUND)
	_, err = s.Analyst(ctx, a.ID)
	wantCode(t, err, icymorning.ENOTFOUND)
	// Ids are not reused after a delete.
	c := newAnalyst(t, s, "Edsger")
	if c.ID != 3 {
		t.Fatalf("id after delete = %d, want 3", c.ID)
	}
}

func testAnalystValidation(t *testing.T, s icymorning.Store, _ *clock) {
	for _, a := range []icymorning.Analyst{
		{Name: "", Company: "x"},
		{Name: "x", Company: "   "},
		{Name: strings.Repeat("n", icymorning.MaxNameLength+1), Company: "x"},
		{Name: "nul\x00byte", Company: "x"},
		{Name: "bad \xff utf8", Company: "x"},
	} {
		wantCode(t, s.CreateAnalyst(ctx, &a), icymorning.EINVALID)
	}
	page, err := s.Analysts(ctx, icymorning.Page{Limit: 10})
	must(t, err)
	if len(page) != 0 {
		t.Fatalf("invalid analysts were stored: %+v", page)
	}
}

func testAssetLifecycle(t *testing.T, s icymorning.Store, _ *clock) {
	an := newAnalyst(t, s, "Ada")
	other := newAnalyst(t, s, "Grace")
	desc := "A fund"
	a := &icymorning.Asset{Name: "Fund", Description: &desc, InceptionDate: icymorning.Date{Year: 1999, Month: 12, Day: 31}, IsActive: true, AnalystID: an.ID}
	must(t, s.CreateAsset(ctx, a))
	if a.ID != 1 {
		t.Fatalf("asset id = %d", a.ID)
	}
	got, err := s.Asset(ctx, a.ID)
	must(t, err)
	if got.Name != "Fund" || got.Description == nil || *got.Description != desc ||
		got.InceptionDate.String() != "1999-12-31" || !got.IsActive || got.AnalystID != an.ID ||
		!got.CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("read back %+v", got)
	}
	up, err := s.UpdateAsset(ctx, a.ID, icymorning.AssetUpdate{
		Description: icymorning.Set[*string](nil),
		AnalystID:   icymorning.Set(other.ID),
		IsActive:    icymorning.Set(false),
	})
	must(t, err)
	if up.Description != nil || up.AnalystID != other.ID || up.IsActive || up.Name != "Fund" || up.InceptionDate.String() != "1999-12-31" {
		t.Fatalf("after update: %+v", up)
	}
	up, err = s.UpdateAsset(ctx, a.ID, icymorning.AssetUpdate{InceptionDate: icymorning.Set(icymorning.Date{Year: 2024, Month: 1, Day: 2})})
	must(t, err)
	if up.InceptionDate.String() != "2024-01-02" || up.AnalystID != other.ID {
		t.Fatalf("after date update: %+v", up)
	}
	_, err = s.UpdateAsset(ctx, 42, icymorning.AssetUpdate{IsActive: icymorning.Set(true)})
	wantCode(t, err, icymorning.ENOTFOUND)
	del, err := s.DeleteAsset(ctx, a.ID, 0)
	must(t, err)
	if del.ID != a.ID || del.InceptionDate != up.InceptionDate {
		t.Fatalf("deleted %+v", del)
	}
	_, err = s.DeleteAsset(ctx, a.ID, 0)
	wantCode(t, err, icymorning.ENOTFOUND)
}

func testAssetUnknownAnalyst(t *testing.T, s icymorning.Store, _ *clock) {
	a := &icymorning.Asset{Name: "Orphan", InceptionDate: icymorning.Date{Year: 2020, Month: 1, Day: 1}, AnalystID: 77}
	wantInvalid(t, s.CreateAsset(ctx, a), "analyst_id")
	an := newAnalyst(t, s, "Ada")
	ok := newAsset(t, s, "Fund", an.ID, true)
	_, err := s.UpdateAsset(ctx, ok.ID, icymorning.AssetUpdate{AnalystID: icymorning.Set[int64](77)})
	wantCode(t, err, icymorning.EINVALID)
	got, err := s.Asset(ctx, ok.ID)
	must(t, err)
	if got.AnalystID != an.ID {
		t.Fatalf("failed update changed the asset: %+v", got)
	}
}

func testAssetFiltersAndPages(t *testing.T, s icymorning.Store, _ *clock) {
	a1 := newAnalyst(t, s, "Ada")
	a2 := newAnalyst(t, s, "Grace")
	for i := range 10 {
		an := a1.ID
		if i%2 == 1 {
			an = a2.ID
		}
		newAsset(t, s, []string{"Alpha", "Beta"}[i%3/2], an, i < 5)
	}
	yes, beta := true, "Beta"
	checkLists(t, []listCase[icymorning.AssetFilter]{
		{"all", icymorning.AssetFilter{Page: icymorning.Page{Limit: 100}}, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{"page 2", icymorning.AssetFilter{Page: icymorning.Page{After: 3, Limit: 3}}, []int64{4, 5, 6}},
		{"analyst", icymorning.AssetFilter{AnalystID: &a2.ID, Page: icymorning.Page{Limit: 100}}, []int64{2, 4, 6, 8, 10}},
		{"active", icymorning.AssetFilter{IsActive: &yes, Page: icymorning.Page{Limit: 100}}, []int64{1, 2, 3, 4, 5}},
		{"name", icymorning.AssetFilter{Name: &beta, Page: icymorning.Page{Limit: 100}}, []int64{3, 6, 9}},
		{"all three, paged", icymorning.AssetFilter{AnalystID: &a1.ID, IsActive: &yes, Name: &beta, Page: icymorning.Page{Limit: 100}}, []int64{3}},
		{"past the end", icymorning.AssetFilter{Page: icymorning.Page{After: 10, Limit: 100}}, []int64{}},
	}, func(f icymorning.AssetFilter) ([]icymorning.Asset, error) { return s.Assets(ctx, f) },
		func(a icymorning.Asset) int64 { return a.ID })
}

// listCase is one query of a list and the ids it must return, in order.
type listCase[F any] struct {
	name string
	f    F
	want []int64
}

// checkLists runs each case through list, a subtest each.
func checkLists[F, T any](t *testing.T, cases []listCase[F], list func(F) ([]T, error), id func(T) int64) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := list(tt.f)
			must(t, err)
			got := []int64{}
			for _, r := range rows {
				got = append(got, id(r))
			}
			if !equal(got, tt.want) {
				t.Fatalf("ids = %v, want %v", got, tt.want)
			}
		})
	}
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func testDeleteAnalystWithAssets(t *testing.T, s icymorning.Store, _ *clock) {
	an := newAnalyst(t, s, "Ada")
	as := newAsset(t, s, "Fund", an.ID, true)
	_, err := s.DeleteAnalyst(ctx, an.ID, 0)
	wantCode(t, err, icymorning.ECONFLICT)
	if _, err := s.Analyst(ctx, an.ID); err != nil {
		t.Fatalf("analyst gone after refused delete: %v", err)
	}
	if _, err := s.Asset(ctx, as.ID); err != nil {
		t.Fatalf("asset gone after refused delete: %v", err)
	}
	_, err = s.DeleteAsset(ctx, as.ID, 0)
	must(t, err)
	_, err = s.DeleteAnalyst(ctx, an.ID, 0)
	must(t, err)
}

func testTransactionRollback(t *testing.T, s icymorning.Store, _ *clock) {
	boom := errors.New("boom")
	err := s.InTx(ctx, func(tx icymorning.Tx) error {
		if _, ok := tx.(interface{ Close() error }); ok {
			t.Error("the transaction's handle has Close: fn could close the whole store")
		}
		an := newAnalyst(t, tx, "Ada")
		newAsset(t, tx, "Fund", an.ID, true)
		if _, err := tx.Asset(ctx, 1); err != nil {
			t.Errorf("read inside transaction: %v", err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want boom", err)
	}
	page, err := s.Analysts(ctx, icymorning.Page{Limit: 10})
	must(t, err)
	if len(page) != 0 {
		t.Fatalf("rolled-back analyst is visible: %+v", page)
	}
	must(t, s.InTx(ctx, func(tx icymorning.Tx) error {
		newAnalyst(t, tx, "Grace")
		return nil
	}))
	page, err = s.Analysts(ctx, icymorning.Page{Limit: 10})
	must(t, err)
	if len(page) != 1 || page[0].Name != "Grace" {
		t.Fatalf("committed analyst missing: %+v", page)
	}
}

func testTextRoundTrip(t *testing.T, s icymorning.Store, _ *clock) {
	name := "Zoë 株式会社 🚀 'quote\" \\ %_"
	an := newAnalyst(t, s, name)
	got, err := s.Analyst(ctx, an.ID)
	must(t, err)
	if got.Name != name {
		t.Fatalf("name = %q, want %q", got.Name, name)
	}
	desc := ""
	a := &icymorning.Asset{Name: name, Description: &desc, InceptionDate: icymorning.Date{Year: 1, Month: 1, Day: 1}, AnalystID: an.ID}
	must(t, s.CreateAsset(ctx, a))
	back, err := s.Asset(ctx, a.ID)
	must(t, err)
	if back.Description == nil || *back.Description != "" || back.InceptionDate.String() != "0001-01-01" {
		t.Fatalf("empty description or early date lost: %+v", back)
	}
	exact := name
	page, err := s.Assets(ctx, icymorning.AssetFilter{Name: &exact, Page: icymorning.Page{Limit: 5}})
	must(t, err)
	if len(page) != 1 {
		t.Fatalf("exact name filter found %d", len(page))
	}
}

// Partial updates of different members at once must not undo each other.
func testConcurrentPartialUpdates(t *testing.T, s icymorning.Store, _ *clock) {
	an := newAnalyst(t, s, "Ada")
	a := newAsset(t, s, "Fund", an.ID, false)
	const n = 20
	errs := make(chan error, 2*n)
	for range n {
		go func() {
			_, err := s.UpdateAsset(ctx, a.ID, icymorning.AssetUpdate{IsActive: icymorning.Set(true)})
			errs <- err
		}()
		go func() {
			_, err := s.UpdateAsset(ctx, a.ID, icymorning.AssetUpdate{Name: icymorning.Set("Renamed")})
			errs <- err
		}()
	}
	for range 2 * n {
		must(t, <-errs)
	}
	got, err := s.Asset(ctx, a.ID)
	must(t, err)
	if !got.IsActive || got.Name != "Renamed" {
		t.Fatalf("lost update: %+v", got)
	}
	// Of the 40 updates, only the first of each kind changed anything: two
	// update events, however the updates interleaved. A store comparing
	// with a stale copy of the row would record more, or fewer.
	events := pendingEvents(t, s)
	if n := countTopic(events, icymorning.TopicAssetUpdate); n != 2 {
		t.Fatalf("%d update events, want 2", n)
	}
	if last := events[len(events)-1].Asset; last != public(*got) {
		t.Fatalf("the last event holds %+v, the asset is %+v", last, public(*got))
	}
}
