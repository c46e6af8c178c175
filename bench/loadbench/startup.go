//go:build linux

package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/icy-morning/icy-morning/bench/procstat"
	"github.com/icy-morning/icy-morning/internal/netaddr"
)

// measureStartup times, b.o.startupRuns times, how long the service takes
// from exec to its first 200 on a SQLite file that does not exist yet, so
// each start creates the file and applies every migration: the cold start
// a Lambda or a newcomer's first run pays.
func (b *bench) measureStartup(ctx context.Context) error {
	for i := range b.o.startupRuns {
		path := filepath.Join(b.tmp, fmt.Sprintf("startup-%d.db", i))
		if quiet, busy := procstat.WaitQuiet(ctx, b.o.quietWait, 0.1); !quiet {
			logf("start-up run %d: the machine is still busy (%.2f cores); measuring anyway", i+1, busy)
		}
		d, err := b.startupOnce(ctx, path)
		if err != nil {
			return fmt.Errorf("start-up run %d: %w", i+1, err)
		}
		b.startup = append(b.startup, d)
	}
	logf("start-up to first 200 on a new SQLite file: %v", b.startup)
	return nil
}

func (b *bench) startupOnce(ctx context.Context, dbPath string) (time.Duration, error) {
	addr, err := netaddr.FreeLoopback()
	if err != nil {
		return 0, err
	}
	t := b.service(dbSQLite, sqliteURL(dbPath))
	url := "http://" + addr + "/healthz"
	// A new connection per poll: until the server listens, each attempt is
	// refused at once, which is what lets a 1 ms poll resolve the moment it
	// starts answering.
	client := &http.Client{Timeout: 100 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	defer client.CloseIdleConnections()

	args := append(append([]string{}, t.args...), t.addrFlag, addr)
	logPath := filepath.Join(b.tmp, filepath.Base(dbPath)+".log")
	start := time.Now()
	p, err := b.procs.Start("icy-morning start-up", t.bin, args, t.env, logPath)
	if err != nil {
		return 0, err
	}
	defer b.procs.Stop(p)

	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
		select {
		case <-tick.C:
		case <-p.Done():
			return 0, fmt.Errorf("exited before answering (%v):\n%s", p.Err(), p.LogTail())
		case <-deadline:
			return 0, fmt.Errorf("no 200 from %s within 10s:\n%s", url, p.LogTail())
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}
