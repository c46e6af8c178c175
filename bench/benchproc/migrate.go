//go:build linux

package benchproc

import (
	"context"
	"fmt"
	"os/exec"
	"time"
)

// MigrateUp applies the service's own migrations with its own binary, bin,
// so the schema under test is the one it ships. Flags go before "up": the
// command parses its flags with the flag package, which stops at "up".
func MigrateUp(ctx context.Context, bin, dbURL string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "migrate", "--database-url", dbURL, "up")
	cmd.SysProcAttr = SysProcAttr()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("migrate up: %w\n%s", err, out)
	}
	return nil
}
