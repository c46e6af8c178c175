package cdn

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
)

// The purger: the outbox's second consumer, beside the notification
// dispatcher, woken by the same nudges and sweeps. One purger at a time
// holds the store's cursor (a lease); it reads the events past it, turns
// them into the few paths they changed, makes one invalidation of them,
// and only then moves the cursor. So a failed invalidation leaves the
// cursor where it was, and the next sweep (the worker's minute schedule
// at the latest) sends it again: nothing is lost, and no write waits for
// it, for writes only record their event.
//
// Coalescing: the paths are wildcards, one per collection (the resource,
// its list and the list's query-string variants all start with the
// collection's path), so an invalidation holds at most two paths whatever
// it covers. At most one is made per Interval: the writes that commit in
// between wait for the next, which takes them all. A burst of writes
// makes about one invalidation per Interval while it lasts.
//
// Commit order: PostgreSQL gives event ids in the order inserts ask for
// them, and a transaction that took a lower id can commit after one that
// took a higher. So an id the cursor passes without seeing it is kept as
// a gap, and looked for again until it shows up or GapTimeout passes (a
// transaction that rolled back leaves a gap for good).

// The paths of each collection: see httpapi/routes.go. The subscriptions'
// and deliveries' reads are never cached (infrastructure/cdn.tf).
const (
	assetPaths   = "/api/v1/assets*"
	analystPaths = "/api/v1/analysts*"
)

// Options tune a Purger. Zero values take the defaults.
type Options struct {
	// Interval is the shortest time between two invalidations
	// (CDN_INVALIDATION_INTERVAL; default 10 s). CloudFront allows 15
	// wildcard paths in progress at once; an invalidation takes seconds
	// to a minute or two.
	Interval time.Duration
	// Lease is how long a purger holds the cursor before another may take
	// it (default Interval + 1 min).
	Lease time.Duration
	// GapTimeout is how long a missing event id is looked for (default
	// 5 min: far longer than any write's transaction).
	GapTimeout time.Duration
	// MaxGaps bounds the gaps kept (default 1,000), the newest kept.
	MaxGaps int
	// Page is how many events one query reads (default 5,000), and
	// MaxPages how many pages one invalidation covers (default 20).
	Page, MaxPages int
	// Poll is how often Run looks for work (default 1 s).
	Poll time.Duration
	// DailyPaths is how many paths may be invalidated in a UTC day
	// (CDN_INVALIDATION_DAILY_PATHS; 0: no limit). CloudFront bills each
	// path past the month's first 1,000 (0.005 USD); under writes that
	// never stop, one invalidation per 10 s would be about 17,000 paths a
	// day. Past the budget the changes are passed over, not queued:
	// cached reads then refresh by their s-maxage (CACHE_S_MAXAGE + 30 s
	// at worst), and invalidation resumes the next day.
	DailyPaths int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Interval <= 0 {
		o.Interval = 10 * time.Second
	}
	if o.Lease <= 0 {
		o.Lease = o.Interval + time.Minute
	}
	if o.GapTimeout <= 0 {
		o.GapTimeout = 5 * time.Minute
	}
	if o.MaxGaps <= 0 {
		o.MaxGaps = 1000
	}
	if o.Page <= 0 {
		o.Page = 5000
	}
	if o.MaxPages <= 0 {
		o.MaxPages = 20
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Purger invalidates the CDN's cached reads of what writes changed.
type Purger struct {
	store  icymorning.InvalidationStore
	inv    Invalidator
	logger *slog.Logger
	opts   Options
}

// NewPurger returns a Purger. logger may be nil.
func NewPurger(store icymorning.InvalidationStore, inv Invalidator, logger *slog.Logger, opts Options) *Purger {
	if logger == nil {
		logger = slog.Default()
	}
	return &Purger{store: store, inv: inv, logger: logger, opts: opts.withDefaults()}
}

// Result counts what a sweep did.
type Result struct {
	// Busy: another purger held the cursor (and was told to look again).
	Busy bool
	// Invalidations made, and the changes they covered.
	Invalidations, Changes int
}

// errLater is a round that had work but not the time to wait for the
// interval before ctx's deadline: left due for the next sweep.
var errLater = errors.New("cdn: no time left to wait for the interval")

// callBudget is the time a round keeps for its invalidation after waiting
// out the interval, and Sweep for letting go of the cursor.
const callBudget = 5 * time.Second

// Sweep takes the cursor and invalidates what lies past it, over and over
// while other purgers ask it to look again, until ctx's deadline comes
// near. It does nothing when another purger holds the cursor: that one
// looks again before it lets go.
func (p *Purger) Sweep(ctx context.Context) (Result, error) {
	var res Result
	c, err := p.store.ClaimInvalidation(ctx, newToken(), p.opts.Lease)
	if err != nil || c == nil {
		res.Busy = c == nil && err == nil
		return res, err
	}
	for {
		made, n, err := p.round(ctx, c)
		if made {
			res.Invalidations++
			res.Changes += n
		}
		// Letting go must not fail because ctx has (nearly) ended.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), callBudget)
		if err != nil {
			_, rerr := p.store.ReleaseInvalidation(rctx, c, p.opts.Lease, true)
			cancel()
			if errors.Is(err, errLater) {
				return res, rerr
			}
			return res, errors.Join(err, rerr)
		}
		again, err := p.store.ReleaseInvalidation(rctx, c, p.opts.Lease, false)
		cancel()
		if err != nil || !again {
			return res, err
		}
	}
}

// round makes one invalidation of what lies past c, if anything does,
// and moves c past it; it reports whether it made one, and how many
// changes that covered. On error
// c is as it was, but for the time of the attempt, which is stored so
// that retries keep the interval too.
func (p *Purger) round(ctx context.Context, c *icymorning.InvalidationCursor) (made bool, changed int, err error) {
	next := *c
	next.Gaps = slices.Clone(c.Gaps)
	everything := next.High < 0
	if everything {
		// The first round since the CDN was turned on: what is cached may
		// be from any time before, so everything goes; the cursor starts
		// near the newest event, where ids may still be missing.
		last, err := p.store.LastEventID(ctx)
		if err != nil {
			return false, 0, err
		}
		next.High = max(0, last-int64(p.opts.Page))
	}
	changes, err := p.read(ctx, &next)
	if err != nil {
		return false, 0, err
	}
	if len(changes) == 0 && !everything {
		if len(next.Gaps) != len(c.Gaps) { // some timed out: forget them
			if _, err := p.store.AdvanceInvalidation(ctx, &next, p.opts.Lease); err != nil {
				return false, 0, err
			}
			*c = next
		}
		return false, 0, nil
	}
	if wait := next.LastSent.Add(p.opts.Interval).Sub(p.opts.Now()); wait > 0 {
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait+callBudget {
			return false, 0, errLater
		}
		p.logger.LogAttrs(ctx, slog.LevelDebug, "cdn invalidation waits for its interval",
			slog.Duration("wait", wait), slog.Int("changes", len(changes)))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false, 0, ctx.Err()
		case <-t.C:
		}
		// What committed meanwhile goes with this invalidation.
		more, err := p.read(ctx, &next)
		if err != nil {
			return false, 0, err
		}
		changes = append(changes, more...)
	}
	paths := pathsOf(changes, everything)
	ref := callerRef(next.Epoch, next.High, changes)
	start := p.opts.Now()
	today := start.UTC().Format(time.DateOnly)
	if next.BudgetDay != today {
		next.BudgetDay, next.BudgetPaths = today, 0
	}
	if p.opts.DailyPaths > 0 && next.BudgetPaths+len(paths) > p.opts.DailyPaths {
		p.logger.LogAttrs(ctx, slog.LevelWarn, "cdn invalidation budget for today is spent; cached reads refresh by their s-maxage",
			slog.Int("daily_paths", p.opts.DailyPaths), slog.Int("changes", len(changes)), slog.Any("paths", paths))
		ok, err := p.store.AdvanceInvalidation(ctx, &next, p.opts.Lease)
		if err != nil {
			return false, 0, err
		}
		if !ok {
			return false, 0, errors.New("cdn: the invalidation cursor's lease was lost")
		}
		*c = next
		return false, 0, nil
	}
	id, err := p.inv.Invalidate(ctx, ref, paths)
	if err != nil {
		p.logger.LogAttrs(ctx, slog.LevelWarn, "cdn invalidation failed; the next sweep retries it",
			slog.Int("changes", len(changes)), slog.Any("paths", paths), slog.String("error", err.Error()))
		tried := *c
		tried.LastSent = start
		if _, serr := p.store.AdvanceInvalidation(context.WithoutCancel(ctx), &tried, p.opts.Lease); serr == nil {
			*c = tried
		}
		return false, 0, err
	}
	next.LastSent = start
	next.BudgetPaths += len(paths)
	ok, err := p.store.AdvanceInvalidation(ctx, &next, p.opts.Lease)
	if err != nil {
		// Made but not recorded: the next round sends the same batch
		// again (with any later changes), which CloudFront takes for the
		// same invalidation when nothing was added.
		return false, 0, err
	}
	if !ok {
		return false, 0, errors.New("cdn: the invalidation cursor's lease was lost")
	}
	*c = next
	p.logger.LogAttrs(ctx, slog.LevelInfo, "cdn invalidation", slog.String("invalidation_id", id),
		slog.Any("paths", paths), slog.Int("changes", len(changes)), slog.Int64("through_event", next.High),
		slog.Int("gaps", len(next.Gaps)), slog.Duration("duration", p.opts.Now().Sub(start)))
	return true, len(changes), nil
}

// read reads the changes past c, page by page, and moves c past them.
func (p *Purger) read(ctx context.Context, c *icymorning.InvalidationCursor) ([]icymorning.Change, error) {
	var all []icymorning.Change
	for range p.opts.MaxPages {
		page, err := p.store.ChangesAfter(ctx, c, p.opts.Page)
		if err != nil {
			return nil, err
		}
		advance(c, page, p.opts.Now(), p.opts.GapTimeout, p.opts.MaxGaps)
		all = append(all, page...)
		if len(page) < p.opts.Page {
			break
		}
	}
	return all, nil
}

// advance moves c past changes (in id order, as ChangesAfter returns
// them): the gaps they fill are closed, the ids they skip become gaps
// seen at now, and gaps older than timeout are given up, as are the
// oldest beyond max.
func advance(c *icymorning.InvalidationCursor, changes []icymorning.Change, now time.Time, timeout time.Duration, most int) {
	seen := make(map[int64]bool, len(changes))
	for _, ch := range changes {
		seen[ch.EventID] = true
	}
	gaps := c.Gaps[:0:0]
	for _, g := range c.Gaps {
		if !seen[g.ID] && now.Sub(g.Since) < timeout {
			gaps = append(gaps, g)
		}
	}
	high := c.High
	for _, ch := range changes {
		if ch.EventID <= high {
			continue
		}
		// Ids start at 1; only the newest of a long run of missing ids
		// can be kept.
		for id := max(high+1, 1, ch.EventID-int64(most)); id < ch.EventID; id++ {
			gaps = append(gaps, icymorning.InvalidationGap{ID: id, Since: now})
		}
		high = ch.EventID
	}
	if len(gaps) > most {
		gaps = gaps[len(gaps)-most:]
	}
	c.High, c.Gaps = high, gaps
}

// pathsOf is what changes invalidate, sorted; everything: both
// collections. A topic this purger does not know invalidates both.
func pathsOf(changes []icymorning.Change, everything bool) []string {
	set := map[string]bool{}
	if everything {
		set[assetPaths], set[analystPaths] = true, true
	}
	for _, ch := range changes {
		switch {
		case strings.HasPrefix(string(ch.Topic), "asset::"):
			set[assetPaths] = true
		case strings.HasPrefix(string(ch.Topic), "analyst::"):
			set[analystPaths] = true
		default:
			set[assetPaths], set[analystPaths] = true, true
		}
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// callerRef names an invalidation by what it covers: the cursor's epoch,
// the id it reaches and the ids of its changes. The same batch sent again
// (its first try made it, but the cursor was not moved) gets the same
// reference, which CloudFront answers with the invalidation it made; any
// other batch gets another.
func callerRef(epoch string, high int64, changes []icymorning.Change) string {
	h := sha256.New()
	var b [8]byte
	for _, ch := range changes {
		binary.BigEndian.PutUint64(b[:], uint64(ch.EventID))
		h.Write(b[:])
	}
	return fmt.Sprintf("icy-morning-%s-%d-%d-%x", epoch, high, len(changes), h.Sum(nil)[:8])
}

// newToken is a lease holder's name.
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Run sweeps whenever the store says there is work, until ctx ends: the
// purger of serve and worker, which have no nudges of their own. A
// failure is logged and tried again after Interval.
func (p *Purger) Run(ctx context.Context) {
	for {
		wait := p.opts.Poll
		due, err := p.store.InvalidationDue(ctx)
		if err == nil && due {
			_, err = p.Sweep(ctx)
		}
		if err != nil && ctx.Err() == nil {
			p.logger.LogAttrs(ctx, slog.LevelWarn, "cdn sweep failed; trying again", slog.String("error", err.Error()))
			wait = p.opts.Interval
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
