package httpapi

import (
	"context"
	"net/http"

	icymorning "github.com/icy-morning/icy-morning"
)

// The enums below repeat the domain's topics and statuses, which struct
// tags cannot name; subscriptions_test.go checks that they agree.

// subscription is a subscription as /api/v1/subscriptions shows it.
type subscription struct {
	ID        int64  `json:"id" doc:"Assigned by the service." example:"3"`
	Email     string `json:"email" format:"email" doc:"The address the notifications go to." example:"ada@example.com"`
	Topic     string `json:"topic" enum:"asset::creation,asset::update,asset::deletion" doc:"Which asset events are mailed: creations, updates or deletions." example:"asset::creation"`
	AnalystID *int64 `json:"analyst_id" nullable:"true" doc:"Only events of this analyst's assets; null: every analyst's." example:"7"`
	Status    string `json:"status" enum:"pending,active,unsubscribed,suppressed" readOnly:"true" doc:"Only an active subscription receives mail; pending: not yet confirmed; suppressed: the address bounced or complained." example:"active"`
}

func toSubscription(s *icymorning.Subscription) subscription {
	return subscription{ID: s.ID, Email: s.Email, Topic: string(s.Topic), AnalystID: s.AnalystID, Status: string(s.Status)}
}

type subscriptionWrite struct {
	_         struct{} `additionalProperties:"true"`
	Email     string   `json:"email" format:"email" maxLength:"254" doc:"The address to mail; its domain is compared in any letter case." example:"ada@example.com"`
	Topic     string   `json:"topic,omitempty" enum:"asset::creation,asset::update,asset::deletion" default:"asset::creation" doc:"Which asset events to mail: creations, updates or deletions." example:"asset::creation"`
	AnalystID *int64   `json:"analyst_id,omitempty" nullable:"true" minimum:"1" doc:"Only events of this analyst's assets; absent or null: every analyst's." example:"7"`
}

type subscriptionWriteInput struct {
	Body subscriptionWrite
}

type subscriptionOutput struct {
	Status int
	Body   subscription
}

// handleSubscriptionCreate answers 201 when the request put a
// subscription in effect (a new one, or one pending or unsubscribed made
// active) and 200 with the stored one otherwise, so repeating the request
// is harmless.
func (s *Server) handleSubscriptionCreate(ctx context.Context, in *subscriptionWriteInput) (*subscriptionOutput, error) {
	sub := &icymorning.Subscription{Email: in.Body.Email, Topic: icymorning.Topic(in.Body.Topic), AnalystID: in.Body.AnalystID}
	status, err := s.createSubscription(ctx, sub)
	if err != nil {
		return nil, err
	}
	return &subscriptionOutput{Status: status, Body: toSubscription(sub)}, nil
}

func (s *Server) createSubscription(ctx context.Context, sub *icymorning.Subscription) (int, error) {
	created, err := s.store.CreateSubscription(ctx, sub)
	if err != nil {
		return 0, s.problemFromDomain(ctx, err)
	}
	if created {
		return http.StatusCreated, nil
	}
	return http.StatusOK, nil
}

type subscriptionListInput struct {
	PageParams
	Topic  optional[string] `query:"topic" enum:"asset::creation,asset::update,asset::deletion" doc:"Only subscriptions to this topic." example:"asset::update"`
	Status optional[string] `query:"status" enum:"pending,active,unsubscribed,suppressed" doc:"Only subscriptions in this status." example:"active"`
	Email  optional[string] `query:"email" maxLength:"254" doc:"Only subscriptions of this address (its domain in any letter case)." example:"ada@example.com"`
}

func (s *Server) handleSubscriptionList(ctx context.Context, in *subscriptionListInput) (*listOutput[subscription], error) {
	f := icymorning.SubscriptionFilter{Email: in.Email.ptr()}
	if in.Topic.IsSet {
		t := icymorning.Topic(in.Topic.Value)
		f.Topic = &t
	}
	if in.Status.IsSet {
		st := icymorning.SubscriptionStatus(in.Status.Value)
		f.Status = &st
	}
	return listPage(ctx, s, in.PageParams, func(p icymorning.Page) ([]icymorning.Subscription, error) {
		f.Page = p
		return s.store.Subscriptions(ctx, f)
	}, func(x *icymorning.Subscription) int64 { return x.ID }, toSubscription)
}

// pythonSubscription is a subscription as the Python service showed it,
// exactly its contract's members: the answer of its paths, which are
// POST /api/v1/assets/subscription and DELETE /api/v1/subscriptions/{id}.
type pythonSubscription struct {
	ID    int64  `json:"id" doc:"Assigned by the service." example:"3"`
	Email string `json:"email" format:"email" doc:"The address the notifications went to." example:"ada@example.com"`
	Topic string `json:"topic" enum:"asset::creation,asset::update,asset::deletion" doc:"Which asset events were mailed." example:"asset::creation"`
}

func toPythonSubscription(s *icymorning.Subscription) pythonSubscription {
	return pythonSubscription{ID: s.ID, Email: s.Email, Topic: string(s.Topic)}
}

// legacySubscription and legacySubscriptionWrite are the members of the
// Python path, which knows only the topic asset::creation.
type legacySubscription struct {
	ID    int64  `json:"id" doc:"Assigned by the service." example:"3"`
	Email string `json:"email" format:"email" doc:"The address the notifications go to." example:"ada@example.com"`
	Topic string `json:"topic" enum:"asset::creation" doc:"Always asset creations on this path." example:"asset::creation"`
}

type legacySubscriptionWrite struct {
	_     struct{} `additionalProperties:"true"`
	Email string   `json:"email" format:"email" maxLength:"254" doc:"The address to mail." example:"ada@example.com"`
	Topic string   `json:"topic,omitempty" enum:"asset::creation" default:"asset::creation" doc:"Only asset creations can be subscribed to on this path." example:"asset::creation"`
}

type legacySubscriptionInput struct {
	Body legacySubscriptionWrite
}

type legacySubscriptionOutput struct {
	Status int
	Body   legacySubscription
}

// handleSubscriptionCreateLegacy is handleSubscriptionCreate on the
// Python service's path, with its body and answer.
func (s *Server) handleSubscriptionCreateLegacy(ctx context.Context, in *legacySubscriptionInput) (*legacySubscriptionOutput, error) {
	sub := &icymorning.Subscription{Email: in.Body.Email, Topic: icymorning.Topic(in.Body.Topic)}
	status, err := s.createSubscription(ctx, sub)
	if err != nil {
		return nil, err
	}
	return &legacySubscriptionOutput{Status: status, Body: legacySubscription(toPythonSubscription(sub))}, nil
}

type subscriptionDeleteOutput struct {
	Body pythonSubscription
}

// handleSubscriptionDelete unsubscribes: the row stays (unsubscribed) for
// the delivery log, and the answer is the Python service's.
func (s *Server) handleSubscriptionDelete(ctx context.Context, in *PathID) (*subscriptionDeleteOutput, error) {
	sub, err := s.store.DeleteSubscription(ctx, in.ID)
	if err != nil {
		return nil, s.problemFromDomain(ctx, err)
	}
	return &subscriptionDeleteOutput{Body: toPythonSubscription(sub)}, nil
}
