package netaddr

import (
	"net"
	"testing"
)

func TestFreeLoopback(t *testing.T) {
	addr, err := FreeLoopback()
	if err != nil {
		t.Fatal(err)
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" {
		t.Fatalf("FreeLoopback() = %q (%v), want 127.0.0.1:PORT", addr, err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the address is not free: %v", err)
	}
	ln.Close()
}

func TestIsLocalHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1":           true,
		"::1":                 true,
		"localhost":           true,
		"/var/run/postgresql": true,
		"":                    false,
		"db.example.com":      false,
		"10.0.0.5":            false,
		"0.0.0.0":             false,
	} {
		if got := IsLocalHost(host); got != want {
			t.Errorf("IsLocalHost(%q) = %v, want %v", host, got, want)
		}
	}
}
