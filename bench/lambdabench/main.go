//go:build linux

// Command lambdabench measures icy-morning's Lambda mode under the AWS
// Lambda Runtime Interface Emulator, side by side with a reference
// function (bench/lambdaref) that answers every event with a constant
// response, in one run:
//
//   - cold start: the wall time from starting the emulator until the first
//     invoke (a GET of an asset by id) is answered, repeated with a fresh
//     emulator and process each time; and the emulator's own report of the
//     function's init (exec until the runtime first asks for work);
//   - warm invokes: GET /api/v1/assets/{id} as API Gateway HTTP API
//     events, one after another (the emulator takes one at a time);
//   - the size of the release zip (arm64 bootstrap).
//
// for the reference, icy-morning on SQLite and icy-morning on PostgreSQL;
// with -jwt (the default), also icy-morning on the same SQLite with
// AUTH_TYPE=basic,jwt, whose init discovers a loopback OIDC issuer
// (internal/testissuer): what bearer tokens add to a cold start, less the
// provider's network distance.
// It prints the tables, ratios and verdicts, and writes them as Markdown to
// -out. Everything runs on 127.0.0.1 and is stopped by PID.
//
// Run it from the repository: go run ./bench/lambdabench
//
// Linux only: it runs the emulator through rie.
package main

import (
	"archive/zip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/icy-morning/icy-morning/internal/benchreport"
	"github.com/icy-morning/icy-morning/internal/gotool"
	"github.com/icy-morning/icy-morning/internal/lambdazip"
	"github.com/icy-morning/icy-morning/internal/netaddr"
	"github.com/icy-morning/icy-morning/internal/pgschema"
	"github.com/icy-morning/icy-morning/internal/rie"
	"github.com/icy-morning/icy-morning/internal/tempdir"
	"github.com/icy-morning/icy-morning/internal/testissuer"
)

const (
	defaultOut   = "bench/results/lambda-latest.md"
	defaultPGURL = "postgres://postgres:postgres@127.0.0.1:5432/icy_bench"
)

type options struct {
	pgURL     string
	coldRuns  int
	invokes   int
	warmup    int
	assets    int
	zipPath   string
	out       string
	timeout   time.Duration
	quietWait time.Duration
	keep      bool
	fnEnv     string
	jwt       bool
}

func main() {
	var o options
	pgDefault := os.Getenv("TEST_DATABASE_URL")
	if pgDefault == "" {
		pgDefault = defaultPGURL
	}
	flag.StringVar(&o.pgURL, "pg-url", pgDefault, "PostgreSQL on loopback (default $TEST_DATABASE_URL, else "+defaultPGURL+"); the run works in a schema of its own, dropped at the end; \"none\" skips PostgreSQL")
	flag.IntVar(&o.coldRuns, "cold-runs", 20, "cold starts per function")
	flag.IntVar(&o.invokes, "invokes", 2000, "measured warm invokes per function")
	flag.IntVar(&o.warmup, "warmup", 200, "warm invokes before measuring")
	flag.IntVar(&o.assets, "assets", 200, "assets to seed; GET by id walks 1..assets")
	flag.StringVar(&o.zipPath, "zip", "", "measure this deployment zip instead of building the arm64 bootstrap and zipping it")
	flag.StringVar(&o.out, "out", defaultOut, "Markdown report file")
	flag.DurationVar(&o.timeout, "timeout", 4*time.Minute, "bound on the whole run")
	flag.DurationVar(&o.quietWait, "quiet-wait", 30*time.Second, "before the cold and the warm measurements, wait up to this long for other processes to leave the CPU idle")
	flag.StringVar(&o.fnEnv, "fn-env", "", "extra environment for the icy-morning functions, as space-separated KEY=VALUE pairs (for experiments such as GOMAXPROCS=1)")
	flag.BoolVar(&o.jwt, "jwt", true, "also measure icy-morning on SQLite with AUTH_TYPE=basic,jwt, discovering a loopback OIDC issuer at init")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (bootstraps, SQLite file, function output)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "lambdabench:", err)
		os.Exit(1)
	}
}

// fn is one function under test.
type fn struct {
	name      string // "reference" or "icy-morning"
	database  string // "-", "SQLite" or "PostgreSQL"
	bootstrap string
	env       []string
	seeded    bool // its database is another function's, seeded there
	cold      []coldStart
	warm      []time.Duration
	non200    int
	quiet     bool // the machine was idle before each measurement
	cpu       cpuUse
}

func (f *fn) label() string {
	if f.database == "-" {
		return f.name
	}
	return f.name + " on " + f.database
}

type coldStart struct {
	listening time.Duration // emulator started until it accepted connections
	total     time.Duration // emulator started until the first answer
	initRep   time.Duration // the emulator's INIT REPORT: exec to first /next
}

type bench struct {
	o         options
	root      string
	tmp       string
	user      string
	password  string
	fns       []*fn
	zip       zipInfo
	pgVersion string
	pgWhere   string  // the database, without credentials
	coldOther float64 // cores other processes used during the cold starts
	rieVer    string
	problems  []string
}

type zipInfo struct {
	path       string
	source     string // how it was made
	zipBytes   int64
	innerBytes int64 // the bootstrap, uncompressed
}

func run(ctx context.Context, o options) error {
	if o.coldRuns <= 0 || o.invokes <= 0 || o.warmup < 0 || o.assets <= 0 {
		return errors.New("-cold-runs, -invokes and -assets must be positive, -warmup not negative")
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	started := time.Now()

	root, err := gotool.ModuleRoot(ctx)
	if err != nil {
		return err
	}
	rieBin, err := rie.Bin()
	if err != nil {
		return err
	}
	tmp, removeTmp, err := tempdir.Make("lambdabench-", o.keep, logf)
	if err != nil {
		return err
	}
	defer removeTmp()
	b := &bench{o: o, root: root, tmp: tmp, user: "bench", password: "pw-" + randomHex(8), rieVer: benchreport.ModuleVersion(ctx, rieBin)}

	// Builds: the bootstrap and the reference for this machine, as the
	// release builds them, and the release zip's arm64 bootstrap.
	icy := filepath.Join(tmp, "icy-morning", "bootstrap")
	ref := filepath.Join(tmp, "reference", "bootstrap")
	for _, bl := range []struct{ pkg, out string }{{"./cmd/icy-morning", icy}, {"./bench/lambdaref", ref}} {
		logf("building %s (%s)", bl.pkg, runtime.GOARCH)
		if err := rie.Build(ctx, root, bl.pkg, runtime.GOARCH, bl.out); err != nil {
			return err
		}
	}
	if err := b.measureZip(ctx); err != nil {
		return err
	}

	common := []string{"BASIC_AUTH_USERNAME=" + b.user, "BASIC_AUTH_PASSWORD=" + b.password, "NOTIFY_SECRET=" + strings.Repeat("k", 32), "LOG_FORMAT=json",
		"AWS_LAMBDA_FUNCTION_NAME=icy-morning-bench", "AWS_REGION=eu-west-1"}
	b.fns = append(b.fns, &fn{name: "reference", database: "-", bootstrap: ref, env: common, quiet: true})
	common = append(common, strings.Fields(o.fnEnv)...)

	sqlitePath := filepath.Join(tmp, "bench.db")
	b.fns = append(b.fns, &fn{name: "icy-morning", database: "SQLite", bootstrap: icy, quiet: true,
		env: append([]string{"DATABASE_URL=sqlite:///" + sqlitePath}, common...)})

	if o.jwt {
		is, err := testissuer.Start()
		if err != nil {
			return fmt.Errorf("test OIDC issuer: %w", err)
		}
		defer is.Close()
		b.fns = append(b.fns, &fn{name: "icy-morning, AUTH_TYPE=basic,jwt,", database: "SQLite", bootstrap: icy, quiet: true, seeded: true,
			env: append([]string{"DATABASE_URL=sqlite:///" + sqlitePath, "AUTH_TYPE=basic,jwt", "OIDC_ISSUER_URL=" + is.URL,
				"OIDC_AUDIENCE=icy-morning-bench", "OIDC_WRITE_SCOPE=icy-morning/write"}, common...)})
	}

	if o.pgURL != "none" {
		pgURL, drop, err := b.postgres(ctx)
		if err != nil {
			return err
		}
		defer drop()
		b.fns = append(b.fns, &fn{name: "icy-morning", database: "PostgreSQL", bootstrap: icy, quiet: true,
			env: append([]string{"DATABASE_URL=" + pgURL}, common...)})
	}

	for _, f := range b.fns[1:] {
		if f.seeded {
			continue
		}
		if err := b.seed(ctx, f); err != nil {
			return fmt.Errorf("%s: %w", f.label(), err)
		}
	}
	if err := b.measureCold(ctx); err != nil {
		return err
	}
	if err := b.measureWarm(ctx); err != nil {
		return err
	}

	rep := b.report(time.Since(started))
	fmt.Print(rep)
	out := o.out
	if out == defaultOut {
		out = filepath.Join(root, defaultOut)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(out, []byte(rep), 0o644); err != nil {
		return err
	}
	logf("wrote %s", out)
	if len(b.problems) > 0 {
		return fmt.Errorf("run invalid: %s", strings.Join(b.problems, "; "))
	}
	return nil
}

// start runs f under a new emulator.
func (b *bench) start(ctx context.Context, f *fn, output io.Writer) (*rie.Emulator, error) {
	return rie.Start(ctx, rie.Config{Bootstrap: f.bootstrap, Env: f.env, FunctionTimeout: 30 * time.Second, Output: output})
}

// seed migrates f's database with the operator command of a migrate
// function (ICY_MORNING_FUNCTION=migrate, as deployed: the API function
// refuses it) and creates one analyst and b.o.assets assets through the
// API, as a client would. Lambda mode does not migrate on a cold start, so
// the cold starts measured later find the schema in place, as in
// production.
func (b *bench) seed(ctx context.Context, f *fn) error {
	start := time.Now()
	mf := *f
	mf.env = append(slices.Clone(f.env), "ICY_MORNING_FUNCTION=migrate")
	m, err := b.start(ctx, &mf, nil)
	if err != nil {
		return err
	}
	out, err := m.Invoke(ctx, []byte(`{"icy_morning":"migrate"}`))
	_ = m.Close()
	if err != nil || !strings.Contains(string(out), `"ok":true`) {
		return fmt.Errorf("migrate: %s %v\n%s", out, err, m.Output())
	}
	e, err := b.start(ctx, f, nil)
	if err != nil {
		return err
	}
	defer e.Close()
	auth := map[string]string{"authorization": basic(b.user, b.password), "content-type": "application/json"}
	post := func(path, body string) error {
		resp, err := b.http(ctx, e, rie.Request{Method: "POST", Path: path, Header: auth, Body: body, RequestID: "seed-" + randomHex(6)})
		if err != nil {
			return err
		}
		if resp.StatusCode != 201 {
			return fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, resp.Body)
		}
		return nil
	}
	if err := post("/api/v1/analysts", `{"name":"Bench Analyst","company":"Bench"}`); err != nil {
		return err
	}
	for i := 1; i <= b.o.assets; i++ {
		body := fmt.Sprintf(`{"name":"Asset %d","description":"Benchmark asset number %d","inception_date":"2020-01-%02d","is_active":true,"analyst_id":1}`, i, i, 1+i%28)
		if err := post("/api/v1/assets", body); err != nil {
			return err
		}
	}
	logf("%s: migrated and seeded %d assets in %s", f.label(), b.o.assets, time.Since(start).Round(time.Millisecond))
	return nil
}

func (b *bench) http(ctx context.Context, e *rie.Emulator, r rie.Request) (rie.Response, error) {
	payload, err := json.Marshal(rie.HTTPEvent(r))
	if err != nil {
		return rie.Response{}, err
	}
	out, err := e.Invoke(ctx, payload)
	if err != nil {
		return rie.Response{}, err
	}
	return rie.DecodeHTTPResponse(out)
}

// getEvent is GET /api/v1/assets/{id} as an HTTP API event.
func getEvent(id int, requestID string) []byte {
	ev := rie.HTTPEvent(rie.Request{Method: "GET", Path: "/api/v1/assets/" + strconv.Itoa(id),
		Header: map[string]string{"accept": "application/json", "user-agent": "lambdabench"}, RequestID: requestID})
	b, _ := json.Marshal(ev)
	return b
}

// measureCold starts each function cold b.o.coldRuns times: a new
// emulator and process each time, timed from the emulator's exec until the
// first invoke's answer. The functions take turns, run by run, so that
// whatever else the machine does falls on all of them alike.
func (b *bench) measureCold(ctx context.Context) error {
	quiet := b.waitQuiet(ctx)
	other := otherCores()
	for i := range b.o.coldRuns {
		for _, f := range b.fns {
			if err := b.coldOnce(ctx, f, i); err != nil {
				return fmt.Errorf("%s: cold start %d: %w", f.label(), i+1, err)
			}
			f.quiet = f.quiet && quiet
		}
	}
	b.coldOther = other()
	logf("cold starts: other processes used %.2f cores", b.coldOther)
	for _, f := range b.fns {
		s := summarize(totals(f.cold))
		logf("%s: %d cold starts, median %s, p90 %s", f.label(), len(f.cold), benchreport.Ms(s.p50), benchreport.Ms(s.p90))
	}
	return nil
}

func (b *bench) coldOnce(ctx context.Context, f *fn, i int) error {
	payload := getEvent(1+i%b.o.assets, "cold-"+randomHex(6))
	e, err := b.start(ctx, f, nil)
	if err != nil {
		return err
	}
	listening := time.Since(e.Started)
	out, err := e.Invoke(ctx, payload)
	total := time.Since(e.Started)
	reports := e.InitReports()
	_ = e.Close()
	if err != nil {
		return fmt.Errorf("%w\n%s", err, e.Output())
	}
	if f.name != "reference" {
		resp, err := rie.DecodeHTTPResponse(out)
		if err != nil || resp.StatusCode != 200 {
			return fmt.Errorf("first answer %s (%v)", out, err)
		}
	}
	c := coldStart{listening: listening, total: total}
	if len(reports) > 0 {
		c.initRep = reports[0]
	}
	f.cold = append(f.cold, c)
	return nil
}

// warmRounds is how many turns the functions take during the warm
// measurement.
const warmRounds = 4

// measureWarm keeps one warm emulator per function, sends each
// b.o.warmup GETs by id, then b.o.invokes more, timed at the client, one
// after another. The functions take turns in warmRounds rounds, so that
// a burst of other work on the machine falls on all of them alike.
func (b *bench) measureWarm(ctx context.Context) error {
	emus := make([]*rie.Emulator, len(b.fns))
	for i, f := range b.fns {
		logFile, err := os.Create(filepath.Join(b.tmp, strings.ReplaceAll(f.label(), " ", "-")+".log"))
		if err != nil {
			return err
		}
		defer logFile.Close()
		e, err := b.start(ctx, f, logFile)
		if err != nil {
			return fmt.Errorf("%s: %w", f.label(), err)
		}
		defer e.Close()
		emus[i] = e
		for j := range b.o.warmup {
			if _, err := e.Invoke(ctx, getEvent(1+j%b.o.assets, fmt.Sprintf("warmup-%06d", j))); err != nil {
				return fmt.Errorf("%s: warm-up invoke %d: %w", f.label(), j+1, err)
			}
		}
		f.warm = make([]time.Duration, 0, b.o.invokes)
	}
	quiet := b.waitQuiet(ctx)
	n := 0
	for r := range warmRounds {
		per := b.o.invokes / warmRounds
		if r == warmRounds-1 {
			per = b.o.invokes - per*(warmRounds-1)
		}
		for i, f := range b.fns {
			f.quiet = f.quiet && quiet
			pids := emus[i].PIDs()
			t0, s0 := time.Now(), takeSnapshot(pids)
			for j := range per {
				k := n + j
				payload := getEvent(1+k%b.o.assets, fmt.Sprintf("warm-%06d", k))
				t0 := time.Now()
				out, err := emus[i].Invoke(ctx, payload)
				d := time.Since(t0)
				if err != nil {
					return fmt.Errorf("%s: invoke %d: %w", f.label(), k+1, err)
				}
				f.warm = append(f.warm, d)
				if f.name != "reference" {
					if resp, err := rie.DecodeHTTPResponse(out); err != nil || resp.StatusCode != 200 {
						f.non200++
					}
				}
			}
			f.cpu.add(s0, takeSnapshot(pids), time.Since(t0).Seconds())
		}
		n += per
	}
	for _, f := range b.fns {
		if f.non200 > 0 {
			b.problems = append(b.problems, fmt.Sprintf("%d non-200 answers to GET by id from %s", f.non200, f.label()))
		}
		s := summarize(f.warm)
		_, _, _, other := f.cpu.cores()
		logf("%s: %d warm invokes, p50 %s, p99 %s (other processes: %.2f cores)", f.label(), len(f.warm), benchreport.Ms(s.p50), benchreport.Ms(s.p99), other)
	}
	return nil
}

// measureZip sizes the release zip: -zip if given, else an arm64 bootstrap
// built as `make lambda` builds it, zipped here.
func (b *bench) measureZip(ctx context.Context) error {
	z := zipInfo{path: b.o.zipPath, source: "given with -zip"}
	if z.path == "" {
		bootstrap := filepath.Join(b.tmp, "arm64", "bootstrap")
		logf("building ./cmd/icy-morning (arm64) for the zip")
		if err := rie.Build(ctx, b.root, "./cmd/icy-morning", "arm64", bootstrap); err != nil {
			return err
		}
		z.path = filepath.Join(b.tmp, "icy-morning-lambda.zip")
		z.source = "arm64 bootstrap built with the release flags, zipped as make lambda does"
		if err := lambdazip.Write(z.path, bootstrap); err != nil {
			return err
		}
	}
	fi, err := os.Stat(z.path)
	if err != nil {
		return err
	}
	z.zipBytes = fi.Size()
	zr, err := zip.OpenReader(z.path)
	if err != nil {
		return fmt.Errorf("%s: %w", z.path, err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		z.innerBytes += int64(f.UncompressedSize64)
	}
	b.zip = z
	return nil
}

// postgres makes the run a schema of its own in the loopback database at
// -pg-url, and returns a URL that uses it and the function that drops it.
// It notes the server's version and where it is, for the report.
func (b *bench) postgres(ctx context.Context) (string, func(), error) {
	cfg, err := pgx.ParseConfig(b.o.pgURL)
	if err != nil {
		return "", nil, fmt.Errorf("-pg-url: %w", err)
	}
	if !netaddr.IsLocalHost(cfg.Host) {
		return "", nil, fmt.Errorf("-pg-url: host %q is not loopback; the benchmark runs on 127.0.0.1 only", cfg.Host)
	}
	if b.pgVersion, err = benchreport.PostgresVersion(ctx, cfg); err != nil {
		return "", nil, fmt.Errorf("connect to %s@%s/%s (set -pg-url or TEST_DATABASE_URL, or -pg-url none): %w", cfg.User, cfg.Host, cfg.Database, err)
	}
	b.pgWhere = pgWhere(b.o.pgURL)
	schemaURL, drop, err := pgschema.Create(ctx, b.o.pgURL, "lambdabench_")
	if err != nil {
		return "", nil, err
	}
	return schemaURL, func() {
		if err := drop(); err != nil {
			logf("%v", err)
		}
	}, nil
}

// pgWhere names the database and its TLS setting, without credentials.
func pgWhere(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "?"
	}
	mode := u.Query().Get("sslmode")
	if mode == "" {
		mode = "prefer (pgx's default: TLS when the server offers it)"
	}
	return fmt.Sprintf("database %s on %s, sslmode %s", strings.TrimPrefix(u.Path, "/"), u.Host, mode)
}

func basic(user, password string) string {
	return "Basic " + base64Std(user+":"+password)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// logf reports progress on stderr, so stdout holds only the report.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
