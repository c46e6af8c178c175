package sqlstore

import (
	"bytes"
	"context"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
)

const assetColumns = `id, name, description, inception_date, is_active, analyst_id, created_at, updated_at, version`

// Writes record their event (outbox.go): on SQLite these statements run
// with the event's in one transaction; on PostgreSQL the insert and the
// delete are wrapped in statements that record the event too, and the
// update has a version of its own.
const (
	sqlAssetInsert = `INSERT INTO assets (name, description, inception_date, is_active, analyst_id, created_at, updated_at, created_by, updated_by)
VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $7) RETURNING ` + assetColumns
	sqlAssetGet     = `SELECT ` + assetColumns + ` FROM assets WHERE id = $1`
	sqlAssetVersion = `SELECT version, updated_at FROM assets WHERE id = $1`
	// sqlAssetSet is the SET list of an update, shared by both dialects'
	// statements: $1 is the id, $2 to $11 a flag and a value per member,
	// $12 the time, $13 who (audit.go), $14 the version the update
	// applies to (0: any; see ifVersion). See sqlAnalystUpdate for why one
	// statement.
	sqlAssetSet = `
  name = CASE WHEN $2 THEN $3 ELSE name END,
  description = CASE WHEN $4 THEN $5 ELSE description END,
  inception_date = CASE WHEN $6 THEN $7 ELSE inception_date END,
  is_active = CASE WHEN $8 THEN $9 ELSE is_active END,
  analyst_id = CASE WHEN $10 THEN $11 ELSE analyst_id END,
  updated_at = $12,
  updated_by = $13,
  version = version + 1`
	sqlAssetUpdate = `UPDATE assets SET` + sqlAssetSet + `
WHERE id = $1 AND (CAST($14 AS BIGINT) = 0 OR version = CAST($14 AS BIGINT)) RETURNING ` + assetColumns
	sqlAssetDelete = `DELETE FROM assets WHERE id = $1 AND (CAST($2 AS BIGINT) = 0 OR version = CAST($2 AS BIGINT)) RETURNING ` + assetColumns
)

func scanAsset(r row, a *icymorning.Asset) error {
	var inception time.Time
	if err := r.Scan(&a.ID, &a.Name, &a.Description, &inception, &a.IsActive, &a.AnalystID, &a.CreatedAt, &a.UpdatedAt, &a.Version); err != nil {
		return err
	}
	a.InceptionDate = fromTime(inception)
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	return nil
}

// analystMissing is the answer to a foreign key violation on insert or
// update: the client named an analyst that does not exist.
func analystMissing(id int64) error {
	return icymorning.FieldErrorf("analyst_id", "analyst %d does not exist", id)
}

// CreateAsset implements icymorning.AssetStore. On PostgreSQL, creates
// that arrive together are inserted together (pgcreates.go).
func (s *Store) CreateAsset(ctx context.Context, a *icymorning.Asset) error {
	if err := a.Validate(); err != nil {
		return err
	}
	now, by := s.timestamp(), actor(ctx)
	if s.creates != nil && s.db != nil {
		c := &create{queued: queued{ctx: ctx}, in: *a, at: now, by: by, done: make(chan error, 1)}
		if err := s.creates.do(c); err != nil {
			return err
		}
		*a = c.out
		return nil
	}
	return s.insertAsset(ctx, a, now, by)
}

// insertAsset stores a, created at now by by (audit.go), with its event.
func (s *Store) insertAsset(ctx context.Context, a *icymorning.Asset, now time.Time, by *string) error {
	args := []any{a.Name, a.Description, s.dateArg(a.InceptionDate), a.IsActive, a.AnalystID, now, by}
	// failed tells the statements' errors apart inside the write, so that
	// no error of a group commit (groupcommit.go), such as a failed COMMIT,
	// is taken for theirs; the other write methods do the same.
	failed := func(err error) error {
		switch {
		case err == nil:
			return nil
		case s.isForeignKey(err):
			return analystMissing(a.AnalystID)
		}
		return s.internal("insert asset", err)
	}
	if s.dialect == Postgres {
		return failed(scanAsset(s.w.queryRow(ctx, pgAssetInsert, args...), a))
	}
	return s.atomic(ctx, func(q querier) error {
		if err := scanAsset(q.queryRow(ctx, sqlAssetInsert, args...), a); err != nil {
			return failed(err)
		}
		return failed(recordEvent(ctx, q, icymorning.TopicAssetCreation, a, now))
	})
}

// Asset implements icymorning.AssetStore.
func (s *Store) Asset(ctx context.Context, id int64) (*icymorning.Asset, error) {
	var a icymorning.Asset
	if err := scanAsset(s.r.queryRow(ctx, sqlAssetGet, id), &a); err != nil {
		if isNoRows(err) {
			return nil, notFound("asset", id)
		}
		return nil, s.internal("get asset", err)
	}
	return &a, nil
}

// AssetVersion implements icymorning.AssetStore.
func (s *Store) AssetVersion(ctx context.Context, id int64) (int64, time.Time, error) {
	return s.version(ctx, sqlAssetVersion, "asset", id)
}

// assetListSQL builds the list query for the filters in use.
func assetListSQL(f icymorning.AssetFilter) (string, []any) {
	l := newListQuery(`SELECT `+assetColumns+` FROM assets`, f.After)
	equal(l, "analyst_id", f.AnalystID)
	equal(l, "is_active", f.IsActive)
	equal(l, "name", f.Name)
	return l.sql(f.Limit)
}

// Assets implements icymorning.AssetStore.
func (s *Store) Assets(ctx context.Context, f icymorning.AssetFilter) ([]icymorning.Asset, error) {
	q, args := assetListSQL(f)
	out, err := list(ctx, s.r, f.Limit, scanAsset, q, args...)
	if err != nil {
		return nil, s.internal("list assets", err)
	}
	return out, nil
}

// UpdateAsset implements icymorning.AssetStore.
func (s *Store) UpdateAsset(ctx context.Context, id int64, u icymorning.AssetUpdate) (*icymorning.Asset, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	var date any
	if u.InceptionDate.Set {
		date = s.dateArg(u.InceptionDate.Value)
	}
	now := s.timestamp()
	args := []any{id,
		u.Name.Set, u.Name.Value,
		u.Description.Set, u.Description.Value,
		u.InceptionDate.Set, date,
		u.IsActive.Set, u.IsActive.Value,
		u.AnalystID.Set, u.AnalystID.Value,
		now, actor(ctx), u.IfVersion}
	failed := func(err error) error {
		switch {
		case err == nil:
			return nil
		case isNoRows(err) && s.dialect == Postgres:
			return s.missing(ctx, sqlAssetVersion, "asset", id, u.IfVersion)
		case isNoRows(err):
			// SQLite checked the version on the row it read first.
			return notFound("asset", id)
		case s.isForeignKey(err):
			return analystMissing(u.AnalystID.Value)
		}
		return s.internal("update asset", err)
	}
	var a icymorning.Asset
	var err error
	if s.dialect == Postgres {
		err = failed(scanAsset(s.w.queryRow(ctx, pgAssetUpdate, args...), &a))
	} else {
		err = s.atomic(ctx, func(q querier) error {
			// The writer connection is SQLite's only one: nothing changes
			// the asset between these statements.
			var old icymorning.Asset
			if err := scanAsset(q.queryRow(ctx, sqlAssetGet, id), &old); err != nil {
				return failed(err)
			}
			if u.IfVersion != 0 && old.Version != u.IfVersion {
				return icymorning.Stale("asset", id)
			}
			if err := scanAsset(q.queryRow(ctx, sqlAssetUpdate, args...), &a); err != nil {
				return failed(err)
			}
			before, err := snapshotOf(&old)
			if err != nil {
				return failed(err)
			}
			after, err := snapshotOf(&a)
			switch {
			case err != nil:
				return failed(err)
			case bytes.Equal(before, after):
				return failed(recordTouch(ctx, q, &a, now))
			}
			return failed(recordEvent(ctx, q, icymorning.TopicAssetUpdate, &a, now))
		})
	}
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// DeleteAsset implements icymorning.AssetStore.
func (s *Store) DeleteAsset(ctx context.Context, id int64, ifVersion int64) (*icymorning.Asset, error) {
	now := s.timestamp()
	// q is where a miss is explained: inside SQLite's transaction, whose
	// connection may be the only one.
	failed := func(q querier, err error) error {
		switch {
		case err == nil:
			return nil
		case isNoRows(err):
			return s.missingOn(ctx, q, sqlAssetVersion, "asset", id, ifVersion)
		}
		return s.internal("delete asset", err)
	}
	var a icymorning.Asset
	var err error
	if s.dialect == Postgres {
		err = failed(s.r, scanAsset(s.w.queryRow(ctx, pgAssetDelete, id, ifVersion, now), &a))
	} else {
		err = s.atomic(ctx, func(q querier) error {
			if err := scanAsset(q.queryRow(ctx, sqlAssetDelete, id, ifVersion), &a); err != nil {
				return failed(q, err)
			}
			return failed(q, recordEvent(ctx, q, icymorning.TopicAssetDeletion, &a, now))
		})
	}
	if err != nil {
		return nil, err
	}
	return &a, nil
}
