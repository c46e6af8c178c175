package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/auth"
	"github.com/icy-morning/icy-morning/awscred"
	"github.com/icy-morning/icy-morning/awslambda"
	"github.com/icy-morning/icy-morning/httpapi"
	"github.com/icy-morning/icy-morning/sqlstore"
)

// lambdaEnv lists every environment variable the lambda command reads
// beyond those the Lambda runtime sets; the infrastructure test checks
// Terraform against it.
var lambdaEnv = []string{
	"DATABASE_URL", "SQLALCHEMY_DATABASE_CONNECTION_URI", "DATABASE_SECRET_ARN", "DATABASE_IAM_AUTH",
	"DB_MAX_CONNS", "DB_QUERY_EXEC_MODE", "BASIC_AUTH_SECRET_ARN", "BASIC_AUTH_USERNAME", "BASIC_AUTH_PASSWORD",
	"LOG_LEVEL", "LOG_FORMAT", "GOGC", "GOMEMLIMIT", "GOMAXPROCS",
}

// lambdaDefaultMaxConns is the pool size of one execution environment: it
// serves one request at a time, so two connections cover a request and a
// migration or health check, and a thousand concurrent environments stay
// within what RDS (or RDS Proxy) can hold.
const lambdaDefaultMaxConns = 2

// lambdaConfig is what the lambda command reads, all from the environment.
type lambdaConfig struct {
	config
	secretARN     string
	iamAuth       bool
	queryExecMode string
	authSecretARN string
}

func readLambdaConfig(getenv func(string) string) (lambdaConfig, error) {
	c := lambdaConfig{
		config: config{
			databaseURL: envDatabaseURL(getenv),
			authUser:    getenv("BASIC_AUTH_USERNAME"),
			authPass:    getenv("BASIC_AUTH_PASSWORD"),
			logLevel:    envOr(getenv, "LOG_LEVEL", "info"),
			logFormat:   envOr(getenv, "LOG_FORMAT", "json"),
			maxConns:    lambdaDefaultMaxConns,
		},
		secretARN:     getenv("DATABASE_SECRET_ARN"),
		queryExecMode: getenv("DB_QUERY_EXEC_MODE"),
		authSecretARN: getenv("BASIC_AUTH_SECRET_ARN"),
	}
	if v := getenv("DB_MAX_CONNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return c, fmt.Errorf("DB_MAX_CONNS %q: want a positive number", v)
		}
		c.maxConns = n
	}
	if v := getenv("DATABASE_IAM_AUTH"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("DATABASE_IAM_AUTH %q: want true or false", v)
		}
		c.iamAuth = b
	}
	switch {
	case !sqlstore.ValidQueryExecMode(c.queryExecMode):
		return c, fmt.Errorf("DB_QUERY_EXEC_MODE %q: want cache_statement, cache_describe, describe_exec, exec or simple_protocol", c.queryExecMode)
	case c.iamAuth && c.secretARN != "":
		return c, errors.New("set DATABASE_SECRET_ARN or DATABASE_IAM_AUTH=true, not both")
	case c.authSecretARN != "" && (c.authUser != "" || c.authPass != ""):
		return c, errors.New("set BASIC_AUTH_SECRET_ARN or BASIC_AUTH_USERNAME/BASIC_AUTH_PASSWORD, not both")
	case c.authSecretARN == "" && (c.authUser == "" || c.authPass == ""):
		// serve makes up a password and prints it; in Lambda that would put
		// a credential in CloudWatch, so an account must be configured.
		return c, errors.New("no API account: set BASIC_AUTH_SECRET_ARN (or BASIC_AUTH_USERNAME and BASIC_AUTH_PASSWORD)")
	}
	return c, nil
}

// runLambda serves Lambda invocations until the runtime stops the process.
// Everything slow happens here, at init, once per execution environment:
// reading secrets, opening the pool and checking the database answers.
// Migrations do not run here; invoke the function with
// {"icy_morning": "migrate"} after a deploy.
func runLambda(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "Usage: icy-morning lambda (configured by the environment only; see the README)")
		return errUsage
	}
	if getenv("AWS_LAMBDA_RUNTIME_API") == "" {
		return errors.New("lambda: AWS_LAMBDA_RUNTIME_API is not set: run under the Lambda runtime or its emulator (see the README)")
	}
	c, err := readLambdaConfig(getenv)
	if err != nil {
		return err
	}
	logger, err := newLogger(&c.config, stdout)
	if err != nil {
		return err
	}
	logger = slog.New(awslambda.LogHandler(logger.Handler()))
	// Libraries that use the standard log package (the event adapter does,
	// on a bad request) then write JSON lines too, not bare text.
	slog.SetDefault(logger)
	tuneGC(getenv)
	tuneLambdaCPU(getenv)

	start := time.Now()
	store, authn, err := lambdaInit(ctx, c)
	if err != nil {
		logger.Error("init failed", "error", err.Error())
		return err
	}
	logger.Info("init", "database", string(store.Dialect()), "version", version(),
		"duration", time.Since(start), "max_conns", c.maxConns, "gomaxprocs", runtime.GOMAXPROCS(0))

	api := httpapi.NewServer(httpapi.Config{Store: store, Auth: authn, Logger: logger, Version: version()})
	h := awslambda.New(api, logger, map[string]awslambda.Command{
		"migrate": func(ctx context.Context) (any, error) {
			n, err := store.MigrateUp(ctx)
			if err != nil {
				return nil, err
			}
			return map[string]int{"applied": n}, nil
		},
		"migrate_status": func(ctx context.Context) (any, error) { return store.MigrationStatus(ctx) },
	})
	// At shutdown Lambda sends SIGTERM, then SIGKILL 500 ms later: close the
	// pool so the database sees clean disconnections, and exit, because the
	// runtime loop would otherwise wait for the SIGKILL.
	lambda.StartWithOptions(h, lambda.WithContext(ctx), lambda.WithEnableSIGTERM(func() {
		store.Close()
		logger.Info("shutdown")
		os.Exit(0)
	}))
	return nil
}

// vCPUMemoryMB is the memory size at which a Lambda function gets the
// CPU time of one whole vCPU (AWS documents 1,769 MB); below it, a share.
const vCPUMemoryMB = 1769

// tuneLambdaCPU sets GOMAXPROCS to the whole vCPUs the function's memory
// size buys (at least one), unless GOMAXPROCS is set. Lambda shows the
// process every core of the host slot but throttles its CPU time to that
// share, and an environment serves one request at a time; with a second P
// the runtime spins up and wakes idle threads that only take CPU time from
// the request. Under the emulator (2 cores, 3008 MB) this cut the warm
// GET-by-id p50 from 1.04-1.07 to 0.95 ms on PostgreSQL, and on SQLite from
// 0.93-0.97 to 0.84-0.85 ms (docs/performance.md).
func tuneLambdaCPU(getenv func(string) string) {
	if getenv("GOMAXPROCS") != "" {
		return
	}
	mb, err := strconv.Atoi(getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"))
	if err != nil || mb <= 0 {
		return
	}
	runtime.GOMAXPROCS(lambdaProcs(mb, runtime.NumCPU()))
}

func lambdaProcs(memoryMB, cpus int) int {
	return max(1, min(cpus, memoryMB/vCPUMemoryMB))
}

// lambdaInit reads the credentials and opens the store.
func lambdaInit(ctx context.Context, c lambdaConfig) (*sqlstore.Store, icymorning.Authenticator, error) {
	ictx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	opts := sqlstore.Options{MaxConns: c.maxConns, QueryExecMode: c.queryExecMode, PingTimeout: 2 * time.Second}
	// With sslmode=verify-full (as the Terraform sets it) the server must
	// prove it is the RDS instance or proxy: trust RDS's authorities too.
	// Loading them takes about 2 ms, so only when the URL verifies.
	if verifiesServer(c.databaseURL) {
		roots, err := awscred.RDSRootCAs()
		if err != nil {
			return nil, nil, err
		}
		opts.RootCAs = roots
	}

	// The AWS SDK's configuration is loaded only when a secret or IAM auth
	// needs it: it costs init time a local or test run should not pay.
	var (
		awsCfg aws.Config
		sm     *secretsmanager.Client
	)
	if c.secretARN != "" || c.iamAuth || c.authSecretARN != "" {
		var err error
		if awsCfg, err = awsconfig.LoadDefaultConfig(ictx); err != nil {
			return nil, nil, fmt.Errorf("AWS configuration: %w", err)
		}
		sm = secretsmanager.NewFromConfig(awsCfg)
	}

	switch {
	case c.secretARN != "":
		opts.Credentials = awscred.DatabaseSecret(sm, c.secretARN)
	case c.iamAuth:
		endpoint, user, err := postgresEndpoint(c.databaseURL)
		if err != nil {
			return nil, nil, err
		}
		src, err := awscred.IAMToken(awsCfg.Credentials, awsCfg.Region, endpoint, user)
		if err != nil {
			return nil, nil, err
		}
		opts.Credentials = src
	}

	user, pass := c.authUser, c.authPass
	if c.authSecretARN != "" {
		a, err := awscred.ReadAccount(ictx, sm, c.authSecretARN)
		if err != nil {
			return nil, nil, fmt.Errorf("API account: %w", err)
		}
		user, pass = a.Username, a.Password
	}
	authn, err := auth.NewBasic(user, pass)
	if err != nil {
		return nil, nil, err
	}

	store, err := sqlstore.Open(ictx, c.databaseURL, opts)
	if err != nil {
		return nil, nil, err
	}
	return store, authn, nil
}

// verifiesServer reports whether a database URL asks for the server's
// certificate to be checked.
func verifiesServer(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	mode := u.Query().Get("sslmode")
	return mode == "verify-ca" || mode == "verify-full"
}

// postgresEndpoint returns "host:port" and the user of a PostgreSQL URL,
// which an RDS IAM token is signed for.
func postgresEndpoint(raw string) (endpoint, user string, err error) {
	loc, err := sqlstore.ParseURL(raw)
	if err != nil {
		return "", "", err
	}
	if loc.Dialect != sqlstore.Postgres {
		return "", "", errors.New("DATABASE_IAM_AUTH needs a PostgreSQL DATABASE_URL")
	}
	u, err := url.Parse(loc.URL)
	if err != nil || u.Hostname() == "" {
		return "", "", errors.New("DATABASE_URL: want postgres://user@host:port/db for IAM auth")
	}
	if _, hasPassword := u.User.Password(); hasPassword {
		return "", "", errors.New("DATABASE_URL must not hold a password when DATABASE_IAM_AUTH=true")
	}
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	return net.JoinHostPort(u.Hostname(), port), u.User.Username(), nil
}
