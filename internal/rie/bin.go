//go:build linux

package rie

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// BinName is the emulator's command name, as go install names it.
const BinName = "aws-lambda-rie"

// InstallCommand installs the emulator version this package was written
// against.
const InstallCommand = "go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"

// ErrNotFound is returned by Bin when no emulator binary can be found.
var ErrNotFound = errors.New(BinName + " not found (set RIE_BIN, or put it on PATH or in $(go env GOPATH)/bin: " + InstallCommand + ")")

// Bin finds the emulator: $RIE_BIN if set (it must then exist), else
// aws-lambda-rie on PATH, else in $(go env GOPATH)/bin.
func Bin() (string, error) {
	if p := os.Getenv("RIE_BIN"); p != "" {
		if err := executable(p); err != nil {
			return "", fmt.Errorf("RIE_BIN=%s: %w", p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath(BinName); err == nil {
		return p, nil
	}
	for _, dir := range goBinDirs() {
		p := filepath.Join(dir, BinName)
		if executable(p) == nil {
			return p, nil
		}
	}
	return "", ErrNotFound
}

// goBinDirs are where go install puts commands: $GOBIN, else each
// $GOPATH entry's bin, asking the go command when it is available.
func goBinDirs() []string {
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	gopath := os.Getenv("GOPATH")
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) == 2 {
			if l := strings.TrimSpace(lines[0]); l != "" {
				dirs = append(dirs, l)
			}
			gopath = strings.TrimSpace(lines[1])
		}
	}
	if gopath == "" {
		if home, err := os.UserHomeDir(); err == nil {
			gopath = filepath.Join(home, "go")
		}
	}
	for _, p := range filepath.SplitList(gopath) {
		if p != "" {
			dirs = append(dirs, filepath.Join(p, "bin"))
		}
	}
	return dirs
}

func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", p)
	}
	return nil
}
