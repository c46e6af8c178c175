//go:build linux

package rie

import (
	"context"

	"github.com/icy-morning/icy-morning/internal/gotool"
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
	env := []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + goarch}
	return gotool.Build(ctx, moduleDir, pkg, out, env, BuildFlags...)
}
