//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/icy-morning/icy-morning/bench/benchproc"
	"github.com/icy-morning/icy-morning/internal/netaddr"
)

// Mailpit is started here rather than through internal/mailpeer, whose
// helpers are for tests (they take a *testing.T); this program starts it
// the same way, on loopback ports, without the verbose log mailpeer keeps
// to count sessions: logging every SMTP exchange would cost Mailpit CPU
// in the very runs that measure it.

// findMailpit looks where make init installs Mailpit, as mailpeer does:
// $MAILPIT_BIN, then .tools/bin/mailpit under the module root, then PATH.
func findMailpit(root string) (string, error) {
	if bin := os.Getenv("MAILPIT_BIN"); bin != "" {
		_, err := os.Stat(bin)
		return bin, err
	}
	if bin := filepath.Join(root, ".tools", "bin", "mailpit"); fileExists(bin) {
		return bin, nil
	}
	bin, err := exec.LookPath("mailpit")
	if err != nil {
		return "", fmt.Errorf("mailpit not found (make init installs it: GOBIN=$PWD/.tools/bin go install github.com/axllent/mailpit@v1.33.1): %w", err)
	}
	return bin, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// mailpit is a running Mailpit.
type mailpit struct {
	*benchproc.Proc
	smtp string // 127.0.0.1:PORT
	api  string // http://127.0.0.1:PORT
}

// mailpitArgs are the flags of every Mailpit the benchmark starts: loopback
// only, a database file of its own, every message kept (--max 0, so that
// the count can be checked), errors-only logging, no network look-ups.
func mailpitArgs(smtpAddr, httpAddr, db string) []string {
	return []string{"--smtp", smtpAddr, "--listen", httpAddr, "--database", db, "--max", "0",
		"--quiet", "--disable-version-check", "--smtp-disable-rdns"}
}

// startMailpit starts a fresh Mailpit with an empty database in dir and
// waits until its API answers and its SMTP port accepts connections. One
// that exits first (another process took a port in between) is tried
// again on new ports.
func (b *bench) startMailpit(ctx context.Context, name string) (*mailpit, error) {
	var lastErr error
	for attempt := range 3 {
		smtpAddr, err1 := netaddr.FreeLoopback()
		httpAddr, err2 := netaddr.FreeLoopback()
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("free port: %v %v", err1, err2)
		}
		db := filepath.Join(b.tmp, fmt.Sprintf("%s-%d.mailpit.db", name, attempt))
		p, err := b.procs.Start("mailpit", b.o.mailpit, mailpitArgs(smtpAddr, httpAddr, db), nil, filepath.Join(b.tmp, name+".mailpit.log"))
		if err != nil {
			return nil, err
		}
		mp := &mailpit{Proc: p, smtp: smtpAddr, api: "http://" + httpAddr}
		if lastErr = mp.waitReady(ctx); lastErr == nil {
			return mp, nil
		}
		b.procs.Stop(p)
	}
	return nil, lastErr
}

func (mp *mailpit) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		if mp.ready(ctx, client) {
			return nil
		}
		select {
		case <-mp.Done():
			return fmt.Errorf("mailpit exited before it was ready (%v):\n%s", mp.Err(), mp.LogTail())
		case <-ctx.Done():
			return fmt.Errorf("mailpit not ready: %w\n%s", ctx.Err(), mp.LogTail())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (mp *mailpit) ready(ctx context.Context, client *http.Client) bool {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, mp.api+"/readyz", nil)
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	c, err := net.DialTimeout("tcp", mp.smtp, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// count is how many messages Mailpit holds.
func (mp *mailpit) count(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, mp.api+"/api/v1/messages?limit=1", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var page struct {
		Total int `json:"total"`
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET /api/v1/messages: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return 0, fmt.Errorf("GET /api/v1/messages: %w", err)
	}
	return page.Total, nil
}

// expectCount waits up to a few seconds for Mailpit to hold exactly want
// messages: it answers 250 once a message is stored, so any shortfall
// after that is a lost mail, and any excess a duplicate.
func (mp *mailpit) expectCount(ctx context.Context, want int) error {
	var n int
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; {
		if n, err = mp.count(ctx); err == nil && n == want {
			return nil
		}
		if time.Now().After(deadline) || (err == nil && n > want) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("mailpit holds %d messages, want %d", n, want)
}
