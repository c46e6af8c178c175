//go:build linux

package benchproc

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestWaitHealthy(t *testing.T) {
	tests := []struct {
		name    string
		status  int // what the health path answers
		script  string
		logged  string // waited for in the log first, so that the error can carry it
		timeout time.Duration
		wantErr []string // fragments of the error; none for success
	}{
		{"answers 200", http.StatusOK, "exec sleep 30", "", 5 * time.Second, nil},
		{"never healthy", http.StatusServiceUnavailable, "echo still starting; exec sleep 30", "still starting", 300 * time.Millisecond,
			[]string{"sh not healthy at http://127.0.0.1:", "/healthz: context deadline exceeded", "still starting"}},
		{"exits first", http.StatusServiceUnavailable, "echo boom; exit 1", "", 5 * time.Second,
			[]string{"sh exited before it was healthy (exit status 1):\nboom"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(tt.status) }))
			defer srv.Close()
			p := startSh(t, NewRegistry(time.Second), tt.script)
			if tt.logged != "" {
				waitLog(t, p, tt.logged)
			}
			err := p.WaitHealthy(context.Background(), srv.URL+"/healthz", tt.timeout)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("WaitHealthy = %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("WaitHealthy = nil, want an error")
			}
			for _, frag := range tt.wantErr {
				if !strings.Contains(err.Error(), frag) {
					t.Errorf("WaitHealthy = %q, want it to contain %q", err, frag)
				}
			}
		})
	}
}
