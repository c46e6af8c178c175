package sqlstore

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
)

// The answers to keyed POSTs (migration 6). A reservation is a row without
// a status that expires after the lease; a completed one keeps the answer
// until it expires a day later. Each statement stands alone: the INSERT's
// ON CONFLICT decides which of two racing requests holds the key, and
// takes over a row that has expired (a lapsed reservation, or a day-old
// answer) in the same statement.
const (
	sqlIdemInsert = `INSERT INTO idempotency_keys (principal, request_key, fingerprint, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (principal, request_key) DO UPDATE SET fingerprint = excluded.fingerprint, status = NULL, header = NULL,
  body = NULL, created_at = excluded.created_at, expires_at = excluded.expires_at
WHERE idempotency_keys.expires_at < excluded.created_at
RETURNING 1`
	sqlIdemGet      = `SELECT fingerprint, status, header, body FROM idempotency_keys WHERE principal = $1 AND request_key = $2`
	sqlIdemComplete = `UPDATE idempotency_keys SET status = $3, header = $4, body = $5, expires_at = $6
WHERE principal = $1 AND request_key = $2 AND status IS NULL`
	sqlIdemRelease = `DELETE FROM idempotency_keys WHERE principal = $1 AND request_key = $2 AND status IS NULL`
	sqlIdemPrune   = `DELETE FROM idempotency_keys WHERE expires_at < $1`
)

// idempotencyPruneEvery is how often, at most, a reservation also deletes
// every expired answer (indexed by expiry), so the table holds about a
// day of keyed requests.
const idempotencyPruneEvery = time.Minute

// ReserveIdempotencyKey implements icymorning.IdempotencyStore.
func (s *Store) ReserveIdempotencyKey(ctx context.Context, k icymorning.IdempotencyKey, now time.Time, lease time.Duration) (*icymorning.StoredResponse, error) {
	now = now.UTC().Truncate(time.Microsecond)
	s.pruneIdempotency(ctx, now)
	// Twice at most: the holder may complete or release between our
	// INSERT and our SELECT.
	for range 2 {
		var reserved bool
		err := s.write(ctx, func(q querier) error {
			var one int
			switch err := q.queryRow(ctx, sqlIdemInsert, k.Principal, k.Key, k.Fingerprint, now, now.Add(lease)).Scan(&one); {
			case err == nil:
				reserved = true
			case !isNoRows(err):
				return err
			}
			return nil
		})
		if err != nil {
			return nil, s.internal("reserve idempotency key", err)
		}
		if reserved {
			return nil, nil
		}
		var (
			fingerprint []byte
			status      *int64
			header      *string
			body        []byte
		)
		err = s.r.queryRow(ctx, sqlIdemGet, k.Principal, k.Key).Scan(&fingerprint, &status, &header, &body)
		switch {
		case isNoRows(err):
			continue
		case err != nil:
			return nil, s.internal("read idempotency key", err)
		case !bytes.Equal(fingerprint, k.Fingerprint):
			return nil, icymorning.FieldErrorf("Idempotency-Key", "this key was used for another request (method, path or body)")
		case status == nil:
			return nil, icymorning.ErrKeyInProgress
		}
		r := &icymorning.StoredResponse{Status: int(*status), Body: body}
		if header != nil {
			if err := json.Unmarshal([]byte(*header), &r.Header); err != nil {
				return nil, s.internal("read idempotency key", err)
			}
		}
		return r, nil
	}
	return nil, icymorning.ErrKeyInProgress
}

// CompleteIdempotencyKey implements icymorning.IdempotencyStore.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, k icymorning.IdempotencyKey, r icymorning.StoredResponse, expires time.Time) error {
	header, err := json.Marshal(r.Header)
	if err != nil {
		return s.internal("store idempotent answer", err)
	}
	return s.write(ctx, func(q querier) error {
		if _, err := q.exec(ctx, sqlIdemComplete, k.Principal, k.Key, r.Status, string(header), r.Body, expires.UTC().Truncate(time.Microsecond)); err != nil {
			return s.internal("store idempotent answer", err)
		}
		return nil
	})
}

// ReleaseIdempotencyKey implements icymorning.IdempotencyStore.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, k icymorning.IdempotencyKey) error {
	return s.write(ctx, func(q querier) error {
		if _, err := q.exec(ctx, sqlIdemRelease, k.Principal, k.Key); err != nil {
			return s.internal("release idempotency key", err)
		}
		return nil
	})
}

// pruneIdempotency deletes expired answers, at most once per
// idempotencyPruneEvery per store; a failure waits for the next time.
func (s *Store) pruneIdempotency(ctx context.Context, now time.Time) {
	if s.idemPruned == nil {
		return
	}
	last := s.idemPruned.Load()
	if now.UnixNano()-last < int64(idempotencyPruneEvery) || !s.idemPruned.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	_ = s.write(ctx, func(q querier) error {
		_, err := q.exec(ctx, sqlIdemPrune, now)
		return err
	})
}
