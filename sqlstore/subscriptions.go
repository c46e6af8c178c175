package sqlstore

import (
	"context"

	icymorning "github.com/icy-morning/icy-morning"
)

const subscriptionColumns = `id, email, topic, analyst_id, status, confirmed_at, created_at, updated_at`

const (
	// An operator's subscription is active at once. On conflict with an
	// existing one, DO UPDATE makes a pending or unsubscribed one active
	// again and returns it; an active or suppressed one is left alone and
	// nothing is returned (nor is an error raised, which would abort a
	// surrounding transaction). The conflict target is the unique index on
	// (email, topic, coalesce(analyst_id, 0)).
	sqlSubscriptionUpsert = `INSERT INTO subscriptions (email, topic, analyst_id, status, confirmed_at, created_at, updated_at)
VALUES ($1, $2, $3, 'active', $4, $4, $4)
ON CONFLICT (email, topic, (coalesce(analyst_id, 0))) DO UPDATE
SET status = 'active', confirmed_at = coalesce(subscriptions.confirmed_at, excluded.confirmed_at), updated_at = excluded.updated_at
WHERE subscriptions.status IN ('pending', 'unsubscribed')
RETURNING ` + subscriptionColumns
	sqlSubscriptionFind = `SELECT ` + subscriptionColumns + ` FROM subscriptions
WHERE email = $1 AND topic = $2 AND coalesce(analyst_id, 0) = $3`
	sqlAnalystExists = `SELECT 1 FROM analysts WHERE id = $1`
	// A suppressed subscription stays suppressed (and unchanged), so that
	// deleting and creating it again cannot lift a suppression.
	sqlSubscriptionDel = `UPDATE subscriptions SET
  status = CASE WHEN status = 'suppressed' THEN status ELSE 'unsubscribed' END,
  updated_at = CASE WHEN status = 'suppressed' THEN updated_at ELSE $2 END
WHERE id = $1 AND status <> 'unsubscribed' RETURNING ` + subscriptionColumns
	sqlSubscriptionSetStatus = `UPDATE subscriptions SET status = $2, updated_at = $3,
  confirmed_at = CASE WHEN $2 = 'active' THEN coalesce(confirmed_at, $3) ELSE confirmed_at END
WHERE id = $1 RETURNING ` + subscriptionColumns
)

// subscriptionScan holds the columns of a subscription that need decoding
// after Scan.
type subscriptionScan struct{ topic, status string }

func (x *subscriptionScan) dest(sub *icymorning.Subscription) []any {
	return []any{&sub.ID, &sub.Email, &x.topic, &sub.AnalystID, &x.status, &sub.ConfirmedAt, &sub.CreatedAt, &sub.UpdatedAt}
}

func (x *subscriptionScan) finish(sub *icymorning.Subscription) {
	sub.Topic, sub.Status = icymorning.Topic(x.topic), icymorning.SubscriptionStatus(x.status)
	sub.ConfirmedAt = utcPtr(sub.ConfirmedAt)
	sub.CreatedAt, sub.UpdatedAt = sub.CreatedAt.UTC(), sub.UpdatedAt.UTC()
}

func scanSubscription(r row, sub *icymorning.Subscription) error {
	var x subscriptionScan
	if err := r.Scan(x.dest(sub)...); err != nil {
		return err
	}
	x.finish(sub)
	return nil
}

// CreateSubscription implements icymorning.SubscriptionStore.
func (s *Store) CreateSubscription(ctx context.Context, sub *icymorning.Subscription) (bool, error) {
	sub.Normalize()
	if err := sub.Validate(); err != nil {
		return false, err
	}
	now := s.timestamp()
	var created bool
	err := s.write(ctx, func(q querier) error {
		analyst, err := s.checkAnalyst(ctx, q, sub)
		if err != nil {
			return err
		}
		err = scanSubscription(q.queryRow(ctx, sqlSubscriptionUpsert, sub.Email, string(sub.Topic), sub.AnalystID, now), sub)
		if created = err == nil; created {
			return nil
		}
		if !isNoRows(err) {
			return s.internal("insert subscription", err)
		}
		// Already in effect, or suppressed: answer with the stored one. Read
		// through the writer so that the row just seen by the conflict is
		// visible.
		if err := scanSubscription(q.queryRow(ctx, sqlSubscriptionFind, sub.Email, string(sub.Topic), analyst), sub); err != nil {
			return s.internal("find subscription", err)
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	return created, nil
}

// checkAnalyst checks, on the writer q, that the analyst sub is narrowed to
// exists (no foreign key says so: see the migration) and returns its id as
// the unique index has it: 0 for none.
func (s *Store) checkAnalyst(ctx context.Context, q querier, sub *icymorning.Subscription) (int64, error) {
	if sub.AnalystID == nil {
		return 0, nil
	}
	var one int
	if err := q.queryRow(ctx, sqlAnalystExists, *sub.AnalystID).Scan(&one); err != nil {
		if isNoRows(err) {
			return 0, analystMissing(*sub.AnalystID)
		}
		return 0, s.internal("find analyst", err)
	}
	return *sub.AnalystID, nil
}

// Subscriptions implements icymorning.SubscriptionStore.
func (s *Store) Subscriptions(ctx context.Context, f icymorning.SubscriptionFilter) ([]icymorning.Subscription, error) {
	l := newListQuery(`SELECT `+subscriptionColumns+` FROM subscriptions`, f.After)
	equal(l, "topic", f.Topic)
	equal(l, "status", f.Status)
	if f.Email != nil {
		email := icymorning.NormalizeEmail(*f.Email)
		equal(l, "email", &email)
	}
	q, args := l.sql(f.Limit)
	out, err := list(ctx, s.r, f.Limit, scanSubscription, q, args...)
	if err != nil {
		return nil, s.internal("list subscriptions", err)
	}
	return out, nil
}

// DeleteSubscription implements icymorning.SubscriptionStore.
func (s *Store) DeleteSubscription(ctx context.Context, id int64) (*icymorning.Subscription, error) {
	return s.updateSubscription(ctx, id, "unsubscribe", sqlSubscriptionDel, id, s.timestamp())
}

// SetSubscriptionStatus implements icymorning.SubscriptionStore.
func (s *Store) SetSubscriptionStatus(ctx context.Context, id int64, status icymorning.SubscriptionStatus) (*icymorning.Subscription, error) {
	if err := status.Validate(); err != nil {
		return nil, err
	}
	return s.updateSubscription(ctx, id, "set subscription status", sqlSubscriptionSetStatus, id, string(status), s.timestamp())
}

// updateSubscription runs an UPDATE of subscription id that returns it.
func (s *Store) updateSubscription(ctx context.Context, id int64, what, sql string, args ...any) (*icymorning.Subscription, error) {
	var sub icymorning.Subscription
	err := s.write(ctx, func(q querier) error {
		err := scanSubscription(q.queryRow(ctx, sql, args...), &sub)
		switch {
		case err == nil:
			return nil
		case isNoRows(err):
			return notFound("subscription", id)
		}
		return s.internal(what, err)
	})
	if err != nil {
		return nil, err
	}
	return &sub, nil
}
