package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/icy-morning/icy-morning/internal/netaddr"
)

// proc is a process the benchmark started.
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
// terminal reaches only loadbench, which then stops the child itself and in
// order; and asks the kernel to kill the child should loadbench die without
// the chance to clean up.
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

// stop ends p: SIGTERM, which lets a server finish in-flight requests, and
// SIGKILL if it has not exited within a few seconds.
func (r *registry) stop(p *proc) {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
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

// pid is p's process id.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// peakRSS reads the process's high-water mark of resident memory (VmHWM),
// in bytes. It must be read while the process is alive.
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

// waitHealthy polls url until it answers 200, p exits, or timeout passes.
func waitHealthy(ctx context.Context, p *proc, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was healthy (%v):\n%s", p.name, p.err, p.logTail())
		case <-ctx.Done():
			return fmt.Errorf("%s not healthy at %s: %w\n%s", p.name, url, ctx.Err(), p.logTail())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// server is a started HTTP server under test.
type server struct {
	*proc
	base string // http://127.0.0.1:PORT
}

// startServer starts t's binary listening on a free loopback port, with
// env added to t's, and waits until its health path (/healthz unless t
// names another) answers. t's args get t.addrFlag and the address appended.
func (b *bench) startServer(ctx context.Context, t target, env []string) (*server, error) {
	addr, err := netaddr.FreeLoopback()
	if err != nil {
		return nil, err
	}
	args := append(slices.Clone(t.args), t.addrFlag, addr)
	logPath := filepath.Join(b.tmp, fmt.Sprintf("%s-%d.log", strings.ReplaceAll(t.server, " ", "-"), time.Now().UnixNano()))
	p, err := b.procs.start(t.server, t.bin, args, slices.Concat(t.env, env), logPath)
	if err != nil {
		return nil, err
	}
	base := "http://" + addr
	health := t.health
	if health == "" {
		health = "/healthz"
	}
	if err := waitHealthy(ctx, p, base+health, 30*time.Second); err != nil {
		b.procs.stop(p)
		return nil, err
	}
	return &server{proc: p, base: base}, nil
}
