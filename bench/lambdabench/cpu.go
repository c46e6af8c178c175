//go:build linux

package main

import (
	"os"
	"time"

	"github.com/icy-morning/icy-morning/bench/procstat"
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
	s := cpuSnapshot{machine: procstat.MachineBusy(), self: procstat.ProcTicks(os.Getpid()), postgres: procstat.Sum(procstat.PostgresTicks())}
	for _, pid := range pids {
		s.function += procstat.ProcTicks(pid)
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

// otherCores is the cores that processes other than this program, its
// children (emulators and functions, once reaped) and PostgreSQL used
// between two calls of the function it returns.
func otherCores() func() float64 {
	t0, m0, p0 := time.Now(), procstat.MachineBusy(), procstat.SelfAndChildrenTicks()+procstat.Sum(procstat.PostgresTicks())
	return func() float64 {
		m1, p1 := procstat.MachineBusy(), procstat.SelfAndChildrenTicks()+procstat.Sum(procstat.PostgresTicks())
		if m1 < m0 || p1 < p0 {
			return 0
		}
		return max(0, float64(m1-m0)-float64(p1-p0)) / 100 / time.Since(t0).Seconds()
	}
}
