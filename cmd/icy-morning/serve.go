package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/auth"
	"github.com/icy-morning/icy-morning/httpapi"
	"github.com/icy-morning/icy-morning/sqlstore"
)

// shutdownGrace is how long in-flight requests get to finish after
// SIGINT/SIGTERM.
const shutdownGrace = 20 * time.Second

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, err := readConfig(modeServe, newFlags("serve", "serve [flags]", stderr), args, getenv)
	if err != nil {
		return err
	}
	logger := newLogger(&c, stderr)
	authn, err := authenticator(ctx, &c, func() (icymorning.Authenticator, error) { return basicAuth(&c, stderr) })
	if err != nil {
		return err
	}
	c.maxConns = servePoolSize(c.maxConns, c.database)
	store, notes, closeBackend, err := openBackend(ctx, &c, logger)
	if err != nil {
		return err
	}
	defer closeBackend()
	if c.dispatcher {
		// Stopped with the server (below), and waited for, so that the
		// batch in flight is recorded before the store closes.
		dctx, stop := context.WithCancel(ctx)
		wait := notes.run(dctx)
		defer wait()
		defer stop()
	}

	srv := &http.Server{
		Addr: c.addr,
		Handler: httpapi.NewServer(httpapi.Config{Store: store, Auth: authn, Notifier: notes.service, Logger: logger, Version: version(), PrivateReads: c.privateReads,
			RequireIfMatch: c.requireIfMatch, Cache: c.cache, OriginSecret: c.originSecret}),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	maxOpenConns := openConnsCap(c.maxOpenConns, c.maxConns, logger)
	tcp, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	ln := httpapi.NewListener(tcp, maxOpenConns)
	logger.Info("listening", "addr", ln.Addr().String(), "docs", "http://"+ln.Addr().String()+"/docs",
		"database", string(store.Dialect()), "version", version(), "max_open_conns", maxOpenConns)

	errc := make(chan error, 1)
	go func() { errc <- ln.Serve(srv) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// basicAuth builds the write-route authenticator. With no account
// configured it makes one for user admin with a random password, printed
// once, so that the one-command local run can still write; it never accepts
// empty credentials.
func basicAuth(c *config, stderr io.Writer) (icymorning.Authenticator, error) {
	if c.authUser == "" && c.authPass == "" {
		c.authUser, c.authPass = "admin", auth.GeneratePassword()
		fmt.Fprintf(stderr, "No BASIC_AUTH_USERNAME/BASIC_AUTH_PASSWORD set: writes need user %q, password %q (generated for this run only).\n",
			c.authUser, c.authPass)
	}
	a, err := auth.NewBasic(c.authUser, c.authPass)
	if err != nil {
		return nil, fmt.Errorf("BASIC_AUTH_USERNAME and BASIC_AUTH_PASSWORD must both be set, or neither")
	}
	return a, nil
}

// servePGMaxConns is serve's PostgreSQL pool size when neither
// DB_MAX_CONNS nor the URL's pool_max_conns sets one. pgxpool's own default,
// max(4, NumCPU), is 4 on 2 cores, too few for POSTs that each wait on a
// WAL flush: the requests queue for a connection while PostgreSQL waits on
// the disk. Measured with wrk at 32 connections on 2 cores (2026-11-28,
// medians of 4 alternating runs), POST rose from about 2,030 to 2,680
// req/s and p50 from 14.6 to 11.4 ms going from 4 to 8 connections, about
// a bare pgx server's rate at the same pool size; 16 and 32 gave no more
// requests/s and a longer tail (the server's backends then compete with
// serve for the 2 cores). PostgreSQL groups the concurrent commits' WAL
// flushes itself, so durability is unchanged.
const servePGMaxConns = 8

// servePoolSize is the pool size serve opens its database with: set, or on
// PostgreSQL servePGMaxConns unless the URL names a pool_max_conns.
func servePoolSize(set int, db sqlstore.Location) int {
	if set != 0 || db.Dialect != sqlstore.Postgres || db.SetsPoolSize() {
		return set
	}
	return servePGMaxConns
}

// openStore opens the database and, unless told not to, migrates it.
func openStore(ctx context.Context, c *config, logger *slog.Logger) (*sqlstore.Store, error) {
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	store, err := sqlstore.OpenLocation(octx, c.database, sqlstore.Options{MaxConns: c.maxConns})
	if err != nil {
		return nil, err
	}
	if c.migrate {
		n, err := store.MigrateUp(octx)
		if err != nil {
			store.Close()
			return nil, err
		}
		if n > 0 {
			logger.Info("applied migrations", "count", n)
		}
	}
	return store, nil
}

// defaultMaxOpenConns is the default cap on open client connections. It is
// some 30 times what keeps an instance busy (32 connections saturate two
// cores in docs/performance.md), so clients past it would only queue, and
// at about 16 KiB each (a goroutine and its read and write buffers) they
// fit well within the 48 MiB memory limit tuneGC sets.
const defaultMaxOpenConns = 1024

// fdReserve is how many file descriptors beyond the database pool are kept
// for the rest of the process: the listener, the standard streams,
// SQLite's database, WAL and lock files, and the default pool (4
// connections, or one per CPU) when DB_MAX_CONNS is 0.
const fdReserve = 64

// openConnsCap returns the cap on open client connections: the one set, or
// the default lowered to what the open-file limit leaves room for, so that
// the cap is met before accept(2) fails with EMFILE and takes the database
// down with it. (Go raises the soft limit to the hard one at start-up, so
// this bites only where the hard limit itself is low.) A cap set above that
// room is kept, with a warning: the operator may know better.
func openConnsCap(set, dbConns int, logger *slog.Logger) int {
	room := math.MaxInt
	limit, ok := openFileLimit()
	if ok && limit < math.MaxInt32 {
		room = max(int(limit)-fdReserve-dbConns, 1)
	}
	if set == 0 {
		return min(defaultMaxOpenConns, room)
	}
	if set > room {
		logger.Warn("HTTP_MAX_CONNS is more than the open-file limit leaves room for",
			"max_open_conns", set, "room", room, "open_file_limit", limit)
	}
	return set
}
