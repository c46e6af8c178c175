package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/auth"
	"github.com/icy-morning/icy-morning/awscred"
	"github.com/icy-morning/icy-morning/awslambda"
	"github.com/icy-morning/icy-morning/cdn"
	"github.com/icy-morning/icy-morning/httpapi"
	"github.com/icy-morning/icy-morning/notify"
	"github.com/icy-morning/icy-morning/sqlstore"
	"github.com/icy-morning/icy-morning/sqsnudge"
)

// lambdaDefaultMaxConns is the pool size of one execution environment: it
// serves one request at a time, so two connections cover a request and a
// migration or health check, and a thousand concurrent environments stay
// within what RDS (or RDS Proxy) can hold.
const lambdaDefaultMaxConns = 2

// runLambda serves Lambda invocations until the runtime stops the process.
// Everything slow happens here, at init, once per execution environment:
// reading secrets, opening the pool and checking the database answers.
// Migrations do not run in this (the API's) function, which connects as
// the least-privilege app role: a function with ICY_MORNING_FUNCTION=migrate
// runs them (see lambdaMigrateCommands), invoked with
// {"icy_morning": "migrate"} after a deploy.
func runLambda(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "Usage: icy-morning lambda (configured by the environment only; see the README)")
		return errUsage
	}
	if getenv("AWS_LAMBDA_RUNTIME_API") == "" {
		return errors.New("lambda: AWS_LAMBDA_RUNTIME_API is not set: run under the Lambda runtime or its emulator (see the README)")
	}
	c, err := readConfig(modeLambda, nil, nil, getenv)
	if err != nil {
		return err
	}
	logger := slog.New(awslambda.LogHandler(newLogger(&c, stdout).Handler()))
	// Libraries that use the standard log package (the event adapter does,
	// on a bad request) then write JSON lines too, not bare text.
	slog.SetDefault(logger)

	if c.function == functionMigrate {
		commands, err := lambdaMigrateCommands(ctx, c, logger)
		if err != nil {
			logger.Error("init failed", "error", err.Error())
			return err
		}
		logger.Info("init", "function", c.function, "version", version(), "db_wait", c.dbWait)
		lambda.StartWithOptions(awslambda.New(noHTTP, logger, commands), lambda.WithContext(ctx), lambda.WithEnableSIGTERM(func() {
			logger.Info("shutdown")
			os.Exit(0)
		}))
		return nil
	}

	start := time.Now()
	store, authn, err := lambdaInit(ctx, c)
	if err != nil {
		logger.Error("init failed", "error", err.Error())
		return err
	}
	logger.Info("init", "database", string(store.Dialect()), "version", version(),
		"duration", time.Since(start), "max_conns", c.maxConns, "gomaxprocs", runtime.GOMAXPROCS(0))

	notes, nudger, err := lambdaNotifications(ctx, &c, store, logger)
	if err == nil {
		err = lambdaOriginSecret(ctx, &c)
	}
	if err != nil {
		logger.Error("init failed", "error", err.Error())
		return err
	}
	var data icymorning.Store = store
	if nudger != nil {
		data = notify.NudgeAfterChanges(store, nudger.Nudge)
	}
	api := httpapi.NewServer(httpapi.Config{Store: data, Auth: authn, Notifier: notes.service, Logger: logger, Version: version(), PrivateReads: c.privateReads,
		RequireIfMatch: c.requireIfMatch, Cache: c.cache, OriginSecret: c.originSecret})
	h := awslambda.New(api, logger, map[string]awslambda.Command{
		"migrate": func(context.Context) (any, error) { return nil, errMigrateElsewhere },
		// The app role may read goose's version table (migration 00004).
		"migrate_status": func(ctx context.Context) (any, error) { return store.MigrationStatus(ctx) },
	}).WithWorker(lambdaWorker{dispatcher: notes.dispatcher, store: store, purger: notes.purger, logger: logger})
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

// lambdaNotifications builds the notification service of a Lambda
// execution environment: the link-signing key from Secrets Manager (or
// NOTIFY_SECRET, or the one kept in the database) and, when
// NOTIFY_QUEUE_URL is set, the nudger of the worker's queue.
func lambdaNotifications(ctx context.Context, c *config, store *sqlstore.Store, logger *slog.Logger) (*notifications, *sqsnudge.Nudger, error) {
	ictx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	secret := c.notifySecret
	var nudger *sqsnudge.Nudger
	if c.notifySecretARN != "" || c.notifyQueueURL != "" {
		awsCfg, err := awsconfig.LoadDefaultConfig(ictx)
		if err != nil {
			return nil, nil, fmt.Errorf("AWS configuration: %w", err)
		}
		if c.notifySecretARN != "" {
			if secret, err = awscred.ReadString(ictx, secretsmanager.NewFromConfig(awsCfg), c.notifySecretARN); err != nil {
				return nil, nil, fmt.Errorf("NOTIFY_SECRET_ARN: %w", err)
			}
		}
		if c.notifyQueueURL != "" {
			nudger = sqsnudge.New(sqs.NewFromConfig(awsCfg), c.notifyQueueURL, logger)
		}
	}
	notes, err := openNotifications(ictx, c, store, secret, logger)
	if err != nil {
		return nil, nil, err
	}
	return notes, nudger, nil
}

// lambdaOriginSecret reads the CDN's origin secret from Secrets Manager
// into c.originSecret, when CDN_ORIGIN_SECRET_ARN names one. A rotated
// secret reaches an execution environment when it next starts; until then
// it refuses what CloudFront sends with the new value (infrastructure
// README, "The origin secret").
func lambdaOriginSecret(ctx context.Context, c *config) error {
	if c.originSecretARN == "" {
		return nil
	}
	ictx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	awsCfg, err := awsconfig.LoadDefaultConfig(ictx)
	if err != nil {
		return fmt.Errorf("AWS configuration: %w", err)
	}
	if c.originSecret, err = awscred.ReadString(ictx, secretsmanager.NewFromConfig(awsCfg), c.originSecretARN); err != nil {
		return fmt.Errorf("CDN_ORIGIN_SECRET_ARN: %w", err)
	}
	return nil
}

// lambdaWorker is the function's notification work (awslambda.Worker),
// and with CDN_DISTRIBUTION_ID the CDN's invalidations.
type lambdaWorker struct {
	dispatcher *notify.Dispatcher
	store      *sqlstore.Store
	purger     *cdn.Purger // nil without a CDN
	logger     *slog.Logger
}

// Sweep sends due mail until the invocation's deadline comes near, and
// ends unconfirmed sign-ups past their week. The dispatcher's own deadline
// is sweepMargin before the invocation's, which leaves it the time to
// record a batch it had to cut short.
func (w lambdaWorker) Sweep(ctx context.Context) error {
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-sweepMargin))
		defer cancel()
	}
	// The invalidations go beside the mail, so neither waits for the
	// other. A failed one is left due for the next sweep (the schedule's,
	// within the minute) and does not fail the invocation: SQS would
	// deliver the nudges again for nothing.
	if w.purger != nil {
		done := make(chan struct{})
		go func() {
			defer close(done)
			if _, err := w.purger.Sweep(ctx); err != nil {
				w.logger.LogAttrs(ctx, slog.LevelWarn, "cdn sweep failed; the next sweep retries", slog.String("error", err.Error()))
			}
		}()
		defer func() { <-done }()
	}
	if _, err := w.store.ExpireSignUps(ctx, time.Now().Add(-icymorning.SignUpExpiry)); err != nil {
		return err
	}
	deadline, _ := ctx.Deadline()
	_, err := w.dispatcher.Sweep(ctx, deadline)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil // the rest is due at once, for the next invocation
	}
	return err
}

// sweepMargin is the time a worker invocation keeps for itself after its
// sweep: recording a cut batch (milliseconds) and answering.
const sweepMargin = 3 * time.Second

// Suppress implements awslambda.Worker.
func (w lambdaWorker) Suppress(ctx context.Context, addresses []string) error {
	for _, a := range addresses {
		if _, err := w.store.SuppressEmail(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// lambdaInit reads the credentials and opens the store.
func lambdaInit(ctx context.Context, c config) (*sqlstore.Store, icymorning.Authenticator, error) {
	ictx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	opts := sqlstore.Options{MaxConns: c.maxConns, PingTimeout: 2 * time.Second}
	// With sslmode=verify-full (as the Terraform sets it) the server must
	// prove it is the RDS instance or proxy: trust RDS's authorities too.
	// Loading them takes about 2 ms, so only when the URL verifies.
	if c.database.VerifiesServer() {
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
	if c.dbSecretARN != "" || c.dbIAMAuth || c.authBasic && c.authSecretARN != "" {
		var err error
		if awsCfg, err = awsconfig.LoadDefaultConfig(ictx); err != nil {
			return nil, nil, fmt.Errorf("AWS configuration: %w", err)
		}
		sm = secretsmanager.NewFromConfig(awsCfg)
	}

	switch {
	case c.dbSecretARN != "":
		opts.Credentials = awscred.DatabaseSecret(sm, c.dbSecretARN)
	case c.dbIAMAuth:
		endpoint, user, err := postgresEndpoint(c.database)
		if err != nil {
			return nil, nil, err
		}
		src, err := awscred.IAMToken(awsCfg.Credentials, awsCfg.Region, endpoint, user)
		if err != nil {
			return nil, nil, err
		}
		opts.Credentials = src
	}

	// Discovery happens here, once per execution environment; the keys
	// are fetched with the first token and cached, so no request pays
	// for either again (see oidcauth).
	authn, err := authenticator(ictx, &c, func() (icymorning.Authenticator, error) {
		user, pass := c.authUser, c.authPass
		if c.authSecretARN != "" {
			a, err := awscred.ReadAccount(ictx, sm, c.authSecretARN)
			if err != nil {
				return nil, fmt.Errorf("API account: %w", err)
			}
			user, pass = a.Username, a.Password
		}
		return auth.NewBasic(user, pass)
	})
	if err != nil {
		return nil, nil, err
	}

	store, err := sqlstore.OpenLocation(ictx, c.database, opts)
	if err != nil {
		return nil, nil, err
	}
	return store, authn, nil
}

// postgresEndpoint returns "host:port" and the user of a PostgreSQL
// location, which an RDS IAM token is signed for.
func postgresEndpoint(loc sqlstore.Location) (endpoint, user string, err error) {
	if loc.Dialect != sqlstore.Postgres {
		return "", "", errors.New("DATABASE_IAM_AUTH needs a PostgreSQL DATABASE_URL")
	}
	if loc.HasPassword() {
		return "", "", errors.New("DATABASE_URL must not hold a password when DATABASE_IAM_AUTH=true")
	}
	network, endpoint := loc.Address()
	if network != "tcp" || loc.Host() == "" {
		return "", "", errors.New("DATABASE_URL: want postgres://user@host:port/db for IAM auth")
	}
	return endpoint, loc.User(), nil
}
