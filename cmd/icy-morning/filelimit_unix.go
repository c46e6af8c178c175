//go:build unix

package main

import "syscall"

// openFileLimit is the process's soft limit on open files (RLIMIT_NOFILE),
// which every client connection counts against.
func openFileLimit() (uint64, bool) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, false
	}
	return lim.Cur, true
}
