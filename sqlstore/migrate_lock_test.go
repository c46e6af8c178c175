package sqlstore

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// The migration lock excludes a second holder, even in the same process
// (as TestConcurrentMigrations in cmd/icy-morning needs), gives up when
// the waiter's context ends, and is free again once unlocked.
func TestFileLockerExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db.migrate-lock")
	ctx := context.Background()
	first, second := &fileLocker{path: path}, &fileLocker{path: path}
	if err := first.Lock(ctx, nil); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 10*lockRetry)
	defer cancel()
	if err := second.Lock(short, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Lock while the first holds it: err = %v, want a deadline", err)
	}

	got := make(chan error, 1)
	go func() { got <- second.Lock(ctx, nil) }()
	select {
	case err := <-got:
		t.Fatalf("second Lock returned %v while the first holds it", err)
	case <-time.After(5 * lockRetry):
	}
	if err := first.Unlock(ctx, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("second Lock still waits after the first unlocked")
	}
	if err := second.Unlock(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := second.Unlock(ctx, nil); err != nil {
		t.Fatalf("a second Unlock: %v", err)
	}
}
