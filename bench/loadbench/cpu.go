package main

import (
	"context"
	"os"
	"strconv"
	"strings"
	"time"
)

// On a 2-core machine the server, wrk and PostgreSQL share the cores, and
// anything else running (a build, a test suite) takes its cut from the
// server's throughput. So each measured run records where the CPU went,
// and the benchmark waits for a quiet machine before each scenario: a
// figure taken while something else was busy is reported as such.

// clockTicks is USER_HZ, the unit of /proc CPU times; 100 on every Linux
// platform Go supports.
const clockTicks = 100

// cpuUse is where the machine's CPU went during a run, in cores (CPU
// seconds per second of wall time).
type cpuUse struct {
	server, wrk, db, other float64
}

// cpuSnapshot holds CPU times, in clock ticks, at one instant.
type cpuSnapshot struct {
	at     time.Time
	busy   uint64         // whole machine, all CPUs, not idle
	server uint64         // the server under test
	db     map[int]uint64 // each PostgreSQL process
}

func takeSnapshot(serverPID int) cpuSnapshot {
	return cpuSnapshot{at: time.Now(), busy: machineBusy(), server: procTicks(serverPID), db: postgresTicks()}
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
		server: float64(e.server-min(e.server, s.server)) / clockTicks / wall,
		db:     float64(db) / clockTicks / wall,
		wrk:    wrkSeconds / wall,
	}
	total := float64(e.busy-min(e.busy, s.busy)) / clockTicks / wall
	u.other = max(0, total-u.server-u.db-u.wrk)
	return u
}

// machineBusy is the machine's non-idle CPU time from the first line of
// /proc/stat: user, nice, system, irq, softirq, steal (guest time is
// already inside user).
func machineBusy() uint64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var busy uint64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		n, _ := strconv.ParseUint(f[i], 10, 64)
		busy += n
	}
	return busy
}

// procTicks is a process's user+system CPU time, or 0 if it is gone.
func procTicks(pid int) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces; the fields that
	// follow it start with the state (field 3), so utime and stime (fields
	// 14 and 15) are at 11 and 12.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseUint(f[11], 10, 64)
	st, _ := strconv.ParseUint(f[12], 10, 64)
	return u + st
}

// postgresTicks is the CPU time of every process named postgres.
func postgresTicks() map[int]uint64 {
	out := map[int]uint64{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile("/proc/" + e.Name() + "/comm")
		if err != nil || strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		out[pid] = procTicks(pid)
	}
	return out
}

// waitQuiet waits, up to limit, until the machine has been nearly idle
// (under 0.1 core busy) for half a second, and reports whether it was.
// Nothing of the benchmark's own is running when it is called.
func waitQuiet(ctx context.Context, limit time.Duration) (bool, float64) {
	deadline := time.Now().Add(limit)
	var busy float64
	for {
		start, t0 := machineBusy(), time.Now()
		select {
		case <-ctx.Done():
			return false, busy
		case <-time.After(500 * time.Millisecond):
		}
		busy = float64(machineBusy()-start) / clockTicks / time.Since(t0).Seconds()
		if busy < 0.1 {
			return true, busy
		}
		if time.Now().After(deadline) {
			return false, busy
		}
	}
}
