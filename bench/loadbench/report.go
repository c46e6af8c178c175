//go:build linux

package main

import (
	"fmt"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/icy-morning/icy-morning/internal/benchreport"
)

// The targets. Megabytes are decimal (10^6 bytes), the stricter
// reading of "60 MB".
const (
	targetCeilingShare = 0.70
	// Issue 10: PostgreSQL POST at least this share of the ceiling's.
	targetPostCeilingShare = 0.80
	targetP99              = 10 * time.Millisecond
	targetPageSlowdown     = 1.3
	targetStartup          = 100 * time.Millisecond
	targetPeakRSS          = 60_000_000
	// Issue 9: POST with 10,000 subscribers at most this many times
	// slower than with none, at p50 and at p99.
	targetSubscriberSlowdown = 1.2
)

// report is everything a run prints: the measurements, the ratios derived
// from them and the verdict on each target.
type report struct {
	when     time.Time
	machine  []string // "label: value" lines
	load     string
	results  []result
	ratios   [][2]string // name, value
	verdicts []verdict
	startup  []time.Duration
	problems []string // what makes the run invalid
	warnings []string // what makes a figure doubtful

	// The side by side with PocketBase (peer.go), when it ran.
	peerTitle  string
	peer       []result
	peerRatios [][2]string

	// The side by side of Bearer and Basic (jwt.go), when it ran.
	jwtTitle  string
	jwt       []result
	jwtRatios [][2]string

	// The HTTP caching side by side (cache.go), when it ran.
	cacheTitle  string
	cache       []result
	cacheRatios [][2]string
}

type verdict struct {
	target   string
	measured string
	pass     bool
}

func (b *bench) find(scenario, database, server string, rows int) *result {
	for i := range b.results {
		r := &b.results[i]
		if r.scenario == scenario && r.database == database && r.server == server && r.rows == rows {
			return r
		}
	}
	return nil
}

func (b *bench) report() *report {
	rep := &report{
		when:    time.Now().UTC(),
		machine: machineInfo(b.pgVersion, b.pocketBaseVersion),
		load: fmt.Sprintf("wrk -t%d -c%d -d%s --latency, after a %s warm-up run; a fresh server process per scenario; "+
			"CPU is the cores used during the measured run by the server, wrk, PostgreSQL and everything else",
			b.o.threads, b.o.connections, b.o.duration, b.o.warmup),
		results: b.results,
		startup: b.startup,
	}

	// A GET by id that fails is not a slow GET: the run is invalid.
	for _, r := range b.results {
		if r.scenario == scGetByID && r.non2xx > 0 {
			rep.problems = append(rep.problems, fmt.Sprintf("%d non-2xx responses to GET by id on %s (%s)", r.non2xx, r.server, r.database))
		}
	}

	// Other processes on the machine take CPU from the server; say so
	// beside the figure rather than let it pass as the service's own.
	for _, r := range b.results {
		if !r.quiet || r.cpu.other > 0.1 {
			rep.warnings = append(rep.warnings, fmt.Sprintf("%s on %s (%s, %s rows): other processes used %.2f cores during the run",
				r.label(), r.server, r.database, benchreport.Thousands(int64(r.rows)), r.cpu.other))
		}
	}

	ceil := b.find(scGetByID, dbPostgres, serverCeiling, seedAssetsSmall)
	for _, db := range []string{dbPostgres, dbSQLite} {
		if svc := b.find(scGetByID, db, serverService, seedAssetsSmall); svc != nil && ceil != nil {
			share := svc.rps / ceil.rps
			rep.ratios = append(rep.ratios, [2]string{
				fmt.Sprintf("GET by id, icy-morning on %s / ceiling on PostgreSQL", db),
				fmt.Sprintf("%.0f / %.0f req/s = %.1f%%", svc.rps, ceil.rps, 100*share)})
			if db == dbPostgres {
				rep.verdicts = append(rep.verdicts, verdict{
					target:   fmt.Sprintf("PostgreSQL GET by id >= %.0f%% of the ceiling's req/s", 100*targetCeilingShare),
					measured: fmt.Sprintf("%.1f%% (%.0f of %.0f req/s)", 100*share, svc.rps, ceil.rps),
					pass:     share >= targetCeilingShare,
				})
			}
		}
	}

	if svc, ceil := b.find(scPost, dbPostgres, serverService, seedAssetsSmall), b.find(scPost, dbPostgres, serverCeiling, seedAssetsSmall); svc != nil && ceil != nil {
		share := svc.rps / ceil.rps
		rep.ratios = append(rep.ratios, [2]string{"POST asset, icy-morning / ceiling on PostgreSQL",
			fmt.Sprintf("%.0f / %.0f req/s = %.1f%% (p99 %s / %s)", svc.rps, ceil.rps, 100*share, benchreport.Ms(svc.p99), benchreport.Ms(ceil.p99))})
		rep.verdicts = append(rep.verdicts, verdict{
			target:   fmt.Sprintf("PostgreSQL POST >= %.0f%% of the ceiling's req/s (the same insert, bare pgx)", 100*targetPostCeilingShare),
			measured: fmt.Sprintf("%.1f%% (%.0f of %.0f req/s)", 100*share, svc.rps, ceil.rps),
			pass:     share >= targetPostCeilingShare,
		})
	}

	// Whether the dispatcher kept up with the POST runs' events.
	for _, db := range []string{dbPostgres, dbSQLite} {
		if r := b.find(scPost, db, serverService, seedAssetsSmall); r != nil && r.note != "" {
			rep.ratios = append(rep.ratios, [2]string{fmt.Sprintf("POST asset on %s, after the run", db), r.note})
		}
	}

	// "Slower" is the loss of throughput at the same concurrency; the
	// median latency ratio is shown beside it.
	for _, db := range []string{dbPostgres, dbSQLite} {
		for _, sc := range []string{scPageFirst, scPageDeep} {
			small := b.find(sc, db, serverService, seedAssetsSmall)
			large := b.find(sc, db, serverService, seedAssetsLarge)
			if small == nil || large == nil {
				continue
			}
			slowdown := small.rps / large.rps
			rep.ratios = append(rep.ratios, [2]string{
				fmt.Sprintf("%s on %s, 1,000,000 vs 1,000 rows", sc, db),
				fmt.Sprintf("%.2fx slower (%.0f vs %.0f req/s; p50 %s vs %s)", slowdown, large.rps, small.rps, benchreport.Ms(large.p50), benchreport.Ms(small.p50))})
			if db == dbPostgres && sc == scPageDeep {
				rep.verdicts = append(rep.verdicts, verdict{
					target:   fmt.Sprintf("PostgreSQL 100-row page (deep) at 1,000,000 rows <= %.1fx slower than at 1,000", targetPageSlowdown),
					measured: fmt.Sprintf("%.2fx", slowdown),
					pass:     slowdown <= targetPageSlowdown,
				})
			}
		}
	}

	for _, r := range b.results {
		if r.database != dbPostgres || r.server != serverService || r.round > 0 {
			continue
		}
		rep.verdicts = append(rep.verdicts, verdict{
			target:   fmt.Sprintf("PostgreSQL p99 < %s at %d connections: %s, %s rows", benchreport.Ms(targetP99), b.o.connections, r.scenario, benchreport.Thousands(int64(r.rows))),
			measured: benchreport.Ms(r.p99),
			pass:     r.p99 < targetP99,
		})
	}

	if len(b.startup) > 0 {
		med, worst := benchreport.Median(b.startup), slices.Max(b.startup)
		rep.ratios = append(rep.ratios, [2]string{
			fmt.Sprintf("start-up to first 200, new SQLite file (%d runs)", len(b.startup)),
			fmt.Sprintf("median %s, max %s", benchreport.Ms(med), benchreport.Ms(worst))})
		rep.verdicts = append(rep.verdicts, verdict{
			target:   fmt.Sprintf("SQLite start-up to first 200 < %s (median of %d)", benchreport.Ms(targetStartup), len(b.startup)),
			measured: fmt.Sprintf("median %s, max %s", benchreport.Ms(med), benchreport.Ms(worst)),
			pass:     med < targetStartup,
		})
	}

	for _, db := range []string{dbPostgres, dbSQLite} {
		var peak result
		for _, r := range b.results {
			if r.database == db && r.server == serverService && r.round == 0 && r.peakRSS > peak.peakRSS {
				peak = r
			}
		}
		if peak.peakRSS > 0 {
			rep.verdicts = append(rep.verdicts, verdict{
				target:   fmt.Sprintf("%s peak RSS under load < %s (largest of its scenarios)", db, benchreport.MB(targetPeakRSS)),
				measured: fmt.Sprintf("%s (%s, %s rows)", benchreport.MB(peak.peakRSS), peak.scenario, benchreport.Thousands(int64(peak.rows))),
				pass:     peak.peakRSS < targetPeakRSS,
			})
		}
	}
	b.reportSubscribers(rep)
	b.reportPeer(rep)
	b.reportJWT(rep)
	b.reportCache(rep)
	return rep
}

// reportSubscribers adds the ratios and verdicts of the POST-with-
// subscribers scenarios: medians over the rounds, dispatcher off, with
// subscribers over without; and the dispatcher-on run against both.
func (b *bench) reportSubscribers(rep *report) {
	for _, db := range []string{dbPostgres, dbSQLite} {
		var none, subs []result
		var on *result
		for i, r := range b.results {
			if r.database != db {
				continue
			}
			switch r.scenario {
			case scPostNone:
				none = append(none, r)
			case scPostSubs:
				subs = append(subs, r)
			case scPostSubsDispOn:
				on = &b.results[i]
			}
		}
		if len(none) == 0 || len(subs) == 0 {
			continue
		}
		n := benchreport.Thousands(int64(subs[0].subscribers))
		p50n, p99n := medianOf(none, func(r result) time.Duration { return r.p50 }), medianOf(none, func(r result) time.Duration { return r.p99 })
		p50s, p99s := medianOf(subs, func(r result) time.Duration { return r.p50 }), medianOf(subs, func(r result) time.Duration { return r.p99 })
		r50, r99 := float64(p50s)/float64(p50n), float64(p99s)/float64(p99n)
		var rounds []string
		for _, s := range subs {
			for _, x := range none {
				if x.round == s.round {
					rounds = append(rounds, fmt.Sprintf("round %d: p50 %.2fx, p99 %.2fx", s.round, float64(s.p50)/float64(x.p50), float64(s.p99)/float64(x.p99)))
				}
			}
		}
		rep.ratios = append(rep.ratios, [2]string{
			fmt.Sprintf("POST on %s, dispatcher off, %s subscribers / none (medians of %d rounds)", db, n, len(subs)),
			fmt.Sprintf("p50 %s / %s = %.2fx, p99 %s / %s = %.2fx (%s)", benchreport.Ms(p50s), benchreport.Ms(p50n), r50,
				benchreport.Ms(p99s), benchreport.Ms(p99n), r99, strings.Join(rounds, "; "))})
		rep.verdicts = append(rep.verdicts, verdict{
			target:   fmt.Sprintf("%s POST with %s subscribers <= %.1fx the time with none, p50 and p99 (dispatcher off: the request path)", db, n, targetSubscriberSlowdown),
			measured: fmt.Sprintf("p50 %.2fx, p99 %.2fx", r50, r99),
			pass:     r50 <= targetSubscriberSlowdown && r99 <= targetSubscriberSlowdown,
		})
		if on == nil {
			continue
		}
		vs := fmt.Sprintf("p50 %s (%.2fx the dispatcher-off median with none), p99 %s (%.2fx)",
			benchreport.Ms(on.p50), float64(on.p50)/float64(p50n), benchreport.Ms(on.p99), float64(on.p99)/float64(p99n))
		if plain := b.find(scPost, db, serverService, seedAssetsSmall); plain != nil {
			vs += fmt.Sprintf("; against POST with the dispatcher on and no subscriber: p50 %.2fx, p99 %.2fx", float64(on.p50)/float64(plain.p50), float64(on.p99)/float64(plain.p99))
		}
		rep.ratios = append(rep.ratios, [2]string{
			fmt.Sprintf("POST on %s, dispatcher on, %s subscribers (one run; every POST fans out to all of them)", db, n),
			fmt.Sprintf("%.0f req/s, %s; after the run: %s", on.rps, vs, on.note)})
	}
}

func medianOf(rs []result, f func(result) time.Duration) time.Duration {
	ds := make([]time.Duration, len(rs))
	for i, r := range rs {
		ds[i] = f(r)
	}
	return benchreport.Median(ds)
}

// label is the scenario's name, with the subscribers and the round of
// the POST-with-subscribers ones.
func (r *result) label() string {
	if r.round == 0 {
		return r.scenario
	}
	return fmt.Sprintf("%s (%s subscribers, round %d)", r.scenario, benchreport.Thousands(int64(r.subscribers)), r.round)
}

func (r *report) failures() []string { return r.problems }

var tableHeader = []string{"Scenario", "Database", "Server", "Rows", "req/s", "p50", "p99", "Peak RSS", "Non-2xx", "Socket errors",
	"CPU server/wrk/db/other"}

func (r *report) tableRows() [][]string {
	var rows [][]string
	for _, x := range r.results {
		rows = append(rows, []string{x.label(), x.database, x.server, benchreport.Thousands(int64(x.rows)), benchreport.Thousands(int64(x.rps + 0.5)),
			benchreport.Ms(x.p50), benchreport.Ms(x.p99), benchreport.MB(x.peakRSS), benchreport.Thousands(x.non2xx), benchreport.Thousands(x.socketErrors), fmtCPU(x.cpu)})
	}
	return rows
}

// text is the report for the terminal.
func (r *report) text() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "\nLoad benchmark, %s\n", r.when.Format(time.RFC3339))
	for _, m := range r.machine {
		fmt.Fprintf(&sb, "  %s\n", m)
	}
	fmt.Fprintf(&sb, "  Load: %s\n", r.load)

	if len(r.results) > 0 {
		sb.WriteString("\n")
		writeTextTable(&sb, tableHeader, r.tableRows())
		sb.WriteString("\nRatios\n")
		for _, x := range r.ratios {
			fmt.Fprintf(&sb, "  %s: %s\n", x[0], x[1])
		}
	}
	for _, c := range r.comparisons() {
		fmt.Fprintf(&sb, "\n%s\n\n", c.title)
		writeTextTable(&sb, c.header, c.rows)
		sb.WriteString("\n")
		for _, x := range c.ratios {
			fmt.Fprintf(&sb, "  %s: %s\n", x[0], strings.ReplaceAll(x[1], "**", ""))
		}
	}
	sb.WriteString("\nTargets\n")
	for _, v := range r.verdicts {
		fmt.Fprintf(&sb, "  %s  %s: %s\n", benchreport.PassFail(v.pass), v.target, v.measured)
	}
	for _, w := range r.warnings {
		fmt.Fprintf(&sb, "\nWARNING: %s\n", w)
	}
	for _, p := range r.problems {
		fmt.Fprintf(&sb, "\nINVALID RUN: %s\n", p)
	}
	sb.WriteString("\n")
	return sb.String()
}

// comparison is a side-by-side run beside the main table (PocketBase,
// Bearer beside Basic), as both report forms print it.
type comparison struct {
	heading, title string
	header         []string
	textColumns    int // leading columns of text, aligned left in Markdown
	rows           [][]string
	ratios         [][2]string
}

// comparisons are the side-by-side runs that ran, in report order.
func (r *report) comparisons() []comparison {
	var out []comparison
	if len(r.peer) > 0 {
		out = append(out, comparison{"PocketBase", r.peerTitle, peerHeader, 3, r.peerRows(), r.peerRatios})
	}
	if len(r.jwt) > 0 {
		out = append(out, comparison{"Bearer JWT beside Basic", r.jwtTitle, jwtHeader, 2, r.jwtRows(), r.jwtRatios})
	}
	if len(r.cache) > 0 {
		out = append(out, comparison{"HTTP caching", r.cacheTitle, cacheHeader, 2, r.cacheRows(), r.cacheRatios})
	}
	return out
}

// markdown is the report for docs/performance.md and bench/results.
func (r *report) markdown(command string) string {
	var sb strings.Builder
	sb.WriteString("# Load benchmark results\n\n")
	fmt.Fprintf(&sb, "- Date: %s\n", r.when.Format("2006-01-02 15:04 MST"))
	for _, m := range r.machine {
		fmt.Fprintf(&sb, "- %s\n", m)
	}
	fmt.Fprintf(&sb, "- Command: `%s`\n", command)
	fmt.Fprintf(&sb, "- Load: %s\n", r.load)

	if len(r.results) > 0 {
		sb.WriteString("\n")
		benchreport.MarkdownTable(&sb, tableHeader, 3, r.tableRows())
		sb.WriteString("\n## Ratios\n\n")
		for _, x := range r.ratios {
			fmt.Fprintf(&sb, "- %s: %s\n", x[0], x[1])
		}
	}
	for _, c := range r.comparisons() {
		fmt.Fprintf(&sb, "\n## %s\n\n%s.\n\n", c.heading, c.title)
		benchreport.MarkdownTable(&sb, c.header, c.textColumns, c.rows)
		sb.WriteString("\n")
		for _, x := range c.ratios {
			fmt.Fprintf(&sb, "- %s: %s\n", x[0], x[1])
		}
	}
	sb.WriteString("\n## Targets\n\n| Target | Measured | Verdict |\n|---|---|---|\n")
	for _, v := range r.verdicts {
		fmt.Fprintf(&sb, "| %s | %s | %s |\n", v.target, v.measured, benchreport.PassFail(v.pass))
	}
	if len(r.warnings) > 0 {
		sb.WriteString("\n## Warnings\n\n")
		for _, w := range r.warnings {
			fmt.Fprintf(&sb, "- %s\n", w)
		}
	}
	for _, p := range r.problems {
		fmt.Fprintf(&sb, "\n**Invalid run:** %s\n", p)
	}
	return sb.String()
}

// writeTextTable writes a table for the terminal, figures aligned right.
func writeTextTable(sb *strings.Builder, header []string, rows [][]string) {
	tw := tabwriter.NewWriter(sb, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")
	for _, row := range rows {
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	tw.Flush()
}

// machineInfo describes where the run happened, so that figures from
// different machines are not compared by mistake: the machine, and the
// software under and beside the service (PostgreSQL and PocketBase when
// the run used them).
func machineInfo(pgVersion, pocketBaseVersion string) []string {
	wrkVersion := "unknown"
	// wrk -v prints its version and exits with status 1.
	if out, _ := exec.Command("wrk", "-v").CombinedOutput(); len(out) > 0 {
		line, _, _ := strings.Cut(string(out), "\n")
		line, _, _ = strings.Cut(line, " Copyright")
		wrkVersion = strings.TrimSpace(line)
	}
	software := fmt.Sprintf("Software: %s, %s", runtime.Version(), wrkVersion)
	if pgVersion != "" {
		software += fmt.Sprintf(", PostgreSQL %s on 127.0.0.1", pgVersion)
	}
	if pocketBaseVersion != "" {
		software += ", PocketBase " + pocketBaseVersion
	}
	return []string{benchreport.Machine(), software}
}

// fmtCPU shows the cores each party used, in the table's column order.
func fmtCPU(u cpuUse) string {
	return fmt.Sprintf("%.2f/%.2f/%.2f/%.2f", u.server, u.wrk, u.db, u.other)
}
