package icymorning

import (
	"context"
	"net/mail"
	"strings"
	"time"
)

// Topic names a kind of event that subscribers can be e-mailed about.
type Topic string

// TopicAssetCreation is sent when an asset is created; it is the only topic
// the Python service knew, and the default.
const TopicAssetCreation Topic = "asset::creation"

// Topics lists every valid topic.
var Topics = []Topic{TopicAssetCreation}

// Subscription asks for e-mail to Email whenever an event of Topic happens.
type Subscription struct {
	ID        int64
	Email     string
	Topic     Topic
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Normalize puts the address in the form it is stored and compared in: the
// domain part of an address is case-insensitive (RFC 5321 §2.4), so it is
// lower-cased; the local part is kept as given.
func (s *Subscription) Normalize() {
	s.Email = strings.TrimSpace(s.Email)
	if at := strings.LastIndexByte(s.Email, '@'); at >= 0 {
		s.Email = s.Email[:at] + strings.ToLower(s.Email[at:])
	}
	if s.Topic == "" {
		s.Topic = TopicAssetCreation
	}
}

// Validate reports the first rule s breaks.
func (s *Subscription) Validate() error {
	if err := ValidateEmail(s.Email); err != nil {
		return err
	}
	for _, t := range Topics {
		if s.Topic == t {
			return nil
		}
	}
	return FieldErrorf("topic", "unknown topic %q", s.Topic)
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

// SubscriptionStore keeps subscriptions.
type SubscriptionStore interface {
	// CreateSubscription stores s and sets its ID and timestamps. When the
	// same e-mail already has the same topic, nothing is stored, s is set to
	// the existing subscription and created is false.
	CreateSubscription(ctx context.Context, s *Subscription) (created bool, err error)
	// Subscriptions returns subscriptions in id order.
	Subscriptions(ctx context.Context, p Page) ([]Subscription, error)
	// DeleteSubscription removes a subscription and returns it, or ENOTFOUND.
	DeleteSubscription(ctx context.Context, id int64) (*Subscription, error)
}
