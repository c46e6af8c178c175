//go:build linux

package rie

import (
	"strings"
	"testing"
	"time"
)

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
