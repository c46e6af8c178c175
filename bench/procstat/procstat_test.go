package procstat

import (
	"context"
	"os"
	"testing"
	"time"
)

func TestSumFields(t *testing.T) {
	tests := []struct {
		f    []string
		idx  []int
		want uint64
	}{
		{[]string{"S", "1", "2"}, []int{1, 2}, 3},
		{[]string{"S", "1"}, []int{1, 5}, 1}, // a short line counts what is there
		{[]string{"S", "x"}, []int{1}, 0},
		{nil, []int{0}, 0},
	}
	for _, tt := range tests {
		if got := sumFields(tt.f, tt.idx...); got != tt.want {
			t.Errorf("sumFields(%q, %v) = %d, want %d", tt.f, tt.idx, got, tt.want)
		}
	}
}

// The counters move with real work, and a process that is gone reads 0.
func TestCountersMove(t *testing.T) {
	m0, p0 := MachineBusy(), ProcTicks(os.Getpid())
	for end := time.Now().Add(150 * time.Millisecond); time.Now().Before(end); {
	}
	if m1, p1 := MachineBusy(), ProcTicks(os.Getpid()); m1 <= m0 || p1 <= p0 {
		t.Fatalf("150 ms of spinning: machine %d -> %d, process %d -> %d ticks", m0, m1, p0, p1)
	}
	if SelfAndChildrenTicks() < ProcTicks(os.Getpid()) {
		t.Error("self and children below self")
	}
	if ProcTicks(1<<30) != 0 {
		t.Error("a missing process has CPU time")
	}
	if quiet, _ := WaitQuiet(context.Background(), 0, -1); quiet {
		t.Error("WaitQuiet said quiet below a negative threshold")
	}
}
