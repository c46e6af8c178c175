package nginxcache

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestConfigAccepted has nginx itself check each configuration Args
// writes (nginx -t), and checks the directives the cache depends on.
func TestConfigAccepted(t *testing.T) {
	bin := Require(t)
	for _, c := range []struct {
		name string
		cfg  Config
		want []string // in nginx.conf
		not  []string
	}{
		{"revalidating cache only", Config{Origin: "127.0.0.1:9", Listen: "127.0.0.1:10"},
			[]string{"proxy_cache_revalidate on;", "proxy_pass http://origin;", "add_header X-Cache-Status $upstream_cache_status always;"},
			[]string{"proxy_cache_valid", "proxy_ignore_headers", "access_log /", "master_process off;", "background_update"}},
		{"both caches, tap and logs", Config{Origin: "127.0.0.1:9", Listen: "127.0.0.1:10", BackgroundListen: "127.0.0.1:11", TapListen: "127.0.0.1:12", AccessLogs: true},
			[]string{"proxy_pass http://tap;", "proxy_cache_background_update on;", "proxy_cache_use_stale updating;", OriginLog + " origin;", CacheLog + " cache;"},
			[]string{"proxy_cache_valid", "proxy_ignore_headers"}},
		{"one process", Config{Origin: "127.0.0.1:9", Listen: "127.0.0.1:10", SingleProcess: true},
			[]string{"master_process off;"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.Dir = t.TempDir()
			args, err := c.cfg.Args()
			if err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(bin, append([]string{"-t"}, args...)...).CombinedOutput(); err != nil {
				t.Fatalf("nginx -t: %v\n%s", err, out)
			}
			conf, err := os.ReadFile(args[3])
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range c.want {
				if !strings.Contains(string(conf), w) {
					t.Errorf("nginx.conf lacks %q:\n%s", w, conf)
				}
			}
			for _, n := range c.not {
				if strings.Contains(string(conf), n) {
					t.Errorf("nginx.conf has %q:\n%s", n, conf)
				}
			}
		})
	}
	if _, err := (Config{Dir: t.TempDir()}).Args(); err == nil {
		t.Error("Args without Origin and Listen: no error")
	}
}
