// Command ceiling is the load benchmark's yardstick: the least a Go
// program can do to answer GET /api/v1/assets/{id} and POST /api/v1/assets
// from PostgreSQL. It uses net/http and a pgxpool, runs one statement per
// request and logs nothing, so the service's throughput divided by this
// program's is the share the service keeps after its framework, middleware,
// validation and logging. Its POST does the service's insert: the asset
// and its event (the outbox row mail is sent from), in one statement, each
// request its own commit; it checks the Basic credentials in
// BASIC_AUTH_USERNAME and BASIC_AUTH_PASSWORD, as the service does.
//
// Usage:
//
//	ceiling -addr 127.0.0.1:8001 -database-url postgres://user:pass@127.0.0.1:5432/db [-max-conns 8]
package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	icymorning "github.com/icy-morning/icy-morning"
)

// asset has the members the service's GET /api/v1/assets/{id} returns, so
// both programs encode the same amount of JSON.
type asset struct {
	ID            int64   `json:"id"`
	Name          string  `json:"name"`
	Description   *string `json:"description"`
	InceptionDate string  `json:"inception_date"`
	IsActive      bool    `json:"is_active"`
	AnalystID     int64   `json:"analyst_id"`
}

const getAsset = `SELECT id, name, description, inception_date, is_active, analyst_id FROM assets WHERE id = $1`

// insertAsset is the service's create on PostgreSQL: the row and its
// creation event, whose snapshot is the row as stored.
const insertAsset = `WITH a AS (
  INSERT INTO assets (name, description, inception_date, is_active, analyst_id, created_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id, name, description, inception_date, is_active, analyst_id, created_at
),
e AS (
  INSERT INTO events (topic, asset_id, analyst_id, asset, occurred_at)
  SELECT '` + string(icymorning.TopicAssetCreation) + `', a.id, a.analyst_id, jsonb_build_object('id', a.id, 'name', a.name, 'description', a.description,
    'inception_date', a.inception_date, 'is_active', a.is_active, 'analyst_id', a.analyst_id), a.created_at FROM a
)
SELECT id, name, description, inception_date, is_active, analyst_id FROM a`

// servePoolSize is the pool icy-morning's serve opens on PostgreSQL by
// default, so that both programs have as many connections.
const servePoolSize = 8

func main() {
	addr := flag.String("addr", "127.0.0.1:8001", "address to listen on (host must be 127.0.0.1)")
	dbURL := flag.String("database-url", "", "PostgreSQL URL (postgres://...)")
	maxConns := flag.Int("max-conns", servePoolSize, "connections in the pool (icy-morning serve's default)")
	flag.Parse()
	if err := run(*addr, *dbURL, int32(*maxConns)); err != nil {
		fmt.Fprintln(os.Stderr, "ceiling:", err)
		os.Exit(1)
	}
}

func run(addr, dbURL string, maxConns int32) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" {
		// A benchmark yardstick has no business on a public interface.
		return fmt.Errorf("-addr must be 127.0.0.1:PORT, got %q", addr)
	}
	if dbURL == "" {
		return errors.New("-database-url is required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return fmt.Errorf("-database-url: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer pool.Close()
	if err := pool.Ping(ctx); err != nil {
		return fmt.Errorf("connect: %w", err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	mux.HandleFunc("GET /api/v1/assets/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		var a asset
		var inception time.Time
		err = pool.QueryRow(r.Context(), getAsset, id).
			Scan(&a.ID, &a.Name, &a.Description, &inception, &a.IsActive, &a.AnalystID)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			http.NotFound(w, r)
			return
		case err != nil:
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		a.InceptionDate = inception.Format("2006-01-02")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(&a)
	})

	user, password := os.Getenv("BASIC_AUTH_USERNAME"), os.Getenv("BASIC_AUTH_PASSWORD")
	mux.HandleFunc("POST /api/v1/assets", func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		// The service compares in constant time too.
		if !ok || user == "" || subtle.ConstantTimeCompare([]byte(u), []byte(user))&subtle.ConstantTimeCompare([]byte(p), []byte(password)) != 1 {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		var in struct {
			Name          string  `json:"name"`
			Description   *string `json:"description"`
			InceptionDate string  `json:"inception_date"`
			IsActive      bool    `json:"is_active"`
			AnalystID     int64   `json:"analyst_id"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		day, err := time.Parse("2006-01-02", in.InceptionDate)
		if err != nil || in.Name == "" {
			http.Error(w, "bad body", http.StatusUnprocessableEntity)
			return
		}
		var a asset
		var inception time.Time
		err = pool.QueryRow(r.Context(), insertAsset, in.Name, in.Description, day, in.IsActive, in.AnalystID, time.Now().UTC()).
			Scan(&a.ID, &a.Name, &a.Description, &inception, &a.IsActive, &a.AnalystID)
		if err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		a.InceptionDate = inception.Format("2006-01-02")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(&a)
	})

	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
