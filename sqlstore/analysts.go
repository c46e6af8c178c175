package sqlstore

import (
	"context"

	icymorning "github.com/icy-morning/icy-morning"
)

const analystColumns = `id, name, company, created_at, updated_at`

const (
	sqlAnalystInsert = `INSERT INTO analysts (name, company, created_at, updated_at, created_by, updated_by)
VALUES ($1, $2, $3, $3, $4, $4) RETURNING ` + analystColumns
	sqlAnalystGet  = `SELECT ` + analystColumns + ` FROM analysts WHERE id = $1`
	sqlAnalystList = `SELECT ` + analystColumns + ` FROM analysts WHERE id > $1 ORDER BY id `
	// One statement applies a partial update, so concurrent PATCHes cannot
	// lose each other's changes: $n picks whether a member changes.
	sqlAnalystUpdate = `UPDATE analysts SET
  name = CASE WHEN $2 THEN $3 ELSE name END,
  company = CASE WHEN $4 THEN $5 ELSE company END,
  updated_at = $6,
  updated_by = $7
WHERE id = $1 RETURNING ` + analystColumns
	sqlAnalystDelete = `DELETE FROM analysts WHERE id = $1 RETURNING ` + analystColumns
)

func scanAnalyst(r row, a *icymorning.Analyst) error {
	if err := r.Scan(&a.ID, &a.Name, &a.Company, &a.CreatedAt, &a.UpdatedAt); err != nil {
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
	return s.write(ctx, func(q querier) error {
		if err := scanAnalyst(q.queryRow(ctx, sqlAnalystInsert, a.Name, a.Company, now, by), a); err != nil {
			return s.internal("insert analyst", err)
		}
		return nil
	})
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
	err := s.write(ctx, func(q querier) error {
		err := scanAnalyst(q.queryRow(ctx, sqlAnalystUpdate, id,
			u.Name.Set, u.Name.Value, u.Company.Set, u.Company.Value, now, by), &a)
		switch {
		case err == nil:
			return nil
		case isNoRows(err):
			return notFound("analyst", id)
		}
		return s.internal("update analyst", err)
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// DeleteAnalyst implements icymorning.AnalystStore.
func (s *Store) DeleteAnalyst(ctx context.Context, id int64) (*icymorning.Analyst, error) {
	var a icymorning.Analyst
	err := s.write(ctx, func(q querier) error {
		err := scanAnalyst(q.queryRow(ctx, sqlAnalystDelete, id), &a)
		switch {
		case err == nil:
			return nil
		case isNoRows(err):
			return notFound("analyst", id)
		case s.isForeignKey(err):
			return icymorning.Errorf(icymorning.ECONFLICT,
				"analyst %d still covers assets: delete or reassign them first", id)
		}
		return s.internal("delete analyst", err)
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}
