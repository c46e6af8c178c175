package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a process the benchmark started: Mailpit or a worker.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	err     error         // its exit status, once done is closed
}

// registry tracks the running processes, so that stopAll can end each one
// by its PID when the run is over, has failed or was interrupted.
type registry struct {
	mu    sync.Mutex
	procs map[int]*proc
}

func newRegistry() *registry { return &registry{procs: map[int]*proc{}} }

// sysProcAttr puts a child in its own process group, so that ctrl-C in the
// terminal reaches only mailbench, which then stops the child itself; and
// has the kernel kill the child should mailbench die without cleaning up.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// start runs path with args and env added to the environment, its stdout
// and stderr going to logPath.
func (r *registry) start(name, path string, args, env []string, logPath string) (*proc, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
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

// stop ends p: SIGTERM, which lets a worker record its batch in flight,
// and SIGKILL if it has not exited within 10 seconds.
func (r *registry) stop(p *proc) {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	r.mu.Lock()
	delete(r.procs, p.cmd.Process.Pid)
	r.mu.Unlock()
}

func (r *registry) stopAll() {
	r.mu.Lock()
	ps := make([]*proc, 0, len(r.procs))
	for _, p := range r.procs {
		ps = append(ps, p)
	}
	r.mu.Unlock()
	for _, p := range ps {
		r.stop(p)
	}
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// peakRSS reads the process's high-water mark of resident memory (VmHWM),
// in bytes, while it is alive. (bench/loadbench has the same reader for its
// servers; both belong in bench/procstat.)
func (p *proc) peakRSS() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.pid()))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmHWM %q: %w", v, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// logTail is the end of p's output, for error messages.
func (p *proc) logTail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	const n = 2000
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}
