package httpapi

import (
	"context"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
)

// delivery is a row of the delivery log as /api/v1/deliveries shows it:
// one event mailed (or to be mailed) to one subscription. The status enum
// repeats the domain's; deliveries_test.go checks that they agree.
type delivery struct {
	ID                int64      `json:"id" doc:"Assigned by the service." example:"12"`
	EventID           int64      `json:"event_id" doc:"The asset event this mail tells of." example:"5"`
	SubscriptionID    int64      `json:"subscription_id" doc:"The subscription it is mailed to." example:"3"`
	Status            string     `json:"status" enum:"pending,sent,failed,dead,suppressed" doc:"pending: not yet tried; sent: accepted by the mail provider; failed: will be retried; dead: failed for good; suppressed: not sent, the address bounced or complained." example:"sent"`
	Attempts          int        `json:"attempts" doc:"How many times sending was tried." example:"1"`
	LastError         *string    `json:"last_error" nullable:"true" doc:"Why the last attempt failed; null when none has." example:"421 4.7.0 try again later"`
	ProviderMessageID *string    `json:"provider_message_id" nullable:"true" doc:"The mail provider's id of the sent message; null until sent." example:"0100018f-8c2a-4b1e-9d3f-2a6c1e7b9f00-000000"`
	CreatedAt         time.Time  `json:"created_at" doc:"When the delivery was queued (RFC 3339)." example:"2026-11-28T09:00:00Z"`
	UpdatedAt         time.Time  `json:"updated_at" doc:"When it last changed (RFC 3339)." example:"2026-11-28T09:00:02Z"`
	NextAttemptAt     time.Time  `json:"next_attempt_at" doc:"When it is next due (pending or failed)." example:"2026-11-28T09:00:00Z"`
	SentAt            *time.Time `json:"sent_at" nullable:"true" doc:"When the mail provider accepted it; null until then." example:"2026-11-28T09:00:02Z"`
}

func toDelivery(d *icymorning.Delivery) delivery {
	return delivery{ID: d.ID, EventID: d.EventID, SubscriptionID: d.SubscriptionID, Status: string(d.Status),
		Attempts: d.Attempts, LastError: nonEmpty(d.LastError), ProviderMessageID: nonEmpty(d.ProviderMessageID),
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt, NextAttemptAt: d.NextAttemptAt, SentAt: d.SentAt}
}

// nonEmpty is s, or nil (JSON null) for "".
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type deliveryListInput struct {
	PageParams
	Status         optional[string] `query:"status" enum:"pending,sent,failed,dead,suppressed" doc:"Only deliveries in this status." example:"dead"`
	EventID        optional[int64]  `query:"event_id" doc:"Only deliveries of this event." example:"5"`
	SubscriptionID optional[int64]  `query:"subscription_id" doc:"Only deliveries to this subscription." example:"3"`
}

func (s *Server) handleDeliveryList(ctx context.Context, in *deliveryListInput) (*listOutput[delivery], error) {
	f := icymorning.DeliveryFilter{EventID: in.EventID.ptr(), SubscriptionID: in.SubscriptionID.ptr()}
	if in.Status.IsSet {
		st := icymorning.DeliveryStatus(in.Status.Value)
		f.Status = &st
	}
	return listPage(ctx, s, in.PageParams, func(p icymorning.Page) ([]icymorning.Delivery, error) {
		f.Page = p
		return s.store.Deliveries(ctx, f)
	}, func(d *icymorning.Delivery) int64 { return d.ID }, toDelivery)
}

type deliveryOutput struct {
	Body delivery
}

// handleDeliveryRetry puts a dead or failed delivery back in line: pending,
// no attempts, due now. Anything else is 409: a sent mail must not be sent
// again, and a pending one is already in line.
func (s *Server) handleDeliveryRetry(ctx context.Context, in *PathID) (*deliveryOutput, error) {
	d, err := s.store.RetryDelivery(ctx, in.ID)
	if err != nil {
		return nil, s.problemFromDomain(ctx, err)
	}
	return &deliveryOutput{Body: toDelivery(d)}, nil
}
