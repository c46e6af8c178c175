package icymorning

import (
	"context"
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
	Status *DeliveryStatus
	Page
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
	// Deliveries returns the deliveries matching f in id order.
	Deliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error)
}
