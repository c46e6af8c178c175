//go:build linux

// Command mailbench measures the notification fan-out of issue 9: one
// asset created with N (10,000) active subscribers to asset::creation,
// sent by the real binary (`icy-morning worker`) through a local Mailpit,
// beside a ceiling, a plain go-mail loop sending the same N messages to an
// identically started Mailpit over one connection. In one run it:
//
//   - builds bin/icy-morning (or takes -bin);
//   - for SQLite (a file) and PostgreSQL (a schema of its own in -pg-url),
//     in rounds: the ceiling, then the dispatcher at -connections, then one
//     of the -also-connections variants, each run on a fresh Mailpit and,
//     for the dispatcher, a fresh database seeded through the service's own
//     store (N subscriptions, one analyst, one asset, whose creation records
//     the event);
//   - for the dispatcher, times from exec of the worker until the database
//     shows all N deliveries sent (polled), reads the worker's peak RSS
//     (VmHWM) and checks that Mailpit holds exactly N messages;
//   - records where the CPU went during each run (sender, Mailpit,
//     PostgreSQL, this program, everything else);
//   - prints medians, ratios and verdicts, and writes them as Markdown to
//     -out.
//
// Run it from the repository: go run ./bench/mailbench
//
// Everything it starts listens on 127.0.0.1, is bounded in time, and is
// stopped by PID when the run ends, fails or is interrupted.
//
// Linux only: its processes are started through benchproc.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/icy-morning/icy-morning/bench/benchproc"
	"github.com/icy-morning/icy-morning/internal/benchreport"
	"github.com/icy-morning/icy-morning/internal/gotool"
	"github.com/icy-morning/icy-morning/internal/tempdir"
)

const (
	defaultOut   = "bench/results/mail-latest.md"
	defaultPGURL = "postgres://postgres:postgres@127.0.0.1:5432/icy_bench"
)

type options struct {
	subscribers int
	rounds      int
	connections int
	also        []int
	// parallelCeiling adds, each round, the ceiling over -connections
	// connections at once.
	parallelCeiling bool
	pgURL           string
	bin             string
	mailpit         string
	out             string
	runTimeout      time.Duration
	timeout         time.Duration
	poll            time.Duration
	quietWait       time.Duration
	keep            bool
}

func main() {
	var o options
	var also string
	pgDefault := os.Getenv("TEST_DATABASE_URL")
	if pgDefault == "" {
		pgDefault = defaultPGURL
	}
	flag.IntVar(&o.subscribers, "subscribers", 10_000, "active subscribers to asset::creation, so mails per run")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds per database; each runs the ceiling, then the dispatcher at -connections, then one -also-connections variant")
	flag.IntVar(&o.connections, "connections", 4, "MAIL_CONNECTIONS of the dispatcher runs the target is judged on")
	flag.BoolVar(&o.parallelCeiling, "parallel-ceiling", true, "each round, also run the ceiling over -connections connections at once (how much more Mailpit takes in parallel)")
	flag.StringVar(&also, "also-connections", "1,2,8", "other MAIL_CONNECTIONS, run once each (comma-separated; empty for none)")
	flag.StringVar(&o.pgURL, "pg-url", pgDefault, "PostgreSQL on loopback (default $TEST_DATABASE_URL, else "+defaultPGURL+"); each run works in a schema of its own, dropped after it; \"none\" skips PostgreSQL")
	flag.StringVar(&o.bin, "bin", "", "icy-morning binary; empty builds bin/icy-morning")
	flag.StringVar(&o.mailpit, "mailpit", "", "Mailpit binary; empty looks at $MAILPIT_BIN, .tools/bin/mailpit (make init), then PATH")
	flag.StringVar(&o.out, "out", defaultOut, "Markdown report file")
	flag.DurationVar(&o.runTimeout, "run-timeout", 5*time.Minute, "bound on one run (until every mail is sent)")
	flag.DurationVar(&o.timeout, "timeout", 0, "bound on the whole benchmark; 0 derives one from the runs")
	flag.DurationVar(&o.poll, "poll", 25*time.Millisecond, "how often the database is asked how many deliveries are sent")
	flag.DurationVar(&o.quietWait, "quiet-wait", 30*time.Second, "before each run, wait up to this long for other processes to leave the CPU idle")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (logs, databases)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var err error
	if o.also, err = parseInts(also); err == nil {
		err = run(ctx, o)
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mailbench:", err)
		os.Exit(1)
	}
}

func parseInts(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-also-connections: %q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func run(ctx context.Context, o options) error {
	if o.subscribers < 1 || o.rounds < 1 || o.connections < 1 || o.poll <= 0 {
		return errors.New("-subscribers, -rounds, -connections and -poll must be positive")
	}
	databases := 1
	if o.pgURL != "none" {
		databases = 2
	}
	if o.timeout == 0 {
		runs := databases * (2*o.rounds + len(o.also))
		o.timeout = time.Duration(runs)*(o.runTimeout/5+o.quietWait) + 5*time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	started := time.Now()

	root, err := gotool.ModuleRoot(ctx)
	if err != nil {
		return err
	}
	if o.mailpit == "" {
		if o.mailpit, err = findMailpit(root); err != nil {
			return err
		}
	}
	tmp, removeTmp, err := tempdir.Make("mailbench-", o.keep, logf)
	if err != nil {
		return err
	}
	defer removeTmp()
	// A worker has 10 s after SIGTERM to record the batch it has in flight.
	procs := benchproc.NewRegistry(10 * time.Second)
	defer procs.StopAll()

	if o.bin == "" {
		o.bin = filepath.Join(root, "bin", "icy-morning")
		logf("building ./cmd/icy-morning")
		bctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		err := gotool.Build(bctx, root, "./cmd/icy-morning", o.bin, nil)
		cancel()
		if err != nil {
			return err
		}
	}

	// NOTIFY_SECRET, 52 base32 characters: at least the 32 bytes it needs.
	b := &bench{o: o, tmp: tmp, procs: procs, secret: rand.Text() + rand.Text(), mailpitVersion: benchreport.ModuleVersion(ctx, o.mailpit)}
	dbs := []database{sqliteDatabase(tmp)}
	if o.pgURL != "none" {
		pg, err := b.postgres(ctx)
		if err != nil {
			return err
		}
		dbs = append(dbs, pg)
	}
	for _, db := range dbs {
		if err := b.measureDatabase(ctx, db); err != nil {
			return fmt.Errorf("%s: %w", db.name, err)
		}
	}

	rep := b.report(time.Since(started))
	fmt.Print(rep.text())
	out := o.out
	if out == defaultOut {
		out = filepath.Join(root, defaultOut)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(out, []byte(rep.markdown(benchreport.CommandLine("./bench/mailbench"))), 0o644); err != nil {
		return err
	}
	logf("wrote %s", out)
	return nil
}

// logf reports progress on stderr, so stdout holds only the report.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
