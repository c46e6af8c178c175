//go:build linux

// Command loadbench is the reproducible load benchmark of issue 2: it
// builds icy-morning and the ceiling (bench/ceiling), seeds PostgreSQL and
// SQLite, drives each endpoint with wrk at fixed concurrency on loopback,
// and prints requests/s, latency percentiles, peak RSS and the verdict on
// each performance target. The same report goes, as Markdown, to -out.
//
// With -pocketbase (the default) it also measures PocketBase (issue 10)
// beside icy-morning on SQLite, in interleaved rounds (peer.go); it builds
// PocketBase under .tools/ when it is missing (pocketbase.go), and skips
// the comparison, saying so loudly, when it cannot.
// -pocketbase-only runs that comparison alone.
//
// With -jwt (the default) it also measures POST with a bearer JWT beside
// POST with Basic (issue 11), against a loopback OIDC issuer that counts
// its JWKS requests (jwt.go); -jwt-only runs that comparison alone.
//
// With -cache (the default) it also measures GET by id in full, with a
// matching If-None-Match (304) and through nginx with a warm cache, side
// by side on SQLite (issue 12, cache.go); -cache-only runs that alone.
//
// Run it from the repository: go run ./bench/loadbench -duration 10s
//
// Everything it starts (servers, wrk) runs on 127.0.0.1, is bounded in
// time, and is stopped by PID when the run ends, fails or is interrupted.
//
// Linux only: its processes are started through benchproc.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/icy-morning/icy-morning/bench/benchproc"
	"github.com/icy-morning/icy-morning/internal/benchreport"
	"github.com/icy-morning/icy-morning/internal/gotool"
	"github.com/icy-morning/icy-morning/internal/tempdir"
)

const (
	defaultOut = "bench/results/latest.md"
	// -pocketbase-only's report, when -out is left at its default.
	defaultPocketBaseOut = "bench/results/pocketbase-latest.md"
	// -jwt-only's.
	defaultJWTOut = "bench/results/jwt-latest.md"
	// -cache-only's.
	defaultCacheOut = "bench/results/cache-latest.md"
)

// options are the command's flags.
type options struct {
	pgURL       string
	duration    time.Duration
	warmup      time.Duration
	threads     int
	connections int
	bin         string
	ceilingBin  string
	out         string
	maxConns    int
	startupRuns int
	timeout     time.Duration
	quietWait   time.Duration
	retries     int
	keep        bool
	subscribers int
	postRounds  int

	pocketBase       bool
	pocketBaseBin    string
	pocketBaseRounds int
	pocketBaseOnly   bool

	jwt       bool
	jwtRounds int
	jwtOnly   bool

	cache       bool
	cacheRounds int
	cacheOnly   bool
}

func main() {
	var o options
	flag.StringVar(&o.pgURL, "pg-url", "postgres://postgres:postgres@127.0.0.1:5432/icy_bench",
		"PostgreSQL URL of the benchmark database; it is DROPPED and recreated, so its name must contain \"bench\"")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each measured wrk run")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "length of the discarded wrk run before each measured one")
	flag.IntVar(&o.threads, "threads", 2, "wrk threads (-t)")
	flag.IntVar(&o.connections, "connections", 32, "wrk connections (-c)")
	flag.StringVar(&o.bin, "bin", "", "icy-morning binary to test; empty builds bin/icy-morning")
	flag.StringVar(&o.ceilingBin, "ceiling-bin", "", "ceiling binary; empty builds bin/icy-morning-ceiling")
	flag.StringVar(&o.out, "out", defaultOut, "Markdown report file (with -pocketbase-only, the default is "+defaultPocketBaseOut+"; with -jwt-only, "+defaultJWTOut+"; with -cache-only, "+defaultCacheOut+")")
	flag.IntVar(&o.maxConns, "max-conns", 0, "pass --max-conns to icy-morning; 0 keeps its default pool size")
	flag.IntVar(&o.startupRuns, "startup-runs", 5, "start-up measurements on a fresh SQLite file")
	flag.DurationVar(&o.timeout, "timeout", 0, "bound on the whole run; 0 derives one from -duration and -warmup")
	flag.DurationVar(&o.quietWait, "quiet-wait", time.Minute, "before each scenario, wait up to this long for other processes to leave the CPU idle")
	flag.IntVar(&o.retries, "retries", 2, "measure a scenario again, up to this many times, when other processes took CPU during it")
	flag.IntVar(&o.subscribers, "subscribers", 10_000, "active subscribers of the POST-with-subscribers scenarios (issue 9); 0 skips them")
	flag.IntVar(&o.postRounds, "post-rounds", 3, "rounds of the side-by-side POST with and without subscribers, dispatcher off; 0 skips them")
	flag.BoolVar(&o.pocketBase, "pocketbase", true, "measure PocketBase "+pocketBaseVersion+" beside icy-morning on SQLite (built under .tools/ when missing; skipped, with a warning, when it cannot be built)")
	flag.StringVar(&o.pocketBaseBin, "pocketbase-bin", "", "PocketBase binary (a build of "+pocketBasePackage+"); empty uses, or builds, .tools/pocketbase/"+pocketBaseVersion+"/base")
	flag.IntVar(&o.pocketBaseRounds, "pocketbase-rounds", 2, "interleaved rounds of the PocketBase comparison")
	flag.BoolVar(&o.pocketBaseOnly, "pocketbase-only", false, "run only the PocketBase comparison (no PostgreSQL, ceiling or start-up); fails when PocketBase cannot be built")
	flag.BoolVar(&o.jwt, "jwt", true, "measure POST with a bearer JWT beside POST with Basic on SQLite, against a loopback OIDC issuer that counts its JWKS requests")
	flag.IntVar(&o.jwtRounds, "jwt-rounds", 2, "rounds of the bearer/Basic comparison, in ABBA order")
	flag.BoolVar(&o.jwtOnly, "jwt-only", false, "run only the bearer/Basic comparison (no PostgreSQL, ceiling, PocketBase or start-up); with -pocketbase-only, both comparisons")
	flag.BoolVar(&o.cache, "cache", true, "measure GET by id with If-None-Match (304) and through nginx with a warm cache beside the full GET, on SQLite (the nginx side is skipped, with a warning, when nginx is missing)")
	flag.IntVar(&o.cacheRounds, "cache-rounds", 2, "rounds of the HTTP caching side by side, the order rotating")
	flag.BoolVar(&o.cacheOnly, "cache-only", false, "run only the HTTP caching side by side (no PostgreSQL, ceiling, PocketBase, JWT or start-up)")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (server logs, SQLite files)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	if o.duration <= 0 || o.connections <= 0 || o.threads <= 0 || o.startupRuns <= 0 || o.retries < 0 || o.subscribers < 0 || o.postRounds < 0 {
		return errors.New("-duration, -connections, -threads and -startup-runs must be positive, -retries, -subscribers and -post-rounds not negative")
	}
	if o.jwtOnly {
		o.jwt = true
		o.pocketBase = o.pocketBaseOnly
	}
	if o.pocketBaseOnly {
		o.pocketBase = true
	}
	if o.cacheOnly {
		o.cache, o.pocketBase, o.pocketBaseOnly, o.jwt, o.jwtOnly = true, false, false, false, false
	}
	if o.cache && o.cacheRounds <= 0 {
		return errors.New("-cache-rounds must be positive")
	}
	if o.pocketBase && o.pocketBaseRounds <= 0 {
		return errors.New("-pocketbase-rounds must be positive")
	}
	if o.jwt && o.jwtRounds <= 0 {
		return errors.New("-jwt-rounds must be positive")
	}
	if o.timeout == 0 {
		// 14 scenarios and the POST-with-subscribers ones (two a round
		// and one more, on each database), each measured up to 1+retries
		// times, plus building and seeding 1,000,000 rows twice, well under
		// a minute each.
		scenarios := 14
		if o.subscribers > 0 && o.postRounds > 0 {
			scenarios += 2 * (2*o.postRounds + 1)
		}
		if o.pocketBaseOnly || o.jwtOnly || o.cacheOnly {
			scenarios = 0
		}
		o.timeout = time.Duration(scenarios*(1+o.retries))*(o.duration+o.warmup+o.quietWait+15*time.Second) + 10*time.Minute +
			o.pocketBaseTimeout() + o.jwtTimeout() + o.cacheTimeout()
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	root, err := gotool.ModuleRoot(ctx)
	if err != nil {
		return err
	}
	if err := checkLoopbackPG(o.pgURL); err != nil {
		return err
	}
	tmp, removeTmp, err := tempdir.Make("loadbench-", o.keep, logf)
	if err != nil {
		return err
	}
	defer removeTmp()

	// Every process started from here on is registered, so that whatever
	// way run returns (error, ctrl-C, timeout), none outlives it. A server
	// has 5 s after SIGTERM to finish its requests in flight.
	procs := benchproc.NewRegistry(5 * time.Second)
	defer procs.StopAll()

	// The binaries not given are built into bin/, as make build does
	// (without its release flags).
	for _, bl := range []struct {
		bin       *string
		pkg, name string
	}{{&o.bin, "./cmd/icy-morning", "icy-morning"}, {&o.ceilingBin, "./bench/ceiling", "icy-morning-ceiling"}} {
		if *bl.bin != "" || ((o.pocketBaseOnly || o.jwtOnly || o.cacheOnly) && bl.bin == &o.ceilingBin) {
			continue
		}
		*bl.bin = filepath.Join(root, "bin", bl.name)
		logf("building %s", bl.pkg)
		bctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		err := gotool.Build(bctx, root, bl.pkg, *bl.bin, nil)
		cancel()
		if err != nil {
			return err
		}
	}
	scripts, err := writeScripts(tmp)
	if err != nil {
		return err
	}

	b := &bench{o: o, tmp: tmp, procs: procs, scripts: scripts}
	if o.pocketBase {
		bin, version, err := pocketBaseBinary(ctx, root, o.pocketBaseBin)
		switch {
		case err == nil:
			b.pocketBaseBin, b.pocketBaseVersion = bin, version
		case o.pocketBaseOnly || ctx.Err() != nil:
			return fmt.Errorf("PocketBase: %w", err)
		default:
			b.pocketBaseSkipped = err.Error()
			logf("WARNING: PocketBase cannot be built or used; the PocketBase comparison is SKIPPED, the rest runs:\n%s", err)
		}
	}
	if err := b.runAll(ctx); err != nil {
		return err
	}

	rep := b.report()
	fmt.Print(rep.text())
	out := o.out
	if out == defaultOut {
		switch {
		case o.pocketBaseOnly:
			out = defaultPocketBaseOut
		case o.jwtOnly:
			out = defaultJWTOut
		case o.cacheOnly:
			out = defaultCacheOut
		}
		out = filepath.Join(root, out)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(out, []byte(rep.markdown(benchreport.CommandLine("./bench/loadbench"))), 0o644); err != nil {
		return err
	}
	logf("wrote %s", out)
	if failures := rep.failures(); len(failures) > 0 {
		return fmt.Errorf("run failed: %s", strings.Join(failures, "; "))
	}
	return nil
}

// logf reports progress on stderr, so stdout holds only the report.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
