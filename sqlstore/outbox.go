package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
)

// The outbox: every change to an asset records its event in the change's
// own transaction. On PostgreSQL the change and its event are one
// statement (a data-modifying WITH), so recording costs no round trip; on
// SQLite, which has no such statements, they are two in one transaction on
// the writer connection, which costs no round trip either.
//
// An event holds the asset's public members as JSON (events.asset):
// assetSnapshot is that object. SQLite's statements are given it as a
// parameter (JSON built in Go is cheaper than SQLite compiling the
// expression each time); PostgreSQL builds the same object with pgSnapshot
// from the row it writes, inside the statement.

// assetSnapshot is an event's JSON of its asset.
type assetSnapshot struct {
	ID            int64           `json:"id"`
	Name          string          `json:"name"`
	Description   *string         `json:"description"`
	InceptionDate icymorning.Date `json:"inception_date"`
	IsActive      bool            `json:"is_active"`
	AnalystID     int64           `json:"analyst_id"`
}

// snapshotOf is a's public members as an event holds them.
func snapshotOf(a *icymorning.Asset) ([]byte, error) {
	return json.Marshal(assetSnapshot{ID: a.ID, Name: a.Name, Description: a.Description,
		InceptionDate: a.InceptionDate, IsActive: a.IsActive, AnalystID: a.AnalystID})
}

// pgSnapshot is the asset row a as assetSnapshot's JSON.
const pgSnapshot = `jsonb_build_object('id', a.id, 'name', a.name, 'description', a.description,
  'inception_date', a.inception_date, 'is_active', a.is_active, 'analyst_id', a.analyst_id)`

const (
	assetColumnsOfA = `a.id, a.name, a.description, a.inception_date, a.is_active, a.analyst_id, a.created_at, a.updated_at, a.version`

	pgEventInsert = `INSERT INTO events (topic, asset_id, analyst_id, asset, occurred_at) `

	pgAssetInsert = `WITH a AS (` + sqlAssetInsert + `),
e AS (` + pgEventInsert + `SELECT '` + string(icymorning.TopicAssetCreation) + `', a.id, a.analyst_id, ` + pgSnapshot + `, a.created_at FROM a)
SELECT ` + assetColumns + ` FROM a`

	// The update compares the asset's snapshot before and after and
	// records an update event only when they differ; otherwise only the
	// version moved, which the CDN must see (the ETag changed) but no
	// subscriber: a touch, recorded fanned out already. "before" is read from the
	// row locked by FOR NO KEY UPDATE (the lock the UPDATE takes anyway),
	// so under concurrent updates it is the version this update replaces,
	// not the one the statement's snapshot saw.
	pgAssetUpdate = `WITH a AS (
  UPDATE assets AS a SET` + sqlAssetSet + `
  FROM (SELECT a.id, ` + pgSnapshot + ` AS before FROM assets AS a WHERE a.id = $1 FOR NO KEY UPDATE) AS o
  WHERE a.id = o.id AND (CAST($14 AS BIGINT) = 0 OR a.version = CAST($14 AS BIGINT))
  RETURNING ` + assetColumnsOfA + `, ` + pgSnapshot + ` AS after, o.before
),
e AS (` + pgEventInsertDone + `SELECT CASE WHEN a.after <> a.before THEN '` + string(icymorning.TopicAssetUpdate) + `' ELSE '` + string(icymorning.TopicAssetTouch) + `' END,
  a.id, a.analyst_id, a.after, a.updated_at, CASE WHEN a.after <> a.before THEN NULL ELSE a.updated_at END FROM a)
SELECT ` + assetColumns + ` FROM a`

	pgAssetDelete = `WITH a AS (` + sqlAssetDelete + `),
e AS (` + pgEventInsert + `SELECT '` + string(icymorning.TopicAssetDeletion) + `', a.id, a.analyst_id, ` + pgSnapshot + `, $3::timestamptz FROM a)
SELECT ` + assetColumns + ` FROM a`

	sqliteEventInsert = pgEventInsert + `VALUES ($1, $2, $3, $4, $5)`

	// pgEventInsertDone records an event fanned out already (to nobody).
	pgEventInsertDone     = `INSERT INTO events (topic, asset_id, analyst_id, asset, occurred_at, fanned_out_at) `
	sqliteEventInsertDone = pgEventInsertDone + `VALUES ($1, $2, $3, $4, $5, $5)`
)

// recordEvent records the event of topic about asset a at time at, on q:
// the SQLite half of the outbox.
func recordEvent(ctx context.Context, q querier, topic icymorning.Topic, a *icymorning.Asset, at time.Time) error {
	snapshot, err := snapshotOf(a)
	if err != nil {
		return err
	}
	_, err = q.exec(ctx, sqliteEventInsert, string(topic), a.ID, a.AnalystID, string(snapshot), at)
	return err
}

// recordTouch records that asset a's version moved at time at with no
// member changed, on q: an event for the CDN only, fanned out already
// (the SQLite half; PostgreSQL's is in pgAssetUpdate).
func recordTouch(ctx context.Context, q querier, a *icymorning.Asset, at time.Time) error {
	snapshot, err := snapshotOf(a)
	if err != nil {
		return err
	}
	_, err = q.exec(ctx, sqliteEventInsertDone, string(icymorning.TopicAssetTouch), a.ID, a.AnalystID, string(snapshot), at)
	return err
}

const eventColumns = `id, topic, asset_id, analyst_id, asset, occurred_at, fanned_out_at`

const sqlEventsPending = `SELECT ` + eventColumns + ` FROM events WHERE fanned_out_at IS NULL ORDER BY id `

// eventScan holds the columns of an event that need decoding after Scan,
// so that a joined row can scan an event beside other things.
type eventScan struct {
	topic    string
	snapshot []byte
}

func (x *eventScan) dest(e *icymorning.Event) []any {
	return []any{&e.ID, &x.topic, &e.AssetID, &e.AnalystID, &x.snapshot, &e.OccurredAt, &e.FannedOutAt}
}

func (x *eventScan) finish(e *icymorning.Event) error {
	var a assetSnapshot
	if err := json.Unmarshal(x.snapshot, &a); err != nil {
		return fmt.Errorf("event %d: asset snapshot: %w", e.ID, err)
	}
	e.Topic = icymorning.Topic(x.topic)
	e.Asset = icymorning.Asset{ID: a.ID, Name: a.Name, Description: a.Description,
		InceptionDate: a.InceptionDate, IsActive: a.IsActive, AnalystID: a.AnalystID}
	e.OccurredAt = e.OccurredAt.UTC()
	e.FannedOutAt = utcPtr(e.FannedOutAt)
	return nil
}

func scanEvent(r row, e *icymorning.Event) error {
	var x eventScan
	if err := r.Scan(x.dest(e)...); err != nil {
		return err
	}
	return x.finish(e)
}

// utcPtr is t in UTC, or nil.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// PendingEvents implements icymorning.OutboxStore.
func (s *Store) PendingEvents(ctx context.Context, limit int) ([]icymorning.Event, error) {
	out, err := list(ctx, s.r, limit, scanEvent, sqlEventsPending+limitClause(limit))
	if err != nil {
		return nil, s.internal("list pending events", err)
	}
	return out, nil
}

const deliveryColumns = `id, event_id, subscription_id, status, attempts, last_error, provider_message_id,
  created_at, updated_at, next_attempt_at, sent_at`

// deliveryScan holds the columns of a delivery that need decoding after
// Scan.
type deliveryScan struct {
	status               string
	lastError, messageID *string
}

func (x *deliveryScan) dest(d *icymorning.Delivery) []any {
	return []any{&d.ID, &d.EventID, &d.SubscriptionID, &x.status, &d.Attempts, &x.lastError, &x.messageID,
		&d.CreatedAt, &d.UpdatedAt, &d.NextAttemptAt, &d.SentAt}
}

func (x *deliveryScan) finish(d *icymorning.Delivery) {
	d.Status = icymorning.DeliveryStatus(x.status)
	d.LastError, d.ProviderMessageID = "", ""
	if x.lastError != nil {
		d.LastError = *x.lastError
	}
	if x.messageID != nil {
		d.ProviderMessageID = *x.messageID
	}
	d.CreatedAt, d.UpdatedAt, d.NextAttemptAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC(), d.NextAttemptAt.UTC()
	d.SentAt = utcPtr(d.SentAt)
}

func scanDelivery(r row, d *icymorning.Delivery) error {
	var x deliveryScan
	if err := r.Scan(x.dest(d)...); err != nil {
		return err
	}
	x.finish(d)
	return nil
}

// Deliveries implements icymorning.OutboxStore.
func (s *Store) Deliveries(ctx context.Context, f icymorning.DeliveryFilter) ([]icymorning.Delivery, error) {
	l := newListQuery(`SELECT `+deliveryColumns+` FROM deliveries`, f.After)
	equal(l, "status", f.Status)
	equal(l, "event_id", f.EventID)
	equal(l, "subscription_id", f.SubscriptionID)
	q, args := l.sql(f.Limit)
	out, err := list(ctx, s.r, f.Limit, scanDelivery, q, args...)
	if err != nil {
		return nil, s.internal("list deliveries", err)
	}
	return out, nil
}
