// Package outagee2e tests what the service does when it, or the database
// under it, dies under write load: the real icy-morning binary, built once
// per test binary and started as a process of its own on a loopback port,
// written to by concurrent clients while a test kills, with SIGKILL, a
// private PostgreSQL cluster it started itself (never the shared one), or
// `serve` itself on SQLite. Nothing is mocked. What is judged is what a
// client sees: every write answered 201 reads back afterwards, and no
// write is answered with anything but 201 or a 503 with Retry-After.
//
// The PostgreSQL test needs PostgreSQL 15's server binaries (initdb and
// postgres); without them it skips, or fails when ICY_REQUIRE_POSTGRES=1,
// as in CI.
package outagee2e

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/icy-morning/icy-morning/httpapi"
	"github.com/icy-morning/icy-morning/internal/testcheck"
	"github.com/icy-morning/icy-morning/internal/testproc"
)

// icyMorning is the binary these tests run, built once per test binary.
var icyMorning = &testproc.Program{Pkg: "./cmd/icy-morning"}

func TestMain(m *testing.M) {
	code := m.Run()
	icyMorning.Remove()
	os.Exit(code)
}

// budget is the most any answer may take: serve's time budget for a
// request, database calls included. A write that takes longer hangs.
const budget = httpapi.DefaultRequestTimeout

// The account the servers accept writes from.
const apiUser = "admin"

var apiPassword = "pw-" + rand.Text()

// server is a running `icy-morning serve`.
type server struct {
	*testproc.Proc
	base string // http://127.0.0.1:PORT
}

// startServe runs `icy-morning serve` on the database at databaseURL, on a
// free loopback port, and waits until /healthz answers. Its environment
// holds only what the test sets. When the test ends it is stopped (by its
// PID, and only it), and if the test failed its output is logged.
func startServe(t *testing.T, name, databaseURL string) *server {
	t.Helper()
	var s *server
	testproc.OnFreePorts(t, 1, func(addrs []string) (*testproc.Proc, error) {
		p := testproc.Start(t, testproc.Cmd{Name: name, Path: icyMorning.Path(t), Args: []string{"serve"}, Grace: 10 * time.Second,
			Env: []string{"DATABASE_URL=" + databaseURL, "ADDR=" + addrs[0],
				"BASIC_AUTH_USERNAME=" + apiUser, "BASIC_AUTH_PASSWORD=" + apiPassword}})
		s = &server{Proc: p, base: "http://" + addrs[0]}
		err := p.WaitReady(s.base+"/healthz", nil, 30*time.Second)
		if err != nil && !strings.Contains(p.Output(), "address already in use") {
			t.Fatal(err) // not a port taken in between: no new try
		}
		return p, err
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s (pid %d) output, last 6000 bytes:\n%s", s.Name, s.PID(), s.Tail(6000))
		}
	})
	return s
}

// do sends a request with the operator's credentials and returns the
// status, the headers and the body.
func (s *server) do(t *testing.T, method, path string, body any) (int, http.Header, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(apiUser, apiPassword)
	resp, err := (&http.Client{Timeout: budget + 5*time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, out
}

func (s *server) createAnalyst(t *testing.T) int64 {
	t.Helper()
	status, _, body := s.do(t, http.MethodPost, "/api/v1/analysts", map[string]any{"name": "Ada Lovelace", "company": "Analytical Engines"})
	var a struct{ ID int64 }
	if status != http.StatusCreated || json.Unmarshal(body, &a) != nil || a.ID < 1 {
		t.Fatalf("POST /api/v1/analysts: %d %s", status, body)
	}
	return a.ID
}

// waitReadyz polls /readyz until it answers want, failing the test after
// within. A 503 must say when to try again.
func (s *server) waitReadyz(t *testing.T, want int, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		status, h, body := s.do(t, http.MethodGet, "/readyz", nil)
		if status == want {
			if status == http.StatusServiceUnavailable {
				if flaw := unavailableFlaw(h, body); flaw != "" {
					t.Fatalf("/readyz: %s", flaw)
				}
			}
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("/readyz answered %d %s after %v, want %d", status, body, within, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// unavailableFlaw says what is wrong with a 503, or "" when it is an RFC
// 9457 problem with a short Retry-After.
func unavailableFlaw(h http.Header, body []byte) string {
	ra, err := strconv.Atoi(h.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 5 {
		return fmt.Sprintf("503 with Retry-After %q, want 1 to 5 seconds", h.Get("Retry-After"))
	}
	var p struct {
		Status int
		Detail string
	}
	if h.Get("Content-Type") != "application/problem+json" || json.Unmarshal(body, &p) != nil || p.Status != 503 || p.Detail == "" {
		return fmt.Sprintf("503 that is not a problem document: %s %s", h.Get("Content-Type"), body)
	}
	return ""
}

// write is one POST /api/v1/assets and what came of it.
type write struct {
	name         string
	id           int64  // from a 201
	status       int    // 0: no answer (the connection failed)
	flaw         string // what was wrong with a 503's answer
	body         string // of an answer that is neither 201 nor 503
	err          error  // why there was no answer
	began, ended time.Time
}

func (w write) took() time.Duration { return w.ended.Sub(w.began) }

// load is writers POSTing assets as fast as they are answered, each
// write a new name, until stopped. After a 503 a writer waits 50 ms, as
// a client that retries promptly but not in a tight loop.
type load struct {
	srv     *server
	analyst int64
	client  *http.Client
	stopped chan struct{}
	once    sync.Once // closes stopped
	wg      sync.WaitGroup
	created atomic.Int64

	mu     sync.Mutex
	writes []write
}

// startLoad starts writers writing to srv, each asset named prefix, the
// writer's number and its write's; the load stops when the test ends if
// it has not before.
func startLoad(t *testing.T, srv *server, analyst int64, writers int, prefix string) *load {
	l := &load{srv: srv, analyst: analyst, stopped: make(chan struct{}),
		client: &http.Client{Timeout: budget + 5*time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: writers}}}
	t.Cleanup(func() { l.stop() })
	for w := range writers {
		l.wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-l.stopped:
					return
				default:
				}
				r := l.post(fmt.Sprintf("%s-w%02d-%06d", prefix, w, i))
				l.mu.Lock()
				l.writes = append(l.writes, r)
				l.mu.Unlock()
				if r.status != http.StatusCreated {
					time.Sleep(50 * time.Millisecond)
				}
			}
		})
	}
	return l
}

func (l *load) post(name string) (w write) {
	w = write{name: name, began: time.Now()}
	defer func() { w.ended = time.Now() }()
	b, _ := json.Marshal(map[string]any{"name": name, "description": "written under fire", "inception_date": "2024-01-31",
		"is_active": true, "analyst_id": l.analyst})
	req, err := http.NewRequest(http.MethodPost, l.srv.base+"/api/v1/assets", bytes.NewReader(b))
	if err != nil {
		w.err = err
		return w
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(apiUser, apiPassword)
	resp, err := l.client.Do(req)
	if err != nil {
		w.err = err
		return w
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		w.err = err
		return w
	}
	w.status = resp.StatusCode
	switch w.status {
	case http.StatusCreated:
		var a struct{ ID int64 }
		if json.Unmarshal(body, &a) != nil || a.ID < 1 {
			w.flaw = "201 without an id: " + string(body)
		}
		w.id = a.ID
		l.created.Add(1)
	case http.StatusServiceUnavailable:
		w.flaw = unavailableFlaw(resp.Header, body)
	default:
		w.body = string(body)
	}
	return w
}

// waitCreated waits until the load has had n writes answered 201 in all,
// failing the test after within.
func (l *load) waitCreated(t *testing.T, n int64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for l.created.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d writes answered 201 within %v, want %d", l.created.Load(), within, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// firstCreatedAfter waits until a write that began after t is answered
// 201, and returns it; false after within.
func (l *load) firstCreatedAfter(t time.Time, within time.Duration) (write, bool) {
	deadline := time.Now().Add(within)
	for {
		l.mu.Lock()
		i := slices.IndexFunc(l.writes, func(w write) bool { return w.status == http.StatusCreated && w.began.After(t) })
		var w write
		if i >= 0 {
			w = l.writes[i]
		}
		l.mu.Unlock()
		if i >= 0 {
			return w, true
		}
		if time.Now().After(deadline) {
			return write{}, false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop ends the load once the writes in flight are answered, and returns
// every write.
func (l *load) stop() []write {
	l.once.Do(func() { close(l.stopped) })
	l.wg.Wait()
	l.client.CloseIdleConnections()
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.writes)
}

// tally counts writes by what came of them.
type tally struct {
	created, unavailable, unanswered, other int
	slowest                                 time.Duration
}

func count(ws []write) tally {
	var c tally
	for _, w := range ws {
		switch w.status {
		case http.StatusCreated:
			c.created++
		case http.StatusServiceUnavailable:
			c.unavailable++
		case 0:
			c.unanswered++
		default:
			c.other++
		}
		c.slowest = max(c.slowest, w.took())
	}
	return c
}

func created(ws []write) []write {
	return slices.DeleteFunc(slices.Clone(ws), func(w write) bool { return w.status != http.StatusCreated })
}

// checkAnswers fails the test for every write answered with anything but
// 201 or a well-formed 503, or after the budget; and, unless unanswered
// is allowed, for every write that got no answer at all.
func checkAnswers(t *testing.T, ws []write, unanswered bool) {
	t.Helper()
	var bad []string
	for _, w := range ws {
		switch {
		case w.took() > budget:
			bad = append(bad, fmt.Sprintf("%s: answered %d after %v, past the %v budget", w.name, w.status, w.took().Round(time.Millisecond), budget))
		case w.status == 0 && !unanswered:
			bad = append(bad, fmt.Sprintf("%s: no answer: %v", w.name, w.err))
		case w.status != 0 && w.status != http.StatusCreated && w.status != http.StatusServiceUnavailable:
			bad = append(bad, fmt.Sprintf("%s: %d %s", w.name, w.status, w.body))
		case w.flaw != "":
			bad = append(bad, w.name+": "+w.flaw)
		}
	}
	testcheck.FailMany(t, "writes answered wrongly", bad)
}

// readBack GETs every write that was answered 201 and returns the names
// of those that are not there as they were written: the lost writes.
func readBack(t *testing.T, srv *server, acked []write) []string {
	t.Helper()
	var (
		mu   sync.Mutex
		lost []string
		next atomic.Int64
		wg   sync.WaitGroup
	)
	client := &http.Client{Timeout: budget + 5*time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	defer client.CloseIdleConnections()
	for range 8 {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(acked)); i = next.Add(1) - 1 {
				w := acked[i]
				var a struct{ Name string }
				resp, err := client.Get(fmt.Sprintf("%s/api/v1/assets/%d", srv.base, w.id))
				if err == nil {
					err = json.NewDecoder(resp.Body).Decode(&a)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil || a.Name != w.name {
					mu.Lock()
					lost = append(lost, fmt.Sprintf("%s (id %d): %q, %v", w.name, w.id, a.Name, err))
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return lost
}

// countAssets counts the analyst's assets through the API, a page of a
// thousand at a time, following each page's Link to the next.
func countAssets(t *testing.T, srv *server, analyst int64) int {
	t.Helper()
	next, err := url.Parse(fmt.Sprintf("%s/api/v1/assets?analyst_id=%d&limit=1000", srv.base, analyst))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for next != nil {
		status, h, body := srv.do(t, http.MethodGet, next.RequestURI(), nil)
		var page []json.RawMessage
		if status != http.StatusOK || json.Unmarshal(body, &page) != nil {
			t.Fatalf("GET %s: %d %.300s", next, status, body)
		}
		n += len(page)
		link, ok := strings.CutPrefix(h.Get("Link"), "<")
		if !ok {
			break
		}
		ref, _, _ := strings.Cut(link, ">")
		u, err := url.Parse(ref)
		if err != nil {
			t.Fatalf("Link %q: %v", h.Get("Link"), err)
		}
		next = next.ResolveReference(u)
	}
	return n
}

// checkStored fails the test when a write answered 201 did not read back,
// or when the analyst has fewer assets than writes were answered 201, or
// two writes answered 201 got one id; and returns how many assets the
// analyst has.
func checkStored(t *testing.T, srv *server, analyst int64, acked []write) (stored int, lost []string) {
	t.Helper()
	ids := map[int64]string{}
	for _, w := range acked {
		if other, dup := ids[w.id]; dup {
			t.Errorf("writes %s and %s were both answered with id %d", other, w.name, w.id)
		}
		ids[w.id] = w.name
	}
	lost = readBack(t, srv, acked)
	testcheck.FailMany(t, "writes answered 201 that did not read back", lost)
	stored = countAssets(t, srv, analyst)
	if stored < len(acked) {
		t.Errorf("the analyst has %d assets, fewer than the %d writes answered 201", stored, len(acked))
	}
	return stored, lost
}
