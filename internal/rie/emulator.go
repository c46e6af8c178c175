//go:build linux

package rie

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/icy-morning/icy-morning/internal/netaddr"
)

// Config says what to run under the emulator.
type Config struct {
	// Bin is the emulator binary; empty means Bin().
	Bin string
	// Bootstrap is the function's executable (an absolute path is best).
	Bootstrap string
	// Args are passed to the bootstrap. With any, the emulator also sets
	// _HANDLER to the last one.
	Args []string
	// Env is the function's environment, KEY=VALUE, added to a small base
	// (PATH, HOME, TMPDIR, TZ, LANG from this process). The rest of this
	// process's environment is not passed on, so that a DATABASE_URL in a
	// developer's shell cannot reach the function. InheritEnv passes it all.
	Env        []string
	InheritEnv bool
	// Dir is the working directory of the emulator and so of the
	// bootstrap; empty means the bootstrap's directory.
	Dir string
	// FunctionTimeout becomes AWS_LAMBDA_FUNCTION_TIMEOUT, in whole
	// seconds; 0 leaves the emulator's default of 300 s.
	FunctionTimeout time.Duration
	// LogLevel is the emulator's own log level (--log-level); empty means
	// "info", which logs the init report.
	LogLevel string
	// Output, if set, also receives the function's output (the emulator's
	// stdout), and EmulatorLog the emulator's own log (its stderr). Both
	// are kept in memory as well: see Output and EmulatorLog.
	Output      io.Writer
	EmulatorLog io.Writer
	// StartTimeout bounds the wait for the emulator's listener; 0 means 10 s.
	StartTimeout time.Duration
}

// Emulator is a running emulator and, after the first invoke, its
// function.
type Emulator struct {
	// URL is the invoke endpoint, on 127.0.0.1.
	URL string
	// RuntimeAPI is the Runtime API address the function talks to.
	RuntimeAPI string
	// Started is when the emulator process was started.
	Started time.Time

	bootstrap string
	cmd       *exec.Cmd
	done      chan struct{}
	waitErr   error
	stdout    *capture
	stderr    *capture
	client    *http.Client

	invokeMu sync.Mutex // the emulator crashes on overlapping invokes

	closeOnce sync.Once
	closeErr  error
}

// Start runs the emulator on two free loopback ports and waits until it
// accepts connections. The function itself starts on the first Invoke. It
// retries a few times when a port it picked was taken in the meantime.
func Start(ctx context.Context, cfg Config) (*Emulator, error) {
	if cfg.Bootstrap == "" {
		return nil, errors.New("rie: Config.Bootstrap is empty")
	}
	if strings.HasPrefix(cfg.Bootstrap, "-") {
		return nil, fmt.Errorf("rie: bootstrap %q looks like an option", cfg.Bootstrap)
	}
	if err := executable(cfg.Bootstrap); err != nil {
		return nil, fmt.Errorf("rie: bootstrap: %w", err)
	}
	if cfg.Bin == "" {
		bin, err := Bin()
		if err != nil {
			return nil, err
		}
		cfg.Bin = bin
	}
	var lastErr error
	for range 3 {
		e, err := start(ctx, cfg)
		if err == nil {
			return e, nil
		}
		lastErr = err
		if !errors.Is(err, errExited) || ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

var errExited = errors.New("emulator exited")

func start(ctx context.Context, cfg Config) (*Emulator, error) {
	rieAddr, err := netaddr.FreeLoopback()
	if err != nil {
		return nil, err
	}
	apiAddr, err := netaddr.FreeLoopback()
	if err != nil {
		return nil, err
	}
	level := cfg.LogLevel
	if level == "" {
		level = "info"
	}
	args := []string{
		"--log-level", level,
		"--runtime-interface-emulator-address", rieAddr,
		"--runtime-api-address", apiAddr,
		cfg.Bootstrap,
	}
	args = append(args, cfg.Args...)
	cmd := exec.Command(cfg.Bin, args...)
	cmd.Env = environ(cfg)
	cmd.Dir = cfg.Dir
	if cmd.Dir == "" {
		cmd.Dir = filepath.Dir(cfg.Bootstrap)
	}
	e := &Emulator{
		URL:        "http://" + rieAddr + invokePath,
		RuntimeAPI: apiAddr,
		bootstrap:  cfg.Bootstrap,
		cmd:        cmd,
		done:       make(chan struct{}),
		stdout:     newCapture(cfg.Output),
		stderr:     newCapture(cfg.EmulatorLog),
		client: &http.Client{Transport: &http.Transport{
			// One invoke at a time: one connection, kept alive.
			MaxIdleConnsPerHost: 1,
			DisableCompression:  true,
			Proxy:               nil,
		}},
	}
	cmd.Stdout, cmd.Stderr = e.stdout, e.stderr
	// The emulator gets a process group of its own, so a terminal's ctrl-C
	// reaches only the caller, who stops it in order; and dies with its
	// caller. Its bootstrap is in yet another group (the emulator does
	// that), which Close handles.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// The bootstrap writes into the emulator's stdout pipe; should it
	// outlive the emulator, Wait must not wait for it forever.
	cmd.WaitDelay = 2 * time.Second
	e.Started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("rie: start %s: %w", cfg.Bin, err)
	}
	go func() {
		e.waitErr = cmd.Wait()
		close(e.done)
	}()

	timeout := cfg.StartTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	if err := e.waitListening(ctx, rieAddr, timeout); err != nil {
		_ = e.Close()
		return nil, err
	}
	return e, nil
}

// waitListening polls the emulator's address until it accepts a
// connection, the process exits, or timeout passes. It only connects: an
// invoke would start the function.
func (e *Emulator) waitListening(ctx context.Context, addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	for {
		dctx, dcancel := context.WithTimeout(ctx, 100*time.Millisecond)
		c, err := d.DialContext(dctx, "tcp", addr)
		dcancel()
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-e.done:
			return fmt.Errorf("rie: %w before listening on %s (%v):\n%s", errExited, addr, e.waitErr, tail(e.stderr.String(), 2000))
		case <-ctx.Done():
			return fmt.Errorf("rie: not listening on %s after %s: %w\n%s", addr, timeout, ctx.Err(), tail(e.stderr.String(), 2000))
		case <-time.After(time.Millisecond):
		}
	}
}

// PID is the emulator's process id.
func (e *Emulator) PID() int { return e.cmd.Process.Pid }

// PIDs are the emulator's process id and those of its children: the
// bootstrap, once an invoke has started it.
func (e *Emulator) PIDs() []int { return append([]int{e.PID()}, childPIDs(e.PID())...) }
