package storetest

import (
	"strings"
	"testing"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
)

// sameSubscription compares a and b by value.
func sameSubscription(a, b icymorning.Subscription) bool {
	if (a.AnalystID == nil) != (b.AnalystID == nil) || a.AnalystID != nil && *a.AnalystID != *b.AnalystID ||
		(a.ConfirmedAt == nil) != (b.ConfirmedAt == nil) || a.ConfirmedAt != nil && !a.ConfirmedAt.Equal(*b.ConfirmedAt) {
		return false
	}
	a.AnalystID, b.AnalystID, a.ConfirmedAt, b.ConfirmedAt = nil, nil, nil, nil
	return a == b
}

func newSubscription(t *testing.T, s icymorning.Tx, email string, topic icymorning.Topic, analyst *int64) *icymorning.Subscription {
	t.Helper()
	sub := &icymorning.Subscription{Email: email, Topic: topic, AnalystID: analyst}
	created, err := s.CreateSubscription(ctx, sub)
	must(t, err)
	if !created {
		t.Fatalf("%s %s %v: already subscribed", email, topic, analyst)
	}
	return sub
}

func setStatus(t *testing.T, s icymorning.Tx, id int64, st icymorning.SubscriptionStatus) *icymorning.Subscription {
	t.Helper()
	sub, err := s.SetSubscriptionStatus(ctx, id, st)
	must(t, err)
	if sub.Status != st {
		t.Fatalf("status %q, want %q", sub.Status, st)
	}
	return sub
}

func testSubscriptionLifecycle(t *testing.T, s icymorning.Store, clock *clock) {
	created := stamp(clock.Now())
	sub := &icymorning.Subscription{Email: " Someone@Example.COM "}
	ok, err := s.CreateSubscription(ctx, sub)
	must(t, err)
	if !ok || sub.ID != 1 || sub.Email != "Someone@example.com" || sub.Topic != icymorning.TopicAssetCreation ||
		sub.AnalystID != nil || sub.Status != icymorning.SubscriptionActive ||
		sub.ConfirmedAt == nil || !sub.ConfirmedAt.Equal(created) || !sub.CreatedAt.Equal(created) {
		t.Fatalf("created=%v %+v", ok, sub)
	}
	again := &icymorning.Subscription{Email: "Someone@EXAMPLE.com", Topic: icymorning.TopicAssetCreation}
	ok, err = s.CreateSubscription(ctx, again)
	must(t, err)
	if ok || again.ID != sub.ID || !again.CreatedAt.Equal(sub.CreatedAt) || again.Status != icymorning.SubscriptionActive {
		t.Fatalf("duplicate: created=%v %+v, want the existing %+v", ok, again, sub)
	}
	_, err = s.CreateSubscription(ctx, &icymorning.Subscription{Email: "x@example.com", Topic: "asset::renaming"})
	wantCode(t, err, icymorning.EINVALID)
	for _, bad := range []string{"", "not-an-email", "a@b", "Name <a@example.com>", strings.Repeat("a", 250) + "@example.com"} {
		_, err = s.CreateSubscription(ctx, &icymorning.Subscription{Email: bad})
		wantCode(t, err, icymorning.EINVALID)
	}
	other := newSubscription(t, s, "other@example.org", "", nil)
	all, err := s.Subscriptions(ctx, icymorning.SubscriptionFilter{Page: icymorning.Page{Limit: 10}})
	must(t, err)
	if len(all) != 2 || !sameSubscription(all[0], *sub) || all[1].ID != other.ID {
		t.Fatalf("list = %+v", all)
	}

	// Deleting keeps the row, unsubscribed, for the delivery log.
	clock.Advance(time.Minute)
	del, err := s.DeleteSubscription(ctx, sub.ID)
	must(t, err)
	if del.Email != sub.Email || del.Status != icymorning.SubscriptionUnsubscribed || !del.UpdatedAt.Equal(stamp(clock.Now())) {
		t.Fatalf("deleted %+v", del)
	}
	_, err = s.DeleteSubscription(ctx, sub.ID)
	wantCode(t, err, icymorning.ENOTFOUND)
	_, err = s.DeleteSubscription(ctx, 999)
	wantCode(t, err, icymorning.ENOTFOUND)
	all, err = s.Subscriptions(ctx, icymorning.SubscriptionFilter{Page: icymorning.Page{Limit: 10}})
	must(t, err)
	if len(all) != 2 || !sameSubscription(all[0], *del) {
		t.Fatalf("list after delete = %+v", all)
	}

	// Subscribing again puts the same row back in effect; it was confirmed
	// when first created.
	clock.Advance(time.Minute)
	back := &icymorning.Subscription{Email: "Someone@example.com"}
	ok, err = s.CreateSubscription(ctx, back)
	must(t, err)
	if !ok || back.ID != sub.ID || back.Status != icymorning.SubscriptionActive ||
		!back.ConfirmedAt.Equal(created) || !back.UpdatedAt.Equal(stamp(clock.Now())) {
		t.Fatalf("subscribed again: created=%v %+v", ok, back)
	}
}

// One subscription per address, topic and analyst, the analyst being
// optional.
func testSubscriptionUniqueness(t *testing.T, s icymorning.Store, _ *clock) {
	ada := newAnalyst(t, s, "Ada").ID
	grace := newAnalyst(t, s, "Grace").ID
	missing, zero := int64(999), int64(0)
	tests := []struct {
		name    string
		email   string
		topic   icymorning.Topic
		analyst *int64
		// want names the subscription it must be: the same name, the same
		// subscription; a new name, a new one. "" for an error on field.
		want  string
		field string
	}{
		{"every analyst", "a@example.com", icymorning.TopicAssetCreation, nil, "a", ""},
		{"every analyst again", "a@example.com", icymorning.TopicAssetCreation, nil, "a", ""},
		{"the domain in another case", "a@EXAMPLE.com", "", nil, "a", ""},
		{"one analyst", "a@example.com", icymorning.TopicAssetCreation, &ada, "a/ada", ""},
		{"that analyst again", "a@example.com", icymorning.TopicAssetCreation, &ada, "a/ada", ""},
		{"another analyst", "a@example.com", icymorning.TopicAssetCreation, &grace, "a/grace", ""},
		{"another topic", "a@example.com", icymorning.TopicAssetUpdate, nil, "a/update", ""},
		{"another topic, one analyst", "a@example.com", icymorning.TopicAssetDeletion, &ada, "a/deletion/ada", ""},
		{"another address", "b@example.com", icymorning.TopicAssetCreation, &ada, "b/ada", ""},
		{"an analyst who does not exist", "a@example.com", icymorning.TopicAssetCreation, &missing, "", "analyst_id"},
		{"no such analyst id", "a@example.com", icymorning.TopicAssetCreation, &zero, "", "analyst_id"},
		{"no such topic", "a@example.com", "asset::renaming", nil, "", "topic"},
		{"the local part in another case is another address", "A@example.com", icymorning.TopicAssetCreation, nil, "A", ""},
		{"the first again", "a@example.com", icymorning.TopicAssetCreation, nil, "a", ""},
	}
	ids := map[string]int64{}   // by want
	names := map[int64]string{} // by id
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := &icymorning.Subscription{Email: tt.email, Topic: tt.topic, AnalystID: tt.analyst}
			created, err := s.CreateSubscription(ctx, sub)
			if tt.field != "" {
				wantInvalid(t, err, tt.field)
				return
			}
			must(t, err)
			id, seen := ids[tt.want]
			if created == seen || seen && sub.ID != id || !seen && names[sub.ID] != "" {
				t.Fatalf("id %d created=%v, want subscription %s (id %d, created=%v)", sub.ID, created, tt.want, id, !seen)
			}
			ids[tt.want], names[sub.ID] = sub.ID, tt.want
			if (sub.AnalystID == nil) != (tt.analyst == nil) || tt.analyst != nil && *sub.AnalystID != *tt.analyst {
				t.Fatalf("analyst %v, want %v", sub.AnalystID, tt.analyst)
			}
		})
	}
	all, err := s.Subscriptions(ctx, icymorning.SubscriptionFilter{Page: icymorning.Page{Limit: 100}})
	must(t, err)
	if len(all) != 7 {
		t.Fatalf("%d subscriptions stored, want 7", len(all))
	}
}

// What creating and deleting do to a subscription in each status.
func testSubscriptionStatuses(t *testing.T, s icymorning.Store, clock *clock) {
	tests := []struct {
		from        icymorning.SubscriptionStatus
		wantCreated bool // by CreateSubscription
		// the status after CreateSubscription, and after DeleteSubscription
		// (when it returns the subscription)
		afterCreate, afterDelete icymorning.SubscriptionStatus
	}{
		{icymorning.SubscriptionPending, true, icymorning.SubscriptionActive, icymorning.SubscriptionUnsubscribed},
		{icymorning.SubscriptionActive, false, icymorning.SubscriptionActive, icymorning.SubscriptionUnsubscribed},
		{icymorning.SubscriptionUnsubscribed, true, icymorning.SubscriptionActive, icymorning.SubscriptionUnsubscribed},
		{icymorning.SubscriptionSuppressed, false, icymorning.SubscriptionSuppressed, icymorning.SubscriptionSuppressed},
	}
	for _, tt := range tests {
		t.Run(string(tt.from), func(t *testing.T) {
			email := string(tt.from) + "@example.com"
			sub := newSubscription(t, s, email, "", nil)
			clock.Advance(time.Minute)
			set := setStatus(t, s, sub.ID, tt.from)
			if !set.UpdatedAt.Equal(stamp(clock.Now())) {
				t.Fatalf("updated_at %v", set.UpdatedAt)
			}
			again := &icymorning.Subscription{Email: email}
			ok, err := s.CreateSubscription(ctx, again)
			must(t, err)
			if ok != tt.wantCreated || again.ID != sub.ID || again.Status != tt.afterCreate {
				t.Fatalf("create on %s: created=%v status %s, want %v %s", tt.from, ok, again.Status, tt.wantCreated, tt.afterCreate)
			}
			if !again.ConfirmedAt.Equal(*sub.ConfirmedAt) {
				t.Fatalf("confirmed_at %v, want the first activation %v", again.ConfirmedAt, sub.ConfirmedAt)
			}
			del, err := s.DeleteSubscription(ctx, sub.ID)
			must(t, err)
			if del.Status != tt.afterDelete {
				t.Fatalf("after delete: %s, want %s", del.Status, tt.afterDelete)
			}
			// Deleting again: a suppressed one is still there, as it was.
			_, err = s.DeleteSubscription(ctx, sub.ID)
			if tt.afterDelete == icymorning.SubscriptionSuppressed {
				must(t, err)
			} else {
				wantCode(t, err, icymorning.ENOTFOUND)
			}
		})
	}
	// A pending subscription has not been confirmed; confirming it does.
	p := newSubscription(t, s, "later@example.com", icymorning.TopicAssetUpdate, nil)
	_, err := s.SetSubscriptionStatus(ctx, p.ID, icymorning.SubscriptionPending)
	must(t, err)
	clock.Advance(time.Hour)
	if a := setStatus(t, s, p.ID, icymorning.SubscriptionActive); !a.ConfirmedAt.Equal(*p.ConfirmedAt) {
		t.Fatalf("confirmed_at moved on a second activation: %v, was %v", a.ConfirmedAt, p.ConfirmedAt)
	}
	_, err = s.SetSubscriptionStatus(ctx, p.ID, "gone")
	wantCode(t, err, icymorning.EINVALID)
	_, err = s.SetSubscriptionStatus(ctx, 999, icymorning.SubscriptionActive)
	wantCode(t, err, icymorning.ENOTFOUND)
}

func testSubscriptionFilters(t *testing.T, s icymorning.Store, _ *clock) {
	ada := newAnalyst(t, s, "Ada").ID
	newSubscription(t, s, "a@example.com", icymorning.TopicAssetCreation, nil)  // 1
	newSubscription(t, s, "a@example.com", icymorning.TopicAssetUpdate, nil)    // 2
	newSubscription(t, s, "b@example.com", icymorning.TopicAssetCreation, &ada) // 3
	newSubscription(t, s, "b@example.com", icymorning.TopicAssetDeletion, nil)  // 4
	newSubscription(t, s, "c@example.com", icymorning.TopicAssetCreation, nil)  // 5
	setStatus(t, s, 2, icymorning.SubscriptionPending)
	setStatus(t, s, 4, icymorning.SubscriptionSuppressed)
	_, err := s.DeleteSubscription(ctx, 5)
	must(t, err)

	creation, update := icymorning.TopicAssetCreation, icymorning.TopicAssetUpdate
	active, pending, suppressed, unsubscribed := icymorning.SubscriptionActive, icymorning.SubscriptionPending,
		icymorning.SubscriptionSuppressed, icymorning.SubscriptionUnsubscribed
	a, b, upperB, nobody := "a@example.com", "b@example.com", "b@EXAMPLE.COM", "z@example.com"
	page := icymorning.Page{Limit: 100}
	checkLists(t, []listCase[icymorning.SubscriptionFilter]{
		{"all", icymorning.SubscriptionFilter{Page: page}, []int64{1, 2, 3, 4, 5}},
		{"a page", icymorning.SubscriptionFilter{Page: icymorning.Page{After: 1, Limit: 2}}, []int64{2, 3}},
		{"topic", icymorning.SubscriptionFilter{Topic: &creation, Page: page}, []int64{1, 3, 5}},
		{"active", icymorning.SubscriptionFilter{Status: &active, Page: page}, []int64{1, 3}},
		{"pending", icymorning.SubscriptionFilter{Status: &pending, Page: page}, []int64{2}},
		{"suppressed", icymorning.SubscriptionFilter{Status: &suppressed, Page: page}, []int64{4}},
		{"unsubscribed", icymorning.SubscriptionFilter{Status: &unsubscribed, Page: page}, []int64{5}},
		{"email", icymorning.SubscriptionFilter{Email: &a, Page: page}, []int64{1, 2}},
		{"email, its domain in capitals", icymorning.SubscriptionFilter{Email: &upperB, Page: page}, []int64{3, 4}},
		{"nobody's email", icymorning.SubscriptionFilter{Email: &nobody, Page: page}, []int64{}},
		{"all three", icymorning.SubscriptionFilter{Topic: &creation, Status: &active, Email: &b, Page: page}, []int64{3}},
		{"none match", icymorning.SubscriptionFilter{Topic: &update, Status: &active, Page: page}, []int64{}},
	}, func(f icymorning.SubscriptionFilter) ([]icymorning.Subscription, error) {
		return s.Subscriptions(ctx, f)
	},
		func(s icymorning.Subscription) int64 { return s.ID })
}
