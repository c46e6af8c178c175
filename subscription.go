package icymorning

import (
	"context"
	"net/mail"
	"slices"
	"strings"
	"time"
)

// Topic names a kind of event that subscribers can be e-mailed about.
type Topic string

// The topics. TopicAssetCreation is the only one the Python service knew,
// and the default.
const (
	TopicAssetCreation Topic = "asset::creation"
	TopicAssetUpdate   Topic = "asset::update"
	TopicAssetDeletion Topic = "asset::deletion"
)

// Topics lists every valid topic.
var Topics = []Topic{TopicAssetCreation, TopicAssetUpdate, TopicAssetDeletion}

// SubscriptionStatus says whether a subscription receives mail: only an
// active one does.
type SubscriptionStatus string

// The statuses of a subscription.
const (
	// SubscriptionPending: signed up, not yet confirmed (double opt-in).
	SubscriptionPending SubscriptionStatus = "pending"
	// SubscriptionActive: receives mail.
	SubscriptionActive SubscriptionStatus = "active"
	// SubscriptionUnsubscribed: the subscriber or an operator ended it. The
	// row stays, so that the delivery log keeps its references.
	SubscriptionUnsubscribed SubscriptionStatus = "unsubscribed"
	// SubscriptionSuppressed: the address bounced hard or complained; it
	// is not mailed again, and creating the subscription anew does not
	// lift this.
	SubscriptionSuppressed SubscriptionStatus = "suppressed"
)

// SubscriptionStatuses lists every status.
var SubscriptionStatuses = []SubscriptionStatus{SubscriptionPending, SubscriptionActive, SubscriptionUnsubscribed, SubscriptionSuppressed}

// Subscription asks for e-mail to Email whenever an event of Topic
// happens, to the assets of one analyst when AnalystID is set. There is
// at most one per (Email, Topic, AnalystID).
type Subscription struct {
	ID        int64
	Email     string
	Topic     Topic
	AnalystID *int64 // nil: the assets of every analyst
	Status    SubscriptionStatus
	// ConfirmedAt is when it first became active: at creation for one an
	// operator made, at confirmation for a sign-up; nil while pending.
	ConfirmedAt *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// NormalizeEmail puts an address in the form it is stored and compared in:
// the domain part of an address is case-insensitive (RFC 5321 §2.4), so it
// is lower-cased; the local part is kept as given.
func NormalizeEmail(email string) string {
	email = strings.TrimSpace(email)
	if at := strings.LastIndexByte(email, '@'); at >= 0 {
		email = email[:at] + strings.ToLower(email[at:])
	}
	return email
}

// Normalize puts s in the form it is stored and compared in, and gives it
// the default topic.
func (s *Subscription) Normalize() {
	s.Email = NormalizeEmail(s.Email)
	if s.Topic == "" {
		s.Topic = TopicAssetCreation
	}
}

// Validate reports the first rule s breaks.
func (s *Subscription) Validate() error {
	if err := ValidateEmail(s.Email); err != nil {
		return err
	}
	if err := s.Topic.Validate(); err != nil {
		return err
	}
	if s.AnalystID != nil {
		return validateID("analyst_id", *s.AnalystID)
	}
	return nil
}

// Validate reports whether t is a known topic.
func (t Topic) Validate() error {
	if !slices.Contains(Topics, t) {
		return FieldErrorf("topic", "unknown topic %q", t)
	}
	return nil
}

// Validate reports whether st is a known status.
func (st SubscriptionStatus) Validate() error {
	if !slices.Contains(SubscriptionStatuses, st) {
		return FieldErrorf("status", "unknown status %q", st)
	}
	return nil
}

// ValidateEmail accepts a bare RFC 5322 address (no display name).
func ValidateEmail(email string) error {
	if len(email) > MaxEmailLength {
		return FieldErrorf("email", "must be at most %d characters", MaxEmailLength)
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" || !strings.Contains(email[strings.LastIndexByte(email, '@')+1:], ".") {
		return FieldErrorf("email", "value is not a valid email address")
	}
	return nil
}

// SubscriptionFilter selects a page of subscriptions. Nil members do not
// filter.
type SubscriptionFilter struct {
	Topic  *Topic
	Status *SubscriptionStatus
	Email  *string // compared after NormalizeEmail
	Page
}

// SubscriptionStore keeps subscriptions. Rows are never deleted, so that
// deliveries can always name theirs.
type SubscriptionStore interface {
	// CreateSubscription subscribes s.Email, as an operator does: the
	// subscription is active at once. It sets s to the stored subscription
	// and reports whether this call put it in effect: true for a new one,
	// and for a pending or unsubscribed one it made active again; false,
	// with nothing changed, for one already active or suppressed. An
	// unknown analyst is EINVALID on analyst_id.
	CreateSubscription(ctx context.Context, s *Subscription) (created bool, err error)
	// Subscriptions returns the subscriptions matching f in id order.
	Subscriptions(ctx context.Context, f SubscriptionFilter) ([]Subscription, error)
	// DeleteSubscription ends a pending or active subscription (it becomes
	// unsubscribed) and returns it. A suppressed one is returned as it is,
	// still suppressed. An unsubscribed or unknown one is ENOTFOUND.
	DeleteSubscription(ctx context.Context, id int64) (*Subscription, error)
	// SetSubscriptionStatus sets a subscription's status and returns it, or
	// ENOTFOUND; becoming active the first time sets ConfirmedAt. It
	// enforces no order of statuses: its callers (confirmation,
	// unsubscribe links, bounce handling) own those rules.
	SetSubscriptionStatus(ctx context.Context, id int64, status SubscriptionStatus) (*Subscription, error)

	// SignUp records a public sign-up (double opt-in): a new subscription,
	// or an unsubscribed one, becomes pending until confirmed. It sets s to
	// the stored subscription and reports whether a confirmation mail is
	// to be sent now: true when this call made it pending or when the last
	// confirmation for it went out resendAfter ago or more (or never
	// did), which it then records as sent now; false, with nothing
	// changed, for one active, suppressed, or pending with a confirmation
	// sent within resendAfter. An unknown analyst is EINVALID on
	// analyst_id.
	SignUp(ctx context.Context, s *Subscription, resendAfter time.Duration) (send bool, err error)
	// ForgetConfirmation clears the record of a confirmation sent for a
	// pending subscription, after its mail could not be sent, so that the
	// next sign-up sends one at once.
	ForgetConfirmation(ctx context.Context, id int64) error
	// ConfirmSubscription makes a pending subscription active and returns
	// it; an active one is returned as it is. ECONFLICT for one
	// unsubscribed or suppressed (an old link must not undo that),
	// ENOTFOUND for an unknown one.
	ConfirmSubscription(ctx context.Context, id int64) (*Subscription, error)
	// ExpireSignUps ends (unsubscribes) the pending subscriptions whose
	// last confirmation went out before cutoff, and reports how many.
	ExpireSignUps(ctx context.Context, cutoff time.Time) (int, error)
	// SuppressEmail marks every subscription of email suppressed (a hard
	// bounce or a complaint) and its deliveries not yet sent suppressed
	// too, and reports how many subscriptions it changed.
	SuppressEmail(ctx context.Context, email string) (int, error)
}

// Sign-up rules: a confirmation link is valid for SignUpExpiry, and a
// second sign-up within SignUpResendAfter sends no second mail.
const (
	SignUpExpiry      = 7 * 24 * time.Hour
	SignUpResendAfter = time.Hour
)
