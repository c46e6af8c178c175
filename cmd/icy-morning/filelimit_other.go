//go:build !unix

package main

// openFileLimit reports no limit: Windows has no RLIMIT_NOFILE, and its
// sockets are handles, of which a process may hold millions, so only
// HTTP_MAX_CONNS's own default caps client connections there.
func openFileLimit() (uint64, bool) { return 0, false }
