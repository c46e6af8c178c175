package sqlstore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// pingUntil retries a failing ping until the bound, and keeps the last
// attempt's own error rather than the bound's deadline.
func TestPingUntil(t *testing.T) {
	refused := errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
	tests := []struct {
		name      string
		wait      time.Duration
		failFirst int // attempts that fail before one succeeds; -1 for all
		wantCalls func(n int) bool
		wantErr   string
	}{
		{"up at once", time.Second, 0, func(n int) bool { return n == 1 }, ""},
		{"up on the third attempt", 5 * time.Second, 2, func(n int) bool { return n == 3 }, ""},
		{"0 tries once", 0, -1, func(n int) bool { return n == 1 }, "connection refused"},
		{"never up", 700 * time.Millisecond, -1, func(n int) bool { return n >= 3 }, "not reachable within 700ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			ping := func(ctx context.Context) error {
				calls++
				if tt.failFirst < 0 || calls <= tt.failFirst {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					return refused
				}
				return nil
			}
			start := time.Now()
			err := pingUntil(context.Background(), ping, tt.wait)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatal(err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, refused)):
				t.Fatalf("err = %v, want %q wrapping the last attempt's error", err, tt.wantErr)
			}
			if !tt.wantCalls(calls) {
				t.Errorf("%d attempts", calls)
			}
			if took := time.Since(start); took > tt.wait+500*time.Millisecond {
				t.Errorf("took %s, bound %s", took, tt.wait)
			}
		})
	}
}
