package gotool

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestModuleRoot(t *testing.T) {
	root, err := ModuleRoot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !strings.Contains(string(b), "module github.com/icy-morning/icy-morning\n") {
		t.Fatalf("ModuleRoot() = %s, whose go.mod is not this module's (%v)", root, err)
	}
}

func TestBuild(t *testing.T) {
	ctx := context.Background()
	root, err := ModuleRoot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "zipbootstrap")
	if err := Build(ctx, root, "./cmd/zipbootstrap", out, []string{"CGO_ENABLED=0"}, "-trimpath"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("no executable at %s: %v", out, err)
	}

	err = Build(ctx, root, "./no/such/package", out, []string{"CGO_ENABLED=0"})
	if err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0 go build -o "+out+" ./no/such/package") {
		t.Fatalf("a failed build's error should name the command: %v", err)
	}
}
