//go:build linux

package benchproc

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// WaitHealthy polls url until it answers 200, p exits, or timeout passes.
// The errors carry the end of p's log, which says why it did not start.
func (p *Proc) WaitHealthy(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was healthy (%v):\n%s", p.name, p.err, p.LogTail())
		case <-ctx.Done():
			return fmt.Errorf("%s not healthy at %s: %w\n%s", p.name, url, ctx.Err(), p.LogTail())
		case <-time.After(10 * time.Millisecond):
		}
	}
}
