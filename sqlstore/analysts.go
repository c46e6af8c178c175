package sqlstore

import (
	"context"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
)

const analystColumns = `id, name, company, created_at, updated_at, version`

const (
	sqlAnalystInsert = `INSERT INTO analysts (name, company, created_at, updated_at, created_by, updated_by)
VALUES ($1, $2, $3, $3, $4, $4) RETURNING ` + analystColumns
	sqlAnalystGet     = `SELECT ` + analystColumns + ` FROM analysts WHERE id = $1`
	sqlAnalystVersion = `SELECT version, updated_at FROM analysts WHERE id = $1`
	sqlAnalystList    = `SELECT ` + analystColumns + ` FROM analysts WHERE id > $1 ORDER BY id `
	// One statement applies a partial update, so concurrent PATCHes cannot
	// lose each other's changes: $n picks whether a member changes. $8 is
	// the version it applies to (0: any), checked in the same statement.
	sqlAnalystUpdate = `UPDATE analysts SET
  name = CASE WHEN $2 THEN $3 ELSE name END,
  company = CASE WHEN $4 THEN $5 ELSE company END,
  updated_at = $6,
  updated_by = $7,
  version = version + 1
WHERE id = $1 AND (CAST($8 AS BIGINT) = 0 OR version = CAST($8 AS BIGINT)) RETURNING ` + analystColumns
	sqlAnalystDelete = `DELETE FROM analysts WHERE id = $1 AND (CAST($2 AS BIGINT) = 0 OR version = CAST($2 AS BIGINT)) RETURNING ` + analystColumns
)

// Writes record their event (outbox.go), so that the CDN's cached reads
// of analysts are invalidated after they commit: on PostgreSQL in the
// same statement, on SQLite in the same transaction. Nobody subscribes to
// an analyst's topics: the events are recorded fanned out, to nobody, and
// carry no asset (asset_id 0, which no asset's id is).
const (
	sqlAnalystEventColumns = `INSERT INTO events (topic, asset_id, analyst_id, asset, occurred_at, fanned_out_at) `
	sqliteAnalystEvent     = sqlAnalystEventColumns + `VALUES ($1, 0, $2, '{}', $3, $3)`

	pgAnalystInsert = `WITH a AS (` + sqlAnalystInsert + `),
e AS (` + sqlAnalystEventColumns + `SELECT '` + string(icymorning.TopicAnalystCreation) + `', 0, a.id, '{}', a.created_at, a.created_at FROM a)
SELECT ` + analystColumns + ` FROM a`
	pgAnalystUpdate = `WITH a AS (` + sqlAnalystUpdate + `),
e AS (` + sqlAnalystEventColumns + `SELECT '` + string(icymorning.TopicAnalystUpdate) + `', 0, a.id, '{}', a.updated_at, a.updated_at FROM a)
SELECT ` + analystColumns + ` FROM a`
	pgAnalystDelete = `WITH a AS (` + sqlAnalystDelete + `),
e AS (` + sqlAnalystEventColumns + `SELECT '` + string(icymorning.TopicAnalystDeletion) + `', 0, a.id, '{}', CAST($3 AS timestamptz), CAST($3 AS timestamptz) FROM a)
SELECT ` + analystColumns + ` FROM a`
)

// analystWrite runs the analyst statement of a write with its event:
// pg on PostgreSQL, plain on SQLite followed by the event's insert, in one
// transaction. args are plain's; pg takes the time of the change as one
// more only when withAt (the delete's statement has no time of its own).
func (s *Store) analystWrite(ctx context.Context, topic icymorning.Topic, pg, plain string, at time.Time, withAt bool, a *icymorning.Analyst,
	failed func(q querier, err error) error, args ...any) error {
	if s.dialect == Postgres {
		pgArgs := args
		if withAt {
			pgArgs = append(args[:len(args):len(args)], at)
		}
		return s.write(ctx, func(q querier) error {
			return failed(q, scanAnalyst(q.queryRow(ctx, pg, pgArgs...), a))
		})
	}
	return s.atomic(ctx, func(q querier) error {
		if err := scanAnalyst(q.queryRow(ctx, plain, args...), a); err != nil {
			return failed(q, err)
		}
		_, err := q.exec(ctx, sqliteAnalystEvent, string(topic), a.ID, at)
		return failed(q, err)
	})
}

func scanAnalyst(r row, a *icymorning.Analyst) error {
	if err := r.Scan(&a.ID, &a.Name, &a.Company, &a.CreatedAt, &a.UpdatedAt, &a.Version); err != nil {
		return err
	}
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	return nil
}

// CreateAnalyst implements icymorning.AnalystStore.
func (s *Store) CreateAnalyst(ctx context.Context, a *icymorning.Analyst) error {
	if err := a.Validate(); err != nil {
		return err
	}
	now, by := s.timestamp(), actor(ctx)
	return s.analystWrite(ctx, icymorning.TopicAnalystCreation, pgAnalystInsert, sqlAnalystInsert, now, false, a,
		func(_ querier, err error) error {
			if err != nil {
				return s.internal("insert analyst", err)
			}
			return nil
		}, a.Name, a.Company, now, by)
}

// Analyst implements icymorning.AnalystStore.
func (s *Store) Analyst(ctx context.Context, id int64) (*icymorning.Analyst, error) {
	var a icymorning.Analyst
	if err := scanAnalyst(s.r.queryRow(ctx, sqlAnalystGet, id), &a); err != nil {
		if isNoRows(err) {
			return nil, notFound("analyst", id)
		}
		return nil, s.internal("get analyst", err)
	}
	return &a, nil
}

// AnalystVersion implements icymorning.AnalystStore.
func (s *Store) AnalystVersion(ctx context.Context, id int64) (int64, time.Time, error) {
	return s.version(ctx, sqlAnalystVersion, "analyst", id)
}

// Analysts implements icymorning.AnalystStore.
func (s *Store) Analysts(ctx context.Context, p icymorning.Page) ([]icymorning.Analyst, error) {
	out, err := list(ctx, s.r, p.Limit, scanAnalyst, sqlAnalystList+limitClause(p.Limit), p.After)
	if err != nil {
		return nil, s.internal("list analysts", err)
	}
	return out, nil
}

// UpdateAnalyst implements icymorning.AnalystStore.
func (s *Store) UpdateAnalyst(ctx context.Context, id int64, u icymorning.AnalystUpdate) (*icymorning.Analyst, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	now, by := s.timestamp(), actor(ctx)
	var a icymorning.Analyst
	err := s.analystWrite(ctx, icymorning.TopicAnalystUpdate, pgAnalystUpdate, sqlAnalystUpdate, now, false, &a,
		func(q querier, err error) error {
			switch {
			case err == nil:
				return nil
			case isNoRows(err):
				return s.missingOn(ctx, q, sqlAnalystVersion, "analyst", id, u.IfVersion)
			}
			return s.internal("update analyst", err)
		}, id, u.Name.Set, u.Name.Value, u.Company.Set, u.Company.Value, now, by, u.IfVersion)
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// DeleteAnalyst implements icymorning.AnalystStore.
func (s *Store) DeleteAnalyst(ctx context.Context, id int64, ifVersion int64) (*icymorning.Analyst, error) {
	var a icymorning.Analyst
	err := s.analystWrite(ctx, icymorning.TopicAnalystDeletion, pgAnalystDelete, sqlAnalystDelete, s.timestamp(), true, &a,
		func(q querier, err error) error {
			switch {
			case err == nil:
				return nil
			case isNoRows(err):
				return s.missingOn(ctx, q, sqlAnalystVersion, "analyst", id, ifVersion)
			case s.isForeignKey(err):
				return icymorning.Errorf(icymorning.ECONFLICT,
					"analyst %d still covers assets: delete or reassign them first", id)
			}
			return s.internal("delete analyst", err)
		}, id, ifVersion)
	if err != nil {
		return nil, err
	}
	return &a, nil
}
