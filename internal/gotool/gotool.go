// Package gotool runs the go command for tests and benchmarks that build
// this module's programs: where the module is, and go build.
package gotool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// ModuleRoot is the directory of the go.mod that holds the working
// directory (a test runs in its package's directory; a benchmark is run
// from the repository), which builds and default paths are relative to.
func ModuleRoot(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside a Go module: run this from the icy-morning repository")
	}
	return filepath.Dir(gomod), nil
}

// Build runs `go build [flags] -o out pkg` in the module at moduleDir, with
// env (KEY=VALUE) added to this process's environment, and returns the go
// command's output in the error when the build fails.
func Build(ctx context.Context, moduleDir, pkg, out string, env []string, flags ...string) error {
	args := append(append([]string{"build"}, flags...), "-o", out, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w\n%s", strings.Join(slices.Concat(env, cmd.Args), " "), err, b)
	}
	return nil
}
