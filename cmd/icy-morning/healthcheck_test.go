package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

func TestHealthURL(t *testing.T) {
	tests := []struct {
		addr, want, err string
	}{
		{addr: "0.0.0.0:8000", want: "http://127.0.0.1:8000/healthz"},
		{addr: ":8000", want: "http://127.0.0.1:8000/healthz"},
		{addr: "[::]:8000", want: "http://[::1]:8000/healthz"},
		{addr: "127.0.0.1:9001", want: "http://127.0.0.1:9001/healthz"},
		{addr: "icy.internal:80", want: "http://icy.internal:80/healthz"},
		{addr: "8000", err: "missing port"},
		{addr: "127.0.0.1:0", err: "no fixed port"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			got, err := healthURL(tt.addr)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("healthURL(%q) = %q, %v; want an error with %q", tt.addr, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("healthURL(%q) = %q, %v; want %q", tt.addr, got, err, tt.want)
			}
		})
	}
}

// TestHealthcheck runs the command against a real serve, a server that
// answers something else, and a port nobody listens on.
func TestHealthcheck(t *testing.T) {
	db := "sqlite:///" + filepath.Join(t.TempDir(), "health.db")
	base, _ := startServe(t, nil, map[string]string{"DATABASE_URL": db})
	// serve behind a CDN refuses what lacks its origin secret: the health
	// check sends it.
	cdnDB := "sqlite:///" + filepath.Join(t.TempDir(), "health-cdn.db")
	behindCDN, _ := startServe(t, nil, map[string]string{"DATABASE_URL": cdnDB, "CDN_ORIGIN_SECRET": "origin-s3cret"})
	unhealthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer unhealthy.Close()

	tests := []struct {
		name string
		args []string
		vars map[string]string
		err  string
	}{
		{name: "serve, by flag", args: []string{"--addr", strings.TrimPrefix(base, "http://")}},
		{name: "serve, by ADDR", vars: map[string]string{"ADDR": strings.TrimPrefix(base, "http://")}},
		{name: "not 200", args: []string{"--addr", strings.TrimPrefix(unhealthy.URL, "http://")}, err: "503 Service Unavailable"},
		{name: "nobody listening", args: []string{"--addr", freeAddr(t)}, err: "connection refused"},
		{name: "a bad setting", vars: map[string]string{"LOG_LEVEL": "loud"}, err: "LOG_LEVEL"},
		{name: "behind a CDN", vars: map[string]string{"ADDR": strings.TrimPrefix(behindCDN, "http://"), "CDN_ORIGIN_SECRET": "origin-s3cret"}},
		{name: "behind a CDN, without its secret", vars: map[string]string{"ADDR": strings.TrimPrefix(behindCDN, "http://")}, err: "403 Forbidden"},
		{name: "behind a CDN, another secret", vars: map[string]string{"ADDR": strings.TrimPrefix(behindCDN, "http://"), "CDN_ORIGIN_SECRET": "guess"}, err: "403 Forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{"DATABASE_URL": db}
			for k, v := range tt.vars {
				vars[k] = v
			}
			err := run(context.Background(), append([]string{"healthcheck"}, tt.args...), env(vars), io.Discard, io.Discard)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("healthcheck failed: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("healthcheck = %v, want an error with %q", err, tt.err)
			}
		})
	}
}
