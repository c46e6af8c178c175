// Package rie runs a Lambda function's bootstrap under the AWS Lambda
// Runtime Interface Emulator (the aws-lambda-rie command), on loopback, for
// end-to-end tests and benchmarks.
//
// What the emulator does, as read from its source
// (github.com/aws/aws-lambda-runtime-interface-emulator
// v0.0.0-20261030222936-bef5c4ba774d) and checked against it:
//
//   - It is started as `aws-lambda-rie [options] BOOTSTRAP [ARGS...]`. With
//     more than one word after the options, the last word is also taken as
//     the handler name (_HANDLER). The bootstrap runs in the emulator's
//     working directory. "--" is not understood: it would be taken as the
//     bootstrap.
//   - It listens for invokes on --runtime-interface-emulator-address
//     (default 0.0.0.0:8080, so this package always passes a loopback
//     address) and serves the Runtime API on --runtime-api-address.
//   - Init is lazy: the bootstrap is not started until the first invoke,
//     which pays the whole cold start. The emulator's HTTP listener being
//     up says nothing about the function.
//   - The bootstrap's environment is the emulator's whole environment, plus
//     AWS_LAMBDA_RUNTIME_API, and defaults for AWS_LAMBDA_FUNCTION_NAME
//     (test_function), AWS_LAMBDA_FUNCTION_VERSION ($LATEST),
//     AWS_LAMBDA_FUNCTION_MEMORY_SIZE (3008) and the log group and stream,
//     which the emulator's own environment overrides. The emulator reads
//     LOG_LEVEL for itself too, so this package pins its level with
//     --log-level.
//   - The bootstrap runs in a process group of its own. Its stdout and
//     stderr both go to the emulator's stdout, between the emulator's
//     "START RequestId:", "END RequestId:" and "REPORT RequestId:" lines.
//     The emulator logs to its stderr, including "INIT REPORT(durationMs:
//     N)" from exec to the runtime's first request for work.
//   - An invoke is POST /2015-03-31/functions/function/invocations with the
//     event as the body; the X-Amzn-RequestId header, if given, becomes the
//     Lambda request id. The answer carries none of the function's headers.
//   - Invokes must not overlap: a second invoke while one runs is refused
//     (AlreadyReserved) and then crashes the emulator with a nil pointer
//     dereference. Invoke therefore holds a lock.
//   - A handler's returned error is a 200 whose body is
//     {"errorMessage":…,"errorType":…}. A panic or an exit during the
//     invoke is a 502 with such a body (errorType Runtime.ExitError for an
//     exit), and the next invoke starts the bootstrap again. A bootstrap
//     that fails during init, or cannot be executed, is a 502 with an empty
//     body. A timeout (AWS_LAMBDA_FUNCTION_TIMEOUT seconds, default 300) is
//     a 200 with the plain text "Task timed out after N.00 seconds".
//   - On SIGTERM it kills the bootstrap's process group and exits.
package rie

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// BinName is the emulator's command name, as go install names it.
const BinName = "aws-lambda-rie"

// InstallCommand installs the emulator version this package was written
// against.
const InstallCommand = "go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"

// ErrNotFound is returned by Bin when no emulator binary can be found.
var ErrNotFound = errors.New(BinName + " not found (set RIE_BIN, or put it on PATH or in $(go env GOPATH)/bin: " + InstallCommand + ")")

// invokePath is the emulator's invoke endpoint.
const invokePath = "/2015-03-31/functions/function/invocations"

// Bin finds the emulator: $RIE_BIN if set (it must then exist), else
// aws-lambda-rie on PATH, else in $(go env GOPATH)/bin.
func Bin() (string, error) {
	if p := os.Getenv("RIE_BIN"); p != "" {
		if err := executable(p); err != nil {
			return "", fmt.Errorf("RIE_BIN=%s: %w", p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath(BinName); err == nil {
		return p, nil
	}
	for _, dir := range goBinDirs() {
		p := filepath.Join(dir, BinName)
		if executable(p) == nil {
			return p, nil
		}
	}
	return "", ErrNotFound
}

// goBinDirs are where go install puts commands: $GOBIN, else each
// $GOPATH entry's bin, asking the go command when it is available.
func goBinDirs() []string {
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	gopath := os.Getenv("GOPATH")
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) == 2 {
			if l := strings.TrimSpace(lines[0]); l != "" {
				dirs = append(dirs, l)
			}
			gopath = strings.TrimSpace(lines[1])
		}
	}
	if gopath == "" {
		if home, err := os.UserHomeDir(); err == nil {
			gopath = filepath.Join(home, "go")
		}
	}
	for _, p := range filepath.SplitList(gopath) {
		if p != "" {
			dirs = append(dirs, filepath.Join(p, "bin"))
		}
	}
	return dirs
}

func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", p)
	}
	return nil
}

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
	rieAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	apiAddr, err := freeAddr()
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

// environ is the emulator's environment, which it passes on to the
// function.
func environ(cfg Config) []string {
	var env []string
	if cfg.InheritEnv {
		env = os.Environ()
	} else {
		for _, k := range []string{"PATH", "HOME", "TMPDIR", "TZ", "LANG"} {
			if v, ok := os.LookupEnv(k); ok {
				env = append(env, k+"="+v)
			}
		}
	}
	// The emulator's own LOG_LEVEL is pinned by --log-level; nothing else
	// here is read by it except the function settings below.
	if cfg.FunctionTimeout > 0 {
		secs := int64((cfg.FunctionTimeout + time.Second - 1) / time.Second)
		env = append(env, "AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.FormatInt(secs, 10))
	}
	return append(env, cfg.Env...)
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

// FunctionError is an invoke that the function (or its runtime) failed:
// a returned error, a panic, an exit, a failed init or a timeout.
type FunctionError struct {
	// Status is the emulator's HTTP status: 200 for a returned error or a
	// timeout, 502 when the runtime crashed or could not start.
	Status int
	// Type and Message are the error's errorType and errorMessage, when
	// the body has them; Type is "Timeout" for a timeout and
	// "Runtime.Unknown" for an empty 502.
	Type    string
	Message string
	// Body is the emulator's answer as it was.
	Body []byte
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("lambda function error (HTTP %d): %s: %s", e.Status, e.Type, e.Message)
}

// Invoke sends payload as one event and returns the function's answer.
// A failure of the function is a *FunctionError; anything else (the
// emulator gone, a refused request) is a plain error.
func (e *Emulator) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return e.InvokeID(ctx, "", payload)
}

// InvokeID is Invoke with the Lambda request id (the context's
// AwsRequestID) set to requestID; empty lets the emulator make one up.
func (e *Emulator) InvokeID(ctx context.Context, requestID string, payload []byte) ([]byte, error) {
	e.invokeMu.Lock()
	defer e.invokeMu.Unlock()
	select {
	case <-e.done:
		return nil, fmt.Errorf("rie: the emulator has exited (%v):\n%s", e.waitErr, tail(e.stderr.String(), 2000))
	default:
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if requestID != "" {
		req.Header.Set("X-Amzn-RequestId", requestID)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("rie: invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("rie: read invoke answer: %w", err)
	}
	return classify(resp.StatusCode, body)
}

// timeoutRE is the emulator's answer when the function ran out of time.
var timeoutRE = regexp.MustCompile(`^Task timed out after [0-9.]+ seconds$`)

// classify turns the emulator's answer into the function's answer or an
// error.
func classify(status int, body []byte) ([]byte, error) {
	switch {
	case status == http.StatusOK:
		if timeoutRE.Match(body) {
			return nil, &FunctionError{Status: status, Type: "Timeout", Message: string(body), Body: body}
		}
		if fe := parseFunctionError(status, body); fe != nil {
			return nil, fe
		}
		return body, nil
	case status == http.StatusBadGateway:
		if fe := parseFunctionError(status, body); fe != nil {
			return nil, fe
		}
		return nil, &FunctionError{Status: status, Type: "Runtime.Unknown",
			Message: "the runtime failed without an error document (init failure or bootstrap not executable; see the emulator log)", Body: body}
	default:
		// 400: an invoke overlapped another; 500, 504: the emulator's own
		// trouble.
		return nil, fmt.Errorf("rie: emulator answered HTTP %d: %s", status, tail(string(body), 500))
	}
}

// parseFunctionError recognises the runtime's error document: a JSON
// object with string members errorType and errorMessage. An API Gateway
// or other function answer does not have both.
func parseFunctionError(status int, body []byte) *FunctionError {
	var doc struct {
		Type    *string `json:"errorType"`
		Message *string `json:"errorMessage"`
	}
	if len(body) == 0 || body[0] != '{' || json.Unmarshal(body, &doc) != nil || doc.Type == nil || doc.Message == nil {
		return nil
	}
	return &FunctionError{Status: status, Type: *doc.Type, Message: *doc.Message, Body: body}
}

// Output is what the function wrote to stdout and stderr so far,
// interleaved with the emulator's START, END and REPORT lines (the last
// 8 MiB of it).
func (e *Emulator) Output() string { return e.stdout.String() }

// WaitOutput waits up to timeout for s to appear in Output and returns
// Output. The emulator relays the function's output on its own schedule,
// so a line the function wrote during an invoke may arrive after the
// invoke's answer.
func (e *Emulator) WaitOutput(s string, timeout time.Duration) string {
	for deadline := time.Now().Add(timeout); ; time.Sleep(10 * time.Millisecond) {
		out := e.Output()
		if strings.Contains(out, s) || time.Now().After(deadline) {
			return out
		}
	}
}

// EmulatorLog is what the emulator logged so far (the last 8 MiB).
func (e *Emulator) EmulatorLog() string { return e.stderr.String() }

// initReportRE matches the emulator's report of one init.
var initReportRE = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// InitReports are the init durations the emulator logged, one per time it
// started the bootstrap: from exec until the runtime first asked for work.
func (e *Emulator) InitReports() []time.Duration {
	var ds []time.Duration
	for _, m := range initReportRE.FindAllStringSubmatch(e.stderr.String(), -1) {
		ms, err := strconv.ParseFloat(m[1], 64)
		if err == nil {
			ds = append(ds, time.Duration(ms*float64(time.Millisecond)))
		}
	}
	return ds
}

// PID is the emulator's process id.
func (e *Emulator) PID() int { return e.cmd.Process.Pid }

// PIDs are the emulator's process id and those of its children: the
// bootstrap, once an invoke has started it.
func (e *Emulator) PIDs() []int { return append([]int{e.PID()}, childPIDs(e.PID())...) }

// Close stops the emulator and the bootstrap: SIGTERM to the emulator
// (which kills the bootstrap's group itself), SIGKILL after a few seconds,
// then SIGKILL to whatever bootstrap process group is left. Only processes
// this Emulator started are signalled, by PID.
func (e *Emulator) Close() error {
	e.closeOnce.Do(func() { e.closeErr = e.close() })
	return e.closeErr
}

func (e *Emulator) close() error {
	pid := e.PID()
	// The bootstrap is the emulator's child; note it before the emulator
	// goes, as afterwards it would be nobody's.
	children := childPIDs(pid)
	select {
	case <-e.done:
	default:
		_ = syscall.Kill(pid, syscall.SIGTERM)
		select {
		case <-e.done:
		case <-time.After(3 * time.Second):
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			<-e.done
		}
	}
	var errs []error
	for _, c := range children {
		if err := killLeftover(c, e.bootstrap); err != nil {
			errs = append(errs, err)
		}
	}
	e.client.CloseIdleConnections()
	return errors.Join(errs...)
}

// childPIDs lists pid's children (Linux: /proc/PID/task/*/children).
func childPIDs(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var pids []int
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for f := range strings.FieldsSeq(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				pids = append(pids, n)
			}
		}
	}
	return pids
}

// killLeftover kills the process group led by pid if it is still the
// bootstrap we ran (same executable, leading its own group), so that a
// recycled PID is never signalled.
func killLeftover(pid int, bootstrap string) error {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return nil // gone
	}
	want, err := filepath.EvalSymlinks(bootstrap)
	if err != nil {
		want = bootstrap
	}
	if exe != want {
		return nil
	}
	if pgid, err := syscall.Getpgid(pid); err != nil || pgid != pid {
		return nil
	}
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("rie: kill leftover bootstrap %d: %w", pid, err)
	}
	return nil
}

// freeAddr is a free port on 127.0.0.1, released for the emulator to bind.
// Start retries when something else takes it in between.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// capture keeps the last max bytes written to it, and copies everything
// to an optional writer.
type capture struct {
	mu  sync.Mutex
	buf []byte
	max int
	w   io.Writer
}

func newCapture(w io.Writer) *capture { return &capture{max: 8 << 20, w: w} }

func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = append(c.buf, p...)
	if over := len(c.buf) - c.max; over > 0 {
		c.buf = append(c.buf[:0], c.buf[over:]...)
	}
	if c.w != nil {
		_, _ = c.w.Write(p)
	}
	return len(p), nil
}

func (c *capture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.buf)
}

// Lines splits s into lines, for searching logs.
func Lines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func tail(s string, n int) string {
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return strings.TrimSpace(s)
}
