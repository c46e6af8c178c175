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
	th.clients.max = 100
	for i := range 1000 {
		th.failed(fmt.Sprintf("10.0.%d.%d:1", i/256, i%256), now)
	}
	if n := len(th.clients.m); n > th.clients.max {
		t.Fatalf("%d addresses tracked, bound %d", n, th.clients.max)
	}
}

// TestSignUpThrottle: a client address is its IPv4 address or its IPv6
// /64, an inbox is its address in any letter case, and each refills on its
// own.
func TestSignUpThrottle(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	th := newSignUpThrottle(SignUpThrottle{AddressBurst: 2, AddressRefill: time.Minute, EmailBurst: 1, EmailRefill: 10 * time.Minute})
	for _, tt := range []struct {
		name string
		take func() time.Duration
		want time.Duration
	}{
		{"IPv6, first", func() time.Duration { return th.address("[2001:db8:1:2::1]:443", now) }, 0},
		{"the same /64", func() time.Duration { return th.address("[2001:db8:1:2:ffff::9]:80", now) }, 0},
		{"the /64 is spent", func() time.Duration { return th.address("2001:db8:1:2::7", now) }, time.Minute},
		{"the next /64", func() time.Duration { return th.address("[2001:db8:1:3::1]:443", now) }, 0},
		{"after a minute", func() time.Duration { return th.address("[2001:db8:1:2::1]:443", now.Add(time.Minute)) }, 0},
		{"an address that does not parse is not limited", func() time.Duration { return th.address("@", now) }, 0},
		{"an inbox", func() time.Duration { return th.email("ada@example.com", now) }, 0},
		{"the inbox in capitals", func() time.Duration { return th.email("ADA@example.com", now) }, 10 * time.Minute},
		{"five minutes on", func() time.Duration { return th.email("Ada@example.com", now.Add(5*time.Minute)) }, 5 * time.Minute},
		{"another inbox", func() time.Duration { return th.email("bob@example.com", now) }, 0},
	} {
		if got := tt.take(); got != tt.want {
			t.Errorf("%s: wait %v, want %v", tt.name, got, tt.want)
		}
	}
}
