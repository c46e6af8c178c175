// Package netaddr finds loopback addresses for the servers that tests and
// benchmarks start, which listen on 127.0.0.1 only.
package netaddr

import (
	"net"
	"strings"
)

// FreeLoopback returns a free port on 127.0.0.1 as "127.0.0.1:PORT". The
// port is released before it returns, for the caller's server to bind; in
// between another process may take it, so a caller that must not fail
// retries with a new one.
func FreeLoopback() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// IsLocalHost reports whether host, as a database URL names it, is this
// machine: 127.0.0.1, ::1, localhost, or a Unix socket directory (an
// absolute path).
func IsLocalHost(host string) bool {
	return host == "127.0.0.1" || host == "::1" || host == "localhost" || strings.HasPrefix(host, "/")
}
