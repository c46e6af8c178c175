package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/icy-morning/icy-morning/internal/awstest"
	"github.com/icy-morning/icy-morning/internal/testdb"
	"github.com/icy-morning/icy-morning/notify"
	"github.com/icy-morning/icy-morning/sqlstore"
)

func TestPostgresEndpoint(t *testing.T) {
	tests := []struct{ url, endpoint, user, wantErr string }{
		{url: "postgres://icy@db.internal:6432/icy?sslmode=require", endpoint: "db.internal:6432", user: "icy"},
		{url: "postgresql://icy@db.internal/icy", endpoint: "db.internal:5432", user: "icy"},
		{url: "postgres://icy:pw@db.internal/icy", wantErr: "must not hold a password"},
		{url: "sqlite:///x.db", wantErr: "PostgreSQL"},
	}
	for _, tt := range tests {
		loc, err := sqlstore.ParseURL(tt.url)
		if err != nil {
			t.Fatalf("%s: %v", tt.url, err)
		}
		ep, user, err := postgresEndpoint(loc)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err = %v, want %q", tt.url, err, tt.wantErr)
			}
			continue
		}
		if err != nil || ep != tt.endpoint || user != tt.user {
			t.Errorf("%s: got %q %q %v", tt.url, ep, user, err)
		}
	}
}

// Outside Lambda the command says what is missing instead of the runtime
// library's fatal exit.
func TestLambdaOutsideTheRuntime(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"lambda"}, func(string) string { return "" }, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "AWS_LAMBDA_RUNTIME_API is not set") {
		t.Fatalf("err = %v", err)
	}
}

// envNames(modeLambda), which the infrastructure test checks Terraform
// against, must name every variable the Lambda mode reads.
func TestLambdaEnvIsComplete(t *testing.T) {
	known := map[string]bool{}
	for _, k := range envNames(modeLambda) {
		known[k] = true
	}
	read := map[string]bool{}
	getenv := func(k string) string { read[k] = true; return "" }
	_, _ = readConfig(modeLambda, nil, nil, getenv)
	// The runtime settings are read by tuneRuntime, which a test must not
	// call (it tunes the whole test binary): the table lists them.
	for _, k := range []string{"GOGC", "GOMEMLIMIT", "GOMAXPROCS"} {
		read[k] = true
	}
	for k := range read {
		if strings.HasPrefix(k, "AWS_LAMBDA_") {
			continue // set by the Lambda runtime, not by the deployment
		}
		if !known[k] {
			t.Errorf("the lambda command reads %s, which the settings table does not list for it", k)
		}
	}
	if len(read) < 10 {
		t.Fatalf("only %d variables read: the check saw too little", len(read))
	}
}

// lambdaInit reads the database password and the API account from Secrets
// Manager (a local stand-in reached through the SDK's endpoint variable)
// and connects to a real PostgreSQL whose URL holds no password.
func TestLambdaInitReadsSecrets(t *testing.T) {
	const notifyKey = "a link-signing key of forty bytes, or so"
	full, err := url.Parse(testdb.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	dbPassword, _ := full.User.Password()
	full.User = url.User(full.User.Username())
	dbSecret, _ := json.Marshal(map[string]string{"username": full.User.Username(), "password": dbPassword, "engine": "postgres"})
	endpoint, calls := awstest.SecretsManager(t, map[string]string{
		"arn:db":     string(dbSecret),
		"arn:api":    `{"username":"api-user","password":"api-pass"}`,
		"arn:notify": notifyKey,
	})
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "SECRET")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))

	env := map[string]string{"DATABASE_URL": full.String(), "DATABASE_SECRET_ARN": "arn:db", "BASIC_AUTH_SECRET_ARN": "arn:api", "NOTIFY_SECRET_ARN": "arn:notify"}
	getenv := func(k string) string { return env[k] }
	c, err := readConfig(modeLambda, nil, nil, getenv)
	if err != nil {
		t.Fatal(err)
	}
	store, authn, err := lambdaInit(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := authn.Authenticate(context.Background(), "Basic "+base64.StdEncoding.EncodeToString([]byte("api-user:api-pass"))); err != nil {
		t.Fatalf("the account from the secret is refused: %v", err)
	}
	if calls.Load() != 2 {
		t.Errorf("%d Secrets Manager calls, want 2", calls.Load())
	}
	// The link-signing key: links signed with the secret's key open.
	notes, nudger, err := lambdaNotifications(context.Background(), &c, store, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if nudger != nil {
		t.Error("a nudger without NOTIFY_QUEUE_URL")
	}
	signer, err := notify.NewComposer(c.mailFrom, c.publicBaseURL, []byte(notifyKey))
	if err != nil {
		t.Fatal(err)
	}
	if id, err := notes.service.UnsubscribeSubscription(signer.UnsubscribeToken(42)); err != nil || id != 42 {
		t.Fatalf("a link signed with the secret's key: %d, %v", id, err)
	}
	if calls.Load() != 3 {
		t.Errorf("%d Secrets Manager calls, want 3", calls.Load())
	}

	env["BASIC_AUTH_SECRET_ARN"] = "arn:missing"
	c, _ = readConfig(modeLambda, nil, nil, getenv)
	if _, _, err := lambdaInit(context.Background(), c); err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Fatalf("a missing secret: err = %v", err)
	}
}

func TestLambdaProcs(t *testing.T) {
	tests := []struct{ memoryMB, cpus, want int }{
		{128, 2, 1}, {1024, 2, 1}, {1769, 2, 1}, {3008, 2, 1}, {3538, 2, 2}, {10240, 6, 5}, {10240, 2, 2}, {10240, 1, 1},
	}
	for _, tt := range tests {
		if got := lambdaProcs(tt.memoryMB, tt.cpus); got != tt.want {
			t.Errorf("lambdaProcs(%d MB, %d CPUs) = %d, want %d", tt.memoryMB, tt.cpus, got, tt.want)
		}
	}
}
