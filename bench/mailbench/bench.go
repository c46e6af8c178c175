//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/icy-morning/icy-morning/bench/benchproc"
	"github.com/icy-morning/icy-morning/bench/procstat"
	"github.com/icy-morning/icy-morning/internal/benchreport"
	"github.com/icy-morning/icy-morning/mail"
	"github.com/icy-morning/icy-morning/notify"
)

// The worker's mail settings, which the ceiling's messages are composed
// with too, so that both send the very same mails.
const (
	mailFrom      = "Icy Morning <icy-morning@bench.example.com>"
	publicBaseURL = "https://icy-morning.example.com"
)

const (
	senderCeiling    = "ceiling"
	senderDispatcher = "dispatcher"
)

// bench holds a run's settings and what it has measured so far.
type bench struct {
	o              options
	tmp            string
	procs          *benchproc.Registry
	secret         string // NOTIFY_SECRET of every worker
	mailpitVersion string
	pgVersion      string
	messageBytes   int // mean size of a message as sent (go-mail's encoding)
	runs           []runResult
}

// runResult is one measured run: N mails sent by one sender.
type runResult struct {
	database    string
	round       int // from 1
	sender      string
	connections int
	elapsed     time.Duration // start (dial, or exec of the worker) until all sent
	peakRSS     int64         // the worker's VmHWM; 0 for the ceiling
	// From the worker's start until the event was fanned out, and until
	// its first mail was recorded sent (dispatcher only).
	fannedOut, firstSent time.Duration
	cpu                  cpuUse
	quiet                bool // the machine was idle before the run began
}

func (r *runResult) rate(n int) float64 { return float64(n) / r.elapsed.Seconds() }

// measureDatabase runs the rounds on one kind of database. Each round runs
// the ceiling on one connection and the dispatcher at -connections, one
// right after the other, so that a slow spell of the machine falls on both
// sides of the ratio; then the ceiling at -connections (how much more
// Mailpit takes in parallel) and the round's share of the
// -also-connections variants.
func (b *bench) measureDatabase(ctx context.Context, db database) error {
	msgs, err := b.ceilingMessages(ctx, db)
	if err != nil {
		return err
	}
	for r := range b.o.rounds {
		if err := b.runCeiling(ctx, db, r+1, msgs, 1); err != nil {
			return err
		}
		if err := b.runDispatcher(ctx, db, r+1, b.o.connections); err != nil {
			return err
		}
		if b.o.connections > 1 && b.o.parallelCeiling {
			if err := b.runCeiling(ctx, db, r+1, msgs, b.o.connections); err != nil {
				return err
			}
		}
		for i, c := range b.o.also {
			if i%b.o.rounds == r {
				if err := b.runDispatcher(ctx, db, r+1, c); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// ceilingMessages seeds a database of the kind as every dispatcher run
// will, and composes from it the mails the dispatcher will send.
func (b *bench) ceilingMessages(ctx context.Context, db database) ([]mail.Message, error) {
	url, remove, err := db.fresh(ctx, "compose")
	if err != nil {
		return nil, err
	}
	defer remove()
	if err := seed(ctx, b.o.bin, url, b.o.subscribers); err != nil {
		return nil, err
	}
	c, err := notify.NewComposer(mailFrom, publicBaseURL, []byte(b.secret))
	if err != nil {
		return nil, err
	}
	msgs, err := composeAll(ctx, url, c)
	if err != nil {
		return nil, err
	}
	if len(msgs) != b.o.subscribers {
		return nil, fmt.Errorf("composed %d mails for %d subscribers", len(msgs), b.o.subscribers)
	}
	if b.messageBytes == 0 {
		var total int64
		for i := range min(len(msgs), 100) {
			msg, err := goMailMsg(&msgs[i])
			if err != nil {
				return nil, err
			}
			var buf bytes.Buffer
			n, err := msg.WriteTo(&buf)
			if err != nil {
				return nil, err
			}
			total += n
		}
		b.messageBytes = int(total / int64(min(len(msgs), 100)))
	}
	return msgs, nil
}

func (b *bench) waitQuiet(ctx context.Context, name string) bool {
	quiet, busy := procstat.WaitQuiet(ctx, b.o.quietWait, 0.1)
	if !quiet {
		logf("%s: the machine is still busy (%.2f cores) after %s; measuring anyway", name, busy, b.o.quietWait)
	}
	return quiet
}

// runCeiling sends the messages with the go-mail loop to a fresh Mailpit,
// over conns connections at once.
func (b *bench) runCeiling(ctx context.Context, db database, round int, msgs []mail.Message, conns int) error {
	name := fmt.Sprintf("%s round %d: ceiling, %d connection(s)", db.name, round, conns)
	mp, err := b.startMailpit(ctx, fmt.Sprintf("ceiling-%s-%d-%d", db.name, round, conns))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer b.procs.Stop(mp.Proc)
	quiet := b.waitQuiet(ctx, name)
	sctx, cancel := context.WithTimeout(ctx, b.o.runTimeout)
	defer cancel()
	s0 := takeSnapshot(os.Getpid(), mp.PID())
	elapsed, err := sendCeiling(sctx, mp.smtp, msgs, conns)
	cpu := s0.use(takeSnapshot(os.Getpid(), mp.PID()), true)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := mp.expectCount(ctx, len(msgs)); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	r := runResult{database: db.name, round: round, sender: senderCeiling, connections: conns, elapsed: elapsed, cpu: cpu, quiet: quiet}
	b.runs = append(b.runs, r)
	logf("%-40s %6.2f s  %6.0f mails/s  CPU %s", name, elapsed.Seconds(), r.rate(len(msgs)), r.cpu)
	return nil
}

// runDispatcher seeds a fresh database, starts a fresh Mailpit, then runs
// `icy-morning worker` on them and waits until the delivery log shows
// every mail sent.
func (b *bench) runDispatcher(ctx context.Context, db database, round, conns int) error {
	name := fmt.Sprintf("%s round %d: dispatcher, %d connections", db.name, round, conns)
	label := fmt.Sprintf("dispatcher-%s-%d-%d", db.name, round, conns)
	url, remove, err := db.fresh(ctx, label)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer remove()
	seeded := time.Now()
	if err := seed(ctx, b.o.bin, url, b.o.subscribers); err != nil {
		return fmt.Errorf("%s: seed: %w", name, err)
	}
	logf("%s: seeded %d subscriptions and one asset in %s", name, b.o.subscribers, time.Since(seeded).Round(time.Millisecond))
	ob, err := openOutbox(url)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer ob.Close()
	mp, err := b.startMailpit(ctx, label)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer b.procs.Stop(mp.Proc)

	env := []string{
		"DATABASE_URL=" + url,
		"MAIL_URL=smtp://" + mp.smtp + "?tls=none",
		"MAIL_MAX_PER_SECOND=0",
		"MAIL_CONNECTIONS=" + strconv.Itoa(conns),
		"MAIL_FROM=" + mailFrom,
		"NOTIFY_SECRET=" + b.secret,
		"PUBLIC_BASE_URL=" + publicBaseURL,
		"LOG_FORMAT=json",
		"LOG_LEVEL=info",
	}
	quiet := b.waitQuiet(ctx, name)
	// The worker's CPU counts from its exec: the snapshot before has it at 0.
	s0 := takeSnapshot(0, mp.PID())
	start := time.Now()
	w, err := b.procs.Start("icy-morning worker", b.o.bin, []string{"worker"}, env, filepath.Join(b.tmp, label+".worker.log"))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer b.procs.Stop(w)
	elapsed, err := b.waitSent(ctx, ob, w, start)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	rss, err := procstat.PeakRSS(w.PID())
	if err != nil {
		return fmt.Errorf("%s: peak RSS: %w", name, err)
	}
	s1 := takeSnapshot(w.PID(), mp.PID())
	cpu := s0.use(s1, false)
	b.procs.Stop(w)

	ph, err := ob.phases(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := mp.expectCount(ctx, b.o.subscribers); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	r := runResult{database: db.name, round: round, sender: senderDispatcher, connections: conns, elapsed: elapsed, peakRSS: rss,
		fannedOut: ph.fannedOut.Sub(start), firstSent: ph.firstSent.Sub(start), cpu: cpu, quiet: quiet}
	b.runs = append(b.runs, r)
	logf("%-40s %6.2f s  %6.0f mails/s  RSS %s  fan-out done %s, first sent %s, last sent %s  CPU %s", name, elapsed.Seconds(), r.rate(b.o.subscribers),
		benchreport.MB(rss), fmtSec(r.fannedOut), fmtSec(r.firstSent), fmtSec(ph.lastSent.Sub(start)), r.cpu)
	return nil
}

// waitSent polls the delivery log until every delivery is sent, and
// returns the time since start. A delivery that failed, died or was
// suppressed makes the run invalid, as does a worker that exits.
func (b *bench) waitSent(ctx context.Context, ob *outbox, w *benchproc.Proc, start time.Time) (time.Duration, error) {
	deadline := start.Add(b.o.runTimeout)
	tick := time.NewTicker(b.o.poll)
	defer tick.Stop()
	for {
		counts, err := ob.statuses(ctx)
		if err != nil {
			return 0, fmt.Errorf("count deliveries: %w", err)
		}
		if counts["sent"] == b.o.subscribers {
			return time.Since(start), nil
		}
		if bad := counts["failed"] + counts["dead"] + counts["suppressed"]; bad > 0 {
			return 0, fmt.Errorf("deliveries not sent: %v\n%s", counts, w.LogTail())
		}
		select {
		case <-tick.C:
		case <-w.Done():
			return 0, fmt.Errorf("the worker exited (%v) with deliveries %v:\n%s", w.Err(), counts, w.LogTail())
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("not all sent after %s: %v", b.o.runTimeout, counts)
		}
	}
}

// cpuSnapshot holds CPU times, in clock ticks, at one instant.
type cpuSnapshot struct {
	at      time.Time
	machine uint64
	sender  uint64 // the worker, or this program for the ceiling
	mailpit uint64
	self    uint64
	db      map[int]uint64 // each PostgreSQL process
}

// takeSnapshot reads the CPU times; senderPID 0 is a worker not yet
// started.
func takeSnapshot(senderPID, mailpitPID int) cpuSnapshot {
	s := cpuSnapshot{at: time.Now(), machine: procstat.MachineBusy(), mailpit: procstat.ProcTicks(mailpitPID),
		self: procstat.ProcTicks(os.Getpid()), db: procstat.PostgresTicks()}
	if senderPID != 0 {
		s.sender = procstat.ProcTicks(senderPID)
	}
	return s
}

// cpuUse is where the machine's CPU went during a run, in cores (CPU
// seconds per second of wall time).
type cpuUse struct {
	sender, mailpit, db, bench, other float64
}

func (u cpuUse) String() string {
	return fmt.Sprintf("%.2f/%.2f/%.2f/%.2f/%.2f", u.sender, u.mailpit, u.db, u.bench, u.other)
}

func (u cpuUse) total() float64 { return u.sender + u.mailpit + u.db + u.bench + u.other }

// use is the CPU use from s to e. selfIsSender: this program sent the
// mails (the ceiling); otherwise its share is the polling.
func (s cpuSnapshot) use(e cpuSnapshot, selfIsSender bool) cpuUse {
	wall := e.at.Sub(s.at).Seconds()
	if wall <= 0 {
		return cpuUse{}
	}
	d := func(a, b uint64) float64 { return float64(b-min(a, b)) / procstat.ClockTicks / wall }
	var db uint64
	for pid, t := range e.db {
		db += t - min(t, s.db[pid]) // a backend started during the run counts from zero
	}
	u := cpuUse{mailpit: d(s.mailpit, e.mailpit), db: float64(db) / procstat.ClockTicks / wall}
	if selfIsSender {
		u.sender = d(s.self, e.self)
	} else {
		u.sender, u.bench = d(s.sender, e.sender), d(s.self, e.self)
	}
	u.other = max(0, d(s.machine, e.machine)-u.sender-u.mailpit-u.db-u.bench)
	return u
}

func fmtSec(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s" }
