package sqlstore

import (
	"context"
	"crypto/rand"
	"encoding/base64"
)

const (
	sqlSecretInsert = `INSERT INTO secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`
	sqlSecretRead   = `SELECT value FROM secrets WHERE name = $1`
)

// Secret returns the key called name that the service keeps for itself
// (such as the link-signing key when NOTIFY_SECRET is not set), making a
// random one of size bytes the first time. Every process on the database
// gets the same key: the first insert wins, and the others read it.
func (s *Store) Secret(ctx context.Context, name string, size int) ([]byte, error) {
	fresh := make([]byte, size)
	_, _ = rand.Read(fresh) // never fails (crypto/rand's documentation)
	now := s.timestamp()
	var v string
	err := s.write(ctx, func(q querier) error {
		if _, err := q.exec(ctx, sqlSecretInsert, name, base64.StdEncoding.EncodeToString(fresh), now); err != nil {
			return s.internal("keep secret", err)
		}
		if err := q.queryRow(ctx, sqlSecretRead, name).Scan(&v); err != nil {
			return s.internal("read secret", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	key, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, s.internal("decode secret", err)
	}
	return key, nil
}
