package main

import (
	"strings"
	"testing"
	"time"
)

func TestCacheSummary(t *testing.T) {
	r := func(sc string, round int, rps float64) result {
		return result{scenario: sc, round: round, quiet: true, cpu: cpuUse{server: rps / 10_000},
			wrkResult: wrkResult{rps: rps, p50: time.Millisecond, p99: 5 * time.Millisecond}}
	}
	for _, tc := range []struct {
		name        string
		results     []result
		wantPass    bool
		wantRatios  []string // in the ratio lines, in order
		wantProblem bool
	}{
		{"304 fast enough, in any order", []result{
			r(scGetFull, 1, 1000), r(scGet304, 1, 1300), r(scGetNginx, 1, 4000),
			r(scGetNginx, 2, 5000), r(scGet304, 2, 1250), r(scGetFull, 2, 1000),
		}, true, []string{"If-None-Match (304) / full GET: req/s **1.27x**", "warm / straight to the server: req/s **4.50x**"}, false},
		{"304 too slow", []result{r(scGetFull, 1, 1000), r(scGet304, 1, 1100)}, false, []string{"req/s **1.10x**"}, false},
		// wrk counts 4xx answers as requests: a fast side of errors fails.
		{"errors", []result{r(scGetFull, 1, 1000), func() result { x := r(scGet304, 1, 9000); x.non2xx = 5; return x }()}, true, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ratios, verdicts, problems, _ := cacheSummary(tc.results, 32)
			if len(verdicts) != 1 || verdicts[0].pass != tc.wantPass {
				t.Fatalf("verdicts %+v, want one with pass %v", verdicts, tc.wantPass)
			}
			var lines []string
			for _, x := range ratios {
				lines = append(lines, x[0]+": "+x[1])
			}
			for i, w := range tc.wantRatios {
				if i >= len(lines) || !strings.Contains(lines[i], w) {
					t.Errorf("ratio %d: want %q in %q", i, w, lines)
				}
			}
			if (len(problems) > 0) != tc.wantProblem {
				t.Errorf("problems %q, want some: %v", problems, tc.wantProblem)
			}
		})
	}
}
