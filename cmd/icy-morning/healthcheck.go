package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/icy-morning/icy-morning/httpapi"
)

// healthTimeout bounds one health check: the container's HEALTHCHECK
// counts a check that takes longer as failed anyway.
const healthTimeout = 3 * time.Second

// runHealthcheck asks the server on this machine for /healthz and fails
// unless it answers 200. It is the container image's HEALTHCHECK, which
// has no shell or curl to ask with. It reads serve's settings (ADDR,
// --addr), so it finds the port the server listens on.
func runHealthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, err := readConfig(modeServe, newFlags("healthcheck", "healthcheck [serve's flags]", stderr), args, getenv)
	if err != nil {
		return err
	}
	u, err := healthURL(c.addr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	// A server behind a CDN refuses requests without the origin secret,
	// its own health check's too.
	if c.originSecret != "" {
		req.Header.Set(httpapi.OriginHeader, c.originSecret)
	}
	// Never through a proxy from the environment: the server is local.
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<16))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", u, res.Status)
	}
	fmt.Fprintln(stdout, "healthy:", u)
	return nil
}

// healthURL is /healthz on the listen address addr, asked over loopback
// when the server listens on every address.
func healthURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("ADDR %q: %w", addr, err)
	}
	if port == "" || port == "0" {
		return "", fmt.Errorf("ADDR %q: no fixed port to check", addr)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}
