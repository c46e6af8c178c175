package sqlstore

import (
	"context"
	"strconv"
	"strings"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
)

// The dispatcher's queue is the delivery log: a delivery is claimed by
// moving its next attempt a lease ahead (and counting the attempt) in the
// statement that selects it, so no separate job table can disagree with
// the log. On PostgreSQL, SKIP LOCKED lets concurrent dispatchers claim
// disjoint rows without waiting on each other; SQLite has one writer, which
// serialises claims by itself.

const (
	sqlClaimDue = `UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = $2, updated_at = $1
WHERE id IN (SELECT id FROM deliveries WHERE status IN ('pending', 'failed') AND next_attempt_at <= $1
  ORDER BY next_attempt_at, id `
	sqlRecordDelivery = `UPDATE deliveries SET status = $2, last_error = $3, provider_message_id = coalesce($4, provider_message_id),
  next_attempt_at = $5, sent_at = coalesce($6, sent_at), updated_at = $7
WHERE id = $1 AND status <> 'sent'`
	sqlRetryDelivery = `UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = $2, updated_at = $2
WHERE id = $1 AND status IN ('dead', 'failed') RETURNING ` + deliveryColumns
	sqlDeliveryByID = `SELECT ` + deliveryColumns + ` FROM deliveries WHERE id = $1`
	// An idle dispatcher polls: this read keeps the poll off the writer
	// (SQLite's only write connection) when nothing is due.
	sqlAnyDue = `SELECT count(*) FROM (SELECT 1 FROM deliveries WHERE status IN ('pending', 'failed') AND next_attempt_at <= $1 LIMIT 1) AS due`
)

// later is the time d after now as the store keeps times, in microseconds:
// a duration finer than that (a backoff with jitter) would otherwise be
// kept whole by SQLite and cut by PostgreSQL, and the same delivery would
// fall due at different times.
func later(now time.Time, d time.Duration) time.Time {
	return now.Add(d).Truncate(time.Microsecond)
}

// prefixed qualifies each column of a column list with a table alias.
func prefixed(alias, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

var sqlClaimedJobs = `SELECT ` + prefixed("d", deliveryColumns) + `, ` + prefixed("e", eventColumns) + `, ` + prefixed("s", subscriptionColumns) + `
FROM deliveries AS d JOIN events AS e ON e.id = d.event_id JOIN subscriptions AS s ON s.id = d.subscription_id
WHERE d.id IN (`

// ClaimDeliveries implements icymorning.OutboxStore.
func (s *Store) ClaimDeliveries(ctx context.Context, lease time.Duration, limit int) ([]icymorning.DeliveryJob, error) {
	if limit < 1 {
		return nil, nil
	}
	claim := sqlClaimDue + limitClause(limit)
	if s.dialect == Postgres {
		claim += ` FOR UPDATE SKIP LOCKED`
	}
	claim += `) RETURNING id`
	if s.db != nil { // not inside a caller's transaction
		var due int
		if err := s.r.queryRow(ctx, sqlAnyDue, s.timestamp()).Scan(&due); err != nil {
			return nil, s.internal("look for due deliveries", err)
		}
		if due == 0 {
			return nil, nil
		}
	}
	var jobs []icymorning.DeliveryJob
	err := s.atomic(ctx, func(q querier) error {
		now := s.timestamp()
		ids, err := list(ctx, q, limit, func(r row, id *int64) error { return r.Scan(id) }, claim, now, later(now, lease))
		if err != nil || len(ids) == 0 {
			return err
		}
		// The ids are integers from the database: written into the SQL
		// as literals, they cannot inject anything, and the statement
		// needs no array type (which SQLite lacks).
		var in strings.Builder
		for i, id := range ids {
			if i > 0 {
				in.WriteByte(',')
			}
			in.WriteString(strconv.FormatInt(id, 10))
		}
		jobs, err = list(ctx, q, len(ids), scanJob, sqlClaimedJobs+in.String()+`) ORDER BY d.next_attempt_at, d.id`)
		return err
	})
	if err != nil {
		return nil, s.internal("claim deliveries", err)
	}
	return jobs, nil
}

func scanJob(r row, j *icymorning.DeliveryJob) error {
	var d deliveryScan
	var e eventScan
	var sub subscriptionScan
	dest := append(append(d.dest(&j.Delivery), e.dest(&j.Event)...), sub.dest(&j.Subscription)...)
	if err := r.Scan(dest...); err != nil {
		return err
	}
	if err := e.finish(&j.Event); err != nil {
		return err
	}
	d.finish(&j.Delivery)
	sub.finish(&j.Subscription)
	return nil
}

// RecordDeliveries implements icymorning.OutboxStore.
func (s *Store) RecordDeliveries(ctx context.Context, outcomes []icymorning.DeliveryOutcome) error {
	if len(outcomes) == 0 {
		return nil
	}
	err := s.atomic(ctx, func(q querier) error {
		now := s.timestamp()
		for _, o := range outcomes {
			var lastError, providerID *string
			var sentAt *time.Time
			if o.Error != "" {
				lastError = &o.Error
			}
			if o.ProviderMessageID != "" {
				providerID = &o.ProviderMessageID
			}
			next := now
			switch o.Status {
			case icymorning.DeliverySent:
				sentAt = &now
			case icymorning.DeliveryFailed:
				next = later(now, o.RetryAfter)
			}
			if _, err := q.exec(ctx, sqlRecordDelivery, o.ID, string(o.Status), lastError, providerID, next, sentAt, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return s.internal("record deliveries", err)
	}
	return nil
}

// RetryDelivery implements icymorning.OutboxStore.
func (s *Store) RetryDelivery(ctx context.Context, id int64) (*icymorning.Delivery, error) {
	now := s.timestamp()
	var d icymorning.Delivery
	err := s.write(ctx, func(q querier) error {
		err := scanDelivery(q.queryRow(ctx, sqlRetryDelivery, id, now), &d)
		if err == nil {
			return nil
		}
		if !isNoRows(err) {
			return s.internal("retry delivery", err)
		}
		if err := scanDelivery(q.queryRow(ctx, sqlDeliveryByID, id), &d); err != nil {
			if isNoRows(err) {
				return notFound("delivery", id)
			}
			return s.internal("find delivery", err)
		}
		return icymorning.Errorf(icymorning.ECONFLICT, "delivery %d is %s: only a dead or failed delivery can be retried", id, d.Status)
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}
