package main

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// cpuSnapshot is CPU time so far, in clock ticks (USER_HZ, 100 a second),
// of the whole machine and of the parts of this benchmark.
type cpuSnapshot struct {
	machine  uint64
	self     uint64 // this program: the client side of every invoke
	function uint64 // the emulators and their bootstraps
	postgres uint64 // every process named postgres
}

func takeSnapshot(pids []int) cpuSnapshot {
	s := cpuSnapshot{machine: machineBusy(), self: procTicks(os.Getpid()), postgres: postgresTicks()}
	for _, pid := range pids {
		s.function += procTicks(pid)
	}
	return s
}

// cpuUse accumulates CPU time over measured intervals.
type cpuUse struct {
	seconds                         float64 // wall time
	self, function, postgres, other float64 // CPU seconds
}

// add accumulates the use between snapshots s and e, taken seconds apart.
func (u *cpuUse) add(s, e cpuSnapshot, seconds float64) {
	d := func(a, b uint64) float64 {
		if b < a {
			return 0
		}
		return float64(b-a) / 100
	}
	self, fn, pg := d(s.self, e.self), d(s.function, e.function), d(s.postgres, e.postgres)
	u.seconds += seconds
	u.self += self
	u.function += fn
	u.postgres += pg
	u.other += max(0, d(s.machine, e.machine)-self-fn-pg)
}

// cores is the average use, in cores: function, client, PostgreSQL, other.
func (u cpuUse) cores() (fn, self, pg, other float64) {
	if u.seconds == 0 {
		return
	}
	return u.function / u.seconds, u.self / u.seconds, u.postgres / u.seconds, u.other / u.seconds
}

// machineBusy is the machine's non-idle CPU time from /proc/stat: user,
// nice, system, irq, softirq, steal (guest time is inside user).
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

// otherCores is the cores that processes other than this program, its
// children (emulators and functions, once reaped) and PostgreSQL used
// between two calls of the function it returns.
func otherCores() func() float64 {
	t0, m0, p0 := time.Now(), machineBusy(), selfAndChildrenTicks()+postgresTicks()
	return func() float64 {
		m1, p1 := machineBusy(), selfAndChildrenTicks()+postgresTicks()
		if m1 < m0 || p1 < p0 {
			return 0
		}
		return max(0, float64(m1-m0)-float64(p1-p0)) / 100 / time.Since(t0).Seconds()
	}
}

// selfAndChildrenTicks is this process's CPU time and that of its
// children that have been waited for (which holds theirs in turn).
func selfAndChildrenTicks() uint64 {
	f := statFields(os.Getpid())
	if len(f) < 15 {
		return 0
	}
	var sum uint64
	for _, i := range []int{11, 12, 13, 14} { // utime, stime, cutime, cstime
		n, _ := strconv.ParseUint(f[i], 10, 64)
		sum += n
	}
	return sum
}

// statFields are the fields of /proc/PID/stat after the command name,
// starting at the state (field 3).
func statFields(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
}

// procTicks is a process's user+system CPU time, or 0 if it is gone.
func procTicks(pid int) uint64 {
	// utime and stime are fields 14 and 15.
	f := statFields(pid)
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseUint(f[11], 10, 64)
	st, _ := strconv.ParseUint(f[12], 10, 64)
	return u + st
}

// postgresTicks is the CPU time of every process named postgres.
func postgresTicks() uint64 {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var sum uint64
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile("/proc/" + e.Name() + "/comm")
		if err != nil || strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		sum += procTicks(pid)
	}
	return sum
}
