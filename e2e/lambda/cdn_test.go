package lambdae2e

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/internal/awstest"
	"github.com/icy-morning/icy-morning/internal/rie"
	"github.com/icy-morning/icy-morning/internal/rie/rietest"
	"github.com/icy-morning/icy-morning/internal/testdb"
	"github.com/icy-morning/icy-morning/sqlstore"
)

// The CDN's part of the functions, under the emulator: the API function
// refuses what did not come through CloudFront (its origin secret read
// from a stand-in of Secrets Manager) and throttles by the viewer's
// address; the worker function invalidates the distribution after writes,
// calling a stand-in of CloudFront's API with the AWS SDK's client.

func TestLambdaCDNSQLite(t *testing.T) {
	rietest.Require(t)
	lambdaCDN(t, "sqlite:///"+filepath.Join(t.TempDir(), "cdn.db"))
}

func TestLambdaCDNPostgres(t *testing.T) {
	rietest.Require(t)
	lambdaCDN(t, testdb.Postgres(t))
}

// cdnInterval is the worker's CDN_INVALIDATION_INTERVAL here: short, so
// the test is, yet long enough that a burst spans only a few.
const cdnInterval = 2 * time.Second

func lambdaCDN(t *testing.T, databaseURL string) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const (
		distribution = "E2CDNE2ETEST"
		secretARN    = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:icy/cdn-origin-AbCdEf"
		queueURL     = "https://sqs.eu-west-1.amazonaws.com/123456789012/icy-notify"
	)
	origin := "cdn" + randomHex(24)
	smURL, smCalls := awstest.SecretsManager(t, map[string]string{secretARN: origin})
	sqsURL, nudges := awstest.SQS(t, false)
	cf := awstest.CloudFront(t, distribution)
	password := "pw-" + randomHex(8)
	bootstrap := rietest.BuildBootstrap(t, "./cmd/icy-morning")
	apiURL := migrateFunction(t, ctx, bootstrap, databaseURL)
	common := []string{
		"DATABASE_URL=" + apiURL,
		"BASIC_AUTH_USERNAME=admin",
		"BASIC_AUTH_PASSWORD=" + password,
		"MAIL_URL=log://",
		"NOTIFY_SECRET=" + randomHex(32),
		"AWS_ACCESS_KEY_ID=AKIDTEST",
		"AWS_SECRET_ACCESS_KEY=SECRET",
		"AWS_REGION=eu-west-1",
	}
	start := func(name string, env ...string) *rie.Emulator {
		t.Helper()
		emu, err := rie.Start(ctx, rie.Config{Bootstrap: bootstrap, Env: append(slices.Clone(common), env...), FunctionTimeout: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := emu.Close(); err != nil {
				t.Error(err)
			}
			if t.Failed() {
				t.Logf("%s function output:\n%s", name, emu.Output())
			}
			if strings.Contains(emu.Output(), origin) {
				t.Errorf("the %s function logged the origin secret", name)
			}
		})
		return emu
	}
	apiEmu := start("api",
		"AWS_LAMBDA_FUNCTION_NAME=icy-morning-api-cdn-e2e",
		"CDN_ORIGIN_SECRET_ARN="+secretARN,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER="+smURL,
		"NOTIFY_QUEUE_URL="+queueURL,
		"AWS_ENDPOINT_URL_SQS="+sqsURL)
	workerEmu := start("worker",
		"AWS_LAMBDA_FUNCTION_NAME=icy-morning-worker-cdn-e2e",
		"CDN_DISTRIBUTION_ID="+distribution,
		"CDN_INVALIDATION_INTERVAL="+cdnInterval.String(),
		"AWS_ENDPOINT_URL_CLOUDFRONT="+cf.URL)

	api := &fn{t: t, emu: apiEmu, user: "admin", password: password, nonce: randomHex(4)}
	// What CloudFront adds: the secret, and the viewer's address before
	// API Gateway's sourceIp (rie.HTTPEvent's 203.0.113.7, the edge).
	through := func(viewer string) map[string]string {
		return map[string]string{"x-origin-verify": origin, "x-forwarded-for": "192.0.2.200, " + viewer + ", 203.0.113.7"}
	}

	// Only through the CDN.
	for _, h := range []map[string]string{nil, {"x-origin-verify": "guess"}, {"x-origin-verify": origin + "x"}} {
		r := api.do(call{method: "GET", path: "/api/v1/assets", header: h})
		api.expect(r, 403, "application/problem+json")
		if strings.Contains(string(r.body), origin) {
			t.Fatalf("the 403 shows the secret: %s", r.body)
		}
	}
	api.expect(api.do(call{method: "GET", path: "/api/v1/assets", header: through("198.51.100.1")}), 200, "application/json")
	if n := smCalls.Load(); n != 1 {
		t.Errorf("%d reads of the origin secret, want 1 (at init)", n)
	}

	// Failed logins are counted by the viewer, not by the edge all
	// viewers share: one viewer's guessing leaves the next alone.
	for i := range 21 {
		r := api.do(call{method: "DELETE", path: "/api/v1/assets/1", auth: "wrong", header: through("198.51.100.66")})
		if want := map[bool]int{true: 429, false: 401}[i == 20]; r.status != want {
			t.Fatalf("failed login %d from one viewer: %d, want %d", i+1, r.status, want)
		}
	}
	if r := api.do(call{method: "DELETE", path: "/api/v1/assets/1", auth: "wrong", header: through("198.51.100.67")}); r.status != 401 {
		t.Fatalf("another viewer behind the same edge: %d, want 401", r.status)
	}

	// The worker's first sweep invalidates everything: what is cached may
	// be from before it ran.
	schedule := sample(t, "schedule.json")
	invoke := func(payload []byte) {
		t.Helper()
		if out, err := workerEmu.Invoke(ctx, payload); err != nil {
			t.Fatalf("worker: %v (%s)", err, out)
		}
	}
	invoke(schedule)
	wantMadePaths(t, cf, []string{"/api/v1/analysts*", "/api/v1/assets*"})

	// One write through the API: its nudge, then the worker invalidates
	// its paths.
	store, err := sqlstore.Open(ctx, databaseURL, sqlstore.Options{})
	must(t, err)
	defer store.Close()
	analyst := &icymorning.Analyst{Name: "Ada", Company: "Engines"}
	must(t, store.CreateAnalyst(ctx, analyst))
	invoke(schedule)
	wantMadePaths(t, cf, []string{"/api/v1/analysts*", "/api/v1/assets*"}, []string{"/api/v1/analysts*"})

	r := api.do(call{method: "POST", path: "/api/v1/assets", header: through("198.51.100.1"),
		body: fmt.Sprintf(`{"name":"Fund A","inception_date":"2024-01-31","is_active":true,"analyst_id":%d}`, analyst.ID)})
	api.expect(r, 201, "application/json")
	if got := nudges(); len(got) != 1 {
		t.Fatalf("nudges after a POST: %+v, want one", got)
	}
	invoke(sqsBatch(t, 1))
	made := wantMadePaths(t, cf, []string{"/api/v1/analysts*", "/api/v1/assets*"}, []string{"/api/v1/analysts*"}, []string{"/api/v1/assets*"})
	if due, err := store.InvalidationDue(ctx); err != nil || due {
		t.Fatalf("after the nudge's sweep: due %v, %v", due, err)
	}

	// 1,000 writes in a burst from 20 clients; the worker gets a batch of
	// ten nudges for every ten writes, as SQS would hand them over.
	before := len(made)
	const writes, writers = 1000, 20
	var (
		next      atomic.Int64
		wg        sync.WaitGroup
		batches   = make(chan struct{}, writes/10)
		invokes   sync.WaitGroup
		burstDone = make(chan struct{})
	)
	began := time.Now()
	invokes.Go(func() {
		for range batches {
			if out, err := workerEmu.Invoke(ctx, sqsBatch(t, 10)); err != nil {
				t.Errorf("worker: %v (%s)", err, out)
				return
			}
		}
	})
	for range writers {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > writes {
					return
				}
				a := &icymorning.Asset{Name: fmt.Sprintf("Fund %d", i), InceptionDate: icymorning.DateOf(time.Now()), IsActive: true, AnalystID: analyst.ID}
				if err := store.CreateAsset(ctx, a); err != nil {
					t.Error(err)
					return
				}
				if i%10 == 0 {
					batches <- struct{}{}
				}
			}
		})
	}
	go func() { wg.Wait(); close(burstDone) }()
	<-burstDone
	burst := time.Since(began)
	close(batches)
	invokes.Wait()
	invoke(schedule) // nothing may be left for it
	elapsed := time.Since(began)
	calls := len(cf.Made()) - before
	// One per interval while the writes came and while the nudges' queue
	// drained, and one for rounding.
	bound := int(burst/cdnInterval) + 2
	t.Logf("%d writes in %v (all nudges answered after %v): %d CreateInvalidation calls (bound %d, interval %v)",
		writes, burst.Round(time.Millisecond), elapsed.Round(time.Millisecond), calls, bound, cdnInterval)
	if calls < 1 || calls > bound {
		t.Fatalf("%d invalidations for %d writes in %v, want 1 to %d", calls, writes, burst, bound)
	}
	if due, err := store.InvalidationDue(ctx); err != nil || due {
		t.Fatalf("after the burst: due %v, %v; want every write invalidated", due, err)
	}
	for _, m := range cf.Made()[before:] {
		if !slices.Equal(m.Paths, []string{"/api/v1/assets*"}) {
			t.Fatalf("invalidation %+v of the burst, want /api/v1/assets* only", m)
		}
	}
	if n, m := len(cf.Calls()), len(cf.Made()); n != m {
		t.Errorf("%d calls for %d invalidations: none should have been refused or repeated", n, m)
	}
}

// wantMadePaths fails unless the stand-in made exactly the invalidations
// of these paths, in order, and returns them.
func wantMadePaths(t *testing.T, cf *awstest.CloudFrontStandIn, want ...[]string) []awstest.Invalidation {
	t.Helper()
	made := cf.Made()
	var got [][]string
	for _, m := range made {
		got = append(got, m.Paths)
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("invalidations %v, want %v", got, want)
	}
	return made
}

var sqsMessages atomic.Int64

// sqsBatch is an SQS event of n nudges, as the worker's event source
// mapping delivers them.
func sqsBatch(t *testing.T, n int) []byte {
	t.Helper()
	type record struct {
		MessageID      string `json:"messageId"`
		ReceiptHandle  string `json:"receiptHandle"`
		Body           string `json:"body"`
		EventSource    string `json:"eventSource"`
		EventSourceARN string `json:"eventSourceARN"`
		AWSRegion      string `json:"awsRegion"`
	}
	var ev struct {
		Records []record `json:"Records"`
	}
	for range n {
		id := sqsMessages.Add(1)
		ev.Records = append(ev.Records, record{
			MessageID: fmt.Sprintf("00000000-0000-4000-8000-%012d", id), ReceiptHandle: fmt.Sprintf("rh-%d", id),
			Body: `{"nudge":"asset"}`, EventSource: "aws:sqs",
			EventSourceARN: "arn:aws:sqs:eu-west-1:123456789012:icy-morning-notify", AWSRegion: "eu-west-1",
		})
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
