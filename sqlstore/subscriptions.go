package sqlstore

import (
	"context"

	icymorning "github.com/icy-morning/icy-morning"
)

const subscriptionColumns = `id, email, topic, created_at, updated_at`

const (
	// DO NOTHING keeps a second subscription of the same address to the
	// same topic from being stored, without an error that would abort a
	// surrounding transaction.
	sqlSubscriptionInsert = `INSERT INTO subscriptions (email, topic, created_at, updated_at)
VALUES ($1, $2, $3, $3) ON CONFLICT (email, topic) DO NOTHING RETURNING ` + subscriptionColumns
	sqlSubscriptionFind = `SELECT ` + subscriptionColumns + ` FROM subscriptions WHERE email = $1 AND topic = $2`
	sqlSubscriptionList = `SELECT ` + subscriptionColumns + ` FROM subscriptions WHERE id > $1 ORDER BY id `
	sqlSubscriptionDel  = `DELETE FROM subscriptions WHERE id = $1 RETURNING ` + subscriptionColumns
)

func scanSubscription(r row, sub *icymorning.Subscription) error {
	var topic string
	if err := r.Scan(&sub.ID, &sub.Email, &topic, &sub.CreatedAt, &sub.UpdatedAt); err != nil {
		return err
	}
	sub.Topic = icymorning.Topic(topic)
	sub.CreatedAt, sub.UpdatedAt = sub.CreatedAt.UTC(), sub.UpdatedAt.UTC()
	return nil
}

// CreateSubscription implements icymorning.SubscriptionStore.
func (s *Store) CreateSubscription(ctx context.Context, sub *icymorning.Subscription) (bool, error) {
	sub.Normalize()
	if err := sub.Validate(); err != nil {
		return false, err
	}
	err := scanSubscription(s.w.queryRow(ctx, sqlSubscriptionInsert, sub.Email, string(sub.Topic), s.timestamp()), sub)
	if err == nil {
		return true, nil
	}
	if !isNoRows(err) {
		return false, s.internal("insert subscription", err)
	}
	// Already subscribed: answer with the stored one. Read through the
	// writer so that the row just seen by the conflict is visible.
	if err := scanSubscription(s.w.queryRow(ctx, sqlSubscriptionFind, sub.Email, string(sub.Topic)), sub); err != nil {
		return false, s.internal("find subscription", err)
	}
	return false, nil
}

// Subscriptions implements icymorning.SubscriptionStore.
func (s *Store) Subscriptions(ctx context.Context, p icymorning.Page) ([]icymorning.Subscription, error) {
	out, err := list(ctx, s.r, p.Limit, scanSubscription, sqlSubscriptionList+limitClause(p.Limit), p.After)
	if err != nil {
		return nil, s.internal("list subscriptions", err)
	}
	return out, nil
}

// DeleteSubscription implements icymorning.SubscriptionStore.
func (s *Store) DeleteSubscription(ctx context.Context, id int64) (*icymorning.Subscription, error) {
	var sub icymorning.Subscription
	if err := scanSubscription(s.w.queryRow(ctx, sqlSubscriptionDel, id), &sub); err != nil {
		if isNoRows(err) {
			return nil, notFound("subscription", id)
		}
		return nil, s.internal("delete subscription", err)
	}
	return &sub, nil
}
