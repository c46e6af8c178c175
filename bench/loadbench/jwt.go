//go:build linux

package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/icy-morning/icy-morning/internal/benchreport"
	"github.com/icy-morning/icy-morning/internal/testissuer"
)

// POST with a bearer JWT beside POST with Basic (issue 11): one service on
// SQLite, AUTH_TYPE=basic,jwt, trusting a loopback OpenID Connect issuer
// (internal/testissuer) that counts its JWKS requests. Both sides send the
// same POST; only the Authorization header differs: Basic with the write
// account, or Bearer with one access token minted before the rounds (RS256,
// as Cognito, Entra ID and Okta sign, valid well after the run). The
// rounds alternate ABBA (Basic first in odd rounds, Bearer first in even
// ones) on one database, so that its growth and the machine's drift fall
// on both sides; the ratios are taken within a round.
//
// Each measured run starts a fresh server, whose first token (the
// pre-flight) fetches the JWKS once; the warm-up follows; the measured run
// must then make no request to the provider at all.

const (
	scPostBasic  = "POST asset, Basic"
	scPostBearer = "POST asset, Bearer JWT"

	jwtAudience = "icy-morning-bench"
	jwtScope    = "icy-morning/write"
	// jwtKey signs the token: RS256, what the common providers use.
	jwtKey = "rsa-1"

	// Issue 11: Bearer req/s at least this share of Basic's.
	targetJWTShare = 0.90
)

// runJWT starts the issuer, seeds a SQLite database and runs -jwt-rounds
// rounds of POST with Basic and with Bearer.
func (b *bench) runJWT(ctx context.Context) error {
	is, err := testissuer.Start()
	if err != nil {
		return fmt.Errorf("test OIDC issuer: %w", err)
	}
	defer is.Close()
	logf("test OIDC issuer at %s", is.URL)

	path := filepath.Join(b.tmp, "jwt.db")
	if err := prepareSQLite(ctx, b.o.bin, path, seedAssetsSmall); err != nil {
		return err
	}
	t := b.service(dbSQLite, sqliteURL(path))
	t.env = append(slices.Clone(t.env), "AUTH_TYPE=basic,jwt", "OIDC_ISSUER_URL="+is.URL,
		"OIDC_AUDIENCE="+jwtAudience, "OIDC_WRITE_SCOPE="+jwtScope)

	claims := is.Access(jwtAudience, jwtScope)
	// Valid for the whole run, whatever its length: an expired token
	// would turn the Bearer side into a column of 401s.
	claims["exp"] = time.Now().Add(b.o.timeout + time.Hour).Unix()
	bearer := "Bearer " + is.Mint(jwtKey, claims)

	basicSc := b.post()
	basicSc.name = scPostBasic
	bearerSc := b.post()
	bearerSc.name = scPostBearer
	bearerSc.scriptArgs = []string{bearer}
	bearerSc.preflight = func(ctx context.Context, base string) error {
		body := `{"name":"preflight","is_active":true,"analyst_id":1,"inception_date":"2024-01-02"}`
		return fetchJSON(ctx, http.MethodPost, base+"/api/v1/assets", strings.NewReader(body), bearer, http.StatusCreated, nil)
	}
	// Basic's runs are counted too: a server that called the provider
	// for every request, whatever its scheme, would show there.
	basicSc.providerCalls, bearerSc.providerCalls = is.JWKSRequests, is.JWKSRequests

	for round := 1; round <= b.o.jwtRounds; round++ {
		scs := []scenario{basicSc, bearerSc}
		if round%2 == 0 {
			slices.Reverse(scs)
		}
		for _, sc := range scs {
			sc.tag = fmt.Sprintf(" (round %d)", round)
			r, err := b.measureBest(ctx, t, sc, seedAssetsSmall)
			if err != nil {
				return err
			}
			r.round = round
			b.jwt = append(b.jwt, *r)
		}
	}
	b.jwksTotal = is.JWKSRequests()
	logf("test OIDC issuer: %d JWKS requests in all", b.jwksTotal)
	return nil
}

// jwtSummary judges the side by side: per round, Bearer over Basic of
// req/s, p50 and p99, their medians against the target, and the JWKS
// requests of the measured runs, which must be none. jwksTotal is the
// issuer's count over the whole comparison (server starts, pre-flights,
// warm-ups and retries included).
func jwtSummary(results []result, connections int, jwksTotal int64) (ratios [][2]string, verdicts []verdict, problems, warnings []string) {
	find := func(sc string, round int) *result {
		for i := range results {
			if results[i].scenario == sc && results[i].round == round {
				return &results[i]
			}
		}
		return nil
	}
	var rps, p50, p99, cpuBasic, cpuBearer []float64
	var rounds []string
	var measuredCalls int64
	uncounted := 0
	for _, r := range results {
		if r.non2xx > 0 {
			// wrk counts refused requests in req/s: a Bearer side of
			// 401s is not a fast Bearer side.
			problems = append(problems, fmt.Sprintf("%s (round %d): %d non-2xx responses", r.scenario, r.round, r.non2xx))
		}
		if r.socketErrors > 0 {
			warnings = append(warnings, fmt.Sprintf("%s (round %d): %d socket errors", r.scenario, r.round, r.socketErrors))
		}
		if !r.quiet || r.cpu.other > noisyCores {
			warnings = append(warnings, fmt.Sprintf("%s (round %d): other processes used %.2f cores during the run", r.scenario, r.round, r.cpu.other))
		}
		if !r.providerCounted {
			uncounted++
		}
		measuredCalls += r.providerCalls
	}
	for round := 1; ; round++ {
		basic, bearer := find(scPostBasic, round), find(scPostBearer, round)
		if basic == nil && bearer == nil {
			break
		}
		if basic == nil || bearer == nil {
			continue
		}
		rps = append(rps, bearer.rps/basic.rps)
		cpuBasic = append(cpuBasic, cpuPerRequest(basic))
		cpuBearer = append(cpuBearer, cpuPerRequest(bearer))
		p50 = append(p50, float64(bearer.p50)/float64(basic.p50))
		p99 = append(p99, float64(bearer.p99)/float64(basic.p99))
		rounds = append(rounds, fmt.Sprintf("round %d: req/s %s / %s = %.2fx, p50 %s / %s = %.2fx, p99 %s / %s = %.2fx", round,
			benchreport.Thousands(int64(bearer.rps+0.5)), benchreport.Thousands(int64(basic.rps+0.5)), bearer.rps/basic.rps,
			benchreport.Ms(bearer.p50), benchreport.Ms(basic.p50), float64(bearer.p50)/float64(basic.p50),
			benchreport.Ms(bearer.p99), benchreport.Ms(basic.p99), float64(bearer.p99)/float64(basic.p99)))
	}
	if len(rps) > 0 {
		m := [3]float64{benchreport.Median(rps), benchreport.Median(p50), benchreport.Median(p99)}
		ratios = append(ratios, [2]string{"POST asset, Bearer JWT / Basic",
			fmt.Sprintf("req/s **%.2fx**, p50 %.2fx, p99 %.2fx (%s; %s)", m[0], m[1], m[2], mediansOf(len(rps)), strings.Join(rounds, "; "))})
		// The server's CPU time per request is the figure other load on
		// the machine disturbs least: a cross-check of the req/s ratio.
		cb, cj := benchreport.Median(cpuBasic), benchreport.Median(cpuBearer)
		ratios = append(ratios, [2]string{"server CPU per POST, Bearer JWT / Basic",
			fmt.Sprintf("%.0f / %.0f µs = %.2fx (+%.0f µs a request; %s)", cj, cb, cj/cb, cj-cb, mediansOf(len(cpuBasic)))})
		verdicts = append(verdicts, verdict{
			target:   fmt.Sprintf("POST req/s with a Bearer JWT >= %.0f%% of Basic's (SQLite, %d connections, median of the per-round ratios)", 100*targetJWTShare, connections),
			measured: fmt.Sprintf("%.2fx", m[0]),
			pass:     m[0] >= targetJWTShare,
		})
	}
	if len(results) > 0 {
		ratios = append(ratios, [2]string{"JWKS requests to the test issuer",
			fmt.Sprintf("%d during the %d measured runs; %d in all (each fresh server fetches the keys once, at its first token, before its warm-up)",
				measuredCalls, len(results), jwksTotal)})
		measured := fmt.Sprintf("%d in %d measured runs", measuredCalls, len(results))
		if uncounted > 0 {
			measured += fmt.Sprintf(", %d runs not counted", uncounted)
		}
		verdicts = append(verdicts, verdict{
			target:   "No JWKS request during the measured runs (no call to the provider on the request path)",
			measured: measured,
			pass:     measuredCalls == 0 && uncounted == 0,
		})
	}
	return ratios, verdicts, problems, warnings
}

// cpuPerRequest is the server's CPU time per request in the measured run,
// in microseconds.
func cpuPerRequest(r *result) float64 {
	if r.rps == 0 {
		return 0
	}
	return r.cpu.server / r.rps * 1e6
}

// reportJWT adds the side by side to the report.
func (b *bench) reportJWT(rep *report) {
	if len(b.jwt) == 0 {
		return
	}
	rep.jwt = b.jwt
	rep.jwtTitle = fmt.Sprintf("POST with a Bearer JWT beside Basic: one icy-morning on SQLite (%s assets seeded) with AUTH_TYPE=basic,jwt, a loopback OIDC issuer, ABBA rounds",
		benchreport.Thousands(seedAssetsSmall))
	ratios, verdicts, problems, warnings := jwtSummary(b.jwt, b.o.connections, b.jwksTotal)
	rep.jwtRatios = ratios
	rep.verdicts = append(rep.verdicts, verdicts...)
	rep.problems = append(rep.problems, problems...)
	rep.warnings = append(rep.warnings, warnings...)
}

var jwtHeader = []string{"Scenario", "Round", "req/s", "p50", "p99", "Peak RSS", "JWKS requests", "Non-2xx", "Socket errors", "CPU server/wrk/db/other"}

func (r *report) jwtRows() [][]string {
	var rows [][]string
	for _, x := range r.jwt {
		calls := "-"
		if x.providerCounted {
			calls = strconv.FormatInt(x.providerCalls, 10)
		}
		rows = append(rows, []string{x.scenario, strconv.Itoa(x.round), benchreport.Thousands(int64(x.rps + 0.5)),
			benchreport.Ms(x.p50), benchreport.Ms(x.p99), benchreport.MB(x.peakRSS), calls,
			benchreport.Thousands(x.non2xx), benchreport.Thousands(x.socketErrors), fmtCPU(x.cpu)})
	}
	return rows
}

// jwtTimeout is what the comparison adds to the run's bound: the seed,
// and each run measured up to 1+retries times.
func (o options) jwtTimeout() time.Duration {
	if !o.jwt {
		return 0
	}
	runs := 2 * o.jwtRounds
	return 2*time.Minute + time.Duration(runs*(1+o.retries))*(o.duration+o.warmup+o.quietWait+15*time.Second)
}
