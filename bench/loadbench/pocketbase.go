//go:build linux

package main

import (
	"context"
	"crypto/rand"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/icy-morning/icy-morning/bench/benchproc"
)

// PocketBase (issue 10) is measured beside icy-morning on SQLite: the same
// two tables, made through its own API as its users make them, the same
// 1,000 assets, the same requests. This file builds it and prepares its
// data; peer.go runs the side-by-side rounds.

const (
	pocketBaseModule  = "github.com/pocketbase/pocketbase"
	pocketBasePackage = pocketBaseModule + "/examples/base"
	pocketBaseVersion = "v0.40.4"
	// PocketBase's go.mod asks for go 1.27. The go command takes this
	// toolchain from the module proxy as it takes a module; it is used for
	// PocketBase's build alone, and this module stays on its own Go.
	pocketBaseToolchain = "go1.27.3"
	pocketBaseBuildTime = 10 * time.Minute

	serverPocketBase = "PocketBase"

	// pbRecords is the assets collection's records API.
	pbRecords = "/api/collections/assets/records"
)

// pocketBase is a prepared PocketBase: its binary and a data directory
// holding the superuser, the two collections and the seed, which each
// round copies.
type pocketBase struct {
	bin       string
	seedDir   string   // the seeded data directory (pb_data)
	token     string   // the superuser's auth token, for the POSTs
	assetIDs  []string // record ids of the seeded assets, in seed order
	analystID string   // record id of the first analyst, whom the POSTs name
}

// pocketBaseBinary returns the PocketBase binary to measure and what it is:
// given, when not "", else .tools/pocketbase/<version>/base under the
// module root (gitignored), which it builds there first when it is missing
// or is not the version wanted.
func pocketBaseBinary(ctx context.Context, root, given string) (bin, version string, err error) {
	if given != "" {
		v, err := pocketBaseBuild(given)
		if err != nil {
			return "", "", fmt.Errorf("-pocketbase-bin %s: %w", given, err)
		}
		return given, v, nil
	}
	bin = filepath.Join(root, ".tools", "pocketbase", pocketBaseVersion, "base")
	if v, err := pocketBaseBuild(bin); err == nil && strings.HasPrefix(v, pocketBaseVersion+" ") {
		return bin, v, nil
	}
	logf("building PocketBase %s (%s) with %s into %s; up to %s", pocketBaseVersion, pocketBasePackage, pocketBaseToolchain, bin, pocketBaseBuildTime)
	start := time.Now()
	if err := buildPocketBase(ctx, bin); err != nil {
		return "", "", err
	}
	logf("built PocketBase in %s", time.Since(start).Round(time.Second))
	v, err := pocketBaseBuild(bin)
	if err != nil {
		return "", "", err
	}
	if !strings.HasPrefix(v, pocketBaseVersion+" ") {
		return "", "", fmt.Errorf("the PocketBase just built is %s, not %s", v, pocketBaseVersion)
	}
	return bin, v, nil
}

// pocketBaseBuild reads what bin is from its build information, as
// "v0.40.4 (examples/base, go1.27.3)"; it fails when bin is not a build of
// PocketBase's examples/base.
func pocketBaseBuild(bin string) (string, error) {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return "", err
	}
	if info.Path != pocketBasePackage || info.Main.Path != pocketBaseModule {
		return "", fmt.Errorf("%s is %s, not %s", bin, info.Path, pocketBasePackage)
	}
	return fmt.Sprintf("%s (examples/base, %s)", info.Main.Version, info.GoVersion), nil
}

// buildPocketBase installs PocketBase's examples/base as bin with `go
// install module@version`, which reads no go.mod of ours, in a bounded time.
// It builds into a new directory beside bin and moves the result into
// place, so that a failed or interrupted build leaves no binary behind.
func buildPocketBase(ctx context.Context, bin string) error {
	ctx, cancel := context.WithTimeout(ctx, pocketBaseBuildTime)
	defer cancel()
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return err
	}
	stage, err := os.MkdirTemp(filepath.Dir(bin), ".build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	// Version is what `base --version` prints; PocketBase's release builds
	// set it the same way.
	cmd := exec.CommandContext(ctx, "go", "install",
		"-ldflags=-X "+pocketBaseModule+".Version="+strings.TrimPrefix(pocketBaseVersion, "v"),
		pocketBasePackage+"@"+pocketBaseVersion)
	cmd.Dir = stage
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN="+pocketBaseToolchain, "GOBIN="+stage)
	// The go command and the compilers it starts form one process group,
	// which a timeout ends whole.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("GOTOOLCHAIN=%s go install %s@%s: %w\n%s", pocketBaseToolchain, pocketBasePackage, pocketBaseVersion, err, tail(out, 2000))
	}
	return os.Rename(filepath.Join(stage, filepath.Base(pocketBasePackage)), bin)
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}

// pocketBaseTarget is PocketBase serving dataDir as in production: dev mode
// (which logs every SQL statement) off, its defaults otherwise.
func pocketBaseTarget(bin, dataDir string) target {
	return target{server: serverPocketBase, database: dbSQLite, bin: bin,
		args: []string{"serve", "--dev=false", "--dir", dataDir}, addrFlag: "--http", health: "/api/health"}
}

// preparePocketBase makes PocketBase's seed, as its users would: a
// superuser from its command line, then through its API, as that
// superuser, the analysts and assets collections (anyone may list and view
// them; only a superuser may create) and the same analysts and assets as
// the service's seed. The data directory's parent is PocketBase's own
// (it writes pb_migrations there), inside the run's temporary directory.
func (b *bench) preparePocketBase(ctx context.Context, bin string) (*pocketBase, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	pb := &pocketBase{bin: bin, seedDir: filepath.Join(b.tmp, "pocketbase-seed", "pb_data")}
	email, pass := "bench@example.com", rand.Text()
	if err := runBounded(ctx, time.Minute, bin, "superuser", "upsert", email, pass, "--dir", pb.seedDir); err != nil {
		return nil, err
	}
	srv, err := b.startServer(ctx, pocketBaseTarget(bin, pb.seedDir), nil)
	if err != nil {
		return nil, fmt.Errorf("PocketBase: %w", err)
	}
	// Stopped by SIGTERM, so that it closes its databases before the
	// rounds copy them.
	defer b.procs.Stop(srv.Proc)
	api := srv.base

	var auth struct {
		Token string `json:"token"`
	}
	if err := pbCall(ctx, http.MethodPost, api+"/api/collections/_superusers/auth-with-password", "",
		map[string]string{"identity": email, "password": pass}, &auth); err != nil {
		return nil, err
	}
	pb.token = auth.Token

	// The service's tables, field for field (PocketBase adds its own id);
	// created and updated as the service's created_at and updated_at.
	stamps := []map[string]any{
		{"name": "created", "type": "autodate", "onCreate": true},
		{"name": "updated", "type": "autodate", "onCreate": true, "onUpdate": true},
	}
	var analysts struct {
		ID string `json:"id"`
	}
	if err := pbCall(ctx, http.MethodPost, api+"/api/collections", pb.token, map[string]any{
		"name": "analysts", "type": "base", "listRule": "", "viewRule": "",
		"fields": append([]map[string]any{
			{"name": "name", "type": "text", "required": true},
			{"name": "company", "type": "text"},
		}, stamps...),
	}, &analysts); err != nil {
		return nil, err
	}
	if err := pbCall(ctx, http.MethodPost, api+"/api/collections", pb.token, map[string]any{
		"name": "assets", "type": "base", "listRule": "", "viewRule": "",
		"fields": append([]map[string]any{
			{"name": "name", "type": "text", "required": true},
			{"name": "description", "type": "text"},
			{"name": "inception_date", "type": "date", "required": true},
			{"name": "is_active", "type": "bool"},
			{"name": "analyst", "type": "relation", "collectionId": analysts.ID, "maxSelect": 1, "required": true},
		}, stamps...),
	}, nil); err != nil {
		return nil, err
	}

	analystIDs := make([]string, seedAnalysts)
	if err := eachParallel(ctx, seedAnalysts, func(i int) error {
		a := seedAnalyst(i + 1)
		var rec struct {
			ID string `json:"id"`
		}
		err := pbCall(ctx, http.MethodPost, api+"/api/collections/analysts/records", pb.token,
			map[string]string{"name": a.Name, "company": a.Company}, &rec)
		analystIDs[i] = rec.ID
		return err
	}); err != nil {
		return nil, fmt.Errorf("seed analysts: %w", err)
	}
	pb.analystID = analystIDs[0]
	pb.assetIDs = make([]string, seedAssetsSmall)
	if err := eachParallel(ctx, seedAssetsSmall, func(i int) error {
		a := seedAsset(i + 1)
		body := map[string]any{"name": a.Name, "inception_date": a.InceptionDate.String(), "is_active": a.IsActive,
			"analyst": analystIDs[a.AnalystID-1]}
		if a.Description != nil {
			body["description"] = *a.Description
		}
		var rec struct {
			ID string `json:"id"`
		}
		err := pbCall(ctx, http.MethodPost, api+pbRecords, pb.token, body, &rec)
		pb.assetIDs[i] = rec.ID
		return err
	}); err != nil {
		return nil, fmt.Errorf("seed assets: %w", err)
	}
	logf("PocketBase seeded with %d analysts and %d assets in %s", seedAnalysts, seedAssetsSmall, time.Since(start).Round(time.Millisecond))
	return pb, nil
}

// pbCall sends body as JSON to PocketBase and decodes its 200 answer into v
// (unless v is nil).
func pbCall(ctx context.Context, method, url, token string, body, v any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return fetchJSON(ctx, method, url, strings.NewReader(string(b)), token, http.StatusOK, v)
}

// eachParallel calls f(0) ... f(n-1) from a few goroutines and returns the
// first error; after one, the rest are not started.
func eachParallel(ctx context.Context, n int, f func(i int) error) error {
	const workers = 4
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				if err := f(i); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}

// runBounded runs bin with args, in at most d.
func runBounded(ctx context.Context, d time.Duration, bin string, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.SysProcAttr = benchproc.SysProcAttr()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", filepath.Base(bin), args[0], err, tail(out, 2000))
	}
	return nil
}
