package sqlstore

import (
	"context"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
)

// Sign-ups, confirmation, expiry and suppression: the statuses a
// subscriber's own actions (and the mail provider's reports) move a
// subscription through.

const (
	// A new sign-up is pending with its confirmation sent now. On
	// conflict, an unsubscribed one becomes pending again and its
	// confirmation is sent now, as is a pending one's unless one went out
	// after $5 (the resend window: it holds back repeats, not a sign-up
	// after an unsubscribe); otherwise nothing changes and nothing is
	// returned.
	sqlSignUp = `INSERT INTO subscriptions (email, topic, analyst_id, status, confirm_sent_at, created_at, updated_at)
VALUES ($1, $2, $3, 'pending', $4, $4, $4)
ON CONFLICT (email, topic, (coalesce(analyst_id, 0))) DO UPDATE
SET status = 'pending', confirm_sent_at = excluded.confirm_sent_at, updated_at = excluded.updated_at
WHERE subscriptions.status = 'unsubscribed'
  OR (subscriptions.status = 'pending' AND (subscriptions.confirm_sent_at IS NULL OR subscriptions.confirm_sent_at <= $5))
RETURNING ` + subscriptionColumns
	sqlForgetConfirmation = `UPDATE subscriptions SET confirm_sent_at = NULL WHERE id = $1 AND status = 'pending'`
	sqlConfirm            = `UPDATE subscriptions SET status = 'active', confirmed_at = coalesce(confirmed_at, $2), updated_at = $2
WHERE id = $1 AND status = 'pending' RETURNING ` + subscriptionColumns
	sqlSubscriptionByID = `SELECT ` + subscriptionColumns + ` FROM subscriptions WHERE id = $1`
	// A pending one whose confirmation could not be sent (forgotten) has
	// no send time: its last change stands in, so it expires too.
	sqlExpireSignUps = `UPDATE subscriptions SET status = 'unsubscribed', updated_at = $2
WHERE status = 'pending' AND coalesce(confirm_sent_at, updated_at) < $1`
	sqlSuppressEmail = `UPDATE subscriptions SET status = 'suppressed', updated_at = $2
WHERE email = $1 AND status <> 'suppressed'`
	sqlSuppressDeliveries = `UPDATE deliveries SET status = 'suppressed', last_error = 'the address bounced or complained', updated_at = $2
WHERE status IN ('pending', 'failed') AND subscription_id IN (SELECT id FROM subscriptions WHERE email = $1)`
)

// SignUp implements icymorning.SubscriptionStore.
func (s *Store) SignUp(ctx context.Context, sub *icymorning.Subscription, resendAfter time.Duration) (bool, error) {
	sub.Normalize()
	if err := sub.Validate(); err != nil {
		return false, err
	}
	now := s.timestamp()
	var signedUp bool
	err := s.write(ctx, func(q querier) error {
		analyst, err := s.checkAnalyst(ctx, q, sub)
		if err != nil {
			return err
		}
		err = scanSubscription(q.queryRow(ctx, sqlSignUp, sub.Email, string(sub.Topic), sub.AnalystID, now, now.Add(-resendAfter)), sub)
		if signedUp = err == nil; signedUp {
			return nil
		}
		if !isNoRows(err) {
			return s.internal("sign up", err)
		}
		if err := scanSubscription(q.queryRow(ctx, sqlSubscriptionFind, sub.Email, string(sub.Topic), analyst), sub); err != nil {
			return s.internal("find subscription", err)
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	return signedUp, nil
}

// ForgetConfirmation implements icymorning.SubscriptionStore.
func (s *Store) ForgetConfirmation(ctx context.Context, id int64) error {
	return s.write(ctx, func(q querier) error {
		if _, err := q.exec(ctx, sqlForgetConfirmation, id); err != nil {
			return s.internal("forget confirmation", err)
		}
		return nil
	})
}

// ConfirmSubscription implements icymorning.SubscriptionStore.
func (s *Store) ConfirmSubscription(ctx context.Context, id int64) (*icymorning.Subscription, error) {
	now := s.timestamp()
	var sub icymorning.Subscription
	err := s.write(ctx, func(q querier) error {
		err := scanSubscription(q.queryRow(ctx, sqlConfirm, id, now), &sub)
		if err == nil {
			return nil
		}
		if !isNoRows(err) {
			return s.internal("confirm subscription", err)
		}
		if err := scanSubscription(q.queryRow(ctx, sqlSubscriptionByID, id), &sub); err != nil {
			if isNoRows(err) {
				return notFound("subscription", id)
			}
			return s.internal("find subscription", err)
		}
		if sub.Status == icymorning.SubscriptionActive {
			return nil
		}
		return icymorning.Errorf(icymorning.ECONFLICT, "subscription %d is %s: sign up again to receive mail", id, sub.Status)
	})
	if err != nil {
		return nil, err
	}
	return &sub, nil
}

// ExpireSignUps implements icymorning.SubscriptionStore.
func (s *Store) ExpireSignUps(ctx context.Context, cutoff time.Time) (int, error) {
	// The cutoff in microseconds, as the times it is compared with are
	// kept: PostgreSQL drops the rest, SQLite would compare it.
	cutoff, now := cutoff.UTC().Truncate(time.Microsecond), s.timestamp()
	var n int64
	err := s.write(ctx, func(q querier) error {
		var err error
		if n, err = q.exec(ctx, sqlExpireSignUps, cutoff, now); err != nil {
			return s.internal("expire sign-ups", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// SuppressEmail implements icymorning.SubscriptionStore.
func (s *Store) SuppressEmail(ctx context.Context, email string) (int, error) {
	email = icymorning.NormalizeEmail(email)
	var n int64
	err := s.atomic(ctx, func(q querier) error {
		now := s.timestamp()
		var err error
		if n, err = q.exec(ctx, sqlSuppressEmail, email, now); err != nil {
			return err
		}
		_, err = q.exec(ctx, sqlSuppressDeliveries, email, now)
		return err
	})
	if err != nil {
		return 0, s.internal("suppress address", err)
	}
	return int(n), nil
}
