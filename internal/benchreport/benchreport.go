// Package benchreport holds what the benchmark commands' reports share:
// how they say where and how a run happened, and how they write figures.
package benchreport

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Machine describes the machine a run happened on, so that figures from
// different machines are not compared by mistake:
// "Machine: 2 CPUs (Intel(R) Xeon(R) Processor), 23.5 GiB memory, Linux 6.18.44".
func Machine() string {
	model := procField("/proc/cpuinfo", "model name")
	if model == "" {
		// /proc/cpuinfo has no model name on arm64; lscpu finds one.
		if out, err := exec.Command("lscpu").Output(); err == nil {
			model = field(string(out), "Model name")
		}
	}
	if model == "" {
		model = "unknown"
	}
	mem := procField("/proc/meminfo", "MemTotal")
	if kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(mem, "kB")), 10, 64); err == nil {
		mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
	} else {
		mem = "unknown"
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return fmt.Sprintf("Machine: %d CPUs (%s), %s memory, Linux %s", runtime.NumCPU(), model, mem, strings.TrimSpace(string(kernel)))
}

// procField is the value of the first "key : value" line of a /proc file,
// or "".
func procField(path, key string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return field(string(b), key)
}

// field is the value of the first "key : value" line of text, or "".
func field(text, key string) string {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// PostgresVersion is the server_version of the PostgreSQL server that cfg
// connects to, for the report's software line. Asked first, it also tells
// early that the server is not running.
func PostgresVersion(ctx context.Context, cfg *pgx.ConnConfig) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var v string
	err = conn.QueryRow(ctx, "SHOW server_version").Scan(&v)
	return v, err
}

// ModuleVersion is the main module version go build or go install recorded
// in the Go binary bin ("v1.33.1"), for the report's software line.
func ModuleVersion(ctx context.Context, bin string) string {
	out, err := exec.CommandContext(ctx, "go", "version", "-m", bin).Output()
	if err != nil {
		return "(version unknown)"
	}
	for l := range strings.SplitSeq(string(out), "\n") {
		if f := strings.Fields(l); len(f) >= 3 && f[0] == "mod" {
			return f[2]
		}
	}
	return "(version unknown)"
}

// CommandLine is how the benchmark in package pkg ("./bench/loadbench")
// was run, as a reader would retype it: os.Args[0] is a temporary path
// under go run.
func CommandLine(pkg string) string {
	return strings.Join(append([]string{"go run " + pkg}, os.Args[1:]...), " ")
}

// Ms writes d in milliseconds with two decimals: "1.25 ms".
func Ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}

// MB writes b bytes in decimal megabytes (10^6 bytes, the stricter reading
// of the issues' targets) with one decimal: "59.9 MB".
func MB(b int64) string { return strconv.FormatFloat(float64(b)/1e6, 'f', 1, 64) + " MB" }

// Thousands writes n with thousands separators: "-1,234,567".
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	digits := strings.TrimPrefix(s, "-")
	var b strings.Builder
	b.WriteString(s[:len(s)-len(digits)])
	for i := range len(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(digits[i])
	}
	return b.String()
}
