package icymorning

import (
	"context"
	"slices"
	"time"
)

// Event is a change to an asset, recorded in the transaction that made it
// (the outbox), so that a change that commits always has its event and a
// rolled-back one never does. Subscribers are mailed about events.
type Event struct {
	ID    int64
	Topic Topic
	// AssetID and AnalystID name the asset and its analyst: after the
	// change, or before it for a deletion.
	AssetID   int64
	AnalystID int64
	// Asset holds the asset's public members as they were after the change
	// (before it, for a deletion), so that a mail can be written without
	// reading the asset again; its CreatedAt and UpdatedAt are zero.
	Asset      Asset
	OccurredAt time.Time
	// FannedOutAt is when its deliveries were created (see FanOut); nil
	// until then.
	FannedOutAt *time.Time
}

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// The statuses of a delivery.
const (
	DeliveryPending    DeliveryStatus = "pending"    // not yet tried
	DeliverySent       DeliveryStatus = "sent"       // accepted by the mail provider
	DeliveryFailed     DeliveryStatus = "failed"     // failed, will be retried
	DeliveryDead       DeliveryStatus = "dead"       // failed for good
	DeliverySuppressed DeliveryStatus = "suppressed" // not sent: the address is suppressed
)

// DeliveryStatuses lists every delivery status.
var DeliveryStatuses = []DeliveryStatus{DeliveryPending, DeliverySent, DeliveryFailed, DeliveryDead, DeliverySuppressed}

// Delivery is one event mailed to one subscription: there is at most one
// per (EventID, SubscriptionID), which is what keeps a mail from being
// sent twice.
type Delivery struct {
	ID             int64
	EventID        int64
	SubscriptionID int64
	Status         DeliveryStatus
	Attempts       int
	LastError      string // "" when there is none
	// ProviderMessageID is the id the mail provider gave the message.
	ProviderMessageID string
	CreatedAt         time.Time
	UpdatedAt         time.Time
	NextAttemptAt     time.Time
	SentAt            *time.Time
}

// DeliveryFilter selects a page of deliveries. Nil members do not filter.
type DeliveryFilter struct {
	Status         *DeliveryStatus
	EventID        *int64
	SubscriptionID *int64
	Page
}

// Validate reports whether st is a known status.
func (st DeliveryStatus) Validate() error {
	if !slices.Contains(DeliveryStatuses, st) {
		return FieldErrorf("status", "unknown status %q", st)
	}
	return nil
}

// DeliveryJob is a claimed delivery with what its mail is written from.
type DeliveryJob struct {
	Delivery     Delivery
	Event        Event
	Subscription Subscription
}

// DeliveryOutcome is what became of one claimed delivery.
type DeliveryOutcome struct {
	ID     int64
	Status DeliveryStatus // sent, failed, dead or suppressed
	// Error says why it was not sent ("" when sent).
	Error string
	// ProviderMessageID is the mail provider's id of a sent message.
	ProviderMessageID string
	// RetryAfter is how long a failed delivery waits before its next
	// attempt.
	RetryAfter time.Duration
}

// OutboxStore gives the dispatcher the recorded events and keeps the
// delivery log. Events are written by the AssetStore's changes, never
// through it.
type OutboxStore interface {
	// PendingEvents returns the events not yet fanned out, oldest first,
	// at most limit.
	PendingEvents(ctx context.Context, limit int) ([]Event, error)
	// FanOut creates, in one transaction, a pending delivery of the event
	// for each active subscription to its topic (for every analyst, or for
	// the event's), marks the event fanned out and reports how many
	// deliveries it created. An event already fanned out gets none: 0.
	// ENOTFOUND for an unknown event.
	FanOut(ctx context.Context, eventID int64) (n int, err error)
	// FanOutPending fans out, in one transaction, up to limit of the
	// oldest events not yet fanned out, exactly as FanOut would one by one
	// in id order (their deliveries' ids keep that order), and reports
	// how many events it fanned out and how many deliveries it created.
	// Concurrent calls never fan an event out twice, and where the
	// database has concurrent writers they skip the events another call
	// holds rather than wait for them: fewer than limit events means none
	// were left but those.
	FanOutPending(ctx context.Context, limit int) (events, deliveries int, err error)
	// Deliveries returns the deliveries matching f in id order.
	Deliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error)
	// ClaimDeliveries claims up to limit deliveries that are due (pending
	// or failed, next attempt not after now), the longest due first, and
	// returns each with its event and subscription. A claim counts as an
	// attempt and moves the next attempt lease ahead, so no other
	// dispatcher (on PostgreSQL, concurrent ones skip the rows being
	// claimed) takes it until the lease ends: a dispatcher that dies
	// mid-send leaves its claims to be taken again, which is the only way
	// a mail can be sent twice.
	ClaimDeliveries(ctx context.Context, lease time.Duration, limit int) ([]DeliveryJob, error)
	// RecordDeliveries stores the outcomes of claimed deliveries in one
	// transaction. A delivery already sent stays sent.
	RecordDeliveries(ctx context.Context, outcomes []DeliveryOutcome) error
	// RetryDelivery puts a dead or failed delivery back in line: pending,
	// no attempts, due now. ECONFLICT for one sent, suppressed or already
	// pending; ENOTFOUND for an unknown one.
	RetryDelivery(ctx context.Context, id int64) (*Delivery, error)
}
