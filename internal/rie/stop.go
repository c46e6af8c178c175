//go:build linux

package rie

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Close stops the emulator and the bootstrap: SIGTERM to the emulator
// (which kills the bootstrap's group itself), SIGKILL after a few seconds,
// then SIGKILL to whatever bootstrap process group is left. Only processes
// this Emulator started are signalled, by PID.
func (e *Emulator) Close() error {
	e.closeOnce.Do(func() { e.closeErr = e.close() })
	return e.closeErr
}

func (e *Emulator) close() error {
	pid := e.PID()
	// The bootstrap is the emulator's child; note it before the emulator
	// goes, as afterwards it would be nobody's.
	children := childPIDs(pid)
	select {
	case <-e.done:
	default:
		_ = syscall.Kill(pid, syscall.SIGTERM)
		select {
		case <-e.done:
		case <-time.After(3 * time.Second):
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			<-e.done
		}
	}
	var errs []error
	for _, c := range children {
		if err := killLeftover(c, e.bootstrap); err != nil {
			errs = append(errs, err)
		}
	}
	e.client.CloseIdleConnections()
	return errors.Join(errs...)
}

// childPIDs lists pid's children (Linux: /proc/PID/task/*/children).
func childPIDs(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var pids []int
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for f := range strings.FieldsSeq(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				pids = append(pids, n)
			}
		}
	}
	return pids
}

// killLeftover kills the process group led by pid if it is still the
// bootstrap we ran (same executable, leading its own group), so that a
// recycled PID is never signalled.
func killLeftover(pid int, bootstrap string) error {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return nil // gone
	}
	want, err := filepath.EvalSymlinks(bootstrap)
	if err != nil {
		want = bootstrap
	}
	if exe != want {
		return nil
	}
	if pgid, err := syscall.Getpgid(pid); err != nil || pgid != pid {
		return nil
	}
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("rie: kill leftover bootstrap %d: %w", pid, err)
	}
	return nil
}
