package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icy-morning/icy-morning/internal/netaddr"
	"github.com/icy-morning/icy-morning/internal/testdb"
	"github.com/icy-morning/icy-morning/sqlstore"
)

// syncBuffer is a bytes.Buffer safe to read while the server writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func freeAddr(t *testing.T) string {
	t.Helper()
	addr, err := netaddr.FreeLoopback()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// startServe runs `serve` in the background until the test ends, and waits
// for /healthz.
func startServe(t *testing.T, args []string, vars map[string]string) (base string, stderr *syncBuffer) {
	base, stderr, _ = startServeStoppable(t, args, vars)
	return base, stderr
}

// startServeStoppable is startServe that also returns the signal: calling
// stop is what SIGINT/SIGTERM does in main (it cancels run's context).
func startServeStoppable(t *testing.T, args []string, vars map[string]string) (base string, stderr *syncBuffer, stop func()) {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	stderr = &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", addr}, args...), env(vars), io.Discard, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v", err)
		}
	})
	base = "http://" + addr
	for deadline := time.Now().Add(10 * time.Second); ; {
		req, err := http.NewRequest(http.MethodGet, base+"/healthz", nil)
		if err != nil {
			t.Fatal(err)
		}
		if secret := vars["CDN_ORIGIN_SECRET"]; secret != "" { // behind a CDN
			req.Header.Set("X-Origin-Verify", secret)
		}
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return base, stderr, cancel
			}
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited: %v\n%s", err, stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not become healthy: %s", stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitFor polls cond until it holds, failing the test after 10 seconds.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func post(t *testing.T, url, user, pass, body string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestServeGeneratesPassword: with no account configured, serve makes one,
// prints its password once, and refuses empty credentials.
func TestServeGeneratesPassword(t *testing.T) {
	dir := t.TempDir()
	base, stderr := startServe(t, nil, map[string]string{"DATABASE_URL": "sqlite:///" + filepath.Join(dir, "x.db")})
	out := stderr.String()
	_, rest, ok := strings.Cut(out, `need user "admin", password "`)
	if !ok {
		t.Fatalf("no generated password printed: %s", out)
	}
	password, _, _ := strings.Cut(rest, `"`)
	if n := strings.Count(out, password); n != 1 {
		t.Fatalf("password printed %d times", n)
	}
	if got := post(t, base+"/api/v1/analysts", "", "", `{"name":"a","company":"b"}`); got != 401 {
		t.Fatalf("anonymous write: %d", got)
	}
	if got := post(t, base+"/api/v1/analysts", "admin", "", `{"name":"a","company":"b"}`); got != 401 {
		t.Fatalf("empty password: %d", got)
	}
	if got := post(t, base+"/api/v1/analysts", "admin", password, `{"name":"a","company":"b"}`); got != 201 {
		t.Fatalf("write with generated password: %d", got)
	}
	if !strings.Contains(out, `"msg":"listening"`) {
		t.Fatalf("no JSON start-up log: %s", out)
	}
}

// TestServeOnPostgres starts serve against PostgreSQL with a configured
// account and the Python service's variable, and checks the access log.
func TestServeOnPostgres(t *testing.T) {
	url := testdb.Postgres(t)
	pyURL := strings.Replace(url, "postgres://", "postgresql+asyncpg://", 1)
	base, stderr := startServe(t, nil, map[string]string{
		"SQLALCHEMY_DATABASE_CONNECTION_URI": pyURL,
		"BASIC_AUTH_USERNAME":                "writer", "BASIC_AUTH_PASSWORD": "pw",
	})
	if got := post(t, base+"/api/v1/analysts", "writer", "pw", `{"name":"a","company":"b"}`); got != 201 {
		t.Fatalf("write: %d", got)
	}
	res, err := http.Get(base + "/readyz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", res, err)
	}
	res.Body.Close()
	var line struct {
		RequestID string `json:"request_id"`
		Method    string `json:"method"`
		Path      string `json:"path"`
		Status    int    `json:"status"`
		Bytes     int    `json:"bytes"`
	}
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(l, `"path":"/api/v1/analysts"`) {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatal(err)
			}
		}
	}
	if line.RequestID == "" || line.Method != "POST" || line.Status != 201 || line.Bytes == 0 {
		t.Fatalf("access log line incomplete: %+v\n%s", line, stderr)
	}
	if strings.Contains(stderr.String(), "pw\"") {
		t.Fatal("the password reached the logs")
	}
}

// databases are the two engines, each a new empty database per test.
var databases = []struct {
	name string
	url  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return "sqlite:///" + filepath.Join(t.TempDir(), "m.db") }},
	{"postgres", func(t *testing.T) string { return testdb.Postgres(t) }},
}

func TestMigrateCommands(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			url := db.url(t)
			cmd := func(args ...string) string {
				t.Helper()
				var out bytes.Buffer
				if err := run(context.Background(), append(args, "--database-url", url), env(nil), &out, io.Discard); err != nil {
					t.Fatalf("%v: %v", args, err)
				}
				return out.String()
			}
			if out := cmd("migrate", "status"); !strings.Contains(out, "pending") {
				t.Fatalf("status before up: %s", out)
			}
			if out := cmd("migrate", "up"); !strings.Contains(out, fmt.Sprintf("applied %d migration", migrationFiles(t))) {
				t.Fatalf("up: %s", out)
			}
			if out := cmd("migrate", "up"); !strings.Contains(out, "applied 0 migration") {
				t.Fatalf("second up: %s", out)
			}
			if out := cmd("migrate", "status"); !strings.Contains(out, "applied") || strings.Contains(out, "pending") {
				t.Fatalf("status after up: %s", out)
			}
			cmd("migrate", "down")
			if out := cmd("migrate", "status"); !strings.Contains(out, "pending") {
				t.Fatalf("status after down: %s", out)
			}
		})
	}
}

// TestConcurrentMigrations starts several migrations of one new database at
// once: the lock must make all of them succeed.
func TestConcurrentMigrations(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			url := db.url(t)
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for range 4 {
				wg.Go(func() {
					errs <- run(context.Background(), []string{"migrate", "up", "--database-url", url}, env(nil), io.Discard, io.Discard)
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("concurrent migrate: %v", err)
				}
			}
		})
	}
}

func TestOtherCommands(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr bool
		wantOut string
	}{
		{[]string{"version"}, false, " commit "},
		{[]string{"openapi"}, false, `"openapi": "3.1.0"`},
		{[]string{"openapi", "--downgrade"}, false, `"openapi": "3.0.3"`},
		{[]string{"help"}, false, "migrate up"},
		{[]string{"nonsense"}, true, ""},
		{[]string{"migrate"}, true, ""},
		{[]string{"migrate", "sideways", "--database-url", "sqlite://:memory:"}, true, ""},
		{[]string{"serve", "--log-format", "xml", "--database-url", "sqlite://:memory:"}, true, ""},
		{[]string{"serve", "--database-url", "mysql://x"}, true, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.args), func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), tt.args, env(map[string]string{"BASIC_AUTH_USERNAME": "u", "BASIC_AUTH_PASSWORD": "p"}), &out, io.Discard)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Fatalf("output %q lacks %q", out.String(), tt.wantOut)
			}
		})
	}
}

// TestGracefulShutdown: a request in flight when the signal comes still
// completes, and serve then exits cleanly.
func TestGracefulShutdown(t *testing.T) {
	base, stderr, stop := startServeStoppable(t, nil, map[string]string{
		"DATABASE_URL":        "sqlite:///" + filepath.Join(t.TempDir(), "g.db"),
		"BASIC_AUTH_USERNAME": "u", "BASIC_AUTH_PASSWORD": "p",
	})
	// The signal comes while the handler waits for the body. The client
	// asks for 100 Continue, which the server sends when the handler first
	// reads the body: the moment to signal, known rather than slept for.
	body := `{"name":"in flight","company":"c"}`
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST /api/v1/analysts HTTP/1.1\r\nHost: icy\r\nAuthorization: Basic dTpw\r\n"+
		"Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", len(body))
	br := bufio.NewReader(conn)
	if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("waiting for 100 Continue: %q %v", line, err)
	}
	_, _ = br.ReadString('\n') // the blank line after the interim response
	stop()
	waitFor(t, func() bool { return strings.Contains(stderr.String(), "shutting down") }, "serve to begin shutting down")
	if _, err := io.WriteString(conn, body); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("in-flight request: %v %v", res, err)
	}
	res.Body.Close()
	// New connections are refused once shutdown has begun.
	if res, err := http.Get(base + "/healthz"); err == nil {
		res.Body.Close()
		t.Fatalf("new request served after shutdown: %d", res.StatusCode)
	}
}

// TestHelpHidesSecrets: --help prints defaults, and must not print a
// password taken from the environment.
func TestHelpHidesSecrets(t *testing.T) {
	for _, cmd := range []string{"serve", "migrate"} {
		var out syncBuffer
		err := run(context.Background(), []string{cmd, "--help"},
			env(map[string]string{"DATABASE_URL": "postgres://u:s3cr3t@db/icy", "BASIC_AUTH_PASSWORD": "s3cr3t"}), &out, &out)
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "-database-url") || strings.Contains(out.String(), "s3cr3t") {
			t.Fatalf("%s --help: err %v, output:\n%s", cmd, err, out.String())
		}
	}
}

// migrationFiles is how many migrations a new database gets.
func migrationFiles(*testing.T) int { return sqlstore.Migrations(sqlstore.SQLite) }
