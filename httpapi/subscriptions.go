package httpapi

import (
	"context"
	"net/http"

	icymorning "github.com/icy-morning/icy-morning"
)

// subscription is a subscription as the API shows it.
type subscription struct {
	ID    int64  `json:"id"`
	Email string `json:"email" format:"email"`
	Topic string `json:"topic" enum:"asset::creation"`
}

func toSubscription(s *icymorning.Subscription) subscription {
	return subscription{ID: s.ID, Email: s.Email, Topic: string(s.Topic)}
}

type subscriptionWrite struct {
	_     struct{} `additionalProperties:"true"`
	Email string   `json:"email" format:"email" maxLength:"254"`
	Topic string   `json:"topic,omitempty" enum:"asset::creation" default:"asset::creation"`
}

type subscriptionWriteInput struct {
	Body subscriptionWrite
}

type subscriptionOutput struct {
	Status int
	Body   subscription
}

// handleSubscriptionCreate answers 201 for a new subscription and 200 with
// the existing one when the address already has that topic, so repeating
// the request is harmless.
func (s *Server) handleSubscriptionCreate(ctx context.Context, in *subscriptionWriteInput) (*subscriptionOutput, error) {
	sub := &icymorning.Subscription{Email: in.Body.Email, Topic: icymorning.Topic(in.Body.Topic)}
	created, err := s.store.CreateSubscription(ctx, sub)
	if err != nil {
		return nil, s.problemFromDomain(ctx, err)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return &subscriptionOutput{Status: status, Body: toSubscription(sub)}, nil
}

func (s *Server) handleSubscriptionList(ctx context.Context, in *PageParams) (*listOutput[subscription], error) {
	return listPage(ctx, s, *in, func(p icymorning.Page) ([]icymorning.Subscription, error) { return s.store.Subscriptions(ctx, p) },
		func(x *icymorning.Subscription) int64 { return x.ID }, toSubscription)
}

type subscriptionDeleteOutput struct {
	Body subscription
}

func (s *Server) handleSubscriptionDelete(ctx context.Context, in *PathID) (*subscriptionDeleteOutput, error) {
	sub, err := s.store.DeleteSubscription(ctx, in.ID)
	if err != nil {
		return nil, s.problemFromDomain(ctx, err)
	}
	return &subscriptionDeleteOutput{Body: toSubscription(sub)}, nil
}
