//go:build linux

package main

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/icy-morning/icy-morning/internal/benchreport"
)

// The targets. Megabytes are decimal (10^6 bytes), the stricter
// reading of "100 MB".
const (
	targetShare   = 0.8
	targetPeakRSS = 100_000_000
)

type verdict struct {
	target, measured string
	pass             bool
}

// report is what a run prints and writes.
type report struct {
	when     time.Time
	took     time.Duration
	header   []string
	runs     [][]string
	summary  [][]string
	notes    []string
	verdicts []verdict
	warnings []string
}

var runHeader = []string{"Database", "Round", "Sender", "Conns", "Until all sent", "Mails/s", "/ round's ceiling",
	"Fan-out done", "First batch recorded", "Peak RSS", "CPU sender/mailpit/db/bench/other"}

var summaryHeader = []string{"Database", "Sender", "Conns", "Runs", "Median mails/s", "Median / median ceiling", "Per-round ratios", "Peak RSS (max)"}

func (b *bench) ceilingOf(database string, round int) *runResult {
	for i := range b.runs {
		r := &b.runs[i]
		if r.database == database && r.round == round && r.sender == senderCeiling && r.connections == 1 {
			return r
		}
	}
	return nil
}

func (b *bench) report(took time.Duration) *report {
	n := b.o.subscribers
	pg := "not measured (-pg-url none)"
	if b.pgVersion != "" {
		pg = b.pgVersion + " on 127.0.0.1"
	}
	rep := &report{when: time.Now().UTC(), took: took, header: []string{
		benchreport.Machine(),
		fmt.Sprintf("Software: %s, Mailpit %s, PostgreSQL %s", runtime.Version(), b.mailpitVersion, pg),
		fmt.Sprintf("Load: one asset created with %s active subscribers to asset::creation: %s mails of %s bytes on average "+
			"(text and HTML parts, as go-mail encodes them); a fresh Mailpit (--max 0 --quiet, its own database file) and, for the "+
			"dispatcher, a fresh database for every run; the worker with MAIL_MAX_PER_SECOND=0, SMTP without TLS on loopback",
			benchreport.Thousands(int64(n)), benchreport.Thousands(int64(n)), benchreport.Thousands(int64(b.messageBytes))),
		"Ceiling: go-mail v0.8.1 on one connection, DialAndSend of all the messages (built before the clock starts; no NOOP, no RSET per message, as the service's transport); " +
			"the ceiling at more connections splits them in equal shares sent at once",
		"Until all sent: from dial (ceiling) or exec of `icy-morning worker` until the last delivery is `sent` in the database, polled every " + b.o.poll.String() +
			"; Fan-out done and First batch recorded are the worker's own timestamps (events.fanned_out_at, deliveries.sent_at) from its exec",
		"CPU: cores used during the run by the sender (the worker, or this program for the ceiling), Mailpit, PostgreSQL, this program (polling) and everything else",
	}}

	for _, r := range b.runs {
		ratio, fan, first, rss := "", "", "", ""
		if c := b.ceilingOf(r.database, r.round); c != nil && (r.sender == senderDispatcher || r.connections > 1) {
			ratio = fmt.Sprintf("%.2f", r.rate(n)/c.rate(n))
		}
		if r.sender == senderDispatcher {
			fan, first, rss = fmtSec(r.fannedOut), fmtSec(r.firstSent), benchreport.MB(r.peakRSS)
		}
		rep.runs = append(rep.runs, []string{r.database, fmt.Sprint(r.round), r.sender, fmt.Sprint(r.connections), fmtSec(r.elapsed),
			benchreport.Thousands(int64(r.rate(n) + 0.5)), ratio, fan, first, rss, r.cpu.String()})
		if !r.quiet || r.cpu.other > 0.1 {
			rep.warnings = append(rep.warnings, fmt.Sprintf("%s round %d, %s at %d connections: other processes used %.2f cores during the run",
				r.database, r.round, r.sender, r.connections, r.cpu.other))
		}
	}

	for _, db := range []string{dbSQLite, dbPostgres} {
		ceil := b.runsOf(db, senderCeiling, 1)
		if len(ceil) == 0 {
			continue
		}
		ceilMed := medianRate(ceil, n)
		rep.summary = append(rep.summary, []string{db, senderCeiling, "1", fmt.Sprint(len(ceil)), benchreport.Thousands(int64(ceilMed + 0.5)), "1", "", ""})
		if par := b.runsOf(db, senderCeiling, b.o.connections); b.o.connections > 1 && len(par) > 0 {
			med := medianRate(par, n)
			rep.summary = append(rep.summary, []string{db, senderCeiling, fmt.Sprint(b.o.connections), fmt.Sprint(len(par)),
				benchreport.Thousands(int64(med + 0.5)), fmt.Sprintf("%.2f", med/ceilMed), roundRatios(b, par, n), ""})
		}
		conns := []int{b.o.connections}
		for _, c := range b.o.also {
			if !slices.Contains(conns, c) {
				conns = append(conns, c)
			}
		}
		for _, c := range conns {
			runs := b.runsOf(db, senderDispatcher, c)
			if len(runs) == 0 {
				continue
			}
			med := medianRate(runs, n)
			var peak int64
			for _, r := range runs {
				peak = max(peak, r.peakRSS)
			}
			rep.summary = append(rep.summary, []string{db, senderDispatcher, fmt.Sprint(c), fmt.Sprint(len(runs)),
				benchreport.Thousands(int64(med + 0.5)), fmt.Sprintf("%.2f", med/ceilMed), roundRatios(b, runs, n), benchreport.MB(peak)})
			if c == b.o.connections {
				rep.verdicts = append(rep.verdicts,
					verdict{target: fmt.Sprintf("%s: dispatcher (%d connections) >= %.1f of the ceiling's mails/s (medians)", db, c, targetShare),
						measured: fmt.Sprintf("%.2f (%.0f vs %.0f mails/s)", med/ceilMed, med, ceilMed), pass: med/ceilMed >= targetShare})
			}
		}
		var peak runResult
		for _, r := range b.runsOf(db, senderDispatcher, 0) {
			if r.peakRSS > peak.peakRSS {
				peak = r
			}
		}
		rep.verdicts = append(rep.verdicts, verdict{target: fmt.Sprintf("%s: worker peak RSS < %s (largest of its runs)", db, benchreport.MB(targetPeakRSS)),
			measured: fmt.Sprintf("%s (%d connections, round %d)", benchreport.MB(peak.peakRSS), peak.connections, peak.round), pass: peak.peakRSS < targetPeakRSS})

		// Is Mailpit the limit? Its CPU per mail, and how busy it and the
		// whole machine were.
		for _, sc := range []struct {
			sender string
			conns  int
		}{{senderCeiling, 1}, {senderCeiling, b.o.connections}, {senderDispatcher, b.o.connections}} {
			sender, c := sc.sender, sc.conns
			if sender == senderCeiling && c > 1 && !b.o.parallelCeiling {
				continue
			}
			runs := b.runsOf(db, sender, c)
			if len(runs) == 0 {
				continue
			}
			var perMail, mpCores, senderCores, total []float64
			for _, r := range runs {
				perMail = append(perMail, r.cpu.mailpit*r.elapsed.Seconds()/float64(n)*1e6)
				mpCores = append(mpCores, r.cpu.mailpit)
				senderCores = append(senderCores, r.cpu.sender)
				total = append(total, r.cpu.total())
			}
			rep.notes = append(rep.notes, fmt.Sprintf("%s, %s (%d connection(s)), medians: Mailpit %.0f µs of CPU per mail, busy %.2f cores; sender %.2f cores; machine %.2f of %d cores",
				db, sender, c, benchreport.Median(perMail), benchreport.Median(mpCores), benchreport.Median(senderCores), benchreport.Median(total), runtime.NumCPU()))
		}
	}
	return rep
}

// roundRatios lists each run's rate over its round's ceiling (one
// connection).
func roundRatios(b *bench, runs []runResult, n int) string {
	var ratios []string
	for _, r := range runs {
		if c := b.ceilingOf(r.database, r.round); c != nil {
			ratios = append(ratios, fmt.Sprintf("%.2f", r.rate(n)/c.rate(n)))
		}
	}
	return strings.Join(ratios, ", ")
}

// runsOf returns the runs on db by sender at conns connections (0: any).
func (b *bench) runsOf(db, sender string, conns int) []runResult {
	var out []runResult
	for _, r := range b.runs {
		if r.database == db && r.sender == sender && (conns == 0 || r.connections == conns) {
			out = append(out, r)
		}
	}
	return out
}

func medianRate(runs []runResult, n int) float64 {
	rates := make([]float64, len(runs))
	for i := range runs {
		rates[i] = runs[i].rate(n)
	}
	return benchreport.Median(rates)
}

// markdown is the report for docs/performance.md and bench/results; the
// terminal gets the same text.
func (r *report) markdown(command string) string {
	var sb strings.Builder
	sb.WriteString("# Mail fan-out benchmark results\n\n")
	fmt.Fprintf(&sb, "- Date: %s (the run took %s)\n", r.when.Format("2006-01-02 15:04 MST"), r.took.Round(time.Second))
	for _, h := range r.header {
		fmt.Fprintf(&sb, "- %s\n", h)
	}
	if command != "" {
		fmt.Fprintf(&sb, "- Command: `%s`\n", command)
	}
	sb.WriteString("\n## Runs, in the order they ran\n\n")
	benchreport.MarkdownTable(&sb, runHeader, 3, r.runs)
	sb.WriteString("\n## Summary\n\n")
	benchreport.MarkdownTable(&sb, summaryHeader, 2, r.summary)
	sb.WriteString("\n## Is Mailpit the limit?\n\n")
	for _, n := range r.notes {
		fmt.Fprintf(&sb, "- %s\n", n)
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
	return sb.String()
}

func (r *report) text() string { return "\n" + r.markdown("") + "\n" }
