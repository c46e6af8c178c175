// Package notifye2e tests e-mail notifications the way they run: the real
// icy-morning binary, built once per test binary, started as processes of
// its own (serve, worker) on loopback ports, on a real PostgreSQL or
// SQLite database, mailing a real Mailpit. The faults are real too: a
// second worker process on the same database, a SIGKILL in the middle of
// a fan-out. Nothing is mocked.
//
// The PostgreSQL tests need TEST_DATABASE_URL (see internal/testdb) and
// every test needs Mailpit (see internal/mailpeer); without them the tests
// skip, or fail when ICY_REQUIRE_POSTGRES=1 and ICY_REQUIRE_MAIL=1, as in
// CI.
package notifye2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/internal/mailpeer"
	"github.com/icy-morning/icy-morning/internal/testcheck"
	"github.com/icy-morning/icy-morning/internal/testproc"
	"github.com/icy-morning/icy-morning/sqlstore"
)

// publicBase is the PUBLIC_BASE_URL the processes are given, and idHost
// the right-hand side of the Message-IDs it makes.
const (
	publicBase = "https://icy.example/"
	idHost     = "icy.example"
)

// icyMorning is the binary these tests run, built once per test binary.
var icyMorning = &testproc.Program{Pkg: "./cmd/icy-morning"}

func TestMain(m *testing.M) {
	code := m.Run()
	icyMorning.Remove()
	os.Exit(code)
}

// process is an icy-morning process a test started. The test stops it (by
// its PID, and only it) when it ends.
type process struct {
	*testproc.Proc
}

// env is a process's whole environment: only what the test sets, so that
// the settings of the shell that runs the tests cannot leak in.
type env map[string]string

// with returns a copy of e with the variables kv (name, value, name,
// value...) set.
func (e env) with(kv ...string) env {
	out := maps.Clone(e)
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func (e env) list() []string {
	out := make([]string, 0, len(e))
	for _, k := range slices.Sorted(maps.Keys(e)) {
		out = append(out, k+"="+e[k])
	}
	return out
}

// start runs the binary with args in environment e (see testproc.Start).
// When the test ends it is stopped as an operator would (stop), and if
// the test failed its output is logged.
func start(t *testing.T, name string, e env, args ...string) *process {
	t.Helper()
	p := &process{testproc.Start(t, testproc.Cmd{Name: name, Path: icyMorning.Path(t), Args: args, Env: e.list(), Grace: 10 * time.Second})}
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("%s (pid %d) output, last 6000 bytes:\n%s", p.Name, p.PID(), p.Tail(6000))
		}
	})
	return p
}

// output is what the process has written so far.
func (p *process) output() string { return p.Output() }

// stop ends the process as an operator would: SIGTERM, which lets it
// record the batch in flight, then SIGKILL if it is still there 10 s
// later, which fails the test. It waits until the process has exited.
func (p *process) stop(t *testing.T) {
	if p.Exited() {
		return
	}
	began := time.Now()
	if p.Stop() {
		t.Errorf("%s (pid %d) did not exit 10 s after SIGTERM; killed it", p.Name, p.PID())
	}
	if took := time.Since(began); took > 2*time.Second {
		t.Logf("%s (pid %d) took %v to exit after SIGTERM", p.Name, p.PID(), took.Round(time.Millisecond))
	}
}

// kill sends SIGKILL (kill -9) and waits until the process is gone,
// failing the test if something else ended it.
func (p *process) kill(t *testing.T) {
	t.Helper()
	p.Kill(t)
}

// server is a running `icy-morning serve`.
type server struct {
	*process
	base string // http://127.0.0.1:PORT
}

// startServe runs `icy-morning serve` in e on a free loopback port and
// waits until /healthz answers. Another process may take the port between
// the choice and the bind; then it tries again with a new one.
func startServe(t *testing.T, name string, e env) *server {
	t.Helper()
	var s *server
	testproc.OnFreePorts(t, 1, func(addrs []string) (*testproc.Proc, error) {
		s = &server{process: start(t, name, e.with("ADDR", addrs[0]), "serve"), base: "http://" + addrs[0]}
		err := s.WaitReady(s.base+"/healthz", nil, 30*time.Second)
		if err != nil && !strings.Contains(s.Output(), "address already in use") {
			t.Fatal(err) // not a port taken in between: no new try
		}
		return s.Proc, err
	})
	return s
}

// startWorker runs `icy-morning worker` in e and waits until it says it
// has started.
func startWorker(t *testing.T, name string, e env) *process {
	t.Helper()
	p := start(t, name, e, "worker")
	p.WaitOutput(t, `"msg":"worker started"`, 30*time.Second)
	return p
}

// The account the servers accept writes from.
const apiUser = "admin"

var apiPassword = "pw-" + randomHex(8)

// create POSTs body as JSON to path on s with the operator's credentials,
// wants 201 Created, and returns the new object's id.
func (s *server) create(t *testing.T, path string, body any) int64 {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, s.base+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(apiUser, apiPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s %s: %s %s", path, b, resp.Status, out)
	}
	var obj struct{ ID int64 }
	if err := json.Unmarshal(out, &obj); err != nil || obj.ID < 1 {
		t.Fatalf("POST %s: no id in %s (%v)", path, out, err)
	}
	return obj.ID
}

// createAnalyst and createAsset write through the API, as an operator
// does; the asset's event is recorded by the server in its transaction.
func (s *server) createAnalyst(t *testing.T) int64 {
	t.Helper()
	return s.create(t, "/api/v1/analysts", map[string]any{"name": "Ada Lovelace", "company": "Analytical Engines"})
}

func (s *server) createAsset(t *testing.T, analyst int64, name string) int64 {
	t.Helper()
	return s.create(t, "/api/v1/assets", map[string]any{"name": name, "description": "Growth",
		"inception_date": "2024-01-31", "is_active": true, "analyst_id": analyst})
}

// openStore opens the database a server migrated, for the test to seed
// and to read the delivery log.
func openStore(t *testing.T, url string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), url, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// subscribe makes n active subscriptions to asset creations, for every
// analyst, in one transaction through the store: what POST
// /api/v1/subscriptions does, some hundred times faster than n requests.
func subscribe(t *testing.T, s *sqlstore.Store, n int) {
	t.Helper()
	err := s.InTx(context.Background(), func(tx icymorning.Tx) error {
		for i := range n {
			sub := &icymorning.Subscription{Email: fmt.Sprintf("reader-%05d@example.com", i), Topic: icymorning.TopicAssetCreation}
			created, err := tx.CreateSubscription(context.Background(), sub)
			if err != nil {
				return err
			}
			if !created || sub.Status != icymorning.SubscriptionActive {
				return fmt.Errorf("subscription %s: created %v, status %s", sub.Email, created, sub.Status)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("subscribe %d: %v", n, err)
	}
}

// deliveries reads the whole delivery log.
func deliveries(t *testing.T, s *sqlstore.Store) []icymorning.Delivery {
	t.Helper()
	var all []icymorning.Delivery
	for after := int64(0); ; {
		page, err := s.Deliveries(context.Background(), icymorning.DeliveryFilter{Page: icymorning.Page{After: after, Limit: icymorning.MaxPageLimit}})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < icymorning.MaxPageLimit {
			return all
		}
		after = page[len(page)-1].ID
	}
}

func byStatus(ds []icymorning.Delivery) map[icymorning.DeliveryStatus]int {
	m := map[icymorning.DeliveryStatus]int{}
	for _, d := range ds {
		m[d.Status]++
	}
	return m
}

// waitAllSent polls the delivery log until it holds want deliveries, all
// sent, and returns it; it fails the test after within, or as soon as one
// is dead (which no retry would mend).
func waitAllSent(t *testing.T, s *sqlstore.Store, want int, within time.Duration) []icymorning.Delivery {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ds := deliveries(t, s)
		counts := byStatus(ds)
		if len(ds) == want && counts[icymorning.DeliverySent] == want {
			return ds
		}
		if counts[icymorning.DeliveryDead] > 0 || len(ds) > want {
			t.Fatalf("%d deliveries (want %d): %v", len(ds), want, counts)
		}
		if time.Now().After(deadline) {
			t.Fatalf("not every delivery sent within %v: %d deliveries (want %d): %v", within, len(ds), want, counts)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// received reads every message Mailpit holds and counts them by
// Message-ID: each delivery of ds is in the counts (0 when Mailpit has
// none). A message that is no delivery's fails the test.
func received(t *testing.T, mp *mailpeer.Mailpit, ds []icymorning.Delivery) ([]mailpeer.Message, map[string]int) {
	t.Helper()
	seen := make(map[string]int, len(ds))
	for _, d := range ds {
		seen[messageID(idHost, d)] = 0
	}
	msgs := mp.Messages(t)
	var strays []string
	for _, m := range msgs {
		if _, ok := seen[m.MessageID]; !ok {
			strays = append(strays, m.MessageID)
			continue
		}
		seen[m.MessageID]++
	}
	testcheck.FailMany(t, "messages in Mailpit whose Message-ID is no delivery's", strays)
	return msgs, seen
}

// messageID is the Message-ID of the mail of event e to subscription s,
// as the issue defines it: a receiver can drop a resend by it.
func messageID(host string, d icymorning.Delivery) string {
	return fmt.Sprintf("event-%d.subscription-%d@%s", d.EventID, d.SubscriptionID, host)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// secret is a NOTIFY_SECRET: 64 characters.
func secret() string { return randomHex(32) }
