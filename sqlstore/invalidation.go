package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
)

// The cache invalidation's cursor (migration 7): one row that says how far
// the CDN's invalidations have read the events, written by the consumer
// alone (cdn.Purger), so that with no CDN it costs nothing. Its lease
// works like a delivery's claim: one consumer at a time moves it, and one
// that died leaves it to the next after the lease.

var _ icymorning.InvalidationStore = (*Store)(nil)

const (
	sqlInvalidationDue = `SELECT c.high < 0 OR c.again OR c.gaps <> '[]' OR EXISTS (SELECT 1 FROM events AS e WHERE e.id > c.high)
FROM cdn_invalidation AS c WHERE c.id = 1`
	// Every SET sees the row as it was, so the three agree on whether
	// the lease was free: $1 is the token, $2 now, $3 the lease's end.
	sqlInvalidationClaim = `UPDATE cdn_invalidation SET
  again = CASE WHEN lease_until IS NULL OR lease_until <= $2 THEN false ELSE true END,
  lease_token = CASE WHEN lease_until IS NULL OR lease_until <= $2 THEN $1 ELSE lease_token END,
  lease_until = CASE WHEN lease_until IS NULL OR lease_until <= $2 THEN $3 ELSE lease_until END
WHERE id = 1
RETURNING epoch, high, gaps, last_sent_at, lease_token, budget_day, budget_paths`
	sqlInvalidationAdvance = `UPDATE cdn_invalidation SET high = $2, gaps = $3, last_sent_at = $4, lease_until = $5,
  budget_day = $6, budget_paths = $7
WHERE id = 1 AND lease_token = $1`
	// $2: due (leave the note and go); $3 the lease's new end if kept,
	// whose type PostgreSQL cannot infer beside NULL (and SQLite must not
	// be told: it would read the time as a number).
	sqliteInvalidationRelease = `UPDATE cdn_invalidation SET
  lease_token = CASE WHEN again AND NOT $2 THEN lease_token ELSE NULL END,
  lease_until = CASE WHEN again AND NOT $2 THEN $3 ELSE NULL END,
  again = $2
WHERE id = 1 AND lease_token = $1
RETURNING lease_token IS NOT NULL`
	pgInvalidationRelease = `UPDATE cdn_invalidation SET
  lease_token = CASE WHEN again AND NOT $2 THEN lease_token ELSE NULL END,
  lease_until = CASE WHEN again AND NOT $2 THEN CAST($3 AS timestamptz) ELSE NULL END,
  again = $2
WHERE id = 1 AND lease_token = $1
RETURNING lease_token IS NOT NULL`
	sqlLastEventID = `SELECT coalesce(max(id), 0) FROM events`
	// $1 is the cursor's high, $2 its gaps' ids as a JSON array.
	pgChangesAfter = `SELECT id, topic FROM events
WHERE id > $1 OR id IN (SELECT jsonb_array_elements_text(CAST($2 AS jsonb))::bigint)
ORDER BY id `
	sqliteChangesAfter = `SELECT id, topic FROM events
WHERE id > $1 OR id IN (SELECT value FROM json_each($2))
ORDER BY id `
)

// gapJSON is how the gaps column holds a gap.
type gapJSON struct {
	ID    int64     `json:"id"`
	Since time.Time `json:"since"`
}

// InvalidationDue implements icymorning.InvalidationStore.
func (s *Store) InvalidationDue(ctx context.Context) (bool, error) {
	var due bool
	if err := s.r.queryRow(ctx, sqlInvalidationDue).Scan(&due); err != nil {
		return false, s.internal("check the invalidation cursor", err)
	}
	return due, nil
}

// ClaimInvalidation implements icymorning.InvalidationStore.
func (s *Store) ClaimInvalidation(ctx context.Context, token string, lease time.Duration) (*icymorning.InvalidationCursor, error) {
	now := s.timestamp()
	var (
		c      icymorning.InvalidationCursor
		gaps   string
		sent   *time.Time
		holder sql.NullString
	)
	err := s.atomic(ctx, func(q querier) error {
		return q.queryRow(ctx, sqlInvalidationClaim, token, now, later(now, lease)).Scan(&c.Epoch, &c.High, &gaps, &sent, &holder, &c.BudgetDay, &c.BudgetPaths)
	})
	if err != nil {
		return nil, s.internal("claim the invalidation cursor", err)
	}
	if holder.String != token {
		return nil, nil
	}
	c.Token = token
	if sent != nil {
		c.LastSent = sent.UTC()
	}
	var gs []gapJSON
	if err := json.Unmarshal([]byte(gaps), &gs); err != nil {
		return nil, fmt.Errorf("sqlstore: the invalidation cursor's gaps: %w", err)
	}
	for _, g := range gs {
		c.Gaps = append(c.Gaps, icymorning.InvalidationGap{ID: g.ID, Since: g.Since.UTC()})
	}
	return &c, nil
}

// LastEventID implements icymorning.InvalidationStore.
func (s *Store) LastEventID(ctx context.Context) (int64, error) {
	var id int64
	if err := s.r.queryRow(ctx, sqlLastEventID).Scan(&id); err != nil {
		return 0, s.internal("last event id", err)
	}
	return id, nil
}

// ChangesAfter implements icymorning.InvalidationStore.
func (s *Store) ChangesAfter(ctx context.Context, c *icymorning.InvalidationCursor, limit int) ([]icymorning.Change, error) {
	ids := make([]int64, 0, len(c.Gaps))
	for _, g := range c.Gaps {
		ids = append(ids, g.ID)
	}
	gaps, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	q := sqliteChangesAfter
	if s.dialect == Postgres {
		q = pgChangesAfter
	}
	out, err := list(ctx, s.r, limit, func(r row, ch *icymorning.Change) error {
		var topic string
		if err := r.Scan(&ch.EventID, &topic); err != nil {
			return err
		}
		ch.Topic = icymorning.Topic(topic)
		return nil
	}, q+limitClause(limit), c.High, string(gaps))
	if err != nil {
		return nil, s.internal("list changes to invalidate", err)
	}
	return out, nil
}

// AdvanceInvalidation implements icymorning.InvalidationStore.
func (s *Store) AdvanceInvalidation(ctx context.Context, c *icymorning.InvalidationCursor, lease time.Duration) (bool, error) {
	gs := make([]gapJSON, 0, len(c.Gaps))
	for _, g := range c.Gaps {
		gs = append(gs, gapJSON{ID: g.ID, Since: g.Since.UTC()})
	}
	gaps, err := json.Marshal(gs)
	if err != nil {
		return false, err
	}
	var sent *time.Time
	if !c.LastSent.IsZero() {
		t := c.LastSent.UTC().Truncate(time.Microsecond)
		sent = &t
	}
	now := s.timestamp()
	var n int64
	err = s.atomic(ctx, func(q querier) error {
		var err error
		n, err = q.exec(ctx, sqlInvalidationAdvance, c.Token, c.High, string(gaps), sent, later(now, lease), c.BudgetDay, c.BudgetPaths)
		return err
	})
	if err != nil {
		return false, s.internal("advance the invalidation cursor", err)
	}
	return n == 1, nil
}

// ReleaseInvalidation implements icymorning.InvalidationStore.
func (s *Store) ReleaseInvalidation(ctx context.Context, c *icymorning.InvalidationCursor, lease time.Duration, due bool) (bool, error) {
	now := s.timestamp()
	release := sqliteInvalidationRelease
	if s.dialect == Postgres {
		release = pgInvalidationRelease
	}
	var again bool
	err := s.atomic(ctx, func(q querier) error {
		err := q.queryRow(ctx, release, c.Token, due, later(now, lease)).Scan(&again)
		if isNoRows(err) {
			again = false // the lease was lost: its new holder goes on
			return nil
		}
		return err
	})
	if err != nil {
		return false, s.internal("release the invalidation cursor", err)
	}
	return again, nil
}
