// Package pgschema gives a test or a benchmark an empty PostgreSQL schema
// of its own inside a shared database, so that runs side by side, or one
// after a crashed one, never see each other's tables.
package pgschema

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
)

// validPrefix keeps the schema name a plain lower-case identifier, which
// needs no quoting in SQL or in search_path.
var validPrefix = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// Create makes a new schema, named prefix followed by twelve random hex
// digits, in the database at baseURL (a postgres:// or postgresql:// URL),
// and returns that URL with search_path set to the schema, and the function
// that drops the schema and everything in it. drop works on a connection
// of its own, bounded by 30 seconds, so it can run after ctx has ended.
func Create(ctx context.Context, baseURL, prefix string) (schemaURL string, drop func() error, err error) {
	if !validPrefix.MatchString(prefix) {
		return "", nil, fmt.Errorf("pgschema: prefix %q is not a lower-case identifier", prefix)
	}
	// Parsed before anything is created; the URL is not quoted in errors,
	// as it may hold a password.
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", nil, errors.New("pgschema: the database URL is not a postgres:// or postgresql:// URL")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := prefix + hex.EncodeToString(b)

	conn, err := pgx.Connect(ctx, baseURL)
	if err != nil {
		return "", nil, fmt.Errorf("pgschema: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, fmt.Errorf("pgschema: create schema %s: %w", schema, err)
	}
	drop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, baseURL)
		if err != nil {
			return fmt.Errorf("pgschema: drop schema %s: %w", schema, err)
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			return fmt.Errorf("pgschema: drop schema %s: %w", schema, err)
		}
		return nil
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}
