//go:build linux

// Package testproc runs the programs tests talk to (a mail server, the
// service's own binary) as processes of their own on loopback ports: it
// logs their output to a file, waits until they are ready, and ends each
// by its PID, and only it, at the latest when its test ends.
//
// Linux only: a process gets its own process group, Pdeathsig and, for
// PostgreSQL under root, another user's credentials.
package testproc

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/icy-morning/icy-morning/internal/netaddr"
)

// Cmd is a program to run.
type Cmd struct {
	Path string
	Args []string
	// Name names the process in messages and its log file; by default the
	// program's file name.
	Name string
	// Env is the whole environment; nil gives the process the test's own.
	Env []string
	// Grace is how long Stop waits after SIGTERM before SIGKILL; by
	// default 5 s.
	Grace time.Duration
	// Credential, when set, runs the process as that user: a test running
	// as root starts PostgreSQL, which refuses to run as root, as the
	// postgres user.
	Credential *syscall.Credential
}

// Proc is a running process a test started.
type Proc struct {
	Name    string
	cmd     *exec.Cmd
	logPath string        // its stdout and stderr
	exited  chan struct{} // closed once it has exited and been waited for
	grace   time.Duration
}

// ErrExited is what WaitReady returns, wrapped, when the process exits
// before it is ready.
var ErrExited = errors.New("exited before it was ready")

// Start runs c with its output going to a file, in a process group of its
// own (so that a ctrl-C reaches the test first); it dies with the thread
// of the test binary that started it. It is stopped when the test ends.
func Start(t *testing.T, c Cmd) *Proc {
	t.Helper()
	name := c.Name
	if name == "" {
		name = filepath.Base(c.Path)
	}
	grace := c.Grace
	if grace == 0 {
		grace = 5 * time.Second
	}
	logFile, err := os.Create(filepath.Join(t.TempDir(), name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close() // the process has its own copy
	cmd := exec.Command(c.Path, c.Args...)
	cmd.Env = c.Env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: c.Credential}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &Proc{Name: name, cmd: cmd, logPath: logFile.Name(), exited: make(chan struct{}), grace: grace}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { p.Stop() })
	return p
}

// OnFreePorts calls start with n free loopback addresses
// ("127.0.0.1:PORT") and returns the process it started once start
// reports it ready. Another process may take an address between the
// choice and the bind: when start's error is ErrExited, start is called
// again with new addresses, three times at the most. Any other error
// fails the test at once.
func OnFreePorts(t *testing.T, n int, start func(addrs []string) (*Proc, error)) *Proc {
	t.Helper()
	var err error
	for range 3 {
		addrs := make([]string, n)
		for i := range addrs {
			if addrs[i], err = netaddr.FreeLoopback(); err != nil {
				t.Fatal(err)
			}
		}
		var p *Proc
		if p, err = start(addrs); err == nil {
			return p
		}
		if p != nil {
			p.Stop()
		}
		if !errors.Is(err, ErrExited) {
			break
		}
	}
	t.Fatal(err)
	return nil
}

// PID is the process's ID.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Output is what the process wrote so far. It writes to the file itself,
// so a line it wrote before it answered the test is there.
func (p *Proc) Output() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// Tail is the last n bytes of Output.
func (p *Proc) Tail(n int) string {
	s := p.Output()
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// WaitReady waits until an HTTP GET of url answers 200 and every address
// in dial accepts a connection. It returns an error wrapping ErrExited if
// the process exits first, and another one if within passes.
func (p *Proc) WaitReady(url string, dial []string, within time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(within); !ready(client, url, dial); {
		if p.Exited() {
			return fmt.Errorf("%s %w (%v; %s did not answer 200):\n%s", p.Name, ErrExited, p.cmd.ProcessState, url, p.Tail(4000))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready within %v (%s did not answer 200):\n%s", p.Name, within, url, p.Tail(4000))
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

func ready(client *http.Client, url string, dial []string) bool {
	resp, err := client.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	for _, addr := range dial {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false
		}
		c.Close()
	}
	return true
}

// WaitOutput waits until the process has written want, failing the test
// if it exits first or within passes.
func (p *Proc) WaitOutput(t *testing.T, want string, within time.Duration) {
	t.Helper()
	if err := p.WaitFor(want, within); err != nil {
		t.Fatal(err)
	}
}

// WaitFor waits until the process has written want. It returns an error
// wrapping ErrExited if the process exits first, and another one if
// within passes.
func (p *Proc) WaitFor(want string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for !strings.Contains(p.Output(), want) {
		if p.Exited() {
			if strings.Contains(p.Output(), want) { // written just before it exited
				return nil
			}
			return fmt.Errorf("%s %w (%v) before it wrote %q:\n%s", p.Name, ErrExited, p.cmd.ProcessState, want, p.Tail(4000))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not write %q within %v:\n%s", p.Name, want, within, p.Tail(4000))
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// Stop ends the process: SIGTERM, then SIGKILL if it is still there the
// Cmd's Grace later. It waits until the process has exited, and reports
// whether it needed the SIGKILL.
func (p *Proc) Stop() (killed bool) {
	if p.Exited() {
		return false
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return false
	case <-time.After(p.grace):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return true
	}
}

// Kill sends SIGKILL (kill -9) and waits until the process is gone,
// failing the test if something else ended it.
func (p *Proc) Kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %s (pid %d): %v", p.Name, p.PID(), err)
	}
	<-p.exited
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("%s (pid %d) ended with %v, not by SIGKILL", p.Name, p.PID(), p.cmd.ProcessState)
	}
}
