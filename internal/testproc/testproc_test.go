//go:build linux

package testproc

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func sh(t *testing.T, script string, grace time.Duration) *Proc {
	t.Helper()
	return Start(t, Cmd{Path: "/bin/sh", Args: []string{"-c", script}, Name: "sh", Grace: grace})
}

func TestStop(t *testing.T) {
	for _, tc := range []struct {
		name, script string
		killed       bool
	}{
		{"exits on SIGTERM", "echo up; exec sleep 30", false},
		{"ignores SIGTERM", "trap '' TERM; echo up; while :; do sleep 0.05; done", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := sh(t, tc.script, 200*time.Millisecond)
			p.WaitOutput(t, "up", 5*time.Second)
			if killed := p.Stop(); killed != tc.killed || !p.Exited() {
				t.Fatalf("Stop() = %v, exited %v; want %v, true", killed, p.Exited(), tc.killed)
			}
			if p.Stop() {
				t.Error("a second Stop() killed again")
			}
		})
	}
}

func TestKill(t *testing.T) {
	p := sh(t, "echo up; exec sleep 30", time.Second)
	p.WaitOutput(t, "up", 5*time.Second)
	p.Kill(t)
	if !p.Exited() {
		t.Fatal("not exited after Kill")
	}
}

func TestWaitReadyExited(t *testing.T) {
	p := sh(t, "echo bye; exit 3", time.Second)
	err := p.WaitReady("http://127.0.0.1:1/", nil, 5*time.Second)
	if !errors.Is(err, ErrExited) || !strings.Contains(err.Error(), "bye") {
		t.Fatalf("WaitReady = %v, want ErrExited with the output", err)
	}
}

// TestOnFreePortsRetries: a process that exits before it is ready is
// started again on new addresses; the one that is ready is returned.
func TestOnFreePortsRetries(t *testing.T) {
	srv := &http.Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })

	tries := 0
	p := OnFreePorts(t, 2, func(addrs []string) (*Proc, error) {
		if len(addrs) != 2 || addrs[0] == addrs[1] || !strings.HasPrefix(addrs[0], "127.0.0.1:") {
			t.Fatalf("addresses %q", addrs)
		}
		tries++
		if tries == 1 { // exits, and nothing answers on its port
			p := sh(t, "exit 1", time.Second)
			return p, p.WaitReady("http://"+addrs[0]+"/", nil, 5*time.Second)
		}
		p := sh(t, "exec sleep 30", time.Second)
		return p, p.WaitReady("http://"+ln.Addr().String()+"/", []string{ln.Addr().String()}, 5*time.Second)
	})
	if tries != 2 || p.Exited() {
		t.Fatalf("%d tries, exited %v; want 2, false", tries, p.Exited())
	}
}
