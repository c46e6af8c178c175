package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/icy-morning/icy-morning/bench/benchproc"
	"github.com/icy-morning/icy-morning/internal/benchreport"
	"github.com/icy-morning/icy-morning/internal/netaddr"
	"github.com/icy-morning/icy-morning/internal/nginxcache"
)

// HTTP caching side by side (issue 12), in one run on one SQLite database
// of seedAssetsSmall assets: a full GET by id (200 with the body), the
// same GET with the If-None-Match of the asset's current ETag (304, no
// body), and the full GET through nginx (internal/nginxcache) with a warm
// cache, each from a fresh server. The rounds rotate the order, so that a
// drift of the machine falls on every side; the ratios are taken within a
// round. With the service's default CACHE_S_MAXAGE (60 s) no cached copy
// expires during an attempt, so every request through nginx is a hit.

const (
	scGetFull  = "GET asset by id, full (200)"
	scGet304   = "GET asset by id, If-None-Match (304)"
	scGetNginx = "GET asset by id, through nginx, warm cache"

	// Issue 12: a revalidation at least this many times the req/s of a
	// full GET by id.
	targetRevalidation = 1.2
)

// runCache measures the three GETs in -cache-rounds rounds.
func (b *bench) runCache(ctx context.Context) error {
	path := filepath.Join(b.tmp, "cache.db")
	if err := prepareSQLite(ctx, b.o.bin, path, seedAssetsSmall); err != nil {
		return err
	}
	t := b.service(dbSQLite, sqliteURL(path))
	full := b.getByID(seedAssetsSmall)
	full.name = scGetFull
	scs := []scenario{full, b.getIfNoneMatch(seedAssetsSmall)}
	if bin, err := nginxcache.Bin(); err != nil {
		b.cacheSkipped = fmt.Sprintf("%v (%s)", err, nginxcache.InstallCommand)
		logf("WARNING: nginx is missing; the GET through a cache is SKIPPED: %s", b.cacheSkipped)
	} else {
		scs = append(scs, b.getThroughNginx(bin, seedAssetsSmall))
	}
	for round := 1; round <= b.o.cacheRounds; round++ {
		order := slices.Clone(scs)
		if round%2 == 0 {
			slices.Reverse(order)
		}
		for _, sc := range order {
			sc.tag = fmt.Sprintf(" (round %d)", round)
			r, err := b.measureBest(ctx, t, sc, seedAssetsSmall)
			if err != nil {
				return err
			}
			r.round = round
			b.cache = append(b.cache, *r)
		}
	}
	return nil
}

// getIfNoneMatch is the GET by id with each asset's current ETag. Its
// pre-flight reads the tags from the server, writes them for the script,
// and checks that each one answers 304.
func (b *bench) getIfNoneMatch(rows int) scenario {
	tags := filepath.Join(b.tmp, "etags.txt")
	return scenario{
		name:       scGet304,
		path:       "/api/v1/assets/1",
		script:     "get_by_id_if_none_match.lua",
		scriptArgs: []string{tags},
		preflight: func(ctx context.Context, base string) error {
			var sb strings.Builder
			for id := 1; id <= rows; id++ {
				url := base + "/api/v1/assets/" + strconv.Itoa(id)
				h, err := fetchHeader(ctx, url, "", http.StatusOK)
				if err != nil {
					return err
				}
				tag := h.Get("ETag")
				if tag == "" {
					return fmt.Errorf("GET %s: no ETag", url)
				}
				if _, err := fetchHeader(ctx, url, tag, http.StatusNotModified); err != nil {
					return err
				}
				fmt.Fprintf(&sb, "%d %s\n", id, tag)
			}
			return os.WriteFile(tags, []byte(sb.String()), 0o644)
		},
	}
}

// getThroughNginx is the full GET by id through nginx in front of the
// server. Its pre-flight fills the cache with every asset the script asks
// for, and checks that the next answer is a hit.
func (b *bench) getThroughNginx(bin string, rows int) scenario {
	sc := b.getByID(rows)
	sc.name = scGetNginx
	direct := sc.preflight
	sc.preflight = func(ctx context.Context, base string) error {
		if err := direct(ctx, base); err != nil {
			return err
		}
		for id := 1; id <= rows; id++ {
			if _, err := fetchHeader(ctx, base+"/api/v1/assets/"+strconv.Itoa(id), "", http.StatusOK); err != nil {
				return err
			}
		}
		h, err := fetchHeader(ctx, base+"/api/v1/assets/1", "", http.StatusOK)
		if err != nil {
			return err
		}
		if s := h.Get("X-Cache-Status"); s != "HIT" {
			return fmt.Errorf("GET /api/v1/assets/1 through nginx after filling the cache: X-Cache-Status %q, want HIT", s)
		}
		return nil
	}
	sc.front = func(ctx context.Context, srv *server) (string, *benchproc.Proc, error) {
		addr, err := netaddr.FreeLoopback()
		if err != nil {
			return "", nil, err
		}
		dir, err := os.MkdirTemp(b.tmp, "nginx-")
		if err != nil {
			return "", nil, err
		}
		// One process: its CPU time is then read from one PID, and one
		// worker is nginx's default.
		args, err := nginxcache.Config{Dir: dir, Origin: strings.TrimPrefix(srv.base, "http://"), Listen: addr, SingleProcess: true}.Args()
		if err != nil {
			return "", nil, err
		}
		p, err := b.procs.Start("nginx", bin, args, nil, filepath.Join(dir, "nginx.out"))
		if err != nil {
			return "", nil, err
		}
		base := "http://" + addr
		if err := p.WaitHealthy(ctx, base+"/healthz", 10*time.Second); err != nil {
			b.procs.Stop(p)
			return "", nil, err
		}
		return base, p, nil
	}
	return sc
}

// fetchHeader makes one GET, with If-None-Match unless it is "", checks
// its status and returns its headers.
func fetchHeader(ctx context.Context, url, ifNoneMatch string, want int) (http.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if ifNoneMatch != "" {
		req.Header.Set("If-None-Match", ifNoneMatch)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		return nil, fmt.Errorf("GET %s (If-None-Match %q): status %d, want %d", url, ifNoneMatch, resp.StatusCode, want)
	}
	return resp.Header, nil
}

// cacheSummary judges the side by side: per round, the 304 and the cached
// GET over the full GET, in req/s and in CPU per request (for the cached
// GET, the server's and nginx's together), and the medians against the
// target.
func cacheSummary(results []result, connections int) (ratios [][2]string, verdicts []verdict, problems, warnings []string) {
	find := func(sc string, round int) *result {
		for i := range results {
			if results[i].scenario == sc && results[i].round == round {
				return &results[i]
			}
		}
		return nil
	}
	for _, r := range results {
		if r.non2xx > 0 {
			problems = append(problems, fmt.Sprintf("%s (round %d): %d responses of 400 or above", r.scenario, r.round, r.non2xx))
		}
		if r.socketErrors > 0 {
			warnings = append(warnings, fmt.Sprintf("%s (round %d): %d socket errors", r.scenario, r.round, r.socketErrors))
		}
		if !r.quiet || r.cpu.other > noisyCores {
			warnings = append(warnings, fmt.Sprintf("%s (round %d): other processes used %.2f cores during the run", r.scenario, r.round, r.cpu.other))
		}
	}
	for _, side := range []struct{ scenario, label string }{{scGet304, "If-None-Match (304) / full GET"}, {scGetNginx, "through nginx, warm / straight to the server"}} {
		var rps, p50, cpu []float64
		var rounds []string
		for round := 1; ; round++ {
			base, other := find(scGetFull, round), find(side.scenario, round)
			if base == nil {
				break
			}
			if other == nil {
				continue
			}
			rps = append(rps, other.rps/base.rps)
			p50 = append(p50, float64(other.p50)/float64(base.p50))
			cpu = append(cpu, cpuPerRequest(other)/cpuPerRequest(base))
			rounds = append(rounds, fmt.Sprintf("round %d: req/s %s / %s = %.2fx, p50 %s / %s, CPU a request %.0f / %.0f µs", round,
				benchreport.Thousands(int64(other.rps+0.5)), benchreport.Thousands(int64(base.rps+0.5)), other.rps/base.rps,
				benchreport.Ms(other.p50), benchreport.Ms(base.p50), cpuPerRequest(other), cpuPerRequest(base)))
		}
		if len(rps) == 0 {
			continue
		}
		m := [3]float64{benchreport.Median(rps), benchreport.Median(p50), benchreport.Median(cpu)}
		ratios = append(ratios, [2]string{"GET asset by id, " + side.label,
			fmt.Sprintf("req/s **%.2fx**, p50 %.2fx, CPU a request %.2fx (%s; %s)", m[0], m[1], m[2], mediansOf(len(rps)), strings.Join(rounds, "; "))})
		if side.scenario == scGet304 {
			verdicts = append(verdicts, verdict{
				target:   fmt.Sprintf("GET by id with a matching If-None-Match (304) >= %.1fx the req/s of a full GET by id (SQLite, %d connections, median of the per-round ratios)", targetRevalidation, connections),
				measured: fmt.Sprintf("%.2fx", m[0]),
				pass:     m[0] >= targetRevalidation,
			})
		}
	}
	return ratios, verdicts, problems, warnings
}

// reportCache adds the side by side to the report.
func (b *bench) reportCache(rep *report) {
	if b.cacheSkipped != "" {
		rep.warnings = append(rep.warnings, "GET through nginx SKIPPED: "+b.cacheSkipped)
	}
	if len(b.cache) == 0 {
		return
	}
	rep.cache = b.cache
	rep.cacheTitle = fmt.Sprintf("HTTP caching: one icy-morning on SQLite (%s assets seeded); the same GET by id in full, with If-None-Match, and through nginx with a warm cache (CPU server: serve and nginx together); rotating rounds",
		benchreport.Thousands(seedAssetsSmall))
	ratios, verdicts, problems, warnings := cacheSummary(b.cache, b.o.connections)
	rep.cacheRatios = ratios
	rep.verdicts = append(rep.verdicts, verdicts...)
	rep.problems = append(rep.problems, problems...)
	rep.warnings = append(rep.warnings, warnings...)
}

var cacheHeader = []string{"Scenario", "Round", "req/s", "p50", "p99", "Peak RSS (serve)", "Non-2xx", "Socket errors", "CPU server/wrk/db/other"}

func (r *report) cacheRows() [][]string {
	var rows [][]string
	for _, x := range r.cache {
		rows = append(rows, []string{x.scenario, strconv.Itoa(x.round), benchreport.Thousands(int64(x.rps + 0.5)),
			benchreport.Ms(x.p50), benchreport.Ms(x.p99), benchreport.MB(x.peakRSS),
			benchreport.Thousands(x.non2xx), benchreport.Thousands(x.socketErrors), fmtCPU(x.cpu)})
	}
	return rows
}

// cacheTimeout is what the side by side adds to the run's bound: the
// seed, and each run measured up to 1+retries times.
func (o options) cacheTimeout() time.Duration {
	if !o.cache {
		return 0
	}
	runs := 3 * o.cacheRounds
	return 2*time.Minute + time.Duration(runs*(1+o.retries))*(o.duration+o.warmup+o.quietWait+20*time.Second)
}
