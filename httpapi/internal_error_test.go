package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/icy-morning/icy-morning/auth"
	"github.com/icy-morning/icy-morning/httpapi"
	"github.com/icy-morning/icy-morning/internal/testdb"
	"github.com/icy-morning/icy-morning/sqlstore"
)

// TestInternalErrorsLeakNothing: when the database fails, the client gets a
// 500 (or, for readiness, a 503) problem that names only the request id,
// and the log holds the cause under that id.
func TestInternalErrorsLeakNothing(t *testing.T) {
	store, err := sqlstore.Open(context.Background(), "sqlite:///"+t.TempDir()+"/gone.db", sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	store.Close() // every query now fails inside the driver
	var logs bytes.Buffer
	basic, _ := auth.NewBasic(user, pass)
	h := httpapi.NewServer(httpapi.Config{Store: store, Auth: basic, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})

	tests := []struct {
		path   string
		status int
	}{
		{"/api/v1/assets/1", 500},
		{"/api/v1/analysts", 500},
		{"/readyz", 503},
		{"/healthz", 200},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", tt.path, nil)
		r.Header.Set("X-Request-Id", "trace-"+strings.Trim(tt.path, "/"))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.status {
			t.Fatalf("%s: %d, want %d: %s", tt.path, w.Code, tt.status, w.Body)
		}
		if tt.status == 503 && w.Header().Get("Retry-After") != "2" {
			t.Fatalf("%s: Retry-After %q, want 2", tt.path, w.Header().Get("Retry-After"))
		}
		if tt.status != 500 {
			continue
		}
		var p struct{ Detail string }
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		id := r.Header.Get("X-Request-Id")
		if p.Detail != "internal error (request id "+id+")" {
			t.Fatalf("%s: detail %q says more than the request id", tt.path, p.Detail)
		}
		if !strings.Contains(logs.String(), `"msg":"internal error","request_id":"`+id+`"`) || !strings.Contains(logs.String(), "closed") {
			t.Fatalf("%s: cause not logged under the request id:\n%s", tt.path, logs.String())
		}
	}
}

// TestRequestTimeout: a database call that outlives the request's time
// budget ends in a 503 problem with Retry-After, not a hung request.
func TestRequestTimeout(t *testing.T) {
	url := testdb.Postgres(t)
	store, err := sqlstore.Open(context.Background(), url, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.MigrateUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Lock the table from another session so the read must wait.
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(context.Background(), "LOCK TABLE assets IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	basic, _ := auth.NewBasic(user, pass)
	h := httpapi.NewServer(httpapi.Config{Store: store, Auth: basic, RequestTimeout: 200 * time.Millisecond})
	w := httptest.NewRecorder()
	start := time.Now()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/assets/1", nil))
	if w.Code != 503 || time.Since(start) > 5*time.Second {
		t.Fatalf("status %d after %v: %s", w.Code, time.Since(start), w.Body)
	}
	if ra := w.Header().Get("Retry-After"); ra != "5" || !strings.Contains(w.Body.String(), "did not answer in time") {
		t.Fatalf("Retry-After %q, body %s; want 5 and the reason", ra, w.Body)
	}
}
