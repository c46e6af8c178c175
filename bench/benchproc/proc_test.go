//go:build linux

package benchproc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLogTail(t *testing.T) {
	tests := []struct {
		name string
		log  *string // nil: there is no log file
		want string
	}{
		{"short, trimmed", ptr("\n  listening on 127.0.0.1:8080\n"), "listening on 127.0.0.1:8080"},
		{"empty", ptr(""), ""},
		{"no log file", nil, ""},
		{"exactly the limit", ptr(strings.Repeat("x", logTailBytes)), strings.Repeat("x", logTailBytes)},
		{"longer: its last bytes", ptr("first line\n" + strings.Repeat("x", 2500) + "panic: boom\n"),
			strings.Repeat("x", logTailBytes-len("panic: boom\n")) + "panic: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "p.log")
			if tt.log != nil {
				if err := os.WriteFile(path, []byte(*tt.log), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			p := &Proc{name: "p", logPath: path}
			if got := p.LogTail(); got != tt.want {
				t.Errorf("LogTail() = %q (%d bytes), want %q (%d bytes)", got, len(got), tt.want, len(tt.want))
			}
		})
	}
}

func ptr(s string) *string { return &s }

// Start gives the process the environment plus env, and logs its stdout
// and stderr both.
func TestStartLogsOutput(t *testing.T) {
	r := NewRegistry(time.Second)
	p := startSh(t, r, `echo out; echo err >&2; echo "$BENCHPROC_TEST"`, "BENCHPROC_TEST=from env")
	<-p.Done()
	if p.Err() != nil {
		t.Fatalf("Err() = %v", p.Err())
	}
	if got, want := p.LogTail(), "out\nerr\nfrom env"; got != want {
		t.Errorf("LogTail() = %q, want %q", got, want)
	}
}
