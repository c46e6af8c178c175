//go:build linux

package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/icy-morning/icy-morning/bench/procstat"
	"github.com/icy-morning/icy-morning/internal/benchreport"
)

// The targets of issue 3. Megabytes are decimal (10^6 bytes), the
// stricter reading of "15 MB".
const (
	targetInit     = 100 * time.Millisecond
	targetWarm     = 1.5
	targetZipBytes = 15_000_000
)

type stats struct {
	n                       int
	p50, p90, p99, max, sum time.Duration
}

// summarize gives nearest-rank percentiles.
func summarize(ds []time.Duration) stats {
	if len(ds) == 0 {
		return stats{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(s))+0.999999) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	st := stats{n: len(s), p50: rank(0.50), p90: rank(0.90), p99: rank(0.99), max: s[len(s)-1]}
	for _, d := range s {
		st.sum += d
	}
	return st
}

func totals(cs []coldStart) []time.Duration {
	ds := make([]time.Duration, len(cs))
	for i, c := range cs {
		ds[i] = c.total
	}
	return ds
}

func listenings(cs []coldStart) []time.Duration {
	ds := make([]time.Duration, len(cs))
	for i, c := range cs {
		ds[i] = c.listening
	}
	return ds
}

func initReports(cs []coldStart) []time.Duration {
	var ds []time.Duration
	for _, c := range cs {
		if c.initRep > 0 {
			ds = append(ds, c.initRep)
		}
	}
	return ds
}

func (b *bench) find(database string) *fn {
	for _, f := range b.fns {
		if f.database == database && !f.seeded {
			return f
		}
	}
	return nil
}

// findJWT is the function with AUTH_TYPE=basic,jwt, when -jwt.
func (b *bench) findJWT() *fn {
	for _, f := range b.fns {
		if f.seeded {
			return f
		}
	}
	return nil
}

// jwtColdLine is what AUTH_TYPE=basic,jwt adds to a cold start on SQLite
// (its init's discovery of the issuer), in medians of the first answer and
// of the emulator's init report.
func jwtColdLine(basic, jwt, basicInit, jwtInit []time.Duration) string {
	b, j := summarize(basic), summarize(jwt)
	line := fmt.Sprintf("Cold start on SQLite, AUTH_TYPE=basic,jwt minus basic: median **%s** (%s vs %s)",
		benchreport.Ms(j.p50-b.p50), benchreport.Ms(j.p50), benchreport.Ms(b.p50))
	if len(basicInit) > 0 && len(jwtInit) > 0 {
		bi, ji := summarize(basicInit), summarize(jwtInit)
		line += fmt.Sprintf("; init (emulator's report) %s (%s vs %s)", benchreport.Ms(ji.p50-bi.p50), benchreport.Ms(ji.p50), benchreport.Ms(bi.p50))
	}
	return line + "; the issuer is on loopback: a real provider adds its round trips (discovery, one HTTPS request) to init, and the first token's JWKS fetch to the first bearer request"
}

// report is the whole report as Markdown.
func (b *bench) report(took time.Duration) string {
	var w strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&w, format, args...) }
	now := time.Now().UTC()
	p("# Lambda under the Runtime Interface Emulator\n\n")
	p("- Date: %s (run took %s)\n", now.Format("Mon Jan 2 15:04 MST 2006"), took.Round(time.Second))
	p("- %s\n", benchreport.Machine())
	p("- Software: %s, aws-lambda-rie %s", runtime.Version(), b.rieVer)
	if b.pgVersion != "" {
		p(", PostgreSQL %s (%s, a schema of the run's own)", b.pgVersion, b.pgWhere)
	}
	p("\n- Command: `%s`\n", benchreport.CommandLine("./bench/lambdabench"))
	p("- Functions: bootstraps built with `CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags '-s -w'` for %s; "+
		"icy-morning with its defaults (JSON access log on), %d assets seeded through the API; "+
		"the reference (`bench/lambdaref`) answers every event with a constant HTTP API response\n\n", runtime.GOARCH, b.o.assets)

	ref := b.find("-")
	refCold := summarize(totals(ref.cold))

	p("## Cold start (%d runs each: a new emulator and process per run)\n\n", b.o.coldRuns)
	p("Wall time from the emulator's exec to the answer of the first invoke (a GET of an asset by id). " +
		"The emulator starts the function only on that invoke, so this is: emulator start-up, exec of the bootstrap, its init, one request. " +
		"\"Init (emulator's report)\" is the emulator's INIT REPORT: from exec of the bootstrap until the runtime first asks for work, " +
		"the figure Lambda reports as Init Duration. The functions take turns, run by run.\n\n")
	p("| Function | Emulator listening, median | First answer: median | p90 | max | Median minus reference | Init (emulator's report): median | p90 |\n")
	p("|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, f := range b.fns {
		s := summarize(totals(f.cold))
		l := summarize(listenings(f.cold))
		ir := summarize(initReports(f.cold))
		minus := "-"
		if f != ref {
			minus = benchreport.Ms(s.p50 - refCold.p50)
		}
		p("| %s | %s | %s | %s | %s | %s | %s | %s |\n", f.label(), benchreport.Ms(l.p50), benchreport.Ms(s.p50), benchreport.Ms(s.p90), benchreport.Ms(s.max), minus, benchreport.Ms(ir.p50), benchreport.Ms(ir.p90))
	}

	p("\n## Warm invokes: GET /api/v1/assets/{id} (%d sequential invokes after %d warm-up)\n\n", b.o.invokes, b.o.warmup)
	p("Timed at the client: POST of the HTTP API event to the emulator until its answer. The emulator takes one invoke at a time. "+
		"The functions take turns (%d rounds each). CPU is the cores used during the measured invokes by the emulator and function / this program (the client) / PostgreSQL / everything else.\n\n", warmRounds)
	p("| Function | invokes/s | p50 | p90 | p99 | max | Non-200 | CPU function/client/db/other |\n")
	p("|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, f := range b.fns {
		s := summarize(f.warm)
		rate := float64(s.n) / s.sum.Seconds()
		non := strconv.Itoa(f.non200)
		if f == ref {
			non = "-"
		}
		cf, cs, cp, co := f.cpu.cores()
		p("| %s | %s | %s | %s | %s | %s | %s | %.2f/%.2f/%.2f/%.2f |\n", f.label(), benchreport.Thousands(int64(rate+0.5)), benchreport.Ms(s.p50), benchreport.Ms(s.p90), benchreport.Ms(s.p99), benchreport.Ms(s.max), non, cf, cs, cp, co)
	}

	refWarm := summarize(ref.warm)
	p("\n## Ratios\n\n")
	type verdict struct {
		target, measured string
		pass             bool
	}
	var verdicts []verdict
	for _, f := range b.fns {
		if f == ref {
			continue
		}
		s := summarize(f.warm)
		r50 := float64(s.p50) / float64(refWarm.p50)
		r99 := float64(s.p99) / float64(refWarm.p99)
		p("- Warm GET by id, %s / reference: p50 %s / %s = **%.2fx**, p99 %s / %s = **%.2fx**\n",
			f.label(), benchreport.Ms(s.p50), benchreport.Ms(refWarm.p50), r50, benchreport.Ms(s.p99), benchreport.Ms(refWarm.p99), r99)
		where := f.database
		if f.seeded {
			where = f.label()
		}
		verdicts = append(verdicts, verdict{
			target:   fmt.Sprintf("Warm GET by id within %.1fx of the reference at p50 and p99 (%s)", targetWarm, where),
			measured: fmt.Sprintf("%.2fx / %.2fx", r50, r99),
			pass:     r50 <= targetWarm && r99 <= targetWarm,
		})
	}
	for _, f := range b.fns {
		if f == ref {
			continue
		}
		s := summarize(totals(f.cold))
		p("- Cold start, %s minus reference: median %s (%s vs %s)\n", f.label(), benchreport.Ms(s.p50-refCold.p50), benchreport.Ms(s.p50), benchreport.Ms(refCold.p50))
	}
	if basic, jwt := b.find("SQLite"), b.findJWT(); basic != nil && jwt != nil {
		p("- %s\n", jwtColdLine(totals(basic.cold), totals(jwt.cold), initReports(basic.cold), initReports(jwt.cold)))
	}
	if pg := b.find("PostgreSQL"); pg != nil {
		s := summarize(totals(pg.cold))
		ir := summarize(initReports(pg.cold))
		verdicts = append(verdicts, verdict{
			target: fmt.Sprintf("Init < %d ms with PostgreSQL on loopback (emulator start to first answer, p90)", targetInit.Milliseconds()),
			measured: fmt.Sprintf("p90 %s, median %s (reference: median %s; emulator's init report: median %s)",
				benchreport.Ms(s.p90), benchreport.Ms(s.p50), benchreport.Ms(refCold.p50), benchreport.Ms(ir.p50)),
			pass: s.p90 < targetInit,
		})
	} else {
		verdicts = append(verdicts, verdict{target: "Init < 100 ms with PostgreSQL on loopback", measured: "not measured (-pg-url none)"})
	}
	verdicts = append(verdicts, verdict{
		target: "Deployment zip < 15 MB",
		measured: fmt.Sprintf("%s bytes (%.1f MB; bootstrap %.1f MB unzipped): %s",
			benchreport.Thousands(b.zip.zipBytes), float64(b.zip.zipBytes)/1e6, float64(b.zip.innerBytes)/1e6, b.zip.source),
		pass: b.zip.zipBytes < targetZipBytes,
	})

	p("\n## Targets\n\n| Target (issue 3) | Measured | Verdict |\n|---|---|---|\n")
	for _, v := range verdicts {
		verdict := "FAIL"
		if v.pass {
			verdict = "PASS"
		}
		if strings.HasPrefix(v.measured, "not measured") {
			verdict = "-"
		}
		p("| %s | %s | %s |\n", v.target, v.measured, verdict)
	}
	var disturbed []string
	if b.coldOther > 0.1 {
		disturbed = append(disturbed, fmt.Sprintf("cold starts: other processes used %.2f cores", b.coldOther))
	}
	for _, f := range b.fns {
		if _, _, _, other := f.cpu.cores(); other > 0.1 || !f.quiet {
			disturbed = append(disturbed, fmt.Sprintf("%s: other processes used %.2f cores during the warm invokes (quiet before measuring: %s)", f.label(), other, yesNo(f.quiet)))
		}
	}
	if len(disturbed) > 0 {
		p("\n## Warnings\n\nThe machine was not idle; compare these figures with care.\n\n")
		for _, d := range disturbed {
			p("- %s\n", d)
		}
	}
	if len(b.problems) > 0 {
		p("\n## Problems (the run is invalid)\n\n")
		for _, pr := range b.problems {
			p("- %s\n", pr)
		}
	}
	return w.String()
}

// waitQuiet waits up to -quiet-wait for the machine's CPU to be idle
// (under a quarter of a core busy over half a second), so that other
// processes do not pass for the function's cost.
func (b *bench) waitQuiet(ctx context.Context) bool {
	quiet, cores := procstat.WaitQuiet(ctx, b.o.quietWait, 0.25)
	if !quiet && ctx.Err() == nil {
		logf("the machine is still busy (%.2f cores); measuring anyway", cores)
	}
	return quiet
}

func base64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
