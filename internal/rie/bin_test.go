//go:build linux

package rie

import (
	"os"
	"path/filepath"
	"testing"
)

func TestBinFromEnv(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "rie")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		env     string
		want    string
		wantErr bool
	}{
		{env: exe, want: exe},
		{env: filepath.Join(dir, "missing"), wantErr: true},
		{env: plain, wantErr: true},
		{env: dir, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.env), func(t *testing.T) {
			t.Setenv("RIE_BIN", tt.env)
			got, err := Bin()
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("Bin() = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
