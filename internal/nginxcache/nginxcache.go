// Package nginxcache runs Debian's nginx as a shared cache in front of the
// service, the way an operator would put one there: proxy_cache keeps what
// the service's Cache-Control allows for as long as it allows (no
// proxy_cache_valid overrides it), and revalidates an expired answer with
// its ETag (proxy_cache_revalidate). The end-to-end test of the cache
// (e2e/cache) and the load benchmark (bench/loadbench) both run it from
// here, each with its own process runner. Everything nginx writes (pid,
// logs, temporary files, the cache) stays under one directory, so it runs
// as any user, beside any system nginx, and leaves nothing behind.
package nginxcache

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
)

// InstallCommand is how Debian installs what Bin looks for.
const InstallCommand = "apt-get install nginx"

// Bin is the nginx binary: on the PATH, or where Debian puts it (sbin is
// not on every user's PATH).
func Bin() (string, error) {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p, nil
	}
	const debian = "/usr/sbin/nginx"
	if _, err := os.Stat(debian); err == nil {
		return debian, nil
	}
	return "", errors.New("nginx is neither on the PATH nor at /usr/sbin/nginx")
}

// Require finds nginx for a test. Without it the test is skipped with a
// message saying how to install it, or fails when ICY_REQUIRE_NGINX=1 (as
// in CI), so the shared-cache tests cannot vanish unnoticed.
func Require(t testing.TB) string {
	t.Helper()
	bin, err := Bin()
	if err != nil {
		if os.Getenv("ICY_REQUIRE_NGINX") == "1" {
			t.Fatalf("ICY_REQUIRE_NGINX=1 but nginx is missing (%s): %v", InstallCommand, err)
		}
		t.Skipf("SKIPPED: this test needs nginx (%s): %v", InstallCommand, err)
	}
	return bin
}

// Config is one nginx in front of one origin. Listen is required; the
// other listeners are optional.
type Config struct {
	Dir    string // the prefix: nginx.conf, the pid, logs, temporary files and the cache go here
	Origin string // host:port of the service

	// Listen is the cache as nginx does it out of the box plus
	// revalidation: the first request after an answer expires waits for
	// the origin (a 304 to its If-None-Match, or the new answer).
	Listen string
	// BackgroundListen, when set, is a second cache, with a zone of its
	// own, that also honours stale-while-revalidate the way a CDN does:
	// the first request after an answer expires is answered from the
	// stale copy while a background request revalidates it.
	BackgroundListen string
	// TapListen, when set, puts a plain (uncaching) proxy between the
	// caches and the origin whose access log (OriginLog) records every
	// request that reached the origin, with its validators.
	TapListen string
	// AccessLogs writes the caches' access logs (CacheLog,
	// BackgroundLog); off for load, where they would cost disk writes.
	AccessLogs bool
	// SingleProcess runs nginx as one process (master_process off): the
	// load benchmark then reads its CPU time from one PID. One worker
	// answers requests either way.
	SingleProcess bool
}

// The log files under Dir. The caches' lines are
//
//	<method> <uri> <status> cache=<$upstream_cache_status>
//
// the tap's (what the origin saw)
//
//	<method> <uri> <status> inm=<If-None-Match> auth=<yes|no>
const (
	CacheLog      = "cache.log"
	BackgroundLog = "background.log"
	OriginLog     = "origin.log"
	ErrorLog      = "error.log"
)

// Args writes Dir/nginx.conf and returns the arguments that run nginx on
// it in the foreground.
func (c Config) Args() ([]string, error) {
	if c.Dir == "" || c.Origin == "" || c.Listen == "" {
		return nil, errors.New("nginxcache: Dir, Origin and Listen are required")
	}
	dir, err := filepath.Abs(c.Dir)
	if err != nil {
		return nil, err
	}
	c.Dir = dir
	for _, d := range []string{"tmp", "cache"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	conf, err := c.conf()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	return []string{"-p", dir + "/", "-c", path, "-g", "daemon off;"}, nil
}

func (c Config) conf() (string, error) {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	// A master running as root hands its workers to "nobody", who could
	// not write under Dir: keep them as the user who started it.
	if os.Geteuid() == 0 {
		u, err := user.Current()
		if err != nil {
			return "", err
		}
		p("user %s;", u.Username)
	}
	p("worker_processes 1;")
	if c.SingleProcess {
		p("master_process off;")
	}
	p("pid %s;", c.path("nginx.pid"))
	p("error_log %s notice;", c.path(ErrorLog))
	p("events { worker_connections 1024; }")
	p("http {")
	for _, t := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		p("  %s_temp_path %s;", t, c.path("tmp/"+t))
	}
	p("  access_log off;")
	p(`  log_format cache '$request_method $request_uri $status cache=$upstream_cache_status';`)
	// Whether a request carried credentials, never the credentials.
	p(`  map $http_authorization $has_auth { "" no; default yes; }`)
	p(`  log_format origin '$request_method $request_uri $status inm=$http_if_none_match auth=$has_auth';`)
	p("  upstream origin { server %s; keepalive 32; }", c.Origin)
	p("  proxy_http_version 1.1;")
	p(`  proxy_set_header Connection "";`)
	upstream := "http://origin"
	if c.TapListen != "" {
		p("  upstream tap { server %s; keepalive 32; }", c.TapListen)
		p("  server {")
		p("    listen %s;", c.TapListen)
		p("    access_log %s origin;", c.path(OriginLog))
		p("    location / { proxy_pass http://origin; }")
		p("  }")
		upstream = "http://tap"
	}
	c.cacheServer(p, "fresh", c.Listen, CacheLog, upstream, false)
	if c.BackgroundListen != "" {
		c.cacheServer(p, "background", c.BackgroundListen, BackgroundLog, upstream, true)
	}
	p("}")
	return b.String(), nil
}

// cacheServer writes one caching server: its own zone, the origin's
// Cache-Control deciding what is kept and for how long, and revalidation
// with the validators of the copy it holds.
func (c Config) cacheServer(p func(string, ...any), zone, listen, log, upstream string, background bool) {
	p("  proxy_cache_path %s levels=1:2 keys_zone=%s:4m max_size=256m inactive=10m use_temp_path=off;", c.path("cache/"+zone), zone)
	p("  server {")
	p("    listen %s;", listen)
	if c.AccessLogs {
		p("    access_log %s cache;", c.path(log))
	}
	p("    location / {")
	p("      proxy_pass %s;", upstream)
	p("      proxy_cache %s;", zone)
	p("      proxy_cache_revalidate on;")
	// One request fills or refreshes an entry; the others wait for it.
	p("      proxy_cache_lock on;")
	if background {
		p("      proxy_cache_use_stale updating;")
		p("      proxy_cache_background_update on;")
	}
	p("      add_header X-Cache-Status $upstream_cache_status always;")
	p("    }")
	p("  }")
}

func (c Config) path(name string) string { return filepath.Join(c.Dir, name) }
