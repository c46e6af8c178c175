//go:build linux

package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The benchmark's own test binary is not PocketBase: a binary under
// .tools/ that is not its examples/base at the version wanted is rebuilt,
// and one given by -pocketbase-bin is refused.
func TestPocketBaseBuildRefusesOtherBinaries(t *testing.T) {
	if _, err := pocketBaseBuild(os.Args[0]); err == nil {
		t.Fatalf("pocketBaseBuild(%s) accepted a binary that is not PocketBase", os.Args[0])
	}
	if _, err := pocketBaseBuild(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("pocketBaseBuild accepted a missing file")
	}
}

func TestCopyDir(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "copy")
	files := map[string]string{"data.db": "one", "sub/auxiliary.db": "two"}
	for name, body := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(src, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := copyDir(src, dst); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if b, err := os.ReadFile(filepath.Join(dst, name)); err != nil || string(b) != body {
			t.Errorf("%s in the copy = %q, %v; want %q", name, b, err, body)
		}
	}
	// A round's copy is always new: copying over an earlier one is a bug.
	if err := copyDir(src, dst); err == nil {
		t.Error("copyDir overwrote an existing copy")
	}
}

func TestEachParallel(t *testing.T) {
	var mu sync.Mutex
	var seen []int
	err := eachParallel(context.Background(), 100, func(i int) error {
		mu.Lock()
		seen = append(seen, i)
		mu.Unlock()
		return nil
	})
	slices.Sort(seen)
	if err != nil || len(seen) != 100 || seen[0] != 0 || seen[99] != 99 {
		t.Fatalf("eachParallel = %v, called %d times; want nil and each of 0..99 once", err, len(seen))
	}

	boom := errors.New("boom")
	err = eachParallel(context.Background(), 1000, func(i int) error {
		if i == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("eachParallel = %v, want the failing call's error", err)
	}
}

// The report takes the ratios within each round, icy-morning over
// PocketBase, and judges the targets on their medians.
func TestReportPeer(t *testing.T) {
	b := &bench{o: options{connections: 32, threads: 2, duration: 10 * time.Second, pocketBaseRounds: 2}, pocketBaseVersion: "v0.40.4"}
	add := func(sc, server string, round int, rps float64, p50, p99 time.Duration, rss int64) {
		b.peer = append(b.peer, result{scenario: sc, database: dbSQLite, server: server, rows: seedAssetsSmall, round: round,
			wrkResult: wrkResult{rps: rps, p50: p50, p99: p99}, peakRSS: rss, quiet: true})
	}
	ms := time.Millisecond
	// Round 1: reads 3x and 2.5x, POST 1.6x with the same p99; round 2:
	// reads 2x and 1.5x, POST 1.2x with twice the p99.
	add(scGetByID, serverService, 1, 3000, ms, 2*ms, 40e6)
	add(scGetByID, serverPocketBase, 1, 1000, 3*ms, 6*ms, 200e6)
	add(scPageFirst, serverService, 1, 250, 10*ms, 20*ms, 41e6)
	add(scPageFirst, serverPocketBase, 1, 100, 30*ms, 60*ms, 110e6)
	add(scPost, serverService, 1, 1600, 8*ms, 40*ms, 42e6)
	add(scPost, serverPocketBase, 1, 1000, 10*ms, 40*ms, 120e6)
	add(scGetByID, serverPocketBase, 2, 1000, 3*ms, 6*ms, 190e6)
	add(scGetByID, serverService, 2, 2000, ms, 2*ms, 40e6)
	add(scPageFirst, serverPocketBase, 2, 100, 30*ms, 60*ms, 110e6)
	add(scPageFirst, serverService, 2, 150, 10*ms, 20*ms, 41e6)
	add(scPost, serverPocketBase, 2, 1000, 10*ms, 40*ms, 120e6)
	add(scPost, serverService, 2, 1200, 8*ms, 80*ms, 43e6)

	rep := b.report()
	want := map[string]bool{ // target prefix -> verdict
		"POST req/s >= 1.5x":           false, // median 1.4x
		"POST p99 no worse":            false, // median 1.5x
		scGetByID + " req/s >= 2.0x":   true,  // median 2.5x
		scPageFirst + " req/s >= 2.0x": true,  // median 2.0x
	}
	for prefix, pass := range want {
		found := false
		for _, v := range rep.verdicts {
			if strings.HasPrefix(v.target, prefix) {
				found = true
				if v.pass != pass {
					t.Errorf("%s: %s, pass %v; want pass %v", v.target, v.measured, v.pass, pass)
				}
			}
		}
		if !found {
			t.Errorf("no verdict on %q in %+v", prefix, rep.verdicts)
		}
	}
	md := rep.markdown("go run ./bench/loadbench -pocketbase-only")
	for _, s := range []string{"## PocketBase", "req/s **2.50x**", "req/s **1.40x**", "icy-morning 43.0 MB (POST asset), PocketBase 200.0 MB (GET asset by id)"} {
		if !strings.Contains(md, s) {
			t.Errorf("the report lacks %q:\n%s", s, md)
		}
	}
	if len(rep.problems) > 0 {
		t.Errorf("problems in a clean run: %v", rep.problems)
	}
}
