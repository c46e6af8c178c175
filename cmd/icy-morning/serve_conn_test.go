package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeConnSettingsRefused: a connection count that is not a whole
// number, 0 or more, stops serve before it opens anything, naming the
// setting.
func TestServeConnSettingsRefused(t *testing.T) {
	tests := []struct {
		name string
		args []string
		vars map[string]string
		want string
	}{
		{"HTTP_MAX_CONNS not a number", nil, map[string]string{"HTTP_MAX_CONNS": "abc"}, `HTTP_MAX_CONNS "abc"`},
		{"HTTP_MAX_CONNS negative", nil, map[string]string{"HTTP_MAX_CONNS": "-1"}, `HTTP_MAX_CONNS "-1"`},
		{"HTTP_MAX_CONNS fractional", nil, map[string]string{"HTTP_MAX_CONNS": "2.5"}, `HTTP_MAX_CONNS "2.5"`},
		{"DB_MAX_CONNS not a number", nil, map[string]string{"DB_MAX_CONNS": "many"}, `DB_MAX_CONNS "many"`},
		{"--max-open-conns negative", []string{"--max-open-conns", "-1"}, nil, "-max-open-conns"},
		{"--max-conns not a number", []string{"--max-conns", "x"}, nil, "-max-conns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			vars := map[string]string{"BASIC_AUTH_USERNAME": "u", "BASIC_AUTH_PASSWORD": "p"}
			for k, v := range tt.vars {
				vars[k] = v
			}
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--database-url", "sqlite://:memory:"}, tt.args...)
			err := run(context.Background(), args, env(vars), io.Discard, &stderr)
			if err == nil {
				t.Fatal("serve accepted it")
			}
			if msg := err.Error() + "\n" + stderr.String(); !strings.Contains(msg, tt.want) {
				t.Fatalf("message does not name %s: %s", tt.want, msg)
			}
		})
	}
}

// TestServeCapsConnections: serve listens through httpapi's listener with
// the configured cap, a flag overriding the environment, so that net/http's
// own errors are problem documents.
func TestServeCapsConnections(t *testing.T) {
	base, stderr := startServe(t, []string{"--max-open-conns", "3"}, map[string]string{
		"DATABASE_URL":   "sqlite:///" + filepath.Join(t.TempDir(), "c.db"),
		"HTTP_MAX_CONNS": "not read: the flag wins",
	})
	if !strings.Contains(stderr.String(), `"max_open_conns":3`) {
		t.Fatalf("the cap is not 3: %s", stderr)
	}
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\n\r\n") // no Host
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 400 || res.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("%d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

// TestOpenConnsCap: the default cap is 1024, lowered to leave room under a
// low open-file limit; a cap that is set is kept, with a warning when it
// is more than the limit leaves room for.
func TestOpenConnsCap(t *testing.T) {
	var orig syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
		t.Fatal(err)
	}
	if orig.Cur < 2048 {
		t.Skipf("open-file limit %d is too low for this test", orig.Cur)
	}
	tests := []struct {
		name         string
		limit        uint64 // soft open-file limit; 0 leaves it as it is
		set, dbConns int
		want         int
		warn         bool
	}{
		{"default", 0, 0, 0, 1024, false},
		{"default under a 1024 limit", 1024, 0, 0, 1024 - fdReserve, false},
		{"default under a 1024 limit, big pool", 1024, 0, 200, 1024 - fdReserve - 200, false},
		{"set", 0, 10, 0, 10, false},
		{"set past the limit", 512, 600, 0, 600, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.limit != 0 {
				// The tests in this package do not run in parallel, so
				// nothing else opens files while the limit is low.
				lim := orig
				lim.Cur = tt.limit
				if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
						t.Fatal(err)
					}
				})
			}
			var logs bytes.Buffer
			got := openConnsCap(tt.set, tt.dbConns, slog.New(slog.NewTextHandler(&logs, nil)))
			if got != tt.want {
				t.Errorf("cap %d, want %d", got, tt.want)
			}
			if warned := strings.Contains(logs.String(), "HTTP_MAX_CONNS"); warned != tt.warn {
				t.Errorf("warned %v, want %v: %s", warned, tt.warn, &logs)
			}
		})
	}
}
