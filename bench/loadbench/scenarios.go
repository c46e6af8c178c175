//go:build linux

package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/icy-morning/icy-morning/bench/benchproc"
	"github.com/icy-morning/icy-morning/bench/procstat"
	"github.com/icy-morning/icy-morning/internal/benchreport"
)

const (
	dbPostgres = "PostgreSQL"
	dbSQLite   = "SQLite"

	serverService = "icy-morning"
	serverCeiling = "ceiling"
)

// Scenario names, as the report prints them.
const (
	scGetByID   = "GET asset by id"
	scPageFirst = "GET page of 100, first"
	scPageDeep  = "GET page of 100, deep"
	scPost      = "POST asset"
	// POST with the dispatcher off, with no subscriber and with
	// -subscribers; then once with the dispatcher on (see subscribers.go).
	scPostNone       = "POST asset, dispatcher off, no subscribers"
	scPostSubs       = "POST asset, dispatcher off, with subscribers"
	scPostSubsDispOn = "POST asset, dispatcher on, with subscribers"
)

// bench holds a run's settings and what it has measured so far.
type bench struct {
	o       options
	tmp     string
	procs   *benchproc.Registry
	scripts map[string]string
	user    string // the write account given to the service
	pass    string

	results   []result
	startup   []time.Duration
	pgVersion string

	// PocketBase's binary and version, or why it is skipped; and the side
	// by side's results (peer.go).
	pocketBaseBin, pocketBaseVersion, pocketBaseSkipped string
	peer                                                []result
	// The side by side of Bearer and Basic (jwt.go).
	jwt []result
	// The HTTP caching side by side (cache.go), and why its GET through
	// nginx did not run.
	cache        []result
	cacheSkipped string
	// JWKS requests the issuer had over the whole comparison.
	jwksTotal int64
}

// result is one scenario's measurement against one server.
type result struct {
	scenario string
	database string
	server   string
	rows     int // assets seeded (POST adds more as it runs)
	// subscribers and round are those of the POST-with-subscribers
	// scenarios (round 0 for the others); note says what the outbox held
	// after a dispatcher-on run.
	subscribers, round int
	note               string
	// providerCalls is how many requests the measured run made to the
	// scenario's outside party, when it counts them (providerCounted).
	providerCalls   int64
	providerCounted bool
	wrkResult
	peakRSS int64 // bytes (VmHWM)
	cpu     cpuUse
	quiet   bool // the machine was idle before the run began
}

// target says how to start one server on one database.
type target struct {
	server   string
	database string
	bin      string
	args     []string // without the listen address
	addrFlag string
	health   string // the path that answers 200 once it serves; "" is /healthz
	env      []string
	dbURL    string // the database it serves, for the scenarios' set-up
}

// scenario is one endpoint under load, with the one request that must
// succeed before the load starts: a wrong password or a wrong cursor is
// then reported as such, not as a column of errors.
type scenario struct {
	name       string
	path       string // request path, also wrk's URL path
	script     string // wrk Lua script file name, or ""
	scriptArgs []string
	preflight  func(ctx context.Context, base string) error
	// Optional: env is added to the target's; setup runs before each
	// attempt's server starts, after runs after its measured load (the
	// server still up); their arguments are the target's database URL.
	env                []string
	setup              func(ctx context.Context, dbURL string) error
	after              func(ctx context.Context, dbURL string) (string, error)
	subscribers, round int
	tag                string // added to the name in progress lines, e.g. " (beside PocketBase, round 1)"
	// front, when set, starts a proxy in front of the attempt's server
	// (nginx, cache.go): the pre-flight and the load go to its base URL,
	// and its CPU time counts as the server's.
	front func(ctx context.Context, srv *server) (string, *benchproc.Proc, error)
	// providerCalls, when set, counts the requests an outside party (the
	// OIDC provider's JWKS) has had so far; the result keeps how many the
	// measured run made.
	providerCalls func() int64
}

// cursor is the service's opaque page cursor for "after id": base64url,
// unpadded, of "v1:<id>". The pre-flight check proves the service reads it
// as meant, by the page's first id.
func cursor(afterID int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("v1:" + strconv.Itoa(afterID)))
}

func (b *bench) getByID(rows int) scenario {
	return scenario{
		name:       scGetByID,
		path:       "/api/v1/assets/1",
		script:     "get_by_id.lua",
		scriptArgs: []string{strconv.Itoa(rows)},
		preflight: func(ctx context.Context, base string) error {
			var a struct {
				ID            int64  `json:"id"`
				InceptionDate string `json:"inception_date"`
			}
			if err := fetchJSON(ctx, http.MethodGet, base+"/api/v1/assets/1", nil, "", http.StatusOK, &a); err != nil {
				return err
			}
			if a.ID != 1 || len(a.InceptionDate) != len("2006-01-02") {
				return fmt.Errorf("GET asset 1: unexpected body %+v", a)
			}
			return nil
		},
	}
}

// page is the 100 assets after id afterID (0: the first page).
func (b *bench) page(name string, afterID int) scenario {
	path := "/api/v1/assets?limit=100"
	if afterID > 0 {
		path += "&cursor=" + cursor(afterID)
	}
	return scenario{
		name: name,
		path: path,
		preflight: func(ctx context.Context, base string) error {
			var items []struct {
				ID int64 `json:"id"`
			}
			if err := fetchJSON(ctx, http.MethodGet, base+path, nil, "", http.StatusOK, &items); err != nil {
				return err
			}
			if len(items) != 100 || items[0].ID != int64(afterID)+1 {
				first := int64(0)
				if len(items) > 0 {
					first = items[0].ID
				}
				return fmt.Errorf("GET %s: want 100 assets from id %d, got %d from id %d", path, afterID+1, len(items), first)
			}
			return nil
		},
	}
}

func (b *bench) post() scenario {
	auth := base64.StdEncoding.EncodeToString([]byte(b.user + ":" + b.pass))
	var lastOld int64
	return scenario{
		name:       scPost,
		path:       "/api/v1/assets",
		script:     "post_asset.lua",
		scriptArgs: []string{auth},
		preflight: func(ctx context.Context, base string) error {
			body := `{"name":"preflight","is_active":true,"analyst_id":1,"inception_date":"2024-01-02"}`
			return fetchJSON(ctx, http.MethodPost, base+"/api/v1/assets", strings.NewReader(body), "Basic "+auth, http.StatusCreated, nil)
		},
		// Each run starts with an empty outbox: the events an earlier
		// run left (the ceiling's, which has no dispatcher) would
		// otherwise be this run's dispatcher's work, taken from the
		// server's CPU. After the run, the note says whether the
		// dispatcher kept up with this run's events.
		setup: func(ctx context.Context, dbURL string) error {
			var err error
			lastOld, err = resetOutbox(ctx, dbURL)
			return err
		},
		after: func(ctx context.Context, dbURL string) (string, error) { return outboxBacklog(ctx, dbURL, lastOld) },
	}
}

// postWith is the POST scenario with n active subscribers, the in-process
// dispatcher on or off, in a round of the side-by-side comparison.
func (b *bench) postWith(name string, n int, dispatcher bool, round int) scenario {
	sc := b.post()
	sc.name, sc.subscribers, sc.round = name, n, round
	sc.env = []string{"NOTIFY_DISPATCHER=" + strconv.FormatBool(dispatcher)}
	sc.setup = func(ctx context.Context, dbURL string) error { return setSubscribers(ctx, dbURL, n) }
	sc.after = nil
	if dispatcher {
		var lastOld int64
		sc.setup = func(ctx context.Context, dbURL string) error {
			var err error
			if lastOld, err = resetOutbox(ctx, dbURL); err != nil {
				return err
			}
			return setSubscribers(ctx, dbURL, n)
		}
		sc.after = func(ctx context.Context, dbURL string) (string, error) { return outboxBacklog(ctx, dbURL, lastOld) }
	}
	return sc
}

// postSubscribers are the POST-with-subscribers scenarios, in the order
// they run: the dispatcher off, without and with subscribers, alternating
// in ABBA order over the rounds (so that the table's growth, a slow drift,
// falls on both sides alike), then one run with the dispatcher on.
func (b *bench) postSubscribers() []scenario {
	if b.o.subscribers == 0 || b.o.postRounds == 0 {
		return nil
	}
	var scs []scenario
	for r := 1; r <= b.o.postRounds; r++ {
		none, subs := b.postWith(scPostNone, 0, false, r), b.postWith(scPostSubs, b.o.subscribers, false, r)
		if r%2 == 1 {
			scs = append(scs, none, subs)
		} else {
			scs = append(scs, subs, none)
		}
	}
	return append(scs, b.postWith(scPostSubsDispOn, b.o.subscribers, true, 1))
}

// fetchJSON makes one request, with the Authorization header's value
// unless it is "", and checks its status, decoding the body into v unless
// v is nil.
func fetchJSON(ctx context.Context, method, url string, body io.Reader, authorization string, want int, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d, want %d: %s", method, url, resp.StatusCode, want, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			return fmt.Errorf("%s %s: %w", method, url, err)
		}
	}
	return nil
}

func (b *bench) service(database, dbURL string) target {
	args := []string{"serve", "--database-url", dbURL}
	if b.o.maxConns > 0 {
		args = append(args, "--max-conns", strconv.Itoa(b.o.maxConns))
	}
	return target{
		server: serverService, database: database, bin: b.o.bin, args: args, addrFlag: "--addr",
		// Logging stays on, as in production: one JSON line per request,
		// to a file in the temporary directory.
		env:   []string{"BASIC_AUTH_USERNAME=" + b.user, "BASIC_AUTH_PASSWORD=" + b.pass, "LOG_FORMAT=json", "LOG_LEVEL=info"},
		dbURL: dbURL,
	}
}

// ceiling is bench/ceiling on dbURL, with the service's pool size and
// write account.
func (b *bench) ceiling(dbURL string) target {
	args := []string{"-database-url", dbURL}
	if b.o.maxConns > 0 {
		args = append(args, "-max-conns", strconv.Itoa(b.o.maxConns))
	}
	return target{server: serverCeiling, database: dbPostgres, bin: b.o.ceilingBin, args: args, addrFlag: "-addr", dbURL: dbURL,
		env: []string{"BASIC_AUTH_USERNAME=" + b.user, "BASIC_AUTH_PASSWORD=" + b.pass}}
}

// runAll measures every scenario, database by database, then PocketBase
// beside icy-morning on SQLite, then Bearer beside Basic, then start-up.
func (b *bench) runAll(ctx context.Context) error {
	b.user = "bench"
	b.pass = rand.Text()
	if b.o.cacheOnly {
		return b.runCache(ctx)
	}
	if b.o.pocketBaseOnly || b.o.jwtOnly {
		if b.o.pocketBaseOnly {
			if err := b.runPeer(ctx, b.pocketBaseBin); err != nil {
				return err
			}
		}
		if b.o.jwtOnly {
			return b.runJWT(ctx)
		}
		return nil
	}

	if err := b.postgresVersion(ctx); err != nil {
		return err
	}
	pg := b.service(dbPostgres, b.o.pgURL)
	// The POST scenarios run last on each small database: they add rows,
	// and the reads should see exactly the seeded 1,000.
	reads := []scenario{b.getByID(seedAssetsSmall), b.page(scPageFirst, 0), b.page(scPageDeep, seedAssetsSmall/2)}
	writes := append([]scenario{b.post()}, b.postSubscribers()...)
	small := slices.Concat(reads, writes)
	large := []scenario{b.page(scPageFirst, 0), b.page(scPageDeep, seedAssetsLarge/2)}

	if err := preparePostgres(ctx, b.o.bin, b.o.pgURL, seedAssetsSmall); err != nil {
		return err
	}
	// The ceiling reads and writes the very database the service does, in
	// the same state, just before it.
	if err := b.measure(ctx, b.ceiling(b.o.pgURL), b.getByID(seedAssetsSmall), seedAssetsSmall); err != nil {
		return err
	}
	if err := b.measureAll(ctx, pg, reads, seedAssetsSmall); err != nil {
		return err
	}
	if err := b.measure(ctx, b.ceiling(b.o.pgURL), b.post(), seedAssetsSmall); err != nil {
		return err
	}
	if err := b.measureAll(ctx, pg, writes, seedAssetsSmall); err != nil {
		return err
	}
	if err := preparePostgres(ctx, b.o.bin, b.o.pgURL, seedAssetsLarge); err != nil {
		return err
	}
	if err := b.measureAll(ctx, pg, large, seedAssetsLarge); err != nil {
		return err
	}

	for _, st := range []struct {
		rows      int
		scenarios []scenario
	}{{seedAssetsSmall, small}, {seedAssetsLarge, large}} {
		path := filepath.Join(b.tmp, fmt.Sprintf("bench-%d.db", st.rows))
		if err := prepareSQLite(ctx, b.o.bin, path, st.rows); err != nil {
			return err
		}
		if err := b.measureAll(ctx, b.service(dbSQLite, sqliteURL(path)), st.scenarios, st.rows); err != nil {
			return err
		}
	}
	if b.pocketBaseBin != "" {
		if err := b.runPeer(ctx, b.pocketBaseBin); err != nil {
			return err
		}
	}
	if b.o.jwt {
		if err := b.runJWT(ctx); err != nil {
			return err
		}
	}
	if b.o.cache {
		if err := b.runCache(ctx); err != nil {
			return err
		}
	}
	return b.measureStartup(ctx)
}

func (b *bench) measureAll(ctx context.Context, t target, scs []scenario, rows int) error {
	for _, sc := range scs {
		if err := b.measure(ctx, t, sc, rows); err != nil {
			return err
		}
	}
	return nil
}

// noisyCores is how much CPU other processes may take during a measured
// run before the run is repeated: a tenth of a core is within the noise of
// the accounting, more visibly lowers a 2-core machine's figures.
const noisyCores = 0.1

// measure measures one scenario against one target and adds the result to
// the report's main table.
func (b *bench) measure(ctx context.Context, t target, sc scenario, rows int) error {
	r, err := b.measureBest(ctx, t, sc, rows)
	if err != nil {
		return err
	}
	b.results = append(b.results, *r)
	return nil
}

// measureBest measures one scenario against one target. When other
// processes took CPU during the run, it measures again (up to -retries
// times) and returns the attempt they disturbed least.
func (b *bench) measureBest(ctx context.Context, t target, sc scenario, rows int) (*result, error) {
	name := fmt.Sprintf("%s on %s (%s, %d rows)", sc.name+sc.tag, t.server, t.database, rows)
	if sc.round > 0 {
		name = fmt.Sprintf("%s (%d subscribers, round %d) on %s (%s)", sc.name, sc.subscribers, sc.round, t.server, t.database)
	}
	var best *result
	for attempt := 0; attempt <= b.o.retries; attempt++ {
		r, err := b.measureOnce(ctx, t, sc, rows, name)
		if err != nil {
			return nil, err
		}
		logf("%-62s %6.0f req/s  p50 %s  p99 %s  RSS %s  non-2xx %d  socket errors %d  CPU %s",
			name, r.rps, benchreport.Ms(r.p50), benchreport.Ms(r.p99), benchreport.MB(r.peakRSS), r.non2xx, r.socketErrors, fmtCPU(r.cpu))
		if best == nil || r.cpu.other < best.cpu.other {
			best = r
		}
		if best.quiet && best.cpu.other <= noisyCores {
			break
		}
		if attempt < b.o.retries {
			logf("%s: other processes used %.2f cores; measuring again", name, r.cpu.other)
		}
	}
	return best, nil
}

// measureOnce starts a fresh server, so that its peak RSS is this
// scenario's alone, checks one request, warms up, runs the measured load
// and reads the peak RSS before stopping the server.
func (b *bench) measureOnce(ctx context.Context, t target, sc scenario, rows int, name string) (*result, error) {
	if sc.setup != nil {
		if err := sc.setup(ctx, t.dbURL); err != nil {
			return nil, fmt.Errorf("%s: set-up: %w", name, err)
		}
	}
	quiet, busy := procstat.WaitQuiet(ctx, b.o.quietWait, 0.1)
	if !quiet {
		logf("%s: the machine is still busy (%.2f cores) after %s; measuring anyway", name, busy, b.o.quietWait)
	}
	srv, err := b.startServer(ctx, t, sc.env)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer b.procs.Stop(srv.Proc)
	base, pids := srv.base, []int{srv.PID()}
	if sc.front != nil {
		fb, fp, err := sc.front(ctx, srv)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		defer b.procs.Stop(fp)
		base, pids = fb, append(pids, fp.PID())
	}
	if err := sc.preflight(ctx, base); err != nil {
		return nil, fmt.Errorf("%s: pre-flight: %w", name, err)
	}
	w := wrkRun{url: base + sc.path, scriptArgs: sc.scriptArgs}
	if sc.script != "" {
		w.script = b.scripts[sc.script]
	}
	if b.o.warmup > 0 {
		if _, err := b.runWrk(ctx, w, b.o.warmup); err != nil {
			return nil, fmt.Errorf("%s: warm-up: %w", name, err)
		}
	}
	var callsBefore int64
	if sc.providerCalls != nil {
		callsBefore = sc.providerCalls()
	}
	before := takeSnapshot(pids...)
	wr, err := b.runWrk(ctx, w, b.o.duration)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var calls int64
	if sc.providerCalls != nil {
		calls = sc.providerCalls() - callsBefore
	}
	cpu := before.use(takeSnapshot(pids...), wr.cpuSeconds)
	if t.database != dbPostgres {
		// A server on SQLite does not use PostgreSQL: what it spent (other
		// sessions' tests, autovacuum) was taken from the run.
		cpu.other += cpu.db
		cpu.db = 0
	}
	rss, err := procstat.PeakRSS(srv.PID())
	if err != nil {
		return nil, fmt.Errorf("%s: peak RSS: %w", name, err)
	}
	var note string
	if sc.after != nil {
		if note, err = sc.after(ctx, t.dbURL); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		logf("%s: %s", name, note)
	}
	return &result{scenario: sc.name, database: t.database, server: t.server, rows: rows, subscribers: sc.subscribers, round: sc.round,
		note: note, wrkResult: wr, peakRSS: rss, cpu: cpu, quiet: quiet, providerCalls: calls, providerCounted: sc.providerCalls != nil}, nil
}

// postgresVersion records the server's version for the report; it also
// fails early, with a clear message, when PostgreSQL is not running.
func (b *bench) postgresVersion(ctx context.Context) error {
	cfg, err := pgx.ParseConfig(b.o.pgURL)
	if err != nil {
		return err
	}
	// The benchmark database may not exist yet.
	cfg.Database = "postgres"
	if b.pgVersion, err = benchreport.PostgresVersion(ctx, cfg); err != nil {
		return fmt.Errorf("PostgreSQL at %s:%d: %w (start it with: pg_ctlcluster 15 main start)", cfg.Host, cfg.Port, err)
	}
	return nil
}
