// Package awscred fetches the credentials the service needs in AWS: the
// database password from a Secrets Manager secret (the JSON secret RDS
// keeps for a managed master password) or an RDS IAM auth token, and the
// API's Basic-auth account from a secret of the same shape; and it holds the
// certificate authorities of RDS, for verified TLS. Nothing here is logged,
// and errors never include a secret's value.
package awscred

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/rds/auth"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// SecretGetter is the one Secrets Manager call used here;
// *secretsmanager.Client implements it.
type SecretGetter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Account is a user name and password.
type Account struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// ReadAccount reads a secret holding JSON {"username": ..., "password": ...}.
func ReadAccount(ctx context.Context, sm SecretGetter, arn string) (Account, error) {
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return Account{}, fmt.Errorf("read secret %s: %w", arn, err)
	}
	if out.SecretString == nil {
		return Account{}, fmt.Errorf("secret %s has no string value", arn)
	}
	var a Account
	// The decoder's error could quote the value; say only where it failed.
	if err := json.Unmarshal([]byte(*out.SecretString), &a); err != nil {
		return Account{}, fmt.Errorf("secret %s is not a JSON object with username and password", arn)
	}
	if a.Username == "" || a.Password == "" {
		return Account{}, fmt.Errorf("secret %s lacks a username or a password", arn)
	}
	return a, nil
}

// ReadString reads a secret's string value as it is (the link-signing
// key). The value is never part of an error.
func ReadString(ctx context.Context, sm SecretGetter, arn string) (string, error) {
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return "", fmt.Errorf("read secret %s: %w", arn, err)
	}
	if out.SecretString == nil || *out.SecretString == "" {
		return "", fmt.Errorf("secret %s has no string value", arn)
	}
	return *out.SecretString, nil
}

// Source gives the user and password for a new database connection; retry
// says the previous connection attempt failed (sqlstore.Options.Credentials).
type Source func(ctx context.Context, retry bool) (user, password string, err error)

// retryAfter is how old a cached value must be before a retry re-reads it,
// so that a database that is down does not turn every reconnection attempt
// into a Secrets Manager call.
const retryAfter = 5 * time.Second

// cached returns a Source that calls fetch at most once per ttl, again
// after a failed fetch, and again on a retry once the value is retryAfter
// old: after a rotation, the first refused connection makes the next one
// use the new password. Concurrent callers share one fetch.
func cached(ttl time.Duration, now func() time.Time, fetch func(ctx context.Context) (Account, error)) Source {
	var (
		mu      sync.Mutex
		account Account
		fetched time.Time
	)
	return func(ctx context.Context, retry bool) (string, string, error) {
		mu.Lock()
		defer mu.Unlock()
		t := now()
		age := t.Sub(fetched)
		if account.Password == "" || age >= ttl || (retry && age >= retryAfter) {
			a, err := fetch(ctx)
			if err != nil {
				account = Account{}
				return "", "", err
			}
			account, fetched = a, t
		}
		return account.Username, account.Password, nil
	}
}

// SecretTTL is how long a database secret is reused before it is read
// again. RDS rotates a managed master password (every 7 days by default);
// open connections are unaffected, and a connection refused after a
// rotation makes the next attempt re-read the secret (see cached), so the
// TTL only bounds how stale an unused value can get.
const SecretTTL = 5 * time.Minute

// DatabaseSecret returns a Source reading the database account from the
// secret arn, re-read every SecretTTL.
func DatabaseSecret(sm SecretGetter, arn string) Source {
	return cached(SecretTTL, time.Now, func(ctx context.Context) (Account, error) {
		return ReadAccount(ctx, sm, arn)
	})
}

// TokenTTL is how long an RDS IAM auth token is reused. Tokens are valid
// for 15 minutes for opening a connection (an open connection outlives
// its token); renewing at 10 leaves a margin for clock skew and for a
// connection attempt in progress.
const TokenTTL = 10 * time.Minute

// IAMToken returns a Source that signs an RDS IAM auth token for user at
// endpoint ("host:port") in region with creds, renewed every TokenTTL. The
// token is made locally by SigV4 presigning: no AWS call, so no VPC
// endpoint is needed for it.
func IAMToken(creds aws.CredentialsProvider, region, endpoint, user string) (Source, error) {
	return iamToken(creds, region, endpoint, user, time.Now)
}

func iamToken(creds aws.CredentialsProvider, region, endpoint, user string, now func() time.Time) (Source, error) {
	switch {
	case creds == nil:
		return nil, errors.New("RDS IAM auth needs AWS credentials")
	case region == "":
		return nil, errors.New("RDS IAM auth needs a region (AWS_REGION)")
	case user == "":
		return nil, errors.New("RDS IAM auth needs the database user in DATABASE_URL")
	}
	return cached(TokenTTL, now, func(ctx context.Context) (Account, error) {
		token, err := auth.BuildAuthToken(ctx, endpoint, region, user, creds)
		if err != nil {
			return Account{}, fmt.Errorf("build RDS IAM auth token: %w", err)
		}
		return Account{Username: user, Password: token}, nil
	}), nil
}
