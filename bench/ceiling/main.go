// Command ceiling is the load benchmark's yardstick: the least a Go
// program can do to answer GET /api/v1/assets/{id} from PostgreSQL. It uses
// net/http and a pgxpool with its default configuration, runs one query per
// request and logs nothing, so the service's throughput divided by this
// program's is the share the service keeps after its framework, middleware,
// validation and logging.
//
// Usage:
//
//	ceiling -addr 127.0.0.1:8001 -database-url postgres://user:pass@127.0.0.1:5432/db
package main

import (
	"context"
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

func main() {
	addr := flag.String("addr", "127.0.0.1:8001", "address to listen on (host must be 127.0.0.1)")
	dbURL := flag.String("database-url", "", "PostgreSQL URL (postgres://...)")
	flag.Parse()
	if err := run(*addr, *dbURL); err != nil {
		fmt.Fprintln(os.Stderr, "ceiling:", err)
		os.Exit(1)
	}
}

func run(addr, dbURL string) error {
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

	pool, err := pgxpool.New(ctx, dbURL)
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
