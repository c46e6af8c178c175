package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/icy-morning/icy-morning/awscred"
	"github.com/icy-morning/icy-morning/awslambda"
	"github.com/icy-morning/icy-morning/sqlstore"
)

// errMigrateElsewhere answers the migrate command in the API function,
// whose database user is the app role: it may not change the schema.
var errMigrateElsewhere = errors.New("migrations run in the migrate function (ICY_MORNING_FUNCTION=migrate), which connects as the database's owner; this function connects as " + sqlstore.AppRole + ", which cannot change the schema")

// noHTTP is the migrate function's answer to an HTTP event: it serves no
// API.
var noHTTP = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, "this is the migrate function (ICY_MORNING_FUNCTION=migrate): it serves no HTTP", http.StatusNotFound)
})

// migrateFunctionResult is the migrate command's answer.
type migrateFunctionResult struct {
	Applied int    `json:"applied"`
	AppRole string `json:"app_role"`
	// AppSignIn is what was set up for the app role: "password",
	// "iam" or "unchanged".
	AppSignIn string `json:"app_sign_in"`
}

// lambdaMigrateCommands builds the commands of the migrate function. Its
// init reads the settings and the AWS configuration only: the database is
// opened by each command, waiting up to DB_WAIT for it, because on a first
// deploy the function is created before its database (or RDS Proxy) can be
// reached. Each command closes its connections when it ends, so no
// connection with the owner's credentials is held between invocations.
// The app role's secret is read by each migrate command too: a rotated
// password is set by the next run.
func lambdaMigrateCommands(ctx context.Context, c config, logger *slog.Logger) (map[string]awslambda.Command, error) {
	ictx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var opts sqlstore.Options
	if c.database.VerifiesServer() {
		roots, err := awscred.RDSRootCAs()
		if err != nil {
			return nil, err
		}
		opts.RootCAs = roots
	}
	var sm *secretsmanager.Client
	if c.dbSecretARN != "" || c.appSecretARN != "" {
		awsCfg, err := awsconfig.LoadDefaultConfig(ictx)
		if err != nil {
			return nil, fmt.Errorf("AWS configuration: %w", err)
		}
		sm = secretsmanager.NewFromConfig(awsCfg)
	}
	if c.dbSecretARN != "" {
		opts.Credentials = awscred.DatabaseSecret(sm, c.dbSecretARN)
	}
	open := func(ctx context.Context) (*sqlstore.Store, error) { return openForMigration(ctx, &c, opts) }

	access := func(ctx context.Context) (sqlstore.AppRoleAccess, error) {
		a := sqlstore.AppRoleAccess{Password: c.appPassword, IAMAuth: c.appIAMAuth}
		if c.appSecretARN != "" {
			acct, err := awscred.ReadAccount(ctx, sm, c.appSecretARN)
			if err != nil {
				return a, fmt.Errorf("APP_DATABASE_SECRET_ARN: %w", err)
			}
			if acct.Username != sqlstore.AppRole {
				// The API function signs in as the secret's user: a secret
				// for another user would give it the wrong password.
				return a, fmt.Errorf("APP_DATABASE_SECRET_ARN: the secret's username is %q, want %q", acct.Username, sqlstore.AppRole)
			}
			a.Password = acct.Password
		}
		return a, nil
	}

	return map[string]awslambda.Command{
		"migrate": func(ctx context.Context) (any, error) {
			a, err := access(ctx)
			if err != nil {
				return nil, err
			}
			store, err := open(ctx)
			if err != nil {
				return nil, err
			}
			defer store.Close()
			n, err := migrateUp(ctx, store, a)
			if err != nil {
				return nil, err
			}
			res := migrateFunctionResult{Applied: n, AppRole: sqlstore.AppRole, AppSignIn: "unchanged"}
			switch {
			case a.Password != "":
				res.AppSignIn = "password"
			case a.IAMAuth:
				res.AppSignIn = "iam"
			}
			logger.Info("migrated", "applied", n, "app_sign_in", res.AppSignIn)
			return res, nil
		},
		"migrate_status": func(ctx context.Context) (any, error) {
			store, err := open(ctx)
			if err != nil {
				return nil, err
			}
			defer store.Close()
			return store.MigrationStatus(ctx)
		},
	}, nil
}
