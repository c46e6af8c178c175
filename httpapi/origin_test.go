package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/icy-morning/icy-morning/httpapi"
)

// originSecret is what CloudFront would send; the tests check it never
// leaves the server.
const originSecret = "Zq7TtG0cKpW2vN9xR4bLmE8sYhA1uJ3dFi6oC5gHkQ0rTzXyVwUe"

// originServer is the API with the origin check on, its log in the
// returned buffer.
func originServer(t *testing.T, c httpapi.Config) (*httptest.Server, *bytes.Buffer) {
	t.Helper()
	var log bytes.Buffer
	c.Logger = slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	api, _ := newAPIWith(t, "sqlite:///"+filepath.Join(t.TempDir(), "o.db"), c)
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return srv, &log
}

func send(t *testing.T, srv *httptest.Server, method, path string, header http.Header) (int, http.Header, []byte) {
	t.Helper()
	r, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header, b
}

func TestOriginCheck(t *testing.T) {
	on, onLog := originServer(t, httpapi.Config{OriginSecret: originSecret})
	off, _ := originServer(t, httpapi.Config{})
	tests := []struct {
		name   string
		srv    *httptest.Server
		path   string
		header http.Header
		want   int
	}{
		{"no CDN: no header needed", off, "/api/v1/assets", nil, 200},
		{"no CDN: a header changes nothing", off, "/api/v1/assets", http.Header{"X-Origin-Verify": {"anything"}}, 200},
		{"the secret", on, "/api/v1/assets", http.Header{"X-Origin-Verify": {originSecret}}, 200},
		{"the secret, health check", on, "/healthz", http.Header{"X-Origin-Verify": {originSecret}}, 200},
		{"no header", on, "/api/v1/assets", nil, 403},
		{"no header, health check", on, "/healthz", nil, 403},
		{"no header, docs", on, "/docs", nil, 403},
		{"no header, unknown path", on, "/nowhere", nil, 403},
		{"empty header", on, "/api/v1/assets", http.Header{"X-Origin-Verify": {""}}, 403},
		{"wrong secret", on, "/api/v1/assets", http.Header{"X-Origin-Verify": {"guess"}}, 403},
		{"the secret's prefix", on, "/api/v1/assets", http.Header{"X-Origin-Verify": {originSecret[:len(originSecret)-1]}}, 403},
		{"the secret and more", on, "/api/v1/assets", http.Header{"X-Origin-Verify": {originSecret + "x"}}, 403},
		{"the secret in another case", on, "/api/v1/assets", http.Header{"X-Origin-Verify": {strings.ToLower(originSecret)}}, 403},
		{"the secret twice", on, "/api/v1/assets", http.Header{"X-Origin-Verify": {originSecret, originSecret}}, 403},
		{"the secret beside a wrong one", on, "/api/v1/assets", http.Header{"X-Origin-Verify": {"guess", originSecret}}, 403},
		{"the secret in another header", on, "/api/v1/assets", http.Header{"X-Origin-Verified": {originSecret}}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, body := send(t, tt.srv, http.MethodGet, tt.path, tt.header)
			if status != tt.want {
				t.Fatalf("status %d, want %d: %s", status, tt.want, body)
			}
			if tt.want != 403 {
				return
			}
			if h.Get("X-Request-Id") == "" {
				t.Error("the refusal has no X-Request-Id")
			}
			if ct := h.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q, want application/problem+json", ct)
			}
			var p struct {
				Status int    `json:"status"`
				Title  string `json:"title"`
				Detail string `json:"detail"`
			}
			if err := json.Unmarshal(body, &p); err != nil || p.Status != 403 || p.Title == "" {
				t.Errorf("body %s is not a 403 problem (%v)", body, err)
			}
			if bytes.Contains(body, []byte(originSecret[:16])) {
				t.Errorf("the problem shows the secret: %s", body)
			}
		})
	}
	// The secret is never in the log, not even the part of it a near miss
	// would carry.
	if !strings.Contains(onLog.String(), "not through the CDN") {
		t.Errorf("refusals are not logged:\n%s", onLog)
	}
	if strings.Contains(onLog.String(), originSecret[:16]) || strings.Contains(strings.ToLower(onLog.String()), strings.ToLower(originSecret[:16])) {
		t.Errorf("the log holds the secret:\n%s", onLog)
	}
}

// Behind the CDN the throttles key on the viewer's address, the last one
// CloudFront added to X-Forwarded-For, never on the edge's address nor on
// entries the client wrote itself.
func TestOriginClientAddress(t *testing.T) {
	for _, cdn := range []bool{true, false} {
		name := map[bool]string{true: "behind the CDN", false: "without a CDN"}[cdn]
		t.Run(name, func(t *testing.T) {
			c := httpapi.Config{AuthThrottle: httpapi.AuthThrottle{Burst: 2, Refill: 1 << 40}}
			if cdn {
				c.OriginSecret = originSecret
			}
			srv, _ := originServer(t, c)
			// httptest's peer is 127.0.0.1: the edge, or API Gateway
			// appending its sourceIp.
			login := func(xff string) int {
				t.Helper()
				h := http.Header{"Authorization": {"Basic " + "YWRtaW46d3Jvbmc="}, "Content-Type": {"application/json"}}
				if cdn {
					h.Set("X-Origin-Verify", originSecret)
				}
				if xff != "" {
					h.Set("X-Forwarded-For", xff)
				}
				status, _, _ := send(t, srv, http.MethodDelete, "/api/v1/assets/1", h)
				return status
			}
			// Viewer 198.51.100.7 uses its two failures, behind a forged
			// first entry.
			for range 2 {
				if got := login("203.0.113.1, 198.51.100.7, 127.0.0.1"); got != 401 {
					t.Fatalf("failure within the burst: %d, want 401", got)
				}
			}
			tests := []struct {
				xff  string
				want int // behind the CDN; without one everything is 127.0.0.1
			}{
				{"203.0.113.1, 198.51.100.7, 127.0.0.1", 429},  // the same viewer
				{"203.0.113.2, 198.51.100.7, 127.0.0.1", 429},  // a new forged entry does not make a new client
				{"198.51.100.7", 429},                          // serve directly behind CloudFront: no edge entry
				{"203.0.113.1, 198.51.100.8, 127.0.0.1", 401},  // another viewer behind the same edge
				{"198.51.100.7, 198.51.100.9, 127.0.0.1", 401}, // the throttled address forged in front of a fresh one
			}
			for _, tt := range tests {
				want := tt.want
				if !cdn {
					want = 429 // every request comes from the one peer
				}
				if got := login(tt.xff); got != want {
					t.Errorf("X-Forwarded-For %q: %d, want %d", tt.xff, got, want)
				}
			}
		})
	}
}
