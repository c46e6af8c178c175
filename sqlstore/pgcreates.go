package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
)

// Group commit of asset creates on PostgreSQL. A create is one statement
// (the insert and its event, pgAssetInsert) and one commit; on a small
// machine under load the server's time goes to running and committing
// statements one by one, not to the disk (PostgreSQL already flushes
// concurrent commits' WAL together). So the creates that arrive while
// the inserters are busy are gathered into one multi-row statement: one
// round trip, one plan, one commit for the lot. Nothing changes about
// durability: every create is answered after the commit that holds it,
// with synchronous_commit as the server has it.
//
// A failing create must fail alone. PostgreSQL aborts a whole statement on
// an error (an unknown analyst_id), and then nothing of it was committed,
// so the batch is run again create by create, each with its own answer.
// An outage fails the batch: whether a commit whose answer was lost took
// effect is unknown, as it is for a single statement, and nothing is run
// twice.
//
// Hand-written: pgx pipelines statements (pgx.Batch) but gathers none
// across callers, and a pipeline of inserts in one transaction would still
// run each insert's plan and abort on the first failure.

// maxCreateBatch bounds the rows of one statement.
const maxCreateBatch = 64

// createWriteBudget bounds a batch whose creates have no deadline of
// their own (HTTP requests have one: see the request budget).
const createWriteBudget = 15 * time.Second

// pgAssetInsertMany inserts $1..$7, one array element per asset, with
// their events. A create naming an analyst that does not exist is left
// out (and answered so), not allowed to abort its batch-mates' statement;
// the foreign key still guards against an analyst deleted meanwhile. The
// ids are drawn in the input CTE, which is materialized
// (it is referenced twice and calls nextval), so that each returned row
// can be matched to its create by ord: the order of RETURNING is not
// promised.
const pgAssetInsertMany = `WITH input AS (
  SELECT nextval(pg_get_serial_sequence('assets', 'id')) AS id, t.*
  FROM unnest($1::text[], $2::text[], $3::date[], $4::boolean[], $5::bigint[], $6::timestamptz[], $7::text[]) WITH ORDINALITY
    AS t(name, description, inception_date, is_active, analyst_id, at, actor, ord)
),
a AS (
  INSERT INTO assets (id, name, description, inception_date, is_active, analyst_id, created_at, updated_at, created_by, updated_by)
  SELECT id, name, description, inception_date, is_active, analyst_id, at, at, actor, actor FROM input
  WHERE EXISTS (SELECT 1 FROM analysts WHERE analysts.id = input.analyst_id)
  ORDER BY ord
  RETURNING ` + assetColumns + `
),
e AS (` + pgEventInsert + `SELECT '` + string(icymorning.TopicAssetCreation) + `', a.id, a.analyst_id, ` + pgSnapshot + `, a.created_at FROM a ORDER BY a.id)
SELECT input.ord, ` + assetColumnsOfA + ` FROM a JOIN input ON input.id = a.id`

// create is one CreateAsset waiting for, or run by, an inserter. in is
// the caller's asset as given; out, the stored one, is the caller's to
// read once done has answered nil.
type create struct {
	queued
	in, out icymorning.Asset
	refused error // set by a batch's statement that left the create out
	at      time.Time
	by      *string    // the caller's principal (audit.go), read in its goroutine
	done    chan error // buffered: the inserter never waits on it
}

// creates runs the inserters, goroutines that each take whatever creates
// are queued when they are free.
type creates struct {
	queue chan *create
	quit  chan struct{}
	// internal wraps the batcher's own errors the way the store wraps a
	// driver's.
	internal func(what string, err error) error
	wg       sync.WaitGroup
	closed   sync.Once
	exited   chan struct{} // closed by stop once every inserter has returned
	// many runs one multi-row statement; one runs a single create the way
	// a store without batching would.
	many func(ctx context.Context, cs []*create) error
	one  func(ctx context.Context, c *create) error
	// statements counts the statements that committed creates, and
	// committed the creates they held, for tests (export_test.go).
	statements, committed atomic.Int64
	// beforeInsert, when set (by tests), runs as an inserter starts a
	// batch: a test holds the inserters there while creates queue.
	beforeInsert atomic.Pointer[func()]
}

func newCreates(inserters int, s *Store) *creates {
	b := &creates{queue: make(chan *create, maxCreateBatch), quit: make(chan struct{}), exited: make(chan struct{}),
		internal: s.internal, many: s.insertAssets, one: s.insertOne}
	for range inserters {
		b.wg.Go(b.run)
	}
	return b
}

// stop ends the inserters after their current statements; creates still
// queued are answered with errClosed.
func (b *creates) stop() {
	b.closed.Do(func() {
		close(b.quit)
		b.wg.Wait()
		close(b.exited)
	})
	<-b.exited
	for {
		select {
		case c := <-b.queue:
			if c.claim() {
				c.done <- b.internal("insert asset", errClosed)
			}
		default:
			return
		}
	}
}

// do queues c and returns its answer. A caller whose context ends returns
// at once: before its create is taken, the create is not run; after, its
// outcome is unknown to it, as when a single statement is cancelled.
func (b *creates) do(c *create) error {
	select {
	case b.queue <- c:
	case <-b.quit:
		return b.internal("insert asset", errClosed)
	case <-c.ctx.Done():
		return b.internal("wait for an inserter", c.ctx.Err())
	}
	select {
	case err := <-c.done:
		return err
	case <-b.exited:
		// A send races quit (select picks at random among ready cases),
		// so a create can land in the queue after the inserters and
		// stop's drain have gone. Taken before that, it has its answer.
		if c.drop() {
			return b.internal("insert asset", errClosed)
		}
		return <-c.done
	case <-c.ctx.Done():
		if c.drop() {
			return b.internal("wait for an inserter", c.ctx.Err())
		}
		// Taken: the statement may still commit it. Wait no longer than
		// the caller would have for a statement of its own.
		select {
		case err := <-c.done:
			return err
		default:
			return b.internal("insert asset", c.ctx.Err())
		}
	}
}

func (b *creates) run() {
	batch := make([]*create, 0, maxCreateBatch)
	for {
		select {
		case <-b.quit:
			return
		default:
		}
		var c *create
		select {
		case c = <-b.queue:
		case <-b.quit:
			return
		}
		batch = batch[:0]
		for {
			if c.claim() {
				batch = append(batch, c)
			}
			if len(batch) == maxCreateBatch {
				break
			}
			select {
			case c = <-b.queue:
				continue
			default:
			}
			break
		}
		if len(batch) > 0 {
			b.insert(batch)
		}
		clear(batch) // let the answered creates go
	}
}

// insert runs batch as one statement and answers each create.
func (b *creates) insert(batch []*create) {
	if hold := b.beforeInsert.Load(); hold != nil {
		(*hold)()
	}
	ctx, cancel := batchContext(batch)
	defer cancel()
	if len(batch) == 1 {
		b.answer(batch[0], b.one(ctx, batch[0]))
		return
	}
	err := b.many(ctx, batch)
	if err == nil {
		b.statements.Add(1)
		for _, c := range batch {
			if c.refused == nil {
				b.committed.Add(1)
			}
			c.done <- c.refused
		}
		return
	}
	if icymorning.ErrorCode(err) == icymorning.EUNAVAILABLE || errors.Is(err, context.Canceled) {
		for _, c := range batch {
			c.done <- err
		}
		return
	}
	// The server refused the statement, so none of it was committed: each
	// create runs again alone and gets its own answer.
	for _, c := range batch {
		b.answer(c, b.one(ctx, c))
	}
}

func (b *creates) answer(c *create, err error) {
	if err == nil {
		b.statements.Add(1)
		b.committed.Add(1)
	}
	c.done <- err
}

// batchContext is the context of a batch's statements: not cancelled by
// any one caller (that would fail its batch-mates), and ending with the
// latest deadline among them, so that no statement outlives everyone
// waiting for it.
func batchContext(batch []*create) (context.Context, context.CancelFunc) {
	var latest time.Time
	for _, c := range batch {
		d, ok := c.ctx.Deadline()
		if !ok {
			d = time.Now().Add(createWriteBudget)
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(context.WithoutCancel(batch[0].ctx), latest)
}

// insertAssets is creates.many for the store: one statement for all of cs.
func (s *Store) insertAssets(ctx context.Context, cs []*create) error {
	n := len(cs)
	names, descriptions := make([]string, n), make([]*string, n)
	dates, active := make([]any, n), make([]bool, n)
	analysts, ats, actors := make([]int64, n), make([]time.Time, n), make([]*string, n)
	for i, c := range cs {
		names[i], descriptions[i] = c.in.Name, c.in.Description
		dates[i], active[i] = s.dateArg(c.in.InceptionDate), c.in.IsActive
		analysts[i], ats[i], actors[i] = c.in.AnalystID, c.at, c.by
	}
	rs, err := s.w.query(ctx, pgAssetInsertMany, names, descriptions, dates, active, analysts, ats, actors)
	if err != nil {
		return s.internal("insert assets", err)
	}
	defer rs.Close()
	stored := make([]bool, n)
	for rs.Next() {
		var ord int64
		var a icymorning.Asset
		if err := scanAsset(ordered{rs, &ord}, &a); err != nil {
			return s.internal("insert assets", err)
		}
		if ord < 1 || ord > int64(n) {
			return s.internal("insert assets", fmt.Errorf("row %d of %d", ord, n))
		}
		if stored[ord-1] {
			return s.internal("insert assets", fmt.Errorf("row %d returned twice", ord))
		}
		cs[ord-1].out, stored[ord-1] = a, true
	}
	if err := rs.Err(); err != nil {
		return s.internal("insert assets", err)
	}
	for i, c := range cs {
		if !stored[i] {
			c.refused = analystMissing(c.in.AnalystID)
		}
	}
	return nil
}

// insertOne is creates.one for the store.
func (s *Store) insertOne(ctx context.Context, c *create) error {
	c.out = c.in
	return s.insertAsset(ctx, &c.out, c.at, c.by)
}

// ordered scans a row of pgAssetInsertMany: its ord, then an asset.
type ordered struct {
	rows
	ord *int64
}

func (o ordered) Scan(dest ...any) error {
	return o.rows.Scan(append([]any{o.ord}, dest...)...)
}
