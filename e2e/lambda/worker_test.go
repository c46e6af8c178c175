package lambdae2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/internal/awstest"
	"github.com/icy-morning/icy-morning/internal/mailpeer"
	"github.com/icy-morning/icy-morning/internal/rie"
	"github.com/icy-morning/icy-morning/internal/rie/rietest"
	"github.com/icy-morning/icy-morning/internal/testdb"
	"github.com/icy-morning/icy-morning/sqlstore"
	"github.com/icy-morning/icy-morning/sqsnudge"
)

// The worker function: the same bootstrap, under the emulator, given the
// events the worker's triggers send (the recorded payloads of
// awslambda/testdata), mailing through a real Mailpit.

func TestLambdaWorkerSQLite(t *testing.T) {
	rietest.Require(t)
	worker(t, "sqlite:///"+filepath.Join(t.TempDir(), "w.db"))
}

func TestLambdaWorkerPostgres(t *testing.T) {
	rietest.Require(t)
	worker(t, testdb.Postgres(t))
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "awslambda", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func worker(t *testing.T, databaseURL string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mp := mailpeer.StartMailpit(t)
	// The queue the API function nudges: a stand-in of SQS's API.
	sqsURL, nudges := awstest.SQS(t, false)
	const queueURL = "https://sqs.eu-west-1.amazonaws.com/123456789012/icy-notify"
	password := "pw-" + randomHex(8)
	bootstrap := rietest.BuildBootstrap(t, "./cmd/icy-morning")
	apiURL := migrateFunction(t, ctx, bootstrap, databaseURL)
	emu, err := rie.Start(ctx, rie.Config{
		Bootstrap: bootstrap,
		Env: []string{
			"DATABASE_URL=" + apiURL,
			"BASIC_AUTH_USERNAME=admin",
			"BASIC_AUTH_PASSWORD=" + password,
			"NOTIFY_QUEUE_URL=" + queueURL,
			"AWS_ENDPOINT_URL_SQS=" + sqsURL,
			"AWS_ACCESS_KEY_ID=AKIDTEST",
			"AWS_SECRET_ACCESS_KEY=SECRET",
			"MAIL_URL=smtp://" + mp.SMTP + "?tls=none",
			"MAIL_FROM=Icy Morning <news@icy.example>",
			"MAIL_MAX_PER_SECOND=0",
			"PUBLIC_BASE_URL=https://icy.example/",
			"NOTIFY_SECRET=" + randomHex(32),
			"AWS_LAMBDA_FUNCTION_NAME=icy-morning-worker-e2e",
			"AWS_REGION=eu-west-1",
		},
		FunctionTimeout: 30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := emu.Close(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("function output:\n%s", emu.Output())
		}
	})

	// The data, written as the API function writes it: through the store.
	store, err := sqlstore.Open(ctx, databaseURL, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	analyst := &icymorning.Analyst{Name: "Ada", Company: "Engines"}
	must(t, store.CreateAnalyst(ctx, analyst))
	for _, email := range []string{"reader@example.com", "bounce@simulator.amazonses.com", "complaint@simulator.amazonses.com"} {
		_, err := store.CreateSubscription(ctx, &icymorning.Subscription{Email: email})
		must(t, err)
	}
	newAsset := func(name string) {
		must(t, store.CreateAsset(ctx, &icymorning.Asset{Name: name, InceptionDate: icymorning.DateOf(time.Now()), IsActive: true, AnalystID: analyst.ID}))
	}
	sentCount := func() int {
		sent := icymorning.DeliverySent
		ds, err := store.Deliveries(ctx, icymorning.DeliveryFilter{Status: &sent, Page: icymorning.Page{Limit: 100}})
		must(t, err)
		return len(ds)
	}

	// The API function records the event and nudges the queue; no mail
	// is sent in the request.
	api := &fn{t: t, emu: emu, user: "admin", password: password, nonce: randomHex(4)}
	r := api.do(call{method: "POST", path: "/api/v1/assets",
		body: fmt.Sprintf(`{"name":"Fund A","inception_date":"2024-01-31","is_active":true,"analyst_id":%d}`, analyst.ID)})
	api.expect(r, 201, "application/json")
	if got := nudges(); len(got) != 1 || got[0].QueueURL != queueURL || got[0].Body != sqsnudge.Body {
		t.Fatalf("nudges after a POST: %+v, want one on %s", got, queueURL)
	}
	if n := sentCount(); n != 0 || mp.Count(t) != 0 {
		t.Fatalf("mail sent in the request: %d sent, %d in Mailpit", n, mp.Count(t))
	}

	// SQS: the message that is not a nudge, and only it, is reported
	// back for SQS to retry; the nudges' sweep sends the mail.
	out, err := emu.Invoke(ctx, sample(t, "sqs-nudges.json"))
	if err != nil {
		t.Fatalf("SQS batch: %v", err)
	}
	var batch struct {
		BatchItemFailures []struct {
			ItemIdentifier string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
	}
	if err := json.Unmarshal(out, &batch); err != nil {
		t.Fatalf("SQS batch answer %s: %v", out, err)
	}
	if len(batch.BatchItemFailures) != 1 || batch.BatchItemFailures[0].ItemIdentifier != "2e1424d4-f796-459a-8184-9c92662be6da" {
		t.Fatalf("SQS batch answer %s: want exactly the second message reported as failed", out)
	}
	if n := sentCount(); n != 3 || mp.Count(t) != 3 {
		t.Fatalf("after the nudges: %d deliveries sent, Mailpit holds %d; want 3 and 3", n, mp.Count(t))
	}

	// The schedule sweeps what no nudge announced.
	newAsset("Fund B")
	if out, err := emu.Invoke(ctx, sample(t, "schedule.json")); err != nil {
		t.Fatalf("schedule: %v (%s)", err, out)
	}
	if n := sentCount(); n != 6 || mp.Count(t) != 6 {
		t.Fatalf("after the schedule: %d deliveries sent, Mailpit holds %d; want 6 and 6", n, mp.Count(t))
	}

	// SES: a hard bounce and a complaint suppress their addresses; a soft
	// bounce does not. The next asset is mailed to the one reader left.
	for _, name := range []string{"ses-bounce-permanent.json", "ses-bounce-transient.json", "ses-complaint.json"} {
		if out, err := emu.Invoke(ctx, sample(t, name)); err != nil {
			t.Fatalf("%s: %v (%s)", name, err, out)
		}
	}
	subs, err := store.Subscriptions(ctx, icymorning.SubscriptionFilter{Page: icymorning.Page{Limit: 10}})
	must(t, err)
	want := map[string]icymorning.SubscriptionStatus{
		"reader@example.com":                icymorning.SubscriptionActive,
		"bounce@simulator.amazonses.com":    icymorning.SubscriptionSuppressed,
		"complaint@simulator.amazonses.com": icymorning.SubscriptionSuppressed,
	}
	for _, s := range subs {
		if s.Status != want[s.Email] {
			t.Errorf("%s is %s, want %s", s.Email, s.Status, want[s.Email])
		}
	}
	newAsset("Fund C")
	if _, err := emu.Invoke(ctx, sample(t, "schedule.json")); err != nil {
		t.Fatal(err)
	}
	if n := sentCount(); n != 7 || mp.Count(t) != 7 {
		t.Fatalf("after the suppressions: %d deliveries sent, Mailpit holds %d; want 7 and 7", n, mp.Count(t))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
