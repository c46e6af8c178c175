//go:build linux

// Package benchproc starts and stops the processes a benchmark runs (the
// servers it measures, Mailpit, the worker) so that none outlives it: each
// is registered by its PID, in a process group of its own, and ended by
// SIGTERM, then SIGKILL after a grace period its benchmark chooses.
//
// Linux only: a child gets its own process group and Pdeathsig.
package benchproc

import (
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// SysProcAttr puts a child in its own process group, so that ctrl-C in the
// terminal reaches only the benchmark, which then stops the child itself
// and in order; and asks the kernel to kill the child should the benchmark
// die without the chance to clean up.
func SysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// Registry tracks the running processes, so that StopAll can end each one
// by its PID when the run is over, has failed or was interrupted.
type Registry struct {
	grace time.Duration
	mu    sync.Mutex
	procs map[int]*Proc
}

// NewRegistry returns an empty registry whose Stop waits grace after
// SIGTERM before it sends SIGKILL. The grace is the caller's: long enough
// for its processes to finish what SIGTERM lets them finish.
func NewRegistry(grace time.Duration) *Registry {
	return &Registry{grace: grace, procs: map[int]*Proc{}}
}

// Start runs path with args and env added to the environment, its stdout
// and stderr going to logPath.
func (r *Registry) Start(name, path string, args, env []string, logPath string) (*Proc, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = SysProcAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	r.mu.Lock()
	r.procs[cmd.Process.Pid] = p
	r.mu.Unlock()
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// Stop ends p, if it has not exited already: SIGTERM, which lets it finish
// its work in flight, and SIGKILL if it is still there the registry's grace
// later. It returns once p has exited.
func (r *Registry) Stop(p *Proc) {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(r.grace):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	r.mu.Lock()
	delete(r.procs, p.cmd.Process.Pid)
	r.mu.Unlock()
}

// StopAll stops every process started and not yet stopped, one after the
// other.
func (r *Registry) StopAll() {
	r.mu.Lock()
	ps := make([]*Proc, 0, len(r.procs))
	for _, p := range r.procs {
		ps = append(ps, p)
	}
	r.mu.Unlock()
	for _, p := range ps {
		r.Stop(p)
	}
}
