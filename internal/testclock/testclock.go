// Package testclock is a clock that tests move by hand: it stands still
// until told, so a test knows every time it hands out and never sleeps.
package testclock

import (
	"sync"
	"time"
)

// Clock is safe for concurrent use: the code under test reads it from its
// own goroutines while the test moves it.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// At returns a clock standing at t.
func At(t time.Time) *Clock { return &Clock{now: t} }

// Now is the clock's time; pass the method value where code takes a
// func() time.Time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
