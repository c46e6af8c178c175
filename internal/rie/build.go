package rie

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// BuildFlags are the go build arguments of a Lambda bootstrap, as the
// release build makes it: no RPC mode in the runtime library, no local
// paths, no symbol tables.
var BuildFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w"}

// Build compiles the main package pkg (as in "./cmd/icy-morning") of the
// module at moduleDir into out as a static Linux binary for goarch, as
// the release build does: CGO_ENABLED=0 go build -tags lambda.norpc
// -trimpath -ldflags '-s -w'.
func Build(ctx context.Context, moduleDir, pkg, goarch, out string) error {
	args := append([]string{"build"}, BuildFlags...)
	args = append(args, "-o", out, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("GOARCH=%s go build %s: %w\n%s", goarch, pkg, err, b)
	}
	return nil
}

// ModuleRoot is the directory of the go.mod that holds the working
// directory (a test runs in its package's directory).
func ModuleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside a Go module")
	}
	return filepath.Dir(gomod), nil
}

// builds holds the bootstraps this test binary has built, one per
// package, so that every test after the first reuses the binary.
var builds struct {
	mu   sync.Mutex
	dir  string
	done map[string]*build
}

type build struct {
	once sync.Once
	path string
	err  error
}

// BuildBootstrap builds pkg of this module, for this machine's
// architecture, into a file named bootstrap, once per test binary, and
// returns its path. It needs RemoveBuilds in TestMain to delete the
// binaries when the tests end:
//
//	func TestMain(m *testing.M) { os.Exit(rie.RunTests(m)) }
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
		root, err := ModuleRoot(ctx)
		if err != nil {
			b.err = err
			return
		}
		builds.mu.Lock()
		if builds.dir == "" {
			builds.dir, err = os.MkdirTemp("", "rie-build-")
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
		if b.err = Build(ctx, root, pkg, runtime.GOARCH, out); b.err == nil {
			b.path = out
			t.Logf("built %s as %s in %s", pkg, out, time.Since(start).Round(time.Millisecond))
		}
	})
	if b.err != nil {
		t.Fatalf("build bootstrap: %v", b.err)
	}
	return b.path
}

// RemoveBuilds deletes what BuildBootstrap built.
func RemoveBuilds() {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.dir != "" {
		_ = os.RemoveAll(builds.dir)
		builds.dir = ""
		builds.done = nil
	}
}

// RunTests runs the tests and then RemoveBuilds, for TestMain.
func RunTests(m *testing.M) int {
	code := m.Run()
	RemoveBuilds()
	return code
}

// Require finds the emulator for a test. Without it the test is skipped
// with a message saying how to install it, or fails when
// ICY_REQUIRE_LAMBDA=1 (as in CI), so the Lambda tests cannot vanish
// unnoticed.
func Require(t testing.TB) string {
	t.Helper()
	bin, err := Bin()
	if err != nil {
		if os.Getenv("ICY_REQUIRE_LAMBDA") == "1" {
			t.Fatalf("ICY_REQUIRE_LAMBDA=1 but the Lambda emulator is missing: %v", err)
		}
		t.Skipf("SKIPPED: Lambda tests need the Runtime Interface Emulator (%s): %v", InstallCommand, err)
	}
	return bin
}
