package httpapi

import (
	"fmt"
	"testing"
	"time"
)

func TestClientKey(t *testing.T) {
	tests := []struct {
		addr, want string
		ok         bool
	}{
		{"192.0.2.7:5123", "192.0.2.7/32", true},
		{"192.0.2.7", "192.0.2.7/32", true}, // API Gateway's sourceIp has no port
		{"[::ffff:192.0.2.7]:80", "192.0.2.7/32", true},
		{"[2001:db8:1:2:aaaa::1]:443", "2001:db8:1:2::/64", true},
		{"2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64", true}, // same /64: same client
		{"", "", false},
		{"not-an-ip:80", "", false},
	}
	for _, tt := range tests {
		got, ok := clientKey(tt.addr)
		if ok != tt.ok || (ok && got.String() != tt.want) {
			t.Errorf("clientKey(%q) = %v, %v; want %s, %v", tt.addr, got, ok, tt.want, tt.ok)
		}
	}
}

func TestThrottleRefillsAndStaysBounded(t *testing.T) {
	th := newAuthThrottle(AuthThrottle{Burst: 3, Refill: 2 * time.Second})
	now := time.Unix(1_700_000_000, 0)
	for range 3 {
		if _, blocked := th.blocked("192.0.2.1:1", now); blocked {
			t.Fatal("blocked before the burst was used")
		}
		th.failed("192.0.2.1:1", now)
	}
	wait, blocked := th.blocked("192.0.2.1:2", now)
	if !blocked || wait != 2*time.Second || retryAfter(wait) != 2 {
		t.Fatalf("after the burst: blocked=%v wait=%v", blocked, wait)
	}
	if _, blocked := th.blocked("192.0.2.1:3", now.Add(2*time.Second)); blocked {
		t.Fatal("still blocked after one refill interval")
	}
	// A spray of addresses cannot grow the table past its bound.
	th.max = 100
	for i := range 1000 {
		th.failed(fmt.Sprintf("10.0.%d.%d:1", i/256, i%256), now)
	}
	if n := len(th.clients); n > th.max {
		t.Fatalf("%d addresses tracked, bound %d", n, th.max)
	}
}
