package sqlstore

import (
	"context"
	"database/sql"
)

// The fan-out turns an event into a pending delivery for each active
// subscription to its topic. FanOut does one event; FanOutPending does a
// page of them in one transaction, which is what the dispatcher uses: one
// commit (one WAL flush) for a page instead of one per event, and on
// PostgreSQL one round trip instead of four per event.

const (
	// sqlDeliveryInsert begins every fan-out's INSERT of deliveries.
	sqlDeliveryInsert = `INSERT INTO deliveries (event_id, subscription_id, status, attempts, created_at, updated_at, next_attempt_at)
`
	// sqlSubscribersOfE joins an event e to the subscriptions that receive
	// it (for every analyst, or for e's); the WHERE that follows must keep
	// only s.status = 'active', which the index subscriptions_fan_out
	// covers.
	sqlSubscribersOfE = `JOIN subscriptions AS s ON s.topic = e.topic AND (s.analyst_id IS NULL OR s.analyst_id = e.analyst_id)
`
	// sqlDeliveryConflict ends every fan-out's INSERT: an event is never
	// delivered twice to a subscription, whatever happened before.
	sqlDeliveryConflict = `
ON CONFLICT (event_id, subscription_id) DO NOTHING`
)

const (
	sqlEventExists = `SELECT 1 FROM events WHERE id = $1`
	// Marking the event first locks its row (PostgreSQL) or the database
	// (SQLite), so two dispatchers fanning out one event take turns, and
	// the second finds it done.
	sqlEventFannedOut = `UPDATE events SET fanned_out_at = $2 WHERE id = $1 AND fanned_out_at IS NULL`
	// The times come from the event row (set just before), not from
	// parameters, whose types PostgreSQL could not infer in a SELECT list.
	// WHERE, which SQLite needs before ON CONFLICT, is there anyway. The
	// ORDER BY gives the deliveries' ids their subscriptions' order, which
	// the plan need not follow (PostgreSQL's did not), so that an event
	// fanned out here gets the very ids FanOutPending would give it.
	sqlDeliveriesFanOut = sqlDeliveryInsert + `SELECT e.id, s.id, 'pending', 0, e.fanned_out_at, e.fanned_out_at, e.fanned_out_at
FROM events AS e ` + sqlSubscribersOfE + `WHERE e.id = $1 AND s.status = 'active'
ORDER BY s.id` + sqlDeliveryConflict
)

// FanOut implements icymorning.OutboxStore.
func (s *Store) FanOut(ctx context.Context, eventID int64) (int, error) {
	var n int64
	err := s.atomic(ctx, func(q querier) error {
		marked, err := q.exec(ctx, sqlEventFannedOut, eventID, s.timestamp())
		if err != nil {
			return err
		}
		if marked == 0 {
			var one int
			return q.queryRow(ctx, sqlEventExists, eventID).Scan(&one) // done before, or no such event
		}
		n, err = q.exec(ctx, sqlDeliveriesFanOut, eventID)
		return err
	})
	if err != nil {
		if isNoRows(err) {
			return 0, notFound("event", eventID)
		}
		return 0, s.internal("fan out event", err)
	}
	return int(n), nil
}

// pgFanOutPending fans out up to limit pending events in one statement:
// the UPDATE marks them and hands them to the INSERT, and the SELECT
// counts both. SKIP LOCKED leaves the events another transaction is
// fanning out (or FanOut holds) to it, so concurrent dispatchers take
// disjoint pages without waiting; the outer fanned_out_at IS NULL
// re-checks a row that a transaction committed since the statement's
// snapshot. Deliveries are inserted in (event, subscription) order so
// that their ids run as FanOut's, event by event, would. The limit is a
// literal, for the reason limitClause gives.
func pgFanOutPending(limit int) string {
	return `WITH e AS (
  UPDATE events SET fanned_out_at = $1
  WHERE id IN (SELECT id FROM events WHERE fanned_out_at IS NULL ORDER BY id ` + limitClause(limit) + ` FOR UPDATE SKIP LOCKED)
    AND fanned_out_at IS NULL
  RETURNING id, topic, analyst_id, fanned_out_at
), d AS (
` + sqlDeliveryInsert + `SELECT e.id, s.id, 'pending', 0, e.fanned_out_at, e.fanned_out_at, e.fanned_out_at
FROM e ` + sqlSubscribersOfE + `WHERE s.status = 'active'
ORDER BY e.id, s.id` + sqlDeliveryConflict + `
RETURNING 1
)
SELECT (SELECT count(*) FROM e), (SELECT count(*) FROM d)`
}

// SQLite has no data-modifying WITH: inside one write of the group commit
// (nothing else writes meanwhile) the page is bounded by its last event's
// id, its deliveries are inserted while its events are still pending, and
// then they are marked. Inserting first keeps the events to fan out
// apart from those fanned out before at the same time. The limit is a
// parameter: SQLite has no generic plan to spoil, and one SQL text keeps
// the writer's statement cache small whatever limits callers pass.
const (
	sqliteLastPending = `SELECT max(id) FROM (SELECT id FROM events WHERE fanned_out_at IS NULL ORDER BY id LIMIT $1)`
	// $1 is the time of the fan-out, $2 the page's last event.
	sqliteDeliveriesFanOutUpTo = sqlDeliveryInsert + `SELECT e.id, s.id, 'pending', 0, $1, $1, $1
FROM events AS e ` + sqlSubscribersOfE + `WHERE e.fanned_out_at IS NULL AND e.id <= $2 AND s.status = 'active'
ORDER BY e.id, s.id` + sqlDeliveryConflict
	sqliteEventsFannedOutUpTo = `UPDATE events SET fanned_out_at = $1 WHERE fanned_out_at IS NULL AND id <= $2`
)

// FanOutPending implements icymorning.OutboxStore.
func (s *Store) FanOutPending(ctx context.Context, limit int) (events, deliveries int, err error) {
	if limit < 1 {
		return 0, 0, nil
	}
	var ne, nd int64
	if s.dialect == Postgres {
		// One statement is a transaction by itself: no BEGIN and COMMIT
		// round trips (inside InTx, s.w is the caller's transaction).
		err = s.w.queryRow(ctx, pgFanOutPending(limit), s.timestamp()).Scan(&ne, &nd)
	} else {
		err = s.atomic(ctx, func(q querier) error {
			var last sql.NullInt64
			if err := q.queryRow(ctx, sqliteLastPending, limit).Scan(&last); err != nil || !last.Valid {
				return err
			}
			now := s.timestamp()
			var err error
			if nd, err = q.exec(ctx, sqliteDeliveriesFanOutUpTo, now, last.Int64); err != nil {
				return err
			}
			ne, err = q.exec(ctx, sqliteEventsFannedOutUpTo, now, last.Int64)
			return err
		})
	}
	if err != nil {
		return 0, 0, s.internal("fan out pending events", err)
	}
	return int(ne), int(nd), nil
}
