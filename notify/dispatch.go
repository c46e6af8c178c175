package notify

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/mail"
)

// The dispatcher turns recorded events into sent mail. Its queue is the
// delivery log (see sqlstore/dispatch.go): claims, retries and the rescue
// of a dead sender's work are columns of the deliveries table, so the log
// an operator reads is the queue itself and cannot disagree with it. This
// is why no job-queue library is used here (River was measured; see
// docs/notifications-design.md): its job table would duplicate every
// delivery's state, its client cannot run in Lambda, and the claim it
// would save us is one statement. In AWS, SQS and EventBridge only wake
// the same code up (see Sweep).

// Outbox is what the dispatcher needs of the store.
type Outbox interface {
	FanOutPending(ctx context.Context, limit int) (events, deliveries int, err error)
	ClaimDeliveries(ctx context.Context, lease time.Duration, limit int) ([]icymorning.DeliveryJob, error)
	RecordDeliveries(ctx context.Context, outcomes []icymorning.DeliveryOutcome) error
	ExpireSignUps(ctx context.Context, cutoff time.Time) (int, error)
}

// DispatchOptions tune a Dispatcher. Zero values take the defaults.
type DispatchOptions struct {
	// Connections is how many batches are sent at once, each over its own
	// connection to the mail server (MAIL_CONNECTIONS; default 4).
	Connections int
	// Batch is the most deliveries claimed and sent together (default
	// 100, lowered so a batch always finishes well within ClaimTimeout at
	// MaxPerSecond).
	Batch int
	// MaxPerSecond is the sender's rate cap (MAIL_MAX_PER_SECOND), which
	// bounds the batch size; 0 means none.
	MaxPerSecond float64
	// ClaimTimeout is how long a claimed delivery is left to this
	// dispatcher before another may take it (default 2 min).
	ClaimTimeout time.Duration
	// Poll is how often an idle dispatcher looks for new events and due
	// retries (default 200 ms).
	Poll time.Duration
	// RetryBase and RetryMax shape the backoff of transient failures: the
	// n-th retry waits RetryBase×2^(n-1), at most RetryMax, ±20 % (default
	// 1 min and 6 h).
	RetryBase, RetryMax time.Duration
	// MaxAttempts is the attempts after which a transiently failing
	// delivery is dead (default 14: with the default backoff, more than
	// 24 hours of trying even at the low end of the jitter).
	MaxAttempts int
	// Now is the clock of sign-up expiry; nil means time.Now.
	Now func() time.Time
	// FanOutBudget and SendBudget bound a sweep's rounds (see Sweep;
	// default 1 s and 10 s).
	FanOutBudget, SendBudget time.Duration
}

// Defaults of DispatchOptions.
const (
	defaultConnections  = 4
	defaultBatch        = 100
	defaultClaimTimeout = 2 * time.Minute
	defaultPoll         = 200 * time.Millisecond
	defaultRetryBase    = time.Minute
	defaultRetryMax     = 6 * time.Hour
	defaultMaxAttempts  = 14
	// expireEvery is how often Run ends unconfirmed sign-ups.
	expireEvery = time.Hour
	// recordTimeout bounds the recording of a batch's outcomes.
	recordTimeout = 5 * time.Second
	// fanOutPage is the most events fanned out in one transaction.
	fanOutPage = 100
	// fanOutDeliveries is about the most deliveries one fan-out
	// transaction should create: what a single event to 10,000
	// subscribers creates, which took 10-20 ms on SQLite and 20-70 ms on
	// PostgreSQL (docs/performance.md). A page of 100 such events would
	// hold SQLite's writer, and so every POST, for a second or two.
	fanOutDeliveries = 10_000
)

func (o DispatchOptions) withDefaults() DispatchOptions {
	if o.Connections < 1 {
		o.Connections = defaultConnections
	}
	if o.Batch < 1 {
		o.Batch = defaultBatch
	}
	if o.ClaimTimeout <= 0 {
		o.ClaimTimeout = defaultClaimTimeout
	}
	if o.MaxPerSecond > 0 {
		// All connections share the rate: a batch must be sent in half
		// the claim timeout even when every connection is busy.
		fit := int(o.MaxPerSecond * o.ClaimTimeout.Seconds() / 2 / float64(o.Connections))
		o.Batch = max(1, min(o.Batch, fit))
	}
	if o.Poll <= 0 {
		o.Poll = defaultPoll
	}
	if o.RetryBase <= 0 {
		o.RetryBase = defaultRetryBase
	}
	if o.RetryMax <= 0 {
		o.RetryMax = defaultRetryMax
	}
	if o.MaxAttempts < 1 {
		o.MaxAttempts = defaultMaxAttempts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.FanOutBudget <= 0 {
		o.FanOutBudget = defaultFanOutBudget
	}
	if o.SendBudget <= 0 {
		o.SendBudget = defaultSendBudget
	}
	return o
}

// Dispatcher sends the mails of recorded events: it fans each event out
// into deliveries, claims the due ones in batches, sends them, and records
// each outcome. Any number of dispatchers may run on one database.
type Dispatcher struct {
	store    Outbox
	composer *Composer
	sender   mail.Sender
	logger   *slog.Logger
	opts     DispatchOptions
	wake     chan struct{}
	// fanOutLimit is how many events the next fan-out transaction takes
	// (see nextFanOutLimit). It starts at one: until a page has shown how
	// many subscribers an event has, a full page could be a million
	// deliveries.
	fanOutLimit atomic.Int64
}

// NewDispatcher returns a Dispatcher. logger may be nil.
func NewDispatcher(store Outbox, c *Composer, sender mail.Sender, logger *slog.Logger, opts DispatchOptions) *Dispatcher {
	if logger == nil {
		logger = slog.Default()
	}
	d := &Dispatcher{store: store, composer: c, sender: sender, logger: logger, opts: opts.withDefaults(),
		wake: make(chan struct{}, 1)}
	d.fanOutLimit.Store(1)
	return d
}

// Wake makes a running dispatcher look for work now rather than at its
// next poll.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run sweeps until ctx ends: at once, then whenever woken or every Poll.
// A failing sweep (the database is down) is logged and tried again later;
// Run returns only when ctx ends.
func (d *Dispatcher) Run(ctx context.Context) error {
	var lastExpire time.Time
	for {
		if now := d.opts.Now(); now.Sub(lastExpire) >= expireEvery {
			if n, err := d.store.ExpireSignUps(ctx, now.Add(-icymorning.SignUpExpiry)); err != nil {
				d.logger.LogAttrs(ctx, slog.LevelWarn, "expire sign-ups", slog.String("error", err.Error()))
			} else {
				lastExpire = now
				if n > 0 {
					d.logger.LogAttrs(ctx, slog.LevelInfo, "expired unconfirmed sign-ups", slog.Int("count", n))
				}
			}
		}
		// A minute at most, so that expiry runs under a steady load too.
		if _, err := d.Sweep(ctx, time.Now().Add(time.Minute)); err != nil && ctx.Err() == nil {
			d.logger.LogAttrs(ctx, slog.LevelWarn, "dispatch sweep failed; trying again", slog.String("error", err.Error()))
		}
		t := time.NewTimer(d.opts.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-d.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// SweepResult counts what a sweep did.
type SweepResult struct {
	FannedOut                      int // deliveries created
	Sent, Failed, Dead, Suppressed int
}

func (r *SweepResult) add(o SweepResult) {
	r.FannedOut += o.FannedOut
	r.Sent += o.Sent
	r.Failed += o.Failed
	r.Dead += o.Dead
	r.Suppressed += o.Suppressed
}

// Sweep fans out the events not yet fanned out and sends due deliveries
// until there is nothing left to do or, when stop is not zero, until stop:
// no batch is claimed later than a second before it. It works in rounds
// of at most FanOutBudget of fanning out, then at most SendBudget of
// sending, so that events arriving faster than they fan out (a large
// audience under a stream of changes) never keep mail from going out, nor
// does a long queue of mail keep new events from being fanned out. A
// batch that ctx cuts short (the Lambda worker gives it a deadline before
// the invocation's) records what it sent and leaves the rest due at once.
// It reports what it did.
func (d *Dispatcher) Sweep(ctx context.Context, stop time.Time) (SweepResult, error) {
	var res SweepResult
	for {
		var round SweepResult
		more, err := d.fanOut(ctx, &round)
		if err == nil {
			err = d.send(ctx, stop, &round)
		}
		res.add(round)
		if err != nil {
			return res, err
		}
		idle := round == SweepResult{}
		if (idle && !more) || (!stop.IsZero() && time.Until(stop) <= time.Second) {
			return res, nil
		}
	}
}

// Budgets of a sweep's round (see Sweep).
const (
	defaultFanOutBudget = time.Second
	defaultSendBudget   = 10 * time.Second
)

// fanOut fans out pending events, oldest first, a page (one transaction)
// at a time, for at most FanOutBudget, and reports whether some are left:
// a page that comes back short has taken the last of them.
func (d *Dispatcher) fanOut(ctx context.Context, res *SweepResult) (more bool, err error) {
	until := time.Now().Add(d.opts.FanOutBudget)
	for {
		limit := int(d.fanOutLimit.Load())
		events, deliveries, err := d.store.FanOutPending(ctx, limit)
		if err != nil {
			return false, err
		}
		res.FannedOut += deliveries
		if events > 0 {
			d.fanOutLimit.Store(int64(nextFanOutLimit(events, deliveries)))
		}
		if events < limit {
			return false, nil
		}
		if time.Now().After(until) {
			return true, nil
		}
	}
}

// nextFanOutLimit is the page of events to fan out next, after one of
// events created deliveries: fanOutPage, or fewer when events have so many
// subscribers that a full page would create much more than
// fanOutDeliveries, but always one at least. It goes by the last page's
// average, so a page whose events have more subscribers than the last
// one's may be larger: the bound is a rule of thumb, not a promise.
func nextFanOutLimit(events, deliveries int) int {
	if deliveries <= 0 {
		return fanOutPage
	}
	return max(1, min(fanOutPage, events*fanOutDeliveries/deliveries))
}

// send sends due deliveries over Connections connections until none are
// due, SendBudget has passed, or stop comes near.
func (d *Dispatcher) send(ctx context.Context, stop time.Time, res *SweepResult) error {
	until := time.Now().Add(d.opts.SendBudget)
	if !stop.IsZero() && stop.Before(until) {
		until = stop
	}
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	for range d.opts.Connections {
		wg.Go(func() {
			for ctx.Err() == nil && time.Until(until) > time.Second {
				r, n, err := d.batch(ctx)
				mu.Lock()
				res.add(r)
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				if err != nil || n == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// batch claims, sends and records one batch, and reports how many it
// claimed.
func (d *Dispatcher) batch(ctx context.Context) (SweepResult, int, error) {
	var res SweepResult
	jobs, err := d.store.ClaimDeliveries(ctx, d.opts.ClaimTimeout, d.opts.Batch)
	if err != nil || len(jobs) == 0 {
		return res, 0, err
	}
	rec := recorder{d: d, ctx: ctx, last: time.Now()}
	msgs := make([]mail.Message, 0, len(jobs))
	sendJobs := make([]*icymorning.DeliveryJob, 0, len(jobs)) // the job of each message
	for i := range jobs {
		j := &jobs[i]
		o := icymorning.DeliveryOutcome{ID: j.Delivery.ID}
		if j.Subscription.Status != icymorning.SubscriptionActive {
			// Unsubscribed (or suppressed) after the fan-out: not sent.
			o.Status, o.Error = icymorning.DeliverySuppressed, "not sent: the subscription is "+string(j.Subscription.Status)
			rec.add(o)
			continue
		}
		m, err := d.composer.Compose(&j.Event, &j.Subscription)
		if err != nil {
			o.Status, o.Error = icymorning.DeliveryDead, err.Error()
			rec.add(o)
			continue
		}
		msgs = append(msgs, m)
		sendJobs = append(sendJobs, j)
	}
	if len(msgs) > 0 {
		d.sender.SendEach(ctx, msgs, func(k int, r mail.Result) {
			o := icymorning.DeliveryOutcome{ID: sendJobs[k].Delivery.ID}
			d.judge(ctx, &o, sendJobs[k].Delivery.Attempts, r)
			rec.add(o)
		})
	}
	rec.flush()
	if rec.err != nil {
		return rec.res, len(jobs), rec.err
	}
	if rec.res.Failed+rec.res.Dead > 0 {
		d.logger.LogAttrs(ctx, slog.LevelWarn, "deliveries not sent", slog.Int("sent", rec.res.Sent),
			slog.Int("failed", rec.res.Failed), slog.Int("dead", rec.res.Dead))
	}
	return rec.res, len(jobs), nil
}

// recordEvery is how often a batch in progress records the outcomes it
// has: a dispatcher that dies mid-batch has sent at most this long's mail
// unrecorded, which another sends again (with the same Message-ID) once
// the claims run out. Each record is one transaction (an fsync on SQLite),
// so recording after every mail would cost more than it saves.
const recordEvery = 100 * time.Millisecond

// recorder gathers a batch's outcomes and stores them every recordEvery
// and at the end.
type recorder struct {
	d       *Dispatcher
	ctx     context.Context
	pending []icymorning.DeliveryOutcome
	last    time.Time
	res     SweepResult
	err     error
}

func (r *recorder) add(o icymorning.DeliveryOutcome) {
	switch o.Status {
	case icymorning.DeliverySent:
		r.res.Sent++
	case icymorning.DeliveryFailed:
		r.res.Failed++
	case icymorning.DeliveryDead:
		r.res.Dead++
	case icymorning.DeliverySuppressed:
		r.res.Suppressed++
	}
	r.pending = append(r.pending, o)
	if time.Since(r.last) >= recordEvery {
		r.flush()
	}
}

// flush records the pending outcomes. What was sent is recorded even when
// ctx has ended (shutdown, or the Lambda deadline near): a lost record
// would mean a resend after the claim timeout. The first failure is kept
// in err; the outcomes it held stay claimed until the lease runs out.
func (r *recorder) flush() {
	r.last = time.Now()
	if len(r.pending) == 0 || r.err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), recordTimeout)
	defer cancel()
	if err := r.d.store.RecordDeliveries(ctx, r.pending); err != nil {
		r.err = fmt.Errorf("record %d deliveries: %w", len(r.pending), err)
	}
	r.pending = r.pending[:0]
}

// judge sets the outcome of a delivery from its send result: sent;
// dead for a permanent failure or the last attempt; otherwise failed, to
// be retried after a backoff.
func (d *Dispatcher) judge(ctx context.Context, o *icymorning.DeliveryOutcome, attempts int, r mail.Result) {
	switch {
	case r.Err == nil:
		o.Status, o.ProviderMessageID = icymorning.DeliverySent, r.ProviderID
	case mail.IsPermanent(r.Err):
		o.Status, o.Error = icymorning.DeliveryDead, r.Err.Error()
	case ctx.Err() != nil:
		// Not sent because this dispatcher is stopping: due again at
		// once, for the next one.
		o.Status, o.Error = icymorning.DeliveryFailed, r.Err.Error()
	case attempts >= d.opts.MaxAttempts:
		o.Status, o.Error = icymorning.DeliveryDead, fmt.Sprintf("gave up after %d attempts: %v", attempts, r.Err)
	default:
		o.Status, o.Error = icymorning.DeliveryFailed, r.Err.Error()
		o.RetryAfter = Backoff(attempts, d.opts.RetryBase, d.opts.RetryMax, rand.Float64())
	}
}

// Backoff is the wait after the n-th failed attempt (n ≥ 1): base×2^(n-1),
// at most limit, spread by ±20 % with u (uniform in [0, 1)) so that
// deliveries that failed together do not retry together. Hand-written:
// it is one line of arithmetic, and a backoff library's stateful iterator
// does not fit a delay computed from a stored attempt count.
func Backoff(n int, base, limit time.Duration, u float64) time.Duration {
	wait := limit
	if n-1 < 40 && base<<(n-1) > 0 && base<<(n-1) < limit {
		wait = base << (n - 1)
	}
	return time.Duration(float64(wait) * (0.8 + 0.4*u))
}
