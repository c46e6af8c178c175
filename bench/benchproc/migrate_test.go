//go:build linux

package benchproc

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// MigrateUp runs the binary it is given with the migrate command's flags
// before "up", and reports a failure with the binary's output.
func TestMigrateUp(t *testing.T) {
	tests := []struct {
		name, script, wantErr string
	}{
		{"succeeds", "exit 0", ""},
		{"fails", `echo "$@"; exit 1`, "migrate up: exit status 1\nmigrate --database-url sqlite:///bench.db up"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := filepath.Join(t.TempDir(), "icy-morning")
			if err := os.WriteFile(bin, []byte("#!/bin/sh\n"+tt.script+"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			err := MigrateUp(context.Background(), bin, "sqlite:///bench.db")
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("MigrateUp = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("MigrateUp = %v, want an error with %q", err, tt.wantErr)
			}
		})
	}
}
