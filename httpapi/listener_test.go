package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icy-morning/icy-morning/httpapi"
)

// testServer is an http.Server for h with a header limit small enough for
// a test to pass cheaply, and an IdleTimeout too long to matter.
func testServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, MaxHeaderBytes: 1 << 10, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
}

// serveListener serves srv on 127.0.0.1 through httpapi.NewListener until
// the test ends. wrap, if not nil, wraps the TCP listener first.
func serveListener(t *testing.T, srv *http.Server, maxConns int, wrap func(net.Listener) net.Listener) string {
	t.Helper()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener = tcp
	if wrap != nil {
		ln = wrap(tcp)
	}
	done := make(chan error, 1)
	go func() { done <- httpapi.NewListener(ln, maxConns).Serve(srv) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return tcp.Addr().String()
}

// rawClient is one raw TCP connection to the server under test.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
	raw  bytes.Buffer // everything read from the connection
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &rawClient{t: t, conn: conn}
	c.r = bufio.NewReader(io.TeeReader(conn, &c.raw))
	return c
}

func (c *rawClient) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatal(err)
	}
}

// response reads the next response, waiting at most wait; err is
// os.ErrDeadlineExceeded if none came.
func (c *rawClient) response(wait time.Duration) (*http.Response, []byte, error) {
	c.conn.SetReadDeadline(time.Now().Add(wait))
	res, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return nil, nil, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	return res, body, err
}

// mustRespond is response, failing the test if none comes in 5 seconds.
func (c *rawClient) mustRespond() (*http.Response, []byte) {
	c.t.Helper()
	res, body, err := c.response(5 * time.Second)
	if err != nil {
		c.t.Fatalf("no response: %v", err)
	}
	return res, body
}

// closedByServer reports whether the server closed the connection, waiting
// at most wait.
func (c *rawClient) closedByServer(wait time.Duration) bool {
	c.conn.SetReadDeadline(time.Now().Add(wait))
	_, err := c.r.ReadByte()
	return err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
}

// TestGoErrorsBecomeProblems sends requests that net/http answers itself,
// before any handler runs: each answer must be a problem document that
// echoes nothing of the request.
func TestGoErrorsBecomeProblems(t *testing.T) {
	addr := serveListener(t, testServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "ok")
	})), 16, nil)
	const marker = "ECHO<script>" // in every request, never in an answer
	tests := []struct {
		name   string
		before string // a good request first on the same connection
		req    string
		status int
	}{
		{"header over MaxHeaderBytes", "", "GET /" + marker + " HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat(marker, 1000) + "\r\n\r\n", 431},
		{"Transfer-Encoding gzip", "", "POST /" + marker + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
		{"no Host on HTTP/1.1", "", "GET /" + marker + " HTTP/1.1\r\n\r\n", 400},
		{"malformed Host", "", "GET / HTTP/1.1\r\nHost: " + marker + "\r\n\r\n", 400},
		{"control byte in a header value", "", "GET / HTTP/1.1\r\nHost: x\r\nX-A: \x01" + marker + "\r\n\r\n", 400},
		{"HTTP/9.9", "", "GET /" + marker + " HTTP/9.9\r\nHost: x\r\n\r\n", 505},
		{"garbage request line", "", marker + "\r\n\r\n", 400},
		{"malformed header line", "", "GET / HTTP/1.1\r\nHost: x\r\n" + marker + "\r\n\r\n", 400},
		{"garbage after a good request, same connection", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", marker + "\r\n\r\n", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialRaw(t, addr)
			if tt.before != "" {
				c.send(tt.before)
				if res, body := c.mustRespond(); res.StatusCode != 200 || string(body) != "ok" {
					t.Fatalf("good request: %d %q", res.StatusCode, body)
				}
			}
			c.send(tt.req)
			res, body := c.mustRespond()
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d:\n%s", res.StatusCode, tt.status, c.raw.Bytes())
			}
			for k, want := range map[string]string{
				"Content-Type":           "application/problem+json",
				"X-Content-Type-Options": "nosniff",
				"Cache-Control":          "no-store",
			} {
				if got := res.Header.Get(k); got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
			if !res.Close || res.ContentLength != int64(len(body)) || res.Header.Get("Date") == "" {
				t.Errorf("want Connection: close, a Content-Length and a Date: %q", res.Header)
			}
			var p struct {
				Type, Title, Detail string
				Status              int
			}
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatalf("body is not JSON: %v: %s", err, body)
			}
			if p.Type != "about:blank" || p.Title != http.StatusText(tt.status) || p.Status != tt.status || p.Detail == "" {
				t.Errorf("problem %+v", p)
			}
			if bytes.Contains(c.raw.Bytes(), []byte("ECHO")) {
				t.Errorf("the answer echoes the request:\n%s", c.raw.Bytes())
			}
		})
	}
}

// TestHandlerResponsesPassUntouched: what handlers write reaches the client
// byte for byte as it does without the listener, down to the responses that
// come closest to net/http's own errors.
func TestHandlerResponsesPassUntouched(t *testing.T) {
	const date = "Mon, 02 Jan 2006 15:04:05 GMT" // fixed, so both servers' answers are comparable
	mux := http.NewServeMux()
	mux.HandleFunc("/text-close", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Date", date)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "400 Bad Request")
	})
	mux.HandleFunc("/no-date", func(w http.ResponseWriter, _ *http.Request) {
		w.Header()["Date"] = nil
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "400 Bad Request")
	})
	mux.HandleFunc("/no-date-flushed", func(w http.ResponseWriter, _ *http.Request) {
		w.Header()["Date"] = nil
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "400 Bad Request")
		w.(http.Flusher).Flush()
	})
	mux.HandleFunc("/problem", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Date", date)
		httpapi.WriteProblem(w, http.StatusNotFound, "no such thing")
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Date", date)
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, strings.Repeat("x", 100<<10))
	})
	wrapped := serveListener(t, testServer(mux), 16, nil)
	plainLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	plain := &http.Server{Handler: mux}
	go plain.Serve(plainLn)
	t.Cleanup(func() { plain.Close() })

	for _, req := range []string{
		"GET /text-close HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /no-date HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"GET /no-date-flushed HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		// The closest: exactly net/http's error headers, but no body.
		"HEAD /no-date-flushed HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"GET /problem HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	} {
		t.Run(strings.Fields(req)[0]+" "+strings.Fields(req)[1], func(t *testing.T) {
			want, got := exchange(t, plainLn.Addr().String(), req), exchange(t, wrapped, req)
			if !bytes.Equal(got, want) {
				t.Fatalf("through the listener:\n%q\nwithout:\n%q", got, want)
			}
		})
	}
}

// exchange sends req on a new connection and returns all the server sends
// back before it closes the connection.
func exchange(t *testing.T, addr, req string) []byte {
	t.Helper()
	c := dialRaw(t, addr)
	c.send(req)
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(c.r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// countingListener counts the connections open at the socket, which is
// what the cap is for.
type countingListener struct {
	net.Listener
	mu         sync.Mutex
	open, peak int
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.open++
	l.peak = max(l.peak, l.open)
	l.mu.Unlock()
	return &countedConn{Conn: c, l: l}, nil
}

func (l *countingListener) max() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.peak
}

type countedConn struct {
	net.Conn
	l    *countingListener
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		c.l.open--
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

// TestListenerCap: at most the cap of connections are open at once; at the
// cap, connections idle for a while give way to new clients, and busy ones,
// or ones in use between requests, do not.
func TestListenerCap(t *testing.T) {
	const limit = 4
	const get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	// newServer serves "/" at once and "/slow" once release lets it, and
	// counts open connections.
	newServer := func(t *testing.T, hook func(net.Conn, http.ConnState)) (addr string, entered, release chan struct{}) {
		entered, release = make(chan struct{}), make(chan struct{})
		t.Cleanup(func() { close(release) })
		srv := testServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/slow" {
				entered <- struct{}{}
				<-release
			}
			io.WriteString(w, "ok")
		}))
		srv.ConnState = hook
		counted := &countingListener{}
		addr = serveListener(t, srv, limit, func(ln net.Listener) net.Listener {
			counted.Listener = ln
			return counted
		})
		t.Cleanup(func() {
			if n := counted.max(); n != limit {
				t.Errorf("at most %d connections were open at once, want the cap, %d", n, limit)
			}
		})
		return addr, entered, release
	}
	// busy fills n slots with requests to "/slow".
	busy := func(t *testing.T, addr string, entered chan struct{}, n int) []*rawClient {
		var cs []*rawClient
		for range n {
			c := dialRaw(t, addr)
			c.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
			<-entered
			cs = append(cs, c)
		}
		return cs
	}
	// notServed checks that c gets no response yet.
	notServed := func(t *testing.T, c *rawClient) {
		t.Helper()
		if res, _, err := c.response(100 * time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("served past the cap: %v %v", res, err)
		}
	}
	// served checks that c gets a response within minIdle and some.
	served := func(t *testing.T, c *rawClient, what string) {
		t.Helper()
		if res, _, err := c.response(3 * time.Second); err != nil || res.StatusCode != 200 {
			t.Fatalf("%s: %v %v", what, res, err)
		}
	}

	t.Run("idle connections give way", func(t *testing.T) {
		// This hook runs after the listener's, so once it has told of a
		// connection, the listener counts it idle. Without the wait, the
		// order connections go idle in would be up to the scheduler.
		wentIdle := make(chan struct{}, limit)
		addr, _, _ := newServer(t, func(_ net.Conn, s http.ConnState) {
			if s == http.StateIdle {
				select {
				case wentIdle <- struct{}{}:
				default: // the connections after the first few
				}
			}
		})
		var idle []*rawClient
		for range limit {
			c := dialRaw(t, addr)
			c.send(get)
			c.mustRespond()
			<-wentIdle
			idle = append(idle, c)
		}
		// IdleTimeout is a minute: only giving way gets this served.
		late := dialRaw(t, addr)
		late.send(get)
		served(t, late, "a new client was not served while the others sat idle")
		if !idle[0].closedByServer(3 * time.Second) {
			t.Error("the connection idle longest is still open")
		}
		// The newest idle connection still serves: only the oldest gave way.
		last := idle[limit-1]
		last.send(get)
		served(t, last, "the newest idle connection was closed too")
	})

	t.Run("busy connections hold the cap", func(t *testing.T) {
		addr, entered, release := newServer(t, nil)
		slow := busy(t, addr, entered, limit)
		late := dialRaw(t, addr)
		late.send(get)
		notServed(t, late)
		release <- struct{}{} // one slow request finishes
		served(t, late, "not served once a slot freed")
		answered := 0
		for _, c := range slow {
			if _, _, err := c.response(10 * time.Millisecond); err == nil {
				answered++
			}
		}
		if answered != 1 {
			t.Errorf("%d slow requests answered, want the 1 released", answered)
		}
	})

	t.Run("a connection in use between requests keeps its slot", func(t *testing.T) {
		addr, entered, _ := newServer(t, nil)
		busy(t, addr, entered, limit-1)
		c := dialRaw(t, addr)
		c.send(get)
		c.mustRespond()
		late := dialRaw(t, addr)
		late.send(get)
		// The next request follows the response at once, while a new
		// client waits: closing the connection now would fail it.
		for range 20 {
			c.send(get)
			if _, _, err := c.response(time.Second); err != nil {
				t.Fatalf("the connection was closed between requests: %v", err)
			}
		}
		notServed(t, late)
		served(t, late, "not served once the connection was left idle")
		if !c.closedByServer(time.Second) {
			t.Error("the idle connection did not give way")
		}
	})
}

// BenchmarkListener compares keep-alive requests over 127.0.0.1 with and
// without the listener: the normal path should cost nothing measurable.
func BenchmarkListener(b *testing.B) {
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, `{"ok":true}`) })
	for _, wrapped := range []bool{false, true} {
		b.Run(map[bool]string{false: "plain", true: "wrapped"}[wrapped], func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			srv := &http.Server{Handler: h}
			if wrapped {
				go httpapi.NewListener(ln, 1024).Serve(srv)
			} else {
				go srv.Serve(ln)
			}
			defer srv.Close()
			url := "http://" + ln.Addr().String() + "/"
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
			defer client.CloseIdleConnections()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					res, err := client.Get(url)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
			})
		})
	}
}
