//go:build linux

package testproc

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/icy-morning/icy-morning/internal/gotool"
	"github.com/icy-morning/icy-morning/internal/tempdir"
)

// Program is a program of this module that tests run as a process of its
// own. It is built (go build, nothing more) the first time a test asks
// for it, once per test binary, into a temporary directory that Remove
// deletes; call Remove from TestMain after the tests have run:
//
//	var icyMorning = &testproc.Program{Pkg: "./cmd/icy-morning"}
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		icyMorning.Remove()
//		os.Exit(code)
//	}
type Program struct {
	Pkg string // the package to build, relative to the module root

	once   sync.Once
	path   string
	remove func()
	err    error
}

// Path builds the program if no test has yet, and returns its path. A
// build that fails fails the test, and every test after it.
func (p *Program) Path(t testing.TB) string {
	t.Helper()
	p.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		root, err := gotool.ModuleRoot(ctx)
		if err != nil {
			p.err = err
			return
		}
		dir, remove, err := tempdir.Make("testproc-build-", false, nil)
		if err != nil {
			p.err = err
			return
		}
		p.remove = remove
		start := time.Now()
		out := filepath.Join(dir, filepath.Base(p.Pkg))
		if p.err = gotool.Build(ctx, root, p.Pkg, out, nil); p.err == nil {
			p.path = out
			t.Logf("built %s in %s", p.Pkg, time.Since(start).Round(time.Millisecond))
		}
	})
	if p.err != nil {
		t.Fatalf("build %s: %v", p.Pkg, p.err)
	}
	return p.path
}

// Remove deletes what Path built.
func (p *Program) Remove() {
	if p.remove != nil {
		p.remove()
	}
}
