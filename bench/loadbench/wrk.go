//go:build linux

package main

import (
	"bufio"
	"context"
	"embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/icy-morning/icy-morning/bench/benchproc"
)

//go:embed lua/*.lua
var luaFiles embed.FS

// writeScripts copies the embedded wrk Lua scripts into dir, so the
// benchmark runs the same from any working directory, and returns their
// paths by file name.
func writeScripts(dir string) (map[string]string, error) {
	entries, err := luaFiles.ReadDir("lua")
	if err != nil {
		return nil, err
	}
	paths := map[string]string{}
	for _, e := range entries {
		b, err := luaFiles.ReadFile("lua/" + e.Name())
		if err != nil {
			return nil, err
		}
		p := filepath.Join(dir, e.Name())
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return nil, err
		}
		paths[e.Name()] = p
	}
	return paths, nil
}

// wrkRun is one wrk invocation: the URL, and optionally a Lua script and
// the arguments it receives.
type wrkRun struct {
	url        string
	script     string
	scriptArgs []string
}

// wrkResult is what the benchmark reads from wrk's report.
type wrkResult struct {
	requests     int64
	rps          float64
	p50, p99     time.Duration
	non2xx       int64   // wrk's "Non-2xx or 3xx responses": statuses of 400 and above
	socketErrors int64   // connect + read + write + timeout
	cpuSeconds   float64 // wrk's own user+system CPU time
}

// runWrk runs wrk for d and parses its report.
func (b *bench) runWrk(ctx context.Context, w wrkRun, d time.Duration) (wrkResult, error) {
	args := []string{
		"-t" + strconv.Itoa(b.o.threads),
		"-c" + strconv.Itoa(b.o.connections),
		"-d" + strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s",
		"--latency",
	}
	if w.script != "" {
		args = append(args, "-s", w.script)
	}
	args = append(args, w.url)
	if len(w.scriptArgs) > 0 {
		args = append(append(args, "--"), w.scriptArgs...)
	}
	// wrk stops itself after d; the margin covers start-up and its final
	// wait for slow responses, and the context kills it if it hangs.
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "wrk", args...)
	cmd.SysProcAttr = benchproc.SysProcAttr()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	r, err := parseWrk(string(out))
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	r.cpuSeconds = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	return r, nil
}

var (
	reRequests = regexp.MustCompile(`^\s*(\d+) requests in `)
	reRPS      = regexp.MustCompile(`^Requests/sec:\s+([\d.]+)`)
	rePercent  = regexp.MustCompile(`^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s|m|h)\s*$`)
	reSocket   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	reNon2xx   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
)

// parseWrk reads the figures the benchmark needs from wrk's text report
// (the --latency distribution gives the percentiles). wrk prints the
// error lines only when there were errors, so their absence means zero.
func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	var haveRPS, have50, have99 bool
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := reRequests.FindStringSubmatch(line); m != nil {
			r.requests, _ = strconv.ParseInt(m[1], 10, 64)
		}
		if m := reRPS.FindStringSubmatch(line); m != nil {
			r.rps, _ = strconv.ParseFloat(m[1], 64)
			haveRPS = true
		}
		if m := rePercent.FindStringSubmatch(line); m != nil {
			d, err := wrkDuration(m[2], m[3])
			if err != nil {
				return r, err
			}
			if m[1] == "50" {
				r.p50, have50 = d, true
			} else {
				r.p99, have99 = d, true
			}
		}
		if m := reSocket.FindStringSubmatch(line); m != nil {
			for _, s := range m[1:] {
				n, _ := strconv.ParseInt(s, 10, 64)
				r.socketErrors += n
			}
		}
		if m := reNon2xx.FindStringSubmatch(line); m != nil {
			r.non2xx, _ = strconv.ParseInt(m[1], 10, 64)
		}
	}
	if !haveRPS || !have50 || !have99 {
		return r, fmt.Errorf("wrk report lacks Requests/sec or the 50%%/99%% latency lines")
	}
	return r, nil
}

// wrkDuration converts wrk's "476.00us", "1.23ms", "2.00s", "1.50m".
func wrkDuration(num, unit string) (time.Duration, error) {
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, err
	}
	scale := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour}[unit]
	return time.Duration(v * float64(scale)), nil
}
