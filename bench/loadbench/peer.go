//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/icy-morning/icy-morning/internal/benchreport"
)

// The side by side of icy-morning and PocketBase, both on SQLite (issue 10).
// Each round starts both from fresh copies of the same seed (1,000 assets),
// then measures, scenario by scenario, one server and then the other, as
// every scenario here is measured (a fresh server, a pre-flight request, a
// warm-up, the measured wrk run, its peak RSS). The order alternates
// between rounds (icy-morning first in odd rounds, PocketBase first in even
// ones), so that a drift in the machine's load falls on both sides; the
// ratios are taken within a round. The POSTs come last, as they add rows.

// The targets for icy-morning on SQLite against PocketBase.
const (
	targetPeerPost = 1.5 // POST req/s at least this many times PocketBase's
	targetPeerRead = 2.0 // GET by id and the page of 100: req/s at least this
	// POST p99 at most PocketBase's.
	targetPeerPostP99 = 1.0
)

// peerScenarios are the side-by-side scenarios in the order each round
// runs them, with the results of both servers.
var peerScenarios = []string{scGetByID, scPageFirst, scPost}

// runPeer prepares both seeds and runs -pocketbase-rounds rounds.
func (b *bench) runPeer(ctx context.Context, pbBin string) error {
	pb, err := b.preparePocketBase(ctx, pbBin)
	if err != nil {
		return err
	}
	seed := filepath.Join(b.tmp, "peer-seed")
	if err := os.Mkdir(seed, 0o755); err != nil {
		return err
	}
	if err := prepareSQLite(ctx, b.o.bin, filepath.Join(seed, "bench.db"), seedAssetsSmall); err != nil {
		return err
	}
	// Both GET-by-id loads run the same Lua, walking a file of ids: 1..1,000
	// for the service, PocketBase's record ids for PocketBase.
	ours := make([]string, seedAssetsSmall)
	for i := range ours {
		ours[i] = strconv.Itoa(i + 1)
	}
	ourIDs, theirIDs := filepath.Join(b.tmp, "peer-ids-icy-morning.txt"), filepath.Join(b.tmp, "peer-ids-pocketbase.txt")
	if err := os.WriteFile(ourIDs, []byte(strings.Join(ours, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(theirIDs, []byte(strings.Join(pb.assetIDs, "\n")+"\n"), 0o644); err != nil {
		return err
	}

	for round := 1; round <= b.o.pocketBaseRounds; round++ {
		dir := filepath.Join(b.tmp, fmt.Sprintf("peer-round-%d", round))
		if err := copyDir(seed, filepath.Join(dir, "icy-morning")); err != nil {
			return err
		}
		if err := copyDir(pb.seedDir, filepath.Join(dir, "pocketbase", "pb_data")); err != nil {
			return err
		}
		us := b.service(dbSQLite, sqliteURL(filepath.Join(dir, "icy-morning", "bench.db")))
		them := pocketBaseTarget(pb.bin, filepath.Join(dir, "pocketbase", "pb_data"))
		tag := fmt.Sprintf(" (beside PocketBase, round %d)", round)

		ourGet := b.getByID(seedAssetsSmall)
		ourGet.scriptArgs = []string{strconv.Itoa(seedAssetsSmall), "", ourIDs}
		pairs := [][2]scenario{
			{ourGet, pbGetByID(pb.assetIDs[0], theirIDs)},
			{b.page(scPageFirst, 0), pbPage()},
			{b.post(), pbPost(pb)},
		}
		for _, p := range pairs {
			order := []target{us, them}
			scs := []scenario{p[0], p[1]}
			if round%2 == 0 {
				slices.Reverse(order)
				slices.Reverse(scs)
			}
			for i, t := range order {
				sc := scs[i]
				sc.tag = tag
				r, err := b.measureBest(ctx, t, sc, seedAssetsSmall)
				if err != nil {
					return err
				}
				r.round = round
				b.peer = append(b.peer, *r)
			}
		}
	}
	return nil
}

// pbGetByID walks the seeded assets' record ids (in idsFile) by
// PocketBase's record view; the pre-flight checks the first.
func pbGetByID(first, idsFile string) scenario {
	return scenario{
		name:       scGetByID,
		path:       pbRecords + "/" + first,
		script:     "get_by_id.lua",
		scriptArgs: []string{strconv.Itoa(seedAssetsSmall), pbRecords + "/", idsFile},
		preflight: func(ctx context.Context, base string) error {
			var a struct {
				ID            string `json:"id"`
				InceptionDate string `json:"inception_date"`
			}
			if err := fetchJSON(ctx, http.MethodGet, base+pbRecords+"/"+first, nil, "", http.StatusOK, &a); err != nil {
				return err
			}
			if a.ID != first || !strings.HasPrefix(a.InceptionDate, "20") {
				return fmt.Errorf("GET asset %s from PocketBase: unexpected body %+v", first, a)
			}
			return nil
		},
	}
}

// pbPage is PocketBase's first page of 100 assets, without the count of
// all rows that it makes by default (skipTotal=1): the service counts
// nothing either.
func pbPage() scenario {
	path := pbRecords + "?perPage=100&skipTotal=1"
	return scenario{
		name: scPageFirst,
		path: path,
		preflight: func(ctx context.Context, base string) error {
			var page struct {
				Items      []struct{ ID string } `json:"items"`
				TotalItems int                   `json:"totalItems"`
			}
			if err := fetchJSON(ctx, http.MethodGet, base+path, nil, "", http.StatusOK, &page); err != nil {
				return err
			}
			if len(page.Items) != 100 || page.TotalItems != -1 {
				return fmt.Errorf("GET %s from PocketBase: %d items, totalItems %d; want 100 and -1 (not counted)", path, len(page.Items), page.TotalItems)
			}
			return nil
		},
	}
}

// pbPost creates the service's POST's asset in PocketBase, as the
// superuser, whose token goes in the Authorization header.
func pbPost(pb *pocketBase) scenario {
	body := `{"name":"bench asset","is_active":true,"analyst":"` + pb.analystID + `","inception_date":"2024-01-02"}`
	auth := "Bearer " + pb.token
	return scenario{
		name:       scPost,
		path:       pbRecords,
		script:     "post_asset.lua",
		scriptArgs: []string{auth, body},
		preflight: func(ctx context.Context, base string) error {
			return fetchJSON(ctx, http.MethodPost, base+pbRecords, strings.NewReader(body), auth, http.StatusOK, nil)
		},
	}
}

// copyDir copies the regular files under src to dst, which it creates.
func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}

// findPeer is server's result for a scenario in a round.
func (b *bench) findPeer(scenario, server string, round int) *result {
	for i := range b.peer {
		r := &b.peer[i]
		if r.scenario == scenario && r.server == server && r.round == round {
			return r
		}
	}
	return nil
}

// reportPeer adds the side by side to the report: per scenario, the ratio
// icy-morning / PocketBase of req/s, p50 and p99 in each round and their
// medians; the peak RSS of each; and the verdicts on the targets,
// judged on the medians of the per-round ratios.
func (b *bench) reportPeer(rep *report) {
	if b.pocketBaseSkipped != "" {
		rep.warnings = append(rep.warnings, "the PocketBase comparison was SKIPPED: "+b.pocketBaseSkipped)
	}
	if len(b.peer) == 0 {
		return
	}
	rep.peer = b.peer
	rep.peerTitle = fmt.Sprintf("icy-morning beside PocketBase %s, both on SQLite, %s assets (fresh copies of the same seed each round)",
		b.pocketBaseVersion, benchreport.Thousands(seedAssetsSmall))
	for _, r := range b.peer {
		// A read that fails is not a slow read: the run is invalid. A POST
		// that fails, or a socket error, is a doubtful figure (wrk counts
		// failed responses in req/s).
		if r.non2xx > 0 || r.socketErrors > 0 {
			msg := fmt.Sprintf("%s on %s, side by side with PocketBase (round %d): %d non-2xx responses, %d socket errors", r.scenario, r.server, r.round, r.non2xx, r.socketErrors)
			if r.scenario != scPost && r.non2xx > 0 {
				rep.problems = append(rep.problems, msg)
			} else {
				rep.warnings = append(rep.warnings, msg)
			}
		}
		if !r.quiet || r.cpu.other > noisyCores {
			rep.warnings = append(rep.warnings, fmt.Sprintf("%s on %s, side by side with PocketBase (round %d): other processes used %.2f cores during the run",
				r.scenario, r.server, r.round, r.cpu.other))
		}
	}

	medians := map[string]map[string]float64{} // scenario -> "rps", "p50", "p99" -> median ratio
	for _, sc := range peerScenarios {
		var rps, p50, p99 []float64
		var rounds []string
		for round := 1; round <= b.o.pocketBaseRounds; round++ {
			us, them := b.findPeer(sc, serverService, round), b.findPeer(sc, serverPocketBase, round)
			if us == nil || them == nil {
				continue
			}
			rps = append(rps, us.rps/them.rps)
			p50 = append(p50, float64(us.p50)/float64(them.p50))
			p99 = append(p99, float64(us.p99)/float64(them.p99))
			rounds = append(rounds, fmt.Sprintf("round %d: req/s %s / %s = %.2fx, p50 %s / %s = %.2fx, p99 %s / %s = %.2fx", round,
				benchreport.Thousands(int64(us.rps+0.5)), benchreport.Thousands(int64(them.rps+0.5)), us.rps/them.rps,
				benchreport.Ms(us.p50), benchreport.Ms(them.p50), float64(us.p50)/float64(them.p50),
				benchreport.Ms(us.p99), benchreport.Ms(them.p99), float64(us.p99)/float64(them.p99)))
		}
		if len(rps) == 0 {
			continue
		}
		m := map[string]float64{"rps": benchreport.Median(rps), "p50": benchreport.Median(p50), "p99": benchreport.Median(p99)}
		medians[sc] = m
		rep.peerRatios = append(rep.peerRatios, [2]string{
			fmt.Sprintf("%s, icy-morning / PocketBase", sc),
			fmt.Sprintf("req/s **%.2fx**, p50 %.2fx, p99 %.2fx (%s; %s)", m["rps"], m["p50"], m["p99"], mediansOf(len(rps)), strings.Join(rounds, "; "))})
	}

	var peak = map[string]*result{}
	for i, r := range b.peer {
		if p := peak[r.server]; p == nil || r.peakRSS > p.peakRSS {
			peak[r.server] = &b.peer[i]
		}
	}
	if us, them := peak[serverService], peak[serverPocketBase]; us != nil && them != nil {
		rep.peerRatios = append(rep.peerRatios, [2]string{
			"peak RSS, largest of each server's runs",
			fmt.Sprintf("icy-morning %s (%s), PocketBase %s (%s): %.2fx", benchreport.MB(us.peakRSS), us.scenario, benchreport.MB(them.peakRSS), them.scenario,
				float64(us.peakRSS)/float64(them.peakRSS))})
	}

	at := fmt.Sprintf("SQLite, %d connections, median of the per-round ratios", b.o.connections)
	if m, ok := medians[scPost]; ok {
		rep.verdicts = append(rep.verdicts,
			verdict{target: fmt.Sprintf("POST req/s >= %.1fx PocketBase's (%s)", targetPeerPost, at),
				measured: fmt.Sprintf("%.2fx", m["rps"]), pass: m["rps"] >= targetPeerPost},
			verdict{target: fmt.Sprintf("POST p99 no worse than PocketBase's (%s)", at),
				measured: fmt.Sprintf("%.2fx", m["p99"]), pass: m["p99"] <= targetPeerPostP99})
	}
	for _, sc := range []string{scGetByID, scPageFirst} {
		if m, ok := medians[sc]; ok {
			rep.verdicts = append(rep.verdicts, verdict{target: fmt.Sprintf("%s req/s >= %.1fx PocketBase's (%s)", sc, targetPeerRead, at),
				measured: fmt.Sprintf("%.2fx", m["rps"]), pass: m["rps"] >= targetPeerRead})
		}
	}
}

func mediansOf(rounds int) string {
	if rounds == 1 {
		return "one round"
	}
	return fmt.Sprintf("medians of %d rounds", rounds)
}

var peerHeader = []string{"Scenario", "Round", "Server", "req/s", "p50", "p99", "Peak RSS", "Non-2xx", "Socket errors", "CPU server/wrk/db/other"}

func (r *report) peerRows() [][]string {
	var rows [][]string
	for _, x := range r.peer {
		rows = append(rows, []string{x.scenario, strconv.Itoa(x.round), x.server, benchreport.Thousands(int64(x.rps + 0.5)),
			benchreport.Ms(x.p50), benchreport.Ms(x.p99), benchreport.MB(x.peakRSS), benchreport.Thousands(x.non2xx), benchreport.Thousands(x.socketErrors), fmtCPU(x.cpu)})
	}
	return rows
}

// pocketBaseTimeout is what the comparison adds to the run's bound: the
// build, the seed, and each of its scenarios measured up to 1+retries times.
func (o options) pocketBaseTimeout() time.Duration {
	if !o.pocketBase {
		return 0
	}
	scenarios := 2 * len(peerScenarios) * o.pocketBaseRounds
	return pocketBaseBuildTime + 5*time.Minute + time.Duration(scenarios*(1+o.retries))*(o.duration+o.warmup+o.quietWait+15*time.Second)
}
