package storetest

import (
	"testing"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
)

// signUp signs email up for topic (and analyst) and fails unless the store
// says to send a confirmation exactly when wantSend.
func signUp(t *testing.T, s icymorning.Tx, email string, topic icymorning.Topic, analyst *int64, wantSend bool) *icymorning.Subscription {
	t.Helper()
	sub := &icymorning.Subscription{Email: email, Topic: topic, AnalystID: analyst}
	send, err := s.SignUp(ctx, sub, icymorning.SignUpResendAfter)
	must(t, err)
	if send != wantSend {
		t.Fatalf("sign-up of %s %s %v: send=%v, want %v (%+v)", email, topic, analyst, send, wantSend, sub)
	}
	return sub
}

// subscriptionByID reads subscription id back.
func subscriptionByID(t *testing.T, s icymorning.Tx, id int64) icymorning.Subscription {
	t.Helper()
	page, err := s.Subscriptions(ctx, icymorning.SubscriptionFilter{Page: icymorning.Page{After: id - 1, Limit: 1}})
	must(t, err)
	if len(page) != 1 || page[0].ID != id {
		t.Fatalf("subscription %d not found: %+v", id, page)
	}
	return page[0]
}

// What a sign-up does to the subscription it meets in each state.
func testSignUp(t *testing.T, s icymorning.Store, clock *clock) {
	ada := newAnalyst(t, s, "Ada").ID
	missing := int64(999)
	creation := icymorning.TopicAssetCreation
	tests := []struct {
		name    string
		email   string // each case its own address
		analyst *int64
		// before brings the address to the state the sign-up meets, and
		// returns its subscription as it then stands (nil: there is none).
		before func(t *testing.T, email string) *icymorning.Subscription
		wait   time.Duration // from before to the sign-up
		// wantSend and wantStatus are the sign-up's answer; wantField, when
		// set, is the field of its EINVALID instead.
		wantSend   bool
		wantStatus icymorning.SubscriptionStatus
		wantField  string
	}{
		{name: "new", email: "new@example.com",
			wantSend: true, wantStatus: icymorning.SubscriptionPending},
		{name: "new, for one analyst", email: "new.ada@example.com", analyst: &ada,
			wantSend: true, wantStatus: icymorning.SubscriptionPending},
		{name: "pending, again within the resend window", email: "again@example.com",
			before: func(t *testing.T, email string) *icymorning.Subscription {
				return signUp(t, s, email, "", nil, true)
			}, wait: icymorning.SignUpResendAfter - time.Minute,
			wantSend: false, wantStatus: icymorning.SubscriptionPending},
		{name: "pending, the window over", email: "later@example.com",
			before: func(t *testing.T, email string) *icymorning.Subscription {
				return signUp(t, s, email, "", nil, true)
			}, wait: icymorning.SignUpResendAfter,
			wantSend: true, wantStatus: icymorning.SubscriptionPending},
		{name: "pending: a sign-up that sent nothing does not restart the window", email: "thrice@example.com",
			before: func(t *testing.T, email string) *icymorning.Subscription {
				sub := signUp(t, s, email, "", nil, true)
				clock.Advance(icymorning.SignUpResendAfter - time.Minute)
				signUp(t, s, email, "", nil, false)
				return sub
			}, wait: time.Minute,
			wantSend: true, wantStatus: icymorning.SubscriptionPending},
		{name: "pending, no confirmation ever sent", email: "made.pending@example.com",
			before: func(t *testing.T, email string) *icymorning.Subscription {
				sub := newSubscription(t, s, email, "", nil)
				return setStatus(t, s, sub.ID, icymorning.SubscriptionPending)
			},
			wantSend: true, wantStatus: icymorning.SubscriptionPending},
		{name: "active", email: "active@example.com",
			before: func(t *testing.T, email string) *icymorning.Subscription {
				return newSubscription(t, s, email, "", nil)
			}, wait: 2 * icymorning.SignUpResendAfter,
			wantSend: false, wantStatus: icymorning.SubscriptionActive},
		{name: "active by confirmation", email: "confirmed@example.com",
			before: func(t *testing.T, email string) *icymorning.Subscription {
				sub := signUp(t, s, email, "", nil, true)
				sub, err := s.ConfirmSubscription(ctx, sub.ID)
				must(t, err)
				return sub
			}, wait: 2 * icymorning.SignUpResendAfter,
			wantSend: false, wantStatus: icymorning.SubscriptionActive},
		{name: "unsubscribed", email: "gone@example.com",
			before: func(t *testing.T, email string) *icymorning.Subscription {
				sub := newSubscription(t, s, email, "", nil)
				sub, err := s.DeleteSubscription(ctx, sub.ID)
				must(t, err)
				return sub
			}, wait: time.Minute,
			wantSend: true, wantStatus: icymorning.SubscriptionPending},
		{name: "unsubscribed within the window of its own sign-up", email: "changed.mind@example.com",
			before: func(t *testing.T, email string) *icymorning.Subscription {
				sub := signUp(t, s, email, "", nil, true)
				sub, err := s.DeleteSubscription(ctx, sub.ID)
				must(t, err)
				return sub
			}, wait: time.Minute,
			wantSend: true, wantStatus: icymorning.SubscriptionPending},
		{name: "suppressed", email: "bounced@example.com",
			before: func(t *testing.T, email string) *icymorning.Subscription {
				sub := newSubscription(t, s, email, "", nil)
				return setStatus(t, s, sub.ID, icymorning.SubscriptionSuppressed)
			}, wait: 2 * icymorning.SignUpResendAfter,
			wantSend: false, wantStatus: icymorning.SubscriptionSuppressed},
		{name: "suppressed while pending", email: "bounced.pending@example.com",
			before: func(t *testing.T, email string) *icymorning.Subscription {
				sub := signUp(t, s, email, "", nil, true)
				return setStatus(t, s, sub.ID, icymorning.SubscriptionSuppressed)
			}, wait: 2 * icymorning.SignUpResendAfter,
			wantSend: false, wantStatus: icymorning.SubscriptionSuppressed},
		{name: "the domain in capitals is the same address", email: " case@EXAMPLE.COM ",
			before: func(t *testing.T, _ string) *icymorning.Subscription {
				return signUp(t, s, "case@example.com", "", nil, true)
			}, wait: time.Minute,
			wantSend: false, wantStatus: icymorning.SubscriptionPending},
		{name: "the domain in capitals, the window over", email: "case.later@Example.Com",
			before: func(t *testing.T, _ string) *icymorning.Subscription {
				return signUp(t, s, "case.later@example.com", creation, nil, true)
			}, wait: icymorning.SignUpResendAfter,
			wantSend: true, wantStatus: icymorning.SubscriptionPending},
		{name: "an analyst who does not exist", email: "nobody.s@example.com", analyst: &missing, wantField: "analyst_id"},
		{name: "an invalid address", email: "not-an-email", wantField: "email"},
		{name: "an address with a name", email: "Someone <someone@example.com>", wantField: "email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var was *icymorning.Subscription
			if tt.before != nil {
				was = tt.before(t, tt.email)
			}
			clock.Advance(tt.wait)
			now := stamp(clock.Now())
			sub := &icymorning.Subscription{Email: tt.email, AnalystID: tt.analyst}
			send, err := s.SignUp(ctx, sub, icymorning.SignUpResendAfter)
			if tt.wantField != "" {
				wantInvalid(t, err, tt.wantField)
				email := icymorning.NormalizeEmail(tt.email)
				if stored, err := s.Subscriptions(ctx, icymorning.SubscriptionFilter{Email: &email, Page: icymorning.Page{Limit: 10}}); err != nil || len(stored) != 0 {
					t.Fatalf("a refused sign-up stored %+v (%v)", stored, err)
				}
				return
			}
			must(t, err)
			if send != tt.wantSend || sub.Status != tt.wantStatus {
				t.Fatalf("send=%v, status %s; want %v, %s (%+v)", send, sub.Status, tt.wantSend, tt.wantStatus, sub)
			}
			if sub.Email != icymorning.NormalizeEmail(tt.email) || sub.Topic != icymorning.TopicAssetCreation ||
				(sub.AnalystID == nil) != (tt.analyst == nil) || tt.analyst != nil && *sub.AnalystID != *tt.analyst {
				t.Fatalf("signed up %+v", sub)
			}
			switch {
			case was == nil: // a new subscription
				if sub.ID == 0 || sub.ConfirmedAt != nil || !sub.CreatedAt.Equal(now) || !sub.UpdatedAt.Equal(now) {
					t.Fatalf("new sign-up %+v", sub)
				}
			case send: // the same one, pending again; its first confirmation (if any) kept
				back := *was
				back.Status, back.UpdatedAt = icymorning.SubscriptionPending, now
				if !sameSubscription(*sub, back) {
					t.Fatalf("signed up again: %+v,\nwant %+v", sub, back)
				}
			default: // nothing changed
				if !sameSubscription(*sub, *was) {
					t.Fatalf("a sign-up that sends nothing answered %+v,\nwant the stored %+v", sub, was)
				}
			}
			if stored := subscriptionByID(t, s, sub.ID); !sameSubscription(stored, *sub) {
				t.Fatalf("stored %+v,\nthe sign-up answered %+v", stored, sub)
			}
		})
	}
}

// A confirmation that could not be sent is forgotten, so that the next
// sign-up sends one at once; only a pending subscription has one.
func testForgetConfirmation(t *testing.T, s icymorning.Store, clock *clock) {
	sub := signUp(t, s, "forget@example.com", "", nil, true)
	clock.Advance(time.Minute)
	signUp(t, s, "forget@example.com", "", nil, false)
	must(t, s.ForgetConfirmation(ctx, sub.ID))
	if got := subscriptionByID(t, s, sub.ID); got.Status != icymorning.SubscriptionPending {
		t.Fatalf("after forgetting its confirmation: %+v", got)
	}
	signUp(t, s, "forget@example.com", "", nil, true)
	// That sign-up recorded its own confirmation.
	signUp(t, s, "forget@example.com", "", nil, false)

	active := newSubscription(t, s, "forget.active@example.com", "", nil)
	must(t, s.ForgetConfirmation(ctx, active.ID))
	if got := signUp(t, s, "forget.active@example.com", "", nil, false); !sameSubscription(*got, *active) {
		t.Fatalf("an active subscription after ForgetConfirmation: %+v, was %+v", got, active)
	}
}

func testConfirmSubscription(t *testing.T, s icymorning.Store, clock *clock) {
	tests := []struct {
		name string
		// before makes the subscription to confirm and returns it.
		before     func(t *testing.T) *icymorning.Subscription
		wantStatus icymorning.SubscriptionStatus // after the confirmation
		wantCode   string
		// confirmedNow: the confirmation is what made it active (it is
		// updated now, and confirmed now unless it was active before);
		// otherwise it is as it was.
		confirmedNow bool
	}{
		{"pending", func(t *testing.T) *icymorning.Subscription {
			return signUp(t, s, "pending@example.com", "", nil, true)
		}, icymorning.SubscriptionActive, "", true},
		{"active: as it is", func(t *testing.T) *icymorning.Subscription {
			return newSubscription(t, s, "active@example.com", "", nil)
		}, icymorning.SubscriptionActive, "", false},
		{"confirmed before: as it is", func(t *testing.T) *icymorning.Subscription {
			sub := signUp(t, s, "twice@example.com", "", nil, true)
			sub, err := s.ConfirmSubscription(ctx, sub.ID)
			must(t, err)
			return sub
		}, icymorning.SubscriptionActive, "", false},
		{"pending again after an unsubscribe: confirmed when first active", func(t *testing.T) *icymorning.Subscription {
			sub := newSubscription(t, s, "back@example.com", "", nil)
			_, err := s.DeleteSubscription(ctx, sub.ID)
			must(t, err)
			clock.Advance(time.Minute)
			return signUp(t, s, "back@example.com", "", nil, true)
		}, icymorning.SubscriptionActive, "", true},
		{"unsubscribed", func(t *testing.T) *icymorning.Subscription {
			sub := signUp(t, s, "gone@example.com", "", nil, true)
			sub, err := s.DeleteSubscription(ctx, sub.ID)
			must(t, err)
			return sub
		}, icymorning.SubscriptionUnsubscribed, icymorning.ECONFLICT, false},
		{"suppressed", func(t *testing.T) *icymorning.Subscription {
			sub := signUp(t, s, "bounced@example.com", "", nil, true)
			return setStatus(t, s, sub.ID, icymorning.SubscriptionSuppressed)
		}, icymorning.SubscriptionSuppressed, icymorning.ECONFLICT, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			was := tt.before(t)
			clock.Advance(time.Minute)
			now := stamp(clock.Now())
			got, err := s.ConfirmSubscription(ctx, was.ID)
			wantCode(t, err, tt.wantCode)
			stored := subscriptionByID(t, s, was.ID)
			if stored.Status != tt.wantStatus {
				t.Fatalf("status %s after the confirmation, want %s", stored.Status, tt.wantStatus)
			}
			if err != nil {
				if !sameSubscription(stored, *was) {
					t.Fatalf("a refused confirmation changed %+v into %+v", was, stored)
				}
				return
			}
			want := *was
			if tt.confirmedNow {
				want.Status, want.UpdatedAt = icymorning.SubscriptionActive, now
				if want.ConfirmedAt == nil {
					want.ConfirmedAt = &now
				}
			}
			if !sameSubscription(*got, want) || !sameSubscription(stored, want) {
				t.Fatalf("confirmed: answered %+v, stored %+v,\nwant %+v", got, stored, want)
			}
		})
	}
	_, err := s.ConfirmSubscription(ctx, 999)
	wantCode(t, err, icymorning.ENOTFOUND)
}

// Sign-ups not confirmed in time end; nothing else does.
func testExpireSignUps(t *testing.T, s icymorning.Store, clock *clock) {
	old := signUp(t, s, "old@example.com", "", nil, true)
	// forgot's confirmation could not be sent: it has no send time, and
	// expires by its last change.
	forgot := signUp(t, s, "forgot@example.com", "", nil, true)
	must(t, s.ForgetConfirmation(ctx, forgot.ID))
	confirmed := signUp(t, s, "confirmed@example.com", "", nil, true)
	confirmed, err := s.ConfirmSubscription(ctx, confirmed.ID)
	must(t, err)
	gone, err := s.DeleteSubscription(ctx, signUp(t, s, "gone@example.com", "", nil, true).ID)
	must(t, err)
	bounced := setStatus(t, s, signUp(t, s, "bounced@example.com", "", nil, true).ID, icymorning.SubscriptionSuppressed)
	clock.Advance(24 * time.Hour)
	// edge's confirmation went out at the very instant of the cutoff,
	// beyond the microsecond too: not before it.
	cutoff := clock.Now()
	edge := signUp(t, s, "edge@example.com", "", nil, true)
	clock.Advance(time.Hour)
	newer := signUp(t, s, "newer@example.com", "", nil, true)
	clock.Advance(icymorning.SignUpExpiry - time.Hour)
	if !cutoff.Equal(clock.Now().Add(-icymorning.SignUpExpiry)) {
		t.Fatal("the test's clock is off")
	}

	n, err := s.ExpireSignUps(ctx, cutoff)
	must(t, err)
	if n != 2 {
		t.Fatalf("%d sign-ups expired, want 2", n)
	}
	expired := *old
	expired.Status, expired.UpdatedAt = icymorning.SubscriptionUnsubscribed, stamp(clock.Now())
	forgotten := *forgot
	forgotten.Status, forgotten.UpdatedAt = icymorning.SubscriptionUnsubscribed, stamp(clock.Now())
	for _, tt := range []struct {
		name string
		want icymorning.Subscription
	}{
		{"confirmation sent before the cutoff", expired},
		{"confirmation never sent, signed up before the cutoff", forgotten},
		{"confirmation sent at the cutoff", *edge},
		{"confirmation sent after the cutoff", *newer},
		{"active", *confirmed},
		{"unsubscribed", *gone},
		{"suppressed", *bounced},
	} {
		if got := subscriptionByID(t, s, tt.want.ID); !sameSubscription(got, tt.want) {
			t.Errorf("%s: %+v,\nwant %+v", tt.name, got, tt.want)
		}
	}
	if n, err := s.ExpireSignUps(ctx, cutoff); n != 0 || err != nil {
		t.Fatalf("expiring again: %d, %v; want 0", n, err)
	}
	if n, err := s.ExpireSignUps(ctx, stamp(cutoff).Add(time.Microsecond)); n != 1 || err != nil {
		t.Fatalf("expiring a microsecond later: %d, %v; want 1 (edge)", n, err)
	}
	if got := subscriptionByID(t, s, edge.ID); got.Status != icymorning.SubscriptionUnsubscribed {
		t.Fatalf("edge after the later cutoff: %+v", got)
	}
	if got := subscriptionByID(t, s, newer.ID); !sameSubscription(got, *newer) {
		t.Fatalf("newer after the later cutoff: %+v", got)
	}
}

// A hard bounce or complaint suppresses every subscription of the address
// and whatever of its mail is still to go, and nothing of anyone else's.
func testSuppressEmail(t *testing.T, s icymorning.Store, clock *clock) {
	ada := newAnalyst(t, s, "Ada").ID
	x := []*icymorning.Subscription{
		newSubscription(t, s, "x@example.com", icymorning.TopicAssetCreation, nil),
		newSubscription(t, s, "x@example.com", icymorning.TopicAssetCreation, &ada),
		newSubscription(t, s, "x@example.com", icymorning.TopicAssetUpdate, nil),
		signUp(t, s, "x@example.com", icymorning.TopicAssetDeletion, nil, true),
	}
	others := []*icymorning.Subscription{
		newSubscription(t, s, "y@example.com", icymorning.TopicAssetCreation, nil),
		// The local part is case-sensitive: another address.
		newSubscription(t, s, "X@example.com", icymorning.TopicAssetCreation, nil),
	}
	// Four events, each to x twice (x[0], x[1]) and to each other once.
	var events [][]icymorning.Delivery
	for _, name := range []string{"One", "Two", "Three", "Four"} {
		_, ds := fanOutAsset(t, s, name, ada)
		if len(ds) != 4 {
			t.Fatalf("%d deliveries of an event, want 4", len(ds))
		}
		events = append(events, ds)
	}
	to := func(event int, sub *icymorning.Subscription) int64 { return deliveryTo(t, events[event], sub.ID).ID }
	claimed := claim(t, s, time.Minute, 100)
	if len(claimed) != 16 {
		t.Fatalf("%d claimed, want 16", len(claimed))
	}
	must(t, s.RecordDeliveries(ctx, []icymorning.DeliveryOutcome{
		{ID: to(0, x[0]), Status: icymorning.DeliverySent, ProviderMessageID: "msg-0"},
		{ID: to(1, x[0]), Status: icymorning.DeliveryFailed, Error: "421 try again", RetryAfter: time.Minute},
		{ID: to(0, others[0]), Status: icymorning.DeliveryFailed, Error: "421 try again", RetryAfter: time.Minute},
	}))
	clock.Advance(time.Minute)
	before := deliveriesByID(t, s)
	now := stamp(clock.Now())

	n, err := s.SuppressEmail(ctx, " x@EXAMPLE.com ")
	must(t, err)
	if n != len(x) {
		t.Fatalf("%d subscriptions suppressed, want %d", n, len(x))
	}
	for _, sub := range x {
		want := *sub
		want.Status, want.UpdatedAt = icymorning.SubscriptionSuppressed, now
		if got := subscriptionByID(t, s, sub.ID); !sameSubscription(got, want) {
			t.Errorf("x's subscription %+v,\nwant %+v", got, want)
		}
	}
	for _, sub := range others {
		if got := subscriptionByID(t, s, sub.ID); !sameSubscription(got, *sub) {
			t.Errorf("another address's subscription %+v,\nwant %+v", got, *sub)
		}
	}
	after := deliveriesByID(t, s)
	for id, was := range before {
		want := was
		if (was.SubscriptionID == x[0].ID || was.SubscriptionID == x[1].ID) && was.Status != icymorning.DeliverySent {
			want.Status, want.UpdatedAt = icymorning.DeliverySuppressed, now
			want.LastError = after[id].LastError // says why, in the store's words
			if want.LastError == "" {
				t.Errorf("suppressed delivery %d says nothing of why", id)
			}
		}
		if !sameDelivery(after[id], want) {
			t.Errorf("delivery %+v,\nwant %+v", after[id], want)
		}
	}
	if after[to(0, x[0])].Status != icymorning.DeliverySent {
		t.Error("a sent delivery was suppressed") // guards the loop above against a bad fixture
	}

	clock.Advance(time.Minute)
	if n, err := s.SuppressEmail(ctx, "x@example.com"); n != 0 || err != nil {
		t.Fatalf("suppressing again: %d, %v; want 0", n, err)
	}
	if again := deliveriesByID(t, s); !sameDeliveries(again, after) {
		t.Fatal("suppressing again changed deliveries")
	}
}
