// Package cachee2e puts a real shared cache in front of the real server:
// Debian's nginx (internal/nginxcache) as a caching reverse proxy before
// `icy-morning serve` on SQLite, both processes of their own on loopback
// ports. nginx keeps what the service's Cache-Control allows, for as long
// as it allows, and revalidates with the ETag; nothing is mocked. Between
// the caches and the service an uncaching nginx proxy logs every request
// that reached the service, so the tests count what the origin saw.
//
// Without nginx the tests skip, or fail when ICY_REQUIRE_NGINX=1, as in
// CI (.ci/run installs it).
package cachee2e

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/icy-morning/icy-morning/httpapi"
	"github.com/icy-morning/icy-morning/internal/nginxcache"
	"github.com/icy-morning/icy-morning/internal/testproc"
)

var icyMorning = &testproc.Program{Pkg: "./cmd/icy-morning"}

func TestMain(m *testing.M) {
	code := m.Run()
	icyMorning.Remove()
	os.Exit(code)
}

const apiUser = "admin"

var apiPassword = "pw-" + rand.Text()

// sMaxAge is the CACHE_S_MAXAGE the service runs with: short, so that
// expiry happens within the test. staleWhileRevalidate is what the
// service adds to it (httpapi.StaleWhileRevalidate).
const (
	sMaxAge              = 2 * time.Second
	staleWhileRevalidate = httpapi.StaleWhileRevalidate
)

// stack is the service with two nginx caches in front of it.
type stack struct {
	origin     string // http://127.0.0.1:PORT of serve
	cache      string // the cache that revalidates before it answers
	background string // the cache that answers stale while it revalidates
	dir        string // nginx's prefix, where its logs are
}

// start runs serve on a fresh SQLite file and nginx in front of it, and
// stops both (by PID) when the test ends.
func start(t *testing.T) *stack {
	t.Helper()
	bin := nginxcache.Require(t)
	s := &stack{dir: t.TempDir()}
	db := "sqlite:///" + filepath.Join(t.TempDir(), "icy.db")
	var srv *testproc.Proc
	testproc.OnFreePorts(t, 1, func(addrs []string) (*testproc.Proc, error) {
		srv = testproc.Start(t, testproc.Cmd{Name: "serve", Path: icyMorning.Path(t), Args: []string{"serve"},
			Env: []string{"DATABASE_URL=" + db, "ADDR=" + addrs[0], "BASIC_AUTH_USERNAME=" + apiUser, "BASIC_AUTH_PASSWORD=" + apiPassword,
				"CACHE_S_MAXAGE=" + strconv.Itoa(int(sMaxAge.Seconds())), "LOG_LEVEL=warn"}})
		s.origin = "http://" + addrs[0]
		return srv, srv.WaitReady(s.origin+"/healthz", nil, 30*time.Second)
	})
	var ngx *testproc.Proc
	testproc.OnFreePorts(t, 3, func(addrs []string) (*testproc.Proc, error) {
		args, err := nginxcache.Config{Dir: s.dir, Origin: strings.TrimPrefix(s.origin, "http://"),
			Listen: addrs[0], BackgroundListen: addrs[1], TapListen: addrs[2], AccessLogs: true}.Args()
		if err != nil {
			t.Fatal(err)
		}
		ngx = testproc.Start(t, testproc.Cmd{Name: "nginx", Path: bin, Args: args})
		s.cache, s.background = "http://"+addrs[0], "http://"+addrs[1]
		return ngx, ngx.WaitReady(s.cache+"/healthz", []string{addrs[1], addrs[2]}, 10*time.Second)
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("serve output:\n%s\nnginx output:\n%s\nnginx error log:\n%s", srv.Tail(4000), ngx.Tail(2000), s.read(t, nginxcache.ErrorLog))
		}
	})
	return s
}

func (s *stack) read(t *testing.T, log string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.dir, log))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

// originSaw is the lines of the origin's log (what reached serve) for
// method and uri: "<status> inm=<If-None-Match> auth=<yes|no>", with the
// quotes nginx escapes in its logs (\x22) put back.
func (s *stack) originSaw(t *testing.T, method, uri string) []string {
	t.Helper()
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s.read(t, nginxcache.OriginLog)))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), method+" "+uri+" "); ok {
			lines = append(lines, strings.ReplaceAll(rest, `\x22`, `"`))
		}
	}
	return lines
}

// answer is what a client got.
type answer struct {
	status int
	header http.Header
	body   []byte
	at     time.Time // when it arrived
}

func (a answer) cacheStatus() string { return a.header.Get("X-Cache-Status") }

// do sends one request to base+path; with auth, with the write account's
// credentials. body, when not nil, is sent as JSON.
func do(t *testing.T, method, url string, auth bool, body any, header ...string) answer {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth {
		req.SetBasicAuth(apiUser, apiPassword)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b, at: time.Now()}
}

// create makes an analyst and an asset straight at the origin and returns
// the asset's path.
func (s *stack) create(t *testing.T, name string) string {
	t.Helper()
	a := do(t, http.MethodPost, s.origin+"/api/v1/analysts", true, map[string]any{"name": "Ada " + name, "company": "Engines"})
	var analyst struct{ ID int64 }
	if a.status != http.StatusCreated || json.Unmarshal(a.body, &analyst) != nil {
		t.Fatalf("create analyst: %d %s", a.status, a.body)
	}
	a = do(t, http.MethodPost, s.origin+"/api/v1/assets", true, map[string]any{"name": name, "is_active": true,
		"analyst_id": analyst.ID, "inception_date": "2024-01-31"})
	var asset struct{ ID int64 }
	if a.status != http.StatusCreated || json.Unmarshal(a.body, &asset) != nil {
		t.Fatalf("create asset: %d %s", a.status, a.body)
	}
	return "/api/v1/assets/" + strconv.FormatInt(asset.ID, 10)
}

// nameOf is the "name" of an asset's JSON body.
func nameOf(t *testing.T, a answer) string {
	t.Helper()
	var v struct{ Name string }
	if err := json.Unmarshal(a.body, &v); err != nil {
		t.Fatalf("body %q: %v", a.body, err)
	}
	return v.Name
}
