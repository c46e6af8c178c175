package icymorning

import (
	"context"
	"time"
)

// The topics of changes that nobody is mailed about: the analysts', and
// asset updates that changed no member. They are recorded in the outbox
// like the others (in the transaction of the change) so that the CDN's
// cached reads are invalidated after they commit; nobody can subscribe to
// them (they are not in Topics), and they are recorded fanned out already,
// so the dispatcher never sees them.
const (
	TopicAnalystCreation Topic = "analyst::creation"
	TopicAnalystUpdate   Topic = "analyst::update"
	TopicAnalystDeletion Topic = "analyst::deletion"
	// TopicAssetTouch is an asset update that changed none of its members:
	// nobody is mailed, but its version (the ETag) moved, so the CDN's
	// cached reads of it are invalidated all the same.
	TopicAssetTouch Topic = "asset::touch"
)

// Change is a recorded event as the cache invalidation reads it.
type Change struct {
	EventID int64
	Topic   Topic
}

// InvalidationGap is an event id below the cursor's High that was not
// there when the cursor passed it: an id taken by a transaction that had
// not committed yet (PostgreSQL hands out ids in the order statements ask
// for them, not in the order their transactions commit), or by one that
// rolled back and never will.
type InvalidationGap struct {
	ID    int64
	Since time.Time
}

// InvalidationCursor is how far the cache invalidation has read the
// outbox, and the lease of the one consumer that may move it.
type InvalidationCursor struct {
	// Epoch is random, made with the cursor: it keeps caller references
	// made from event ids apart from those of another database.
	Epoch string
	// High is the highest event id read; -1 before the first read.
	High int64
	// Gaps are the ids below High that were missing when it passed them.
	Gaps []InvalidationGap
	// LastSent is when the last invalidation was sent (zero: never).
	LastSent time.Time
	// Token is the lease's holder.
	Token string
	// BudgetDay (UTC, YYYY-MM-DD) is the day BudgetPaths counts the paths
	// invalidated on: CloudFront bills each path past the month's first
	// thousand, so a consumer keeps a daily budget.
	BudgetDay   string
	BudgetPaths int
}

// InvalidationStore keeps the cache invalidation's cursor over the outbox.
// Nothing here is written unless a consumer runs: with no CDN, the cursor
// is never touched.
type InvalidationStore interface {
	// InvalidationDue reports, reading only, whether a consumer would
	// find work: events past the cursor, gaps to look for, or a note to
	// look again.
	InvalidationDue(ctx context.Context) (bool, error)
	// ClaimInvalidation takes the cursor's lease, under token, for lease.
	// When another holds it, it leaves the holder a note to look again
	// before letting go (see ReleaseInvalidation) and returns nil.
	ClaimInvalidation(ctx context.Context, token string, lease time.Duration) (*InvalidationCursor, error)
	// LastEventID is the highest event id committed (0: none).
	LastEventID(ctx context.Context) (int64, error)
	// ChangesAfter returns the events whose ids are above c.High or in
	// c.Gaps, in id order, at most limit.
	ChangesAfter(ctx context.Context, c *InvalidationCursor, limit int) ([]Change, error)
	// AdvanceInvalidation stores c's High, Gaps and LastSent and extends
	// its lease by lease, if c.Token still holds it; false if it does
	// not (the lease ran out and another took it).
	AdvanceInvalidation(ctx context.Context, c *InvalidationCursor, lease time.Duration) (bool, error)
	// ReleaseInvalidation lets go of c's lease, unless another consumer
	// left a note to look again meanwhile: then it clears the note, keeps
	// the lease (extended by lease) and reports again. With due set, it
	// lets go in any case and leaves the note itself, for whoever looks
	// next (work that is due was left undone).
	ReleaseInvalidation(ctx context.Context, c *InvalidationCursor, lease time.Duration, due bool) (again bool, err error)
}
