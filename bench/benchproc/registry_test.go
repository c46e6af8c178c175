//go:build linux

package benchproc

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startSh starts script under /bin/sh in r, logging to the test's
// temporary directory; whatever the test leaves running is stopped at its
// end.
func startSh(t *testing.T, r *Registry, script string, env ...string) *Proc {
	t.Helper()
	t.Cleanup(r.StopAll)
	p, err := r.Start("sh", "/bin/sh", []string{"-c", script}, env, filepath.Join(t.TempDir(), "sh.log"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// waitLog waits until p has written want, failing the test if it does
// not within a few seconds.
func waitLog(t *testing.T, p *Proc, want string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(p.LogTail(), want); {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not write %q; its log: %q", p.name, want, p.LogTail())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitStatus is how p ended, from its exit error.
func waitStatus(t *testing.T, p *Proc) syscall.WaitStatus {
	t.Helper()
	var ee *exec.ExitError
	if !errors.As(p.Err(), &ee) {
		t.Fatalf("Err() = %v, want an exit error", p.Err())
	}
	return ee.Sys().(syscall.WaitStatus)
}

// gone reports whether no process has pid any more: it was reaped, not
// left a zombie or running.
func gone(pid int) bool { return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) }

func registered(r *Registry) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.procs)
}

func TestStop(t *testing.T) {
	tests := []struct {
		name   string
		script string
		grace  time.Duration
		exited bool           // the process exits by itself before Stop
		signal syscall.Signal // what ended it; 0 for an exit
		status int            // its exit status when no signal ended it
	}{
		{name: "exits on SIGTERM", script: "echo up; exec sleep 30", grace: 5 * time.Second, signal: syscall.SIGTERM},
		{name: "ignores SIGTERM: killed after the grace", script: "trap '' TERM; echo up; while :; do sleep 0.05; done",
			grace: 200 * time.Millisecond, signal: syscall.SIGKILL},
		{name: "exited already", script: "echo up; exit 3", grace: 5 * time.Second, exited: true, status: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRegistry(tt.grace)
			p := startSh(t, r, tt.script)
			waitLog(t, p, "up")
			if tt.exited {
				<-p.Done()
			} else if p.Err() != nil {
				t.Fatalf("Err() = %v while it runs, want nil", p.Err())
			}
			start := time.Now()
			r.Stop(p)
			took := time.Since(start)

			select {
			case <-p.Done():
			default:
				t.Fatal("Stop returned before the process exited")
			}
			ws := waitStatus(t, p)
			if tt.signal != 0 && (!ws.Signaled() || ws.Signal() != tt.signal) {
				t.Errorf("ended with %v, want signal %v", p.Err(), tt.signal)
			}
			if tt.signal == 0 && (!ws.Exited() || ws.ExitStatus() != tt.status) {
				t.Errorf("ended with %v, want exit status %d", p.Err(), tt.status)
			}
			if tt.signal == syscall.SIGKILL && took < tt.grace {
				t.Errorf("killed after %v, before the grace of %v", took, tt.grace)
			}
			if !gone(p.PID()) {
				t.Errorf("pid %d still there after Stop", p.PID())
			}
			if n := registered(r); n != 0 {
				t.Errorf("%d processes still registered after Stop", n)
			}
			r.Stop(p) // a second Stop has nothing to do
		})
	}
}

// StopAll ends every process still registered, the quick and the stubborn,
// and forgets them; one stopped before is not stopped again.
func TestStopAll(t *testing.T) {
	r := NewRegistry(200 * time.Millisecond)
	var ps []*Proc
	for _, script := range []string{
		"echo up; exec sleep 30",
		"echo up; exec sleep 30",
		"trap '' TERM; echo up; while :; do sleep 0.05; done",
	} {
		p := startSh(t, r, script)
		waitLog(t, p, "up")
		ps = append(ps, p)
	}
	r.Stop(ps[0])
	if n := registered(r); n != 2 {
		t.Fatalf("%d registered after one Stop, want 2", n)
	}
	r.StopAll()
	for _, p := range ps {
		select {
		case <-p.Done():
		default:
			t.Errorf("pid %d not exited after StopAll", p.PID())
		}
		if !gone(p.PID()) {
			t.Errorf("pid %d still there after StopAll", p.PID())
		}
	}
	if n := registered(r); n != 0 {
		t.Errorf("%d processes still registered after StopAll", n)
	}
}

// A process that cannot start is neither returned nor registered.
func TestStartFails(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, path, logPath, wantErr string
	}{
		{"no such program", filepath.Join(dir, "missing"), filepath.Join(dir, "a.log"), "start no such program:"},
		{"no such log directory", "/bin/sh", filepath.Join(dir, "missing", "a.log"), "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRegistry(time.Second)
			p, err := r.Start(tt.name, tt.path, nil, nil, tt.logPath)
			if err == nil || p != nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Start = %v, %v; want nil and an error with %q", p, err, tt.wantErr)
			}
			if n := registered(r); n != 0 {
				t.Errorf("%d processes registered after a failed Start", n)
			}
		})
	}
}
