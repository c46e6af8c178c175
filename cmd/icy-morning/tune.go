package main

import (
	"runtime"
	"runtime/debug"
	"strconv"
)

// tuneRuntime sets the Go runtime for the command about to run. main calls
// it, not run, because these settings are the whole process's: a test that
// calls run("serve") must not change its test binary's collector.
func tuneRuntime(cmd string, getenv func(string) string) {
	switch cmd {
	case "serve":
		tuneGC(getenv)
	case "lambda":
		tuneGC(getenv)
		tuneLambdaCPU(getenv)
	}
}

// tuneGC trades some memory for CPU unless GOGC or GOMEMLIMIT is set. The
// service's heap is small and mostly short-lived response garbage, so the
// default GOGC=100 collects often: at GOGC=200 a 100-row page served 11%
// more requests/s at a 6% lower p99 on 2 cores (docs/performance.md), and
// peak RSS under 1000-row pages rose from 36 to 43 MB. The soft memory limit
// makes the collector work harder before the heap passes it, so the trade
// cannot grow without bound.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(48 << 20)
	}
}

// vCPUMemoryMB is the memory size at which a Lambda function gets the
// CPU time of one whole vCPU (AWS documents 1,769 MB); below it, a share.
const vCPUMemoryMB = 1769

// tuneLambdaCPU sets GOMAXPROCS to the whole vCPUs the function's memory
// size buys (at least one), unless GOMAXPROCS is set. Lambda shows the
// process every core of the host slot but throttles its CPU time to that
// share, and an environment serves one request at a time; with a second P
// the runtime spins up and wakes idle threads that only take CPU time from
// the request. Under the emulator (2 cores, 3008 MB) this cut the warm
// GET-by-id p50 from 1.04-1.07 to 0.95 ms on PostgreSQL, and on SQLite from
// 0.93-0.97 to 0.84-0.85 ms (docs/performance.md).
func tuneLambdaCPU(getenv func(string) string) {
	if getenv("GOMAXPROCS") != "" {
		return
	}
	mb, err := strconv.Atoi(getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"))
	if err != nil || mb <= 0 {
		return
	}
	runtime.GOMAXPROCS(lambdaProcs(mb, runtime.NumCPU()))
}

func lambdaProcs(memoryMB, cpus int) int {
	return max(1, min(cpus, memoryMB/vCPUMemoryMB))
}
