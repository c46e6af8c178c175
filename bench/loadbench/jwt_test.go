//go:build linux

package main

import (
	"strings"
	"testing"
	"time"
)

func jwtResult(sc string, round int, rps float64, p50, p99 time.Duration, calls int64) result {
	return result{scenario: sc, round: round, quiet: true, providerCalls: calls, providerCounted: true,
		wrkResult: wrkResult{rps: rps, p50: p50, p99: p99}}
}

func TestJWTSummary(t *testing.T) {
	ms := time.Millisecond
	// ABBA: round 2 runs Bearer first; the order of results must not matter.
	fast := []result{
		jwtResult(scPostBasic, 1, 1000, 2*ms, 10*ms, 0),
		jwtResult(scPostBearer, 1, 950, 2*ms, 11*ms, 0),
		jwtResult(scPostBearer, 2, 980, 2*ms, 10*ms, 0),
		jwtResult(scPostBasic, 2, 1000, 2*ms, 10*ms, 0),
	}
	slow := []result{
		jwtResult(scPostBasic, 1, 1000, 2*ms, 10*ms, 0),
		jwtResult(scPostBearer, 1, 800, 3*ms, 20*ms, 0),
	}
	fetching := []result{
		jwtResult(scPostBasic, 1, 1000, 2*ms, 10*ms, 0),
		jwtResult(scPostBearer, 1, 990, 2*ms, 10*ms, 3),
	}
	uncounted := []result{jwtResult(scPostBasic, 1, 1000, 2*ms, 10*ms, 0), jwtResult(scPostBearer, 1, 1000, 2*ms, 10*ms, 0)}
	uncounted[1].providerCounted = false
	refused := []result{jwtResult(scPostBasic, 1, 1000, 2*ms, 10*ms, 0), jwtResult(scPostBearer, 1, 5000, ms, 2*ms, 0)}
	refused[1].non2xx = 50_000

	for _, tc := range []struct {
		name        string
		results     []result
		wantVerdict []bool // ratio, JWKS
		wantRatio   string // in the Bearer / Basic line
		wantJWKS    string // in the JWKS verdict's measured value
		wantProblem bool
	}{
		{"fast, no fetch", fast, []bool{true, true}, "req/s **0.96x**", "0 in 4 measured runs", false},
		{"slow", slow, []bool{false, true}, "req/s **0.80x**, p50 1.50x, p99 2.00x (one round", "0 in 2", false},
		{"fetching on the request path", fetching, []bool{true, false}, "0.99x", "3 in 2 measured runs", false},
		{"not counted", uncounted, []bool{true, false}, "1.00x", "0 in 2 measured runs, 1 runs not counted", false},
		{"401s are not speed", refused, []bool{true, true}, "5.00x", "0 in 2", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ratios, verdicts, problems, _ := jwtSummary(tc.results, 32, 2)
			if len(verdicts) != 2 {
				t.Fatalf("verdicts = %+v; want the ratio's and the JWKS count's", verdicts)
			}
			for i, want := range tc.wantVerdict {
				if verdicts[i].pass != want {
					t.Errorf("verdict %q (measured %s): pass %v, want %v", verdicts[i].target, verdicts[i].measured, verdicts[i].pass, want)
				}
			}
			if !strings.Contains(ratios[0][1], tc.wantRatio) {
				t.Errorf("ratio line %q lacks %q", ratios[0][1], tc.wantRatio)
			}
			if !strings.HasPrefix(verdicts[1].measured, tc.wantJWKS) {
				t.Errorf("JWKS verdict measured %q; want it to start with %q", verdicts[1].measured, tc.wantJWKS)
			}
			if got := len(problems) > 0; got != tc.wantProblem {
				t.Errorf("problems = %q; want some: %v", problems, tc.wantProblem)
			}
		})
	}
}

func TestJWTSummaryCPU(t *testing.T) {
	basic, bearer := jwtResult(scPostBasic, 1, 10_000, time.Millisecond, time.Millisecond, 0), jwtResult(scPostBearer, 1, 8_000, time.Millisecond, time.Millisecond, 0)
	basic.cpu.server, bearer.cpu.server = 1.2, 1.6 // 120 and 200 µs a request
	ratios, _, _, _ := jwtSummary([]result{basic, bearer}, 32, 1)
	if want := "200 / 120 µs = 1.67x (+80 µs a request; one round)"; ratios[1][1] != want {
		t.Errorf("CPU line %q; want %q", ratios[1][1], want)
	}
}

// The medians are of the per-round ratios, and each round's line is there.
func TestJWTSummaryRounds(t *testing.T) {
	ms := time.Millisecond
	rs := []result{
		jwtResult(scPostBasic, 1, 1000, 2*ms, 10*ms, 0), jwtResult(scPostBearer, 1, 900, 2*ms, 10*ms, 0),
		jwtResult(scPostBearer, 2, 1000, 2*ms, 10*ms, 0), jwtResult(scPostBasic, 2, 1000, 2*ms, 10*ms, 0),
		jwtResult(scPostBasic, 3, 1000, 2*ms, 10*ms, 0), jwtResult(scPostBearer, 3, 1100, 2*ms, 10*ms, 0),
	}
	ratios, verdicts, _, _ := jwtSummary(rs, 32, 3)
	if verdicts[0].measured != "1.00x" {
		t.Errorf("median of 0.90, 1.00, 1.10 = %s; want 1.00x", verdicts[0].measured)
	}
	for _, want := range []string{"medians of 3 rounds", "round 1: req/s 900 / 1,000 = 0.90x", "round 3: req/s 1,100 / 1,000 = 1.10x"} {
		if !strings.Contains(ratios[0][1], want) {
			t.Errorf("%q lacks %q", ratios[0][1], want)
		}
	}
	if !strings.Contains(ratios[2][1], "0 during the 6 measured runs; 3 in all") {
		t.Errorf("JWKS line %q", ratios[2][1])
	}
}

func TestJWTSummaryEmpty(t *testing.T) {
	ratios, verdicts, problems, warnings := jwtSummary(nil, 32, 0)
	if ratios != nil || verdicts != nil || problems != nil || warnings != nil {
		t.Errorf("jwtSummary(nil) = %v, %v, %v, %v; want nothing", ratios, verdicts, problems, warnings)
	}
}
