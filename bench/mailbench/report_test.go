//go:build linux

package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestReportRatios checks that each dispatcher run is compared with the
// one-connection ceiling of its own round, and that the verdicts use the
// medians.
func TestReportRatios(t *testing.T) {
	secs := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	b := &bench{o: options{subscribers: 1000, rounds: 2, connections: 4, parallelCeiling: true, poll: time.Millisecond}}
	b.runs = []runResult{
		{database: dbSQLite, round: 1, sender: senderCeiling, connections: 1, elapsed: secs(1)},    // 1,000/s
		{database: dbSQLite, round: 1, sender: senderDispatcher, connections: 4, elapsed: secs(2)}, // 500/s: 0.50
		{database: dbSQLite, round: 1, sender: senderCeiling, connections: 4, elapsed: secs(0.5)},
		{database: dbSQLite, round: 2, sender: senderCeiling, connections: 1, elapsed: secs(2)},       // 500/s
		{database: dbSQLite, round: 2, sender: senderDispatcher, connections: 4, elapsed: secs(1.25)}, // 800/s: 1.60
	}
	b.runs[1].peakRSS, b.runs[4].peakRSS = 40e6, 120e6
	rep := b.report(time.Minute)
	md := rep.markdown("go run ./bench/mailbench")

	for _, want := range []string{
		"| SQLite | dispatcher | 4 | 2 | 650 | 0.87 | 0.50, 1.60 | 120.0 MB |", // medians 650 / 750
		"| SQLite | ceiling | 4 | 1 | 2,000 | 2.67 | 2.00 |  |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if len(rep.verdicts) != 2 || !rep.verdicts[0].pass || rep.verdicts[1].pass {
		t.Errorf("verdicts = %+v, want the rate to pass (0.87 >= 0.8) and the RSS to fail (120 MB)", rep.verdicts)
	}
}

func TestParseInts(t *testing.T) {
	for in, want := range map[string]string{"": "[]", "1,2, 8": "[1 2 8]", " 3 ,": "[3]"} {
		got, err := parseInts(in)
		if err != nil || fmt.Sprint(got) != want {
			t.Errorf("parseInts(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"0", "x", "1,-2"} {
		if _, err := parseInts(bad); err == nil {
			t.Errorf("parseInts(%q): no error", bad)
		}
	}
}
