//go:build linux

package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/icy-morning/icy-morning/bench/benchproc"
	"github.com/icy-morning/icy-morning/internal/netaddr"
)

// server is a started HTTP server under test.
type server struct {
	*benchproc.Proc
	base string // http://127.0.0.1:PORT
}

// startServer starts t's binary listening on a free loopback port, with
// env added to t's, and waits until its health path (/healthz unless t
// names another) answers. t's args get t.addrFlag and the address appended.
func (b *bench) startServer(ctx context.Context, t target, env []string) (*server, error) {
	addr, err := netaddr.FreeLoopback()
	if err != nil {
		return nil, err
	}
	args := append(slices.Clone(t.args), t.addrFlag, addr)
	logPath := filepath.Join(b.tmp, fmt.Sprintf("%s-%d.log", strings.ReplaceAll(t.server, " ", "-"), time.Now().UnixNano()))
	p, err := b.procs.Start(t.server, t.bin, args, slices.Concat(t.env, env), logPath)
	if err != nil {
		return nil, err
	}
	base := "http://" + addr
	health := t.health
	if health == "" {
		health = "/healthz"
	}
	if err := p.WaitHealthy(ctx, base+health, 30*time.Second); err != nil {
		b.procs.Stop(p)
		return nil, err
	}
	return &server{Proc: p, base: base}, nil
}
