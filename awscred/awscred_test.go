package awscred

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/icy-morning/icy-morning/internal/awstest"
)

// secretsServer returns a real SDK client talking to a local Secrets
// Manager stand-in.
func secretsServer(t *testing.T, secrets map[string]string) (*secretsmanager.Client, *atomic.Int32) {
	t.Helper()
	url, calls := awstest.SecretsManager(t, secrets)
	return secretsmanager.New(secretsmanager.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "SECRET", ""),
	}), calls
}

func TestReadAccount(t *testing.T) {
	const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1"
	tests := []struct {
		name, value string
		arn         string
		want        Account
		wantErr     string
	}{
		{name: "RDS managed secret", arn: arn, value: `{"username":"icy","password":"p@ss w0rd\"!"}`, want: Account{"icy", "p@ss w0rd\"!"}},
		{name: "unknown secret", arn: arn + "x", wantErr: "ResourceNotFoundException"},
		{name: "not JSON", arn: arn, value: `hunter2-not-json`, wantErr: "not a JSON object"},
		{name: "no password", arn: arn, value: `{"username":"icy"}`, wantErr: "lacks a username or a password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm, _ := secretsServer(t, map[string]string{arn: tt.value})
			got, err := ReadAccount(context.Background(), sm, tt.arn)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if tt.value != "" && strings.Contains(err.Error(), tt.value) {
					t.Fatalf("error leaks the secret value: %v", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestDatabaseSecretIsCached(t *testing.T) {
	const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db"
	sm, calls := secretsServer(t, map[string]string{arn: `{"username":"icy","password":"pw"}`})
	src := DatabaseSecret(sm, arn)
	for range 5 {
		user, pw, err := src(context.Background(), false)
		if err != nil || user != "icy" || pw != "pw" {
			t.Fatalf("got %q %q %v", user, pw, err)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("Secrets Manager called %d times for 5 connections, want 1", n)
	}
}

func TestCachedRenewsAfterTTLAndAfterFailure(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	var fetches int
	fail := false
	src := cached(time.Minute, clock, func(context.Context) (Account, error) {
		fetches++
		if fail {
			return Account{}, errors.New("unavailable")
		}
		return Account{"u", "p" + string(rune('0'+fetches))}, nil
	})
	steps := []struct {
		advance     time.Duration
		retry, fail bool
		wantPass    string
		wantErr     bool
		wantFetches int
	}{
		{0, false, false, "p1", false, 1},
		{59 * time.Second, false, false, "p1", false, 1},
		{time.Second, false, false, "p2", false, 2},    // expired: renewed
		{time.Minute, false, true, "", true, 3},        // renewal fails: error, nothing kept
		{0, false, false, "p4", false, 4},              // next call tries again
		{time.Second, true, false, "p4", false, 4},     // a retry right after a fetch reuses it
		{4 * time.Second, true, false, "p5", false, 5}, // a retry 5 s after the fetch re-reads (a rotation)
		{time.Second, false, false, "p5", false, 5},
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		fail = s.fail
		_, pw, err := src(context.Background(), s.retry)
		if (err != nil) != s.wantErr || pw != s.wantPass || fetches != s.wantFetches {
			t.Fatalf("step %d: password %q err %v fetches %d; want %q err=%v fetches %d", i, pw, err, fetches, s.wantPass, s.wantErr, s.wantFetches)
		}
	}
}

// countingCreds counts how often a token was signed.
type countingCreds struct {
	aws.CredentialsProvider
	n atomic.Int32
}

func (c *countingCreds) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c.n.Add(1)
	return c.CredentialsProvider.Retrieve(ctx)
}

func TestIAMToken(t *testing.T) {
	now := time.Now()
	creds := &countingCreds{CredentialsProvider: credentials.NewStaticCredentialsProvider("AKIDTEST", "SECRET", "SESSION")}
	src, err := iamToken(creds, "eu-west-1", "db.example.internal:5432", "icy_app", func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	user, token, err := src(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if user != "icy_app" {
		t.Errorf("user = %q", user)
	}
	// The token is a presigned URL without its scheme.
	u, err := url.Parse("https://" + token)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	checks := map[string]string{
		"Action": "connect", "DBUser": "icy_app", "X-Amz-Expires": "900",
		"X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Security-Token": "SESSION",
	}
	for k, want := range checks {
		if got := q.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if u.Host != "db.example.internal:5432" || !strings.Contains(q.Get("X-Amz-Credential"), "/eu-west-1/rds-db/aws4_request") || q.Get("X-Amz-Signature") == "" {
		t.Errorf("token not signed for rds-db at the endpoint: %s", u.Redacted())
	}

	_, _, _ = src(context.Background(), false)
	if n := creds.n.Load(); n != 1 {
		t.Fatalf("signed %d times within the TTL, want 1", n)
	}
	now = now.Add(TokenTTL)
	_, _, _ = src(context.Background(), false)
	if n := creds.n.Load(); n != 2 {
		t.Fatalf("not renewed after TokenTTL: signed %d times", n)
	}
}

func TestIAMTokenNeedsItsInputs(t *testing.T) {
	creds := credentials.NewStaticCredentialsProvider("a", "b", "")
	tests := []struct {
		name                   string
		creds                  aws.CredentialsProvider
		region, endpoint, user string
		wantErr                string
	}{
		{"no creds", nil, "eu-west-1", "h:5432", "u", "credentials"},
		{"no region", creds, "", "h:5432", "u", "region"},
		{"no user", creds, "eu-west-1", "h:5432", "", "user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := IAMToken(tt.creds, tt.region, tt.endpoint, tt.user)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
	src, err := IAMToken(creds, "eu-west-1", "h", "u") // no port
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := src(context.Background(), false); err == nil {
		t.Fatal("an endpoint without a port signed a token")
	}
}

func TestRDSCABundle(t *testing.T) {
	if _, err := RDSRootCAs(); err != nil {
		t.Fatal(err)
	}
	subjects := map[string]bool{}
	rest := rdsCABundle
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatalf("a certificate does not parse: %v", err)
		}
		if time.Now().After(c.NotAfter) {
			t.Errorf("%s expired on %s: run scripts/update-rds-ca.sh", c.Subject.CommonName, c.NotAfter)
		}
		if !c.IsCA {
			t.Errorf("%s is not a certificate authority", c.Subject.CommonName)
		}
		subjects[c.Subject.CommonName] = true
	}
	// The regions this deployment is most likely in, both key types, and the
	// root RDS Proxy's certificates chain to.
	for _, want := range []string{
		"Amazon RDS us-east-1 Root CA RSA2048 G1", "Amazon RDS eu-west-1 Root CA RSA2048 G1",
		"Amazon RDS eu-central-1 Root CA ECC384 G1", "Amazon Root CA 1",
	} {
		if !subjects[want] {
			t.Errorf("the bundle lacks %q", want)
		}
	}
}
