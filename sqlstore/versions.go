package sqlstore

import (
	"context"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
)

// A write that applies only to one version of its row has the condition
// "(CAST($n AS BIGINT) = 0 OR version = CAST($n AS BIGINT))": parameter $n
// is that version, or 0 for any. It is part of the statement that writes,
// so no other write can come between the check and the change. CAST gives
// the parameter a type both dialects know (PostgreSQL cannot infer one
// from "$n = 0" alone).

// version runs query (a sql*Version statement) for id: the row's version
// and when it last changed, or ENOTFOUND.
func (s *Store) version(ctx context.Context, query, kind string, id int64) (int64, time.Time, error) {
	var v int64
	var at time.Time
	if err := s.r.queryRow(ctx, query, id).Scan(&v, &at); err != nil {
		if isNoRows(err) {
			return 0, time.Time{}, notFound(kind, id)
		}
		return 0, time.Time{}, s.internal("get "+kind+" version", err)
	}
	return v, at.UTC(), nil
}

// missing explains a write to id that changed no row: ENOTFOUND, or ESTALE
// when it named a version (ifVersion) and the row has another. It reads
// on the reader pool, after the write's statement (PostgreSQL).
func (s *Store) missing(ctx context.Context, query, kind string, id, ifVersion int64) error {
	return s.missingOn(ctx, s.r, query, kind, id, ifVersion)
}

// missingOn is missing on q, for a write still inside its transaction.
func (s *Store) missingOn(ctx context.Context, q querier, query, kind string, id, ifVersion int64) error {
	if ifVersion == 0 {
		return notFound(kind, id)
	}
	var v int64
	var at time.Time
	switch err := q.queryRow(ctx, query, id).Scan(&v, &at); {
	case err == nil:
		return icymorning.Stale(kind, id)
	case isNoRows(err):
		return notFound(kind, id)
	default:
		return s.internal("check "+kind+" version", err)
	}
}
