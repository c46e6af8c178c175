package testclock

import (
	"sync"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	start := time.Date(2024, 2, 29, 8, 30, 0, 0, time.UTC)
	tests := []struct {
		name  string
		moves []time.Duration
		want  time.Time
	}{
		{"stands still", nil, start},
		{"one move", []time.Duration{time.Hour}, start.Add(time.Hour)},
		{"moves add up", []time.Duration{time.Second, 2 * time.Second}, start.Add(3 * time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := At(start)
			for _, d := range tt.moves {
				c.Advance(d)
			}
			if got := c.Now(); !got.Equal(tt.want) {
				t.Fatalf("Now() = %v, want %v", got, tt.want)
			}
		})
	}
}

// Readers and a mover at once: the race detector checks the locking.
func TestClockConcurrent(t *testing.T) {
	c := At(time.Unix(0, 0))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				_ = c.Now()
			}
		})
	}
	for range 100 {
		c.Advance(time.Millisecond)
	}
	wg.Wait()
	if got, want := c.Now(), time.Unix(0, 0).Add(100*time.Millisecond); !got.Equal(want) {
		t.Fatalf("Now() = %v, want %v", got, want)
	}
}
