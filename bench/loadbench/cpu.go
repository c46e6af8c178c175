//go:build linux

package main

import (
	"time"

	"github.com/icy-morning/icy-morning/bench/procstat"
)

// On a 2-core machine the server, wrk and PostgreSQL share the cores, and
// anything else running (a build, a test suite) takes its cut from the
// server's throughput. So each measured run records where the CPU went,
// and the benchmark waits for a quiet machine before each scenario: a
// figure taken while something else was busy is reported as such.

// cpuUse is where the machine's CPU went during a run, in cores (CPU
// seconds per second of wall time).
type cpuUse struct {
	server, wrk, db, other float64
}

// cpuSnapshot holds CPU times, in clock ticks, at one instant.
type cpuSnapshot struct {
	at     time.Time
	busy   uint64         // whole machine, all CPUs, not idle
	server uint64         // the server under test (and the proxy in front of it)
	db     map[int]uint64 // each PostgreSQL process
}

// takeSnapshot reads the CPU times now; those of serverPIDs (the server,
// and a proxy in front of it) add up to the server's.
func takeSnapshot(serverPIDs ...int) cpuSnapshot {
	var server uint64
	for _, pid := range serverPIDs {
		server += procstat.ProcTicks(pid)
	}
	return cpuSnapshot{at: time.Now(), busy: procstat.MachineBusy(), server: server, db: procstat.PostgresTicks()}
}

// use computes the CPU use from s to e; wrkSeconds is wrk's own CPU time
// from its rusage, exact even though wrk has exited by then.
func (s cpuSnapshot) use(e cpuSnapshot, wrkSeconds float64) cpuUse {
	wall := e.at.Sub(s.at).Seconds()
	if wall <= 0 {
		return cpuUse{}
	}
	var db uint64
	for pid, t := range e.db {
		// A backend started during the run counts from zero.
		db += t - min(t, s.db[pid])
	}
	u := cpuUse{
		server: float64(e.server-min(e.server, s.server)) / procstat.ClockTicks / wall,
		db:     float64(db) / procstat.ClockTicks / wall,
		wrk:    wrkSeconds / wall,
	}
	total := float64(e.busy-min(e.busy, s.busy)) / procstat.ClockTicks / wall
	u.other = max(0, total-u.server-u.db-u.wrk)
	return u
}
