package oidcauth

import (
	"crypto/sha256"
	"sync/atomic"
	"testing"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
)

func TestTokenCache(t *testing.T) {
	start := time.Date(2026, 11, 29, 2, 0, 0, 0, time.UTC)
	p := &icymorning.Principal{Subject: "ada", Email: "ada@example.com", CanWrite: true}
	key := sha256.Sum256([]byte("token"))
	tests := []struct {
		name string
		// put at start under generation putGen, with expiry expires; get
		// after wait, under generation getGen.
		expires        time.Duration
		putGen, getGen int64
		wait           time.Duration
		hit            bool
	}{
		{"fresh", time.Hour, 0, 0, time.Second, true},
		{"expired token", 30 * time.Second, 0, 0, 30 * time.Second, false},
		{"keys fetched since", time.Hour, 0, 1, time.Second, false},
		{"verified before a fetch, stored after", time.Hour, -1, 0, time.Second, false},
		{"already expired when stored", 0, 0, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := start
			var gen atomic.Int64
			c := newTokenCache(&gen, func() time.Time { return now })
			c.put(key, p, start.Add(tt.expires), tt.putGen)
			gen.Store(tt.getGen)
			now = start.Add(tt.wait)
			got, ok := c.get(key)
			if ok != tt.hit {
				t.Fatalf("hit = %v, want %v", ok, tt.hit)
			}
			if ok {
				if *got != *p {
					t.Fatalf("got %+v, want %+v", got, p)
				}
				got.Subject = "mallory"
				if again, _ := c.get(key); again.Subject != "ada" {
					t.Fatal("a caller's change reached the cache")
				}
			}
		})
	}
}
