//go:build linux

package rie_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/icy-morning/icy-morning/internal/rie"
	"github.com/icy-morning/icy-morning/internal/rie/rietest"
)

func TestMain(m *testing.M) { os.Exit(rietest.RunTests(m)) }

// fnAnswer is testdata/fn's answer.
type fnAnswer struct {
	Echo      string `json:"echo"`
	Env       string `json:"env"`
	RequestID string `json:"request_id"`
	PID       int    `json:"pid"`
}

func startFn(t *testing.T, cfg rie.Config) *rie.Emulator {
	t.Helper()
	rietest.Require(t)
	cfg.Bootstrap = rietest.BuildBootstrap(t, "./internal/rie/testdata/fn")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e, err := rie.Start(ctx, cfg)
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

func invokeFn(t *testing.T, e *rie.Emulator, requestID, event string) (fnAnswer, error) {
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
	e := startFn(t, rie.Config{Env: []string{"FN_GREETING=hello", "AWS_LAMBDA_FUNCTION_NAME=icy-test"}, FunctionTimeout: time.Second})
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
			var fe *rie.FunctionError
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
	e := startFn(t, rie.Config{Env: []string{"FN_FAIL_INIT=1"}})
	_, err := invokeFn(t, e, "", `{}`)
	var fe *rie.FunctionError
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
	e := startFn(t, rie.Config{})
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
