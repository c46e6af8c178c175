package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"

	icymorning "github.com/icy-morning/icy-morning"
)

// Group commit on SQLite. Every write commits with synchronous=FULL, so an
// acknowledged write survives a power cut; that costs an fsync per commit,
// and one fsync per write capped creates at the disk's fsync rate. The
// committer gathers the writes that arrive while the writer connection is
// busy and commits them together: one fsync for many acknowledged writes,
// and still none acknowledged before the commit that holds it.
//
// Each write runs inside its own SAVEPOINT, so a failing statement (an
// unknown analyst, a constraint) is rolled back alone and fails only its
// own request, never its batch-mates.
//
// A write's function runs in its caller's goroutine, handed the batch's
// transaction when its turn comes: the committer only sequences. So a panic
// (or a test's t.Fatal) stays in the goroutine it belongs to, and what the
// function writes into its caller's variables is never touched by another
// goroutine.
//
// Within a batch the writer connection prepares each statement once
// (stmtCache) and reuses it for every write, so that a statement is parsed
// once a batch, not once a write. Between batches the connection goes back
// to its pool of one, statements closed, as before: migrations, and reads
// of an in-memory database, use that pool too and wait for no more than a
// batch.

// maxBatch bounds the writes of one transaction, and so the time the first
// of them waits for its answer.
const maxBatch = 256

// The statements of a batch. One savepoint name suffices: each write's
// savepoint is released before the next one starts.
const (
	sqlBatchBegin     = `BEGIN IMMEDIATE` // take the write lock up front (see sqliteParams)
	sqlBatchCommit    = `COMMIT`
	sqlBatchRollback  = `ROLLBACK`
	sqlWriteSavepoint = `SAVEPOINT batch_write`
	sqlWriteRelease   = `RELEASE batch_write`
	sqlWriteUndo      = `ROLLBACK TO batch_write`
)

// errClosed answers writes that reach a closed store.
var errClosed = errors.New("the store is closed")

// errAbandoned is what the committer hears from a write whose function
// panicked (or exited its goroutine): the write is rolled back, and the
// panic goes on in its own goroutine.
var errAbandoned = errors.New("the write's function did not return")

// The states of a queued write: the committer claims it when its turn
// comes; its caller drops it if its context ends first.
const (
	writeQueued int32 = iota
	writeClaimed
	writeDropped
)

// write is one change to the data, waiting for or being run by the
// committer.
type write struct {
	queued
	fn func(q querier) error
	// next tells the caller to run fn on a querier, or gives the answer;
	// ran reports fn's error back to the committer. Both are buffered, so
	// neither side ever waits on the other to receive.
	next chan step
	ran  chan error
}

// step is what the committer tells a write's caller: run fn on q, or,
// when q is nil, the write's answer err.
type step struct {
	q   querier
	err error
}

// committer owns the SQLite writer connection for writes.
type committer struct {
	db *sql.DB
	// internal wraps the committer's own errors (begin, commit) the way
	// the store wraps every driver error.
	internal func(what string, err error) error
	queue    chan *write
	quit     chan struct{} // closed by stop
	exited   chan struct{} // closed when run returns
	stopOnce sync.Once
	// commits counts committed transactions and committed the writes they
	// held, for tests (export_test.go).
	commits, committed atomic.Int64
	// beforeCommit, when set (by tests), runs between a batch's last write
	// and its COMMIT: a test holds a batch there to see that no write is
	// answered before its commit.
	beforeCommit atomic.Pointer[func()]

	// prepared counts the statements prepared on the writer, for tests.
	prepared atomic.Int64
}

func newCommitter(db *sql.DB, internal func(string, error) error) *committer {
	c := &committer{db: db, internal: internal, queue: make(chan *write, maxBatch),
		quit: make(chan struct{}), exited: make(chan struct{})}
	go c.run()
	return c
}

// stop ends the committer after the batch it is running, if any. Writes
// still queued are answered with errClosed.
func (c *committer) stop() {
	c.stopOnce.Do(func() { close(c.quit) })
	<-c.exited
}

// do runs fn as one write of a batch and returns once the batch has
// committed (fn's own error if fn failed, or the commit's). A write whose
// context ends while it waits for its turn is not run; once it has run it
// waits for its commit, so that its answer is what the database holds.
func (c *committer) do(ctx context.Context, fn func(q querier) error) error {
	if err := ctx.Err(); err != nil {
		return c.internal("wait for the writer", err)
	}
	w := &write{queued: queued{ctx: ctx}, fn: fn, next: make(chan step, 1), ran: make(chan error, 1)}
	select {
	case c.queue <- w:
	case <-c.quit:
		return c.internal("write", errClosed)
	case <-ctx.Done():
		return c.internal("wait for the writer", ctx.Err())
	}
	done := ctx.Done()
	for {
		select {
		case s := <-w.next:
			if s.q == nil {
				return s.err
			}
			w.ran <- w.call(s.q)
		case <-done:
			if w.drop() || w.state.Load() == writeDropped {
				return c.internal("wait for the writer", ctx.Err())
			}
			done = nil // claimed: its answer is coming
		case <-c.exited:
			// The committer answers every write it claimed before it
			// exits, so an answer, if any, is already waiting.
			select {
			case s := <-w.next:
				return s.err
			default:
				return c.internal("write", errClosed)
			}
		}
	}
}

// call runs w's function on q in the caller's goroutine. If it does not
// return (a panic), the committer is told so before the panic goes on.
func (w *write) call(q querier) (err error) {
	returned := false
	defer func() {
		if !returned {
			w.ran <- errAbandoned
		}
	}()
	err = w.fn(q)
	returned = true
	return err
}

// queued is a change waiting in line for the goroutine that runs it (the
// SQLite committer, or a PostgreSQL inserter): its caller's context, and
// who has it, the runner or, once its context ended, its caller.
type queued struct {
	ctx   context.Context
	state atomic.Int32 // writeQueued, writeClaimed or writeDropped
}

// claim takes it for running, unless its context ended first.
func (q *queued) claim() bool {
	if q.ctx.Err() != nil {
		q.state.CompareAndSwap(writeQueued, writeDropped)
		return false
	}
	return q.state.CompareAndSwap(writeQueued, writeClaimed)
}

// drop takes it back for its caller, unless it has been claimed.
func (q *queued) drop() bool { return q.state.CompareAndSwap(writeQueued, writeDropped) }

// run takes whatever is queued when the writer is free, up to maxBatch
// writes, and commits it as one transaction. It waits for nothing more:
// while one batch commits, the next one queues.
func (c *committer) run() {
	defer close(c.exited)
	batch := make([]*write, 0, maxBatch)
	for {
		select {
		case <-c.quit: // before more work, so that stop is not starved
			return
		default:
		}
		select {
		case w := <-c.queue:
			batch = append(batch[:0], w)
		case <-c.quit:
			return
		}
	more:
		for len(batch) < maxBatch {
			select {
			case w := <-c.queue:
				batch = append(batch, w)
			default:
				break more
			}
		}
		for rest := batch; len(rest) > 0; {
			rest = c.commit(rest)
		}
		clear(batch) // let the answered writes go
	}
}

// commit runs the writes of batch in one transaction and answers each of
// them after it commits. When a write's failure takes the whole
// transaction with it (SQLite rolls back on an I/O error, a full disk or
// lack of memory), the writes that ran in it fail with that error and the
// ones not yet run are returned, to run in a new transaction: no write's
// function runs twice (InTx runs the caller's code, which may not be safe
// to repeat), and none is answered as success unless it committed.
func (c *committer) commit(batch []*write) (rest []*write) {
	ctx := context.Background()
	dbConn, err := c.db.Conn(ctx)
	if err != nil {
		c.fail(batch, c.internal("writer connection", err))
		return nil
	}
	conn := newStmtCache(dbConn, &c.prepared)
	defer conn.close()
	if _, err := conn.conn.ExecContext(ctx, sqlBatchBegin); err != nil {
		c.fail(batch, c.internal("begin transaction", err))
		return nil
	}
	q := detached{conn}
	ran := make([]*write, 0, len(batch))
	answers := make([]error, 0, len(batch))
	succeeded := 0
	for i, w := range batch {
		if !w.claim() {
			continue // its caller returns its context's error
		}
		err, lost := c.runOne(ctx, conn, q, w)
		if lost != nil {
			_, _ = conn.conn.ExecContext(ctx, sqlBatchRollback) // if SQLite has not already
			c.fail(ran, lost)
			c.fail([]*write{w}, err)
			return batch[i+1:]
		}
		ran = append(ran, w)
		answers = append(answers, err)
		if err == nil {
			succeeded++
		}
	}
	if succeeded == 0 {
		// Nothing to make durable: no fsync. The failures saw only
		// committed data, so their answers stand.
		_, _ = conn.conn.ExecContext(ctx, sqlBatchRollback)
		c.answer(ran, answers)
		return nil
	}
	if hold := c.beforeCommit.Load(); hold != nil {
		(*hold)()
	}
	if _, err := conn.conn.ExecContext(ctx, sqlBatchCommit); err != nil {
		// Whether any of it reached the disk is unknown, so no write is
		// run again (it might be applied twice) and none is answered as
		// done, not even a failure whose answer depended on a batch-mate
		// that may now never have happened.
		_, _ = conn.conn.ExecContext(ctx, sqlBatchRollback) // SQLite may keep a failed COMMIT's transaction open
		c.fail(ran, c.internal("commit", err))
		return nil
	}
	c.commits.Add(1)
	c.committed.Add(int64(succeeded))
	c.answer(ran, answers)
	return nil
}

// runOne runs w inside a savepoint of the batch's transaction and returns
// w's error. lost, when not nil, says the transaction itself is gone (the
// savepoint could not be made, released or rolled back to), and is the
// answer of the batch-mates that ran in it: w's own error when that is the
// database failing (SQLite rolls back on a full disk or an I/O error),
// never a domain error about w alone.
func (c *committer) runOne(ctx context.Context, conn *stmtCache, q querier, w *write) (err, lost error) {
	if _, err := conn.exec(ctx, sqlWriteSavepoint); err != nil {
		lost = c.internal("savepoint", err)
		return lost, lost
	}
	w.next <- step{q: q}
	if err = <-w.ran; err == nil {
		if _, err := conn.exec(ctx, sqlWriteRelease); err != nil {
			lost = c.internal("release savepoint", err)
			return lost, lost
		}
		return nil, nil
	}
	// Undo this write's statements only; its batch-mates' stay.
	if _, rerr := conn.exec(ctx, sqlWriteUndo); rerr != nil {
		return err, c.lost(err, "roll back to savepoint", rerr)
	}
	if _, rerr := conn.exec(ctx, sqlWriteRelease); rerr != nil {
		return err, c.lost(err, "release savepoint", rerr)
	}
	return err, nil
}

// lost is the batch-mates' answer when a write that failed with err took
// the transaction with it, as the savepoint's step what found (rerr).
func (c *committer) lost(err error, what string, rerr error) error {
	if icymorning.ErrorCode(err) == icymorning.EUNAVAILABLE {
		return err
	}
	return c.internal(what, rerr)
}

func (c *committer) answer(ws []*write, errs []error) {
	for i, w := range ws {
		w.next <- step{err: errs[i]}
	}
}

// fail answers the writes of ws that were claimed with err; the others'
// callers have gone or are going with their contexts' errors.
func (c *committer) fail(ws []*write, err error) {
	for _, w := range ws {
		if w.state.Load() == writeClaimed || w.claim() {
			w.next <- step{err: err}
		}
	}
}

// detached runs a write's statements without its caller's cancellation.
// SQLite answers an interrupted INSERT, UPDATE or DELETE inside a
// transaction by rolling back the whole transaction, batch-mates and all;
// a statement of a write that has started runs to its end (a request that
// gives up before its turn is not run at all).
type detached struct{ q querier }

func (d detached) queryRow(ctx context.Context, sql string, args ...any) row {
	return d.q.queryRow(context.WithoutCancel(ctx), sql, args...)
}

func (d detached) query(ctx context.Context, sql string, args ...any) (rows, error) {
	return d.q.query(context.WithoutCancel(ctx), sql, args...)
}

func (d detached) exec(ctx context.Context, sql string, args ...any) (int64, error) {
	return d.q.exec(context.WithoutCancel(ctx), sql, args...)
}
