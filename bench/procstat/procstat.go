// Package procstat reads CPU time and peak memory from Linux's /proc for
// the benchmarks, which record where the machine's CPU went during each
// measured run and how much memory the program under test took. No library
// reads these few counters without pulling in far more.
package procstat

import (
	"context"
	"os"
	"strconv"
	"strings"
	"time"
)

// ClockTicks is USER_HZ, the unit of /proc CPU times; 100 on every Linux
// platform Go supports.
const ClockTicks = 100

// MachineBusy is the machine's non-idle CPU time from the first line of
// /proc/stat: user, nice, system, irq, softirq, steal (guest time is
// already inside user).
func MachineBusy() uint64 {
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

// statFields are the fields of /proc/PID/stat after the command name
// (which is in parentheses and may hold spaces), starting at the state,
// field 3: utime and stime (fields 14 and 15) are at 11 and 12.
func statFields(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
}

func sumFields(f []string, idx ...int) uint64 {
	var sum uint64
	for _, i := range idx {
		if i < len(f) {
			n, _ := strconv.ParseUint(f[i], 10, 64)
			sum += n
		}
	}
	return sum
}

// ProcTicks is a process's user+system CPU time, or 0 if it is gone.
func ProcTicks(pid int) uint64 { return sumFields(statFields(pid), 11, 12) }

// SelfAndChildrenTicks is this process's CPU time and that of its children
// that have been waited for (which holds theirs in turn).
func SelfAndChildrenTicks() uint64 {
	return sumFields(statFields(os.Getpid()), 11, 12, 13, 14) // utime, stime, cutime, cstime
}

// PostgresTicks is the CPU time of every process named postgres, by PID.
func PostgresTicks() map[int]uint64 {
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
		out[pid] = ProcTicks(pid)
	}
	return out
}

// Sum adds up per-process ticks.
func Sum(ticks map[int]uint64) uint64 {
	var s uint64
	for _, t := range ticks {
		s += t
	}
	return s
}

// WaitQuiet waits, up to limit, until the machine has been nearly idle
// (fewer than maxCores busy) for half a second, and reports whether it was
// and the cores last seen busy.
func WaitQuiet(ctx context.Context, limit time.Duration, maxCores float64) (bool, float64) {
	deadline := time.Now().Add(limit)
	var busy float64
	for {
		start, t0 := MachineBusy(), time.Now()
		select {
		case <-ctx.Done():
			return false, busy
		case <-time.After(500 * time.Millisecond):
		}
		busy = float64(MachineBusy()-start) / ClockTicks / time.Since(t0).Seconds()
		if busy < maxCores {
			return true, busy
		}
		if time.Now().After(deadline) {
			return false, busy
		}
	}
}
