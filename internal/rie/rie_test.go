package rie

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) { os.Exit(RunTests(m)) }

func TestClassify(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		wantBody string
		wantType string // FunctionError.Type; "" means no FunctionError
		wantErr  bool   // a plain (emulator) error
	}{
		{name: "answer", status: 200, body: `{"statusCode":200,"body":"{}"}`, wantBody: `{"statusCode":200,"body":"{}"}`},
		{name: "answer with only errorType is not an error", status: 200, body: `{"errorType":"x"}`, wantBody: `{"errorType":"x"}`},
		{name: "non-JSON answer", status: 200, body: `hello`, wantBody: `hello`},
		{name: "empty answer", status: 200, body: ``, wantBody: ``},
		{name: "returned error", status: 200, body: `{"errorMessage":"boom","errorType":"errorString"}`, wantType: "errorString"},
		{name: "timeout", status: 200, body: `Task timed out after 1.00 seconds`, wantType: "Timeout"},
		{name: "panic", status: 502, body: `{"errorMessage":"p","errorType":"string","stackTrace":[]}`, wantType: "string"},
		{name: "exit", status: 502, body: `{"errorType":"Runtime.ExitError","errorMessage":"RequestId: x Error: Runtime exited with error: exit status 3"}`, wantType: "Runtime.ExitError"},
		{name: "init failure", status: 502, body: ``, wantType: "Runtime.Unknown"},
		{name: "overlapping invoke", status: 400, body: ``, wantErr: true},
		{name: "emulator trouble", status: 500, body: ``, wantErr: true},
		{name: "reservation timeout", status: 504, body: ``, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := classify(tt.status, []byte(tt.body))
			var fe *FunctionError
			switch {
			case tt.wantType != "":
				if !errors.As(err, &fe) {
					t.Fatalf("got (%q, %v), want a FunctionError of type %s", got, err, tt.wantType)
				}
				if fe.Type != tt.wantType || fe.Status != tt.status || string(fe.Body) != tt.body {
					t.Fatalf("got %+v, want type %s status %d", fe, tt.wantType, tt.status)
				}
			case tt.wantErr:
				if err == nil || errors.As(err, &fe) {
					t.Fatalf("got (%q, %v), want a plain error", got, err)
				}
			default:
				if err != nil || string(got) != tt.wantBody {
					t.Fatalf("got (%q, %v), want %q", got, err, tt.wantBody)
				}
			}
		})
	}
}

func TestBinFromEnv(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "rie")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		env     string
		want    string
		wantErr bool
	}{
		{env: exe, want: exe},
		{env: filepath.Join(dir, "missing"), wantErr: true},
		{env: plain, wantErr: true},
		{env: dir, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.env), func(t *testing.T) {
			t.Setenv("RIE_BIN", tt.env)
			got, err := Bin()
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("Bin() = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestEnviron(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://from-the-shell")
	t.Setenv("PATH", "/usr/bin")
	cfg := Config{Env: []string{"A=1"}, FunctionTimeout: 1500 * time.Millisecond}
	env := strings.Join(environ(cfg), "\n")
	for _, want := range []string{"PATH=/usr/bin", "A=1", "AWS_LAMBDA_FUNCTION_TIMEOUT=2"} {
		if !strings.Contains(env, want) {
			t.Errorf("environment lacks %s:\n%s", want, env)
		}
	}
	if strings.Contains(env, "DATABASE_URL") {
		t.Errorf("environment passes on the shell's DATABASE_URL:\n%s", env)
	}
	cfg.InheritEnv = true
	if env := strings.Join(environ(cfg), "\n"); !strings.Contains(env, "DATABASE_URL=postgres://from-the-shell") {
		t.Errorf("InheritEnv: environment lacks DATABASE_URL:\n%s", env)
	}
}

// fnAnswer is testdata/fn's answer.
type fnAnswer struct {
	Echo      string `json:"echo"`
	Env       string `json:"env"`
	RequestID string `json:"request_id"`
	PID       int    `json:"pid"`
}

func startFn(t *testing.T, cfg Config) *Emulator {
	t.Helper()
	Require(t)
	cfg.Bootstrap = BuildBootstrap(t, "./internal/rie/testdata/fn")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("function output:\n%s\nemulator log:\n%s", e.Output(), e.EmulatorLog())
		}
	})
	return e
}

func invokeFn(t *testing.T, e *Emulator, requestID, event string) (fnAnswer, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := e.InvokeID(ctx, requestID, []byte(event))
	var a fnAnswer
	if err == nil {
		if err := json.Unmarshal(b, &a); err != nil {
			t.Fatalf("answer %q: %v", b, err)
		}
	}
	return a, err
}

// TestEmulator drives the real emulator: answers, errors, crashes and
// recovery, the environment, the request id and the logs.
func TestEmulator(t *testing.T) {
	e := startFn(t, Config{Env: []string{"FN_GREETING=hello", "AWS_LAMBDA_FUNCTION_NAME=icy-test"}, FunctionTimeout: time.Second})
	if n := len(e.InitReports()); n != 0 {
		t.Fatalf("%d init reports before the first invoke; init should be lazy", n)
	}

	steps := []struct {
		name      string
		requestID string
		event     string
		wantEcho  string
		wantEnv   string
		wantType  string // FunctionError.Type
		wantCode  int    // FunctionError.Status
	}{
		{name: "echo with request id", requestID: "req-1", event: `{"echo":"hi","env":"FN_GREETING"}`, wantEcho: "hi", wantEnv: "hello"},
		{name: "function name from our environment", event: `{"env":"AWS_LAMBDA_FUNCTION_NAME"}`, wantEnv: "icy-test"},
		{name: "runtime API address", event: `{"env":"AWS_LAMBDA_RUNTIME_API"}`, wantEnv: e.RuntimeAPI},
		{name: "returned error", event: `{"error":"boom"}`, wantType: "errorString", wantCode: 200},
		{name: "bad event", event: `not json`, wantType: "SyntaxError", wantCode: 200},
		{name: "panic", event: `{"panic":true}`, wantType: "string", wantCode: 502},
		{name: "after a panic the function starts again", event: `{"echo":"again"}`, wantEcho: "again"},
		{name: "exit", event: `{"exit":true}`, wantType: "Runtime.ExitError", wantCode: 502},
		{name: "timeout", event: `{"sleep_ms":1500}`, wantType: "Timeout", wantCode: 200},
		{name: "after a timeout", event: `{"echo":"late"}`, wantEcho: "late"},
	}
	for _, s := range steps {
		a, err := invokeFn(t, e, s.requestID, s.event)
		if s.wantType != "" {
			var fe *FunctionError
			if !errors.As(err, &fe) || fe.Type != s.wantType || fe.Status != s.wantCode {
				t.Errorf("%s: got %+v, %v; want a FunctionError %s (HTTP %d)", s.name, a, err, s.wantType, s.wantCode)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", s.name, err)
			continue
		}
		if a.Echo != s.wantEcho || a.Env != s.wantEnv {
			t.Errorf("%s: got %+v, want echo %q env %q", s.name, a, s.wantEcho, s.wantEnv)
		}
		if s.requestID != "" && a.RequestID != s.requestID {
			t.Errorf("%s: request id %q, want %q", s.name, a.RequestID, s.requestID)
		}
	}
	// Three starts of the bootstrap: the first invoke, after the panic,
	// after the exit, after the timeout.
	if n := len(e.InitReports()); n != 4 {
		t.Errorf("%d init reports, want 4", n)
	}
	if out := e.Output(); !strings.Contains(out, "fn invoked request_id=req-1") || !strings.Contains(out, "REPORT RequestId: req-1") {
		t.Errorf("output lacks the function's line or the report for req-1:\n%s", out)
	}
}

// TestInitFailure: a bootstrap that exits during init gives a 502
// without a body.
func TestInitFailure(t *testing.T) {
	e := startFn(t, Config{Env: []string{"FN_FAIL_INIT=1"}})
	_, err := invokeFn(t, e, "", `{}`)
	var fe *FunctionError
	if !errors.As(err, &fe) || fe.Status != 502 || fe.Type != "Runtime.Unknown" {
		t.Fatalf("got %v, want a 502 FunctionError", err)
	}
	if !strings.Contains(e.Output(), "fn: failing init as asked") {
		t.Errorf("output lacks the bootstrap's message:\n%s", e.Output())
	}
}

// TestCloseStopsBootstrap: after Close neither the emulator nor the
// bootstrap runs.
func TestCloseStopsBootstrap(t *testing.T) {
	e := startFn(t, Config{})
	a, err := invokeFn(t, e, "", `{"echo":"x"}`)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int{e.PID(), a.PID} {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			// A zombie still answers; it must at least not be running.
			if b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); len(b) > 0 && !strings.Contains(string(b), ") Z ") {
				t.Errorf("process %d still runs after Close: %s", pid, b)
			}
		}
	}
	if _, err := e.Invoke(context.Background(), []byte(`{}`)); err == nil {
		t.Error("invoke after Close succeeded")
	}
}
