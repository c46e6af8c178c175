//go:build linux

// Package rietest holds the test helpers for code run under the Lambda
// Runtime Interface Emulator (package rie): finding the emulator or
// skipping, and building a bootstrap once per test binary.
//
// Linux only, as rie is.
package rietest

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/icy-morning/icy-morning/internal/gotool"
	"github.com/icy-morning/icy-morning/internal/rie"
	"github.com/icy-morning/icy-morning/internal/tempdir"
)

// builds holds the bootstraps this test binary has built, one per
// package, so that every test after the first reuses the binary.
var builds struct {
	mu     sync.Mutex
	dir    string
	remove func() // removes dir
	done   map[string]*build
}

type build struct {
	once sync.Once
	path string
	err  error
}

// BuildBootstrap builds pkg of this module, for this machine's
// architecture, into a file named bootstrap, once per test binary, and
// returns its path. It needs RunTests in TestMain to delete the binaries
// when the tests end:
//
//	func TestMain(m *testing.M) { os.Exit(rietest.RunTests(m)) }
func BuildBootstrap(t testing.TB, pkg string) string {
	t.Helper()
	builds.mu.Lock()
	if builds.done == nil {
		builds.done = map[string]*build{}
	}
	b := builds.done[pkg]
	if b == nil {
		b = &build{}
		builds.done[pkg] = b
	}
	builds.mu.Unlock()

	b.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		root, err := gotool.ModuleRoot(ctx)
		if err != nil {
			b.err = err
			return
		}
		builds.mu.Lock()
		if builds.dir == "" {
			builds.dir, builds.remove, err = tempdir.Make("rie-build-", false, nil)
		}
		base := builds.dir
		builds.mu.Unlock()
		if err != nil {
			b.err = err
			return
		}
		dir, err := os.MkdirTemp(base, "pkg-")
		if err != nil {
			b.err = err
			return
		}
		start := time.Now()
		out := filepath.Join(dir, "bootstrap")
		if b.err = rie.Build(ctx, root, pkg, runtime.GOARCH, out); b.err == nil {
			b.path = out
			t.Logf("built %s as %s in %s", pkg, out, time.Since(start).Round(time.Millisecond))
		}
	})
	if b.err != nil {
		t.Fatalf("build bootstrap: %v", b.err)
	}
	return b.path
}

// removeBuilds deletes what BuildBootstrap built.
func removeBuilds() {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.dir != "" {
		builds.remove()
		builds.dir, builds.remove, builds.done = "", nil, nil
	}
}

// RunTests runs the tests and then deletes what BuildBootstrap built, for
// TestMain.
func RunTests(m *testing.M) int {
	code := m.Run()
	removeBuilds()
	return code
}

// Require finds the emulator for a test. Without it the test is skipped
// with a message saying how to install it, or fails when
// ICY_REQUIRE_LAMBDA=1 (as in CI), so the Lambda tests cannot vanish
// unnoticed.
func Require(t testing.TB) string {
	t.Helper()
	bin, err := rie.Bin()
	if err != nil {
		if os.Getenv("ICY_REQUIRE_LAMBDA") == "1" {
			t.Fatalf("ICY_REQUIRE_LAMBDA=1 but the Lambda emulator is missing: %v", err)
		}
		t.Skipf("SKIPPED: Lambda tests need the Runtime Interface Emulator (%s): %v", rie.InstallCommand, err)
	}
	return bin
}
