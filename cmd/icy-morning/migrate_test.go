package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/awslambda"
	"github.com/icy-morning/icy-morning/internal/awstest"
	"github.com/icy-morning/icy-morning/internal/netaddr"
	"github.com/icy-morning/icy-morning/internal/pgcluster"
	"github.com/icy-morning/icy-morning/internal/testdb"
	"github.com/icy-morning/icy-morning/sqlstore"
	"github.com/icy-morning/icy-morning/storetest"
)

// migrateCmd runs `icy-morning migrate args...` with the environment env
// and returns its output and error.
func migrateCmd(ctx context.Context, env map[string]string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	err := run(ctx, append([]string{"migrate"}, args...), func(k string) string { return env[k] }, &stdout, &stderr)
	return stdout.String() + stderr.String(), err
}

// The API works as the app role once `migrate up` has run as the owner
// with APP_DATABASE_PASSWORD: the whole store suite passes through a store
// that connects as icy_app.
func TestMigrateProvisionsTheAppRole(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) icymorning.Store {
		ownerURL := testdb.Postgres(t)
		out, err := migrateCmd(context.Background(), map[string]string{"DATABASE_URL": ownerURL, "APP_DATABASE_PASSWORD": testdb.AppPassword}, "up")
		if err != nil || !strings.Contains(out, fmt.Sprintf("applied %d migration(s)", migrationFiles(t))) {
			t.Fatalf("migrate up: %v\n%s", err, out)
		}
		if strings.Contains(out, testdb.AppPassword) {
			t.Fatal("migrate printed the app role's password")
		}
		s, err := sqlstore.Open(context.Background(), testdb.As(t, ownerURL, sqlstore.AppRole, testdb.AppPassword), sqlstore.Options{MaxConns: 4, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// migrate waits up to DB_WAIT for a PostgreSQL that is not up yet: one
// that comes up within the bound is migrated (and the app role set up);
// one that never does fails the command after the bound, with an error
// that names it and the last attempt's error, but not the password.
func TestMigrateWaitsForTheDatabase(t *testing.T) {
	t.Run("comes up", func(t *testing.T) {
		pg := pgcluster.New(t)
		addr, err := netaddr.FreeLoopback()
		if err != nil {
			t.Fatal(err)
		}
		env := map[string]string{"DATABASE_URL": pgcluster.URLAt(addr), "DB_WAIT": "30s", "APP_DATABASE_PASSWORD": testdb.AppPassword}
		type result struct {
			out string
			err error
		}
		done := make(chan result, 1)
		start := time.Now()
		go func() {
			out, err := migrateCmd(context.Background(), env, "up")
			done <- result{out, err}
		}()
		time.Sleep(time.Second)
		select {
		case r := <-done:
			t.Fatalf("migrate ended before PostgreSQL was up: %v\n%s", r.err, r.out)
		default:
		}
		if err := pg.StartAt(t, addr); err != nil {
			t.Fatalf("start PostgreSQL on %s (taken meanwhile?): %v", addr, err)
		}
		r := <-done
		if r.err != nil || !strings.Contains(r.out, fmt.Sprintf("applied %d migration(s)", migrationFiles(t))) {
			t.Fatalf("migrate: %v\n%s", r.err, r.out)
		}
		t.Logf("migrated %s after starting", time.Since(start).Round(time.Millisecond))

		// This cluster is not RDS: IAM auth for the app role is refused,
		// saying why, and the migrations stay applied.
		env["APP_DATABASE_PASSWORD"], env["APP_DATABASE_IAM_AUTH"] = "", "true"
		out, err := migrateCmd(context.Background(), env, "up")
		if err == nil || !strings.Contains(err.Error(), "role rds_iam does not exist") {
			t.Fatalf("IAM auth without rds_iam: %v\n%s", err, out)
		}
	})
	t.Run("never comes up", func(t *testing.T) {
		addr, err := netaddr.FreeLoopback()
		if err != nil {
			t.Fatal(err)
		}
		const password = "hunter2-never-shown"
		env := map[string]string{"DATABASE_URL": "postgres://owner:" + password + "@" + addr + "/icy?sslmode=disable", "DB_WAIT": "3s"}
		start := time.Now()
		out, err := migrateCmd(context.Background(), env, "up")
		took := time.Since(start)
		if err == nil {
			t.Fatalf("migrate succeeded with no database:\n%s", out)
		}
		msg := err.Error()
		for _, want := range []string{"DB_WAIT=3s", "not reachable within 3s", "connection refused"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q does not say %q", msg, want)
			}
		}
		if strings.Contains(msg, password) {
			t.Errorf("error %q holds the password", msg)
		}
		if took < 3*time.Second || took > 6*time.Second {
			t.Errorf("failed after %s, want about the bound, 3s", took)
		}
	})
	t.Run("0 tries once", func(t *testing.T) {
		addr, err := netaddr.FreeLoopback()
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = migrateCmd(context.Background(), map[string]string{"DATABASE_URL": "postgres://owner@" + addr + "/icy?sslmode=disable", "DB_WAIT": "0"}, "status")
		if err == nil || strings.Contains(err.Error(), "DB_WAIT") || time.Since(start) > 2*time.Second {
			t.Fatalf("after %s: %v", time.Since(start), err)
		}
	})
}

// The migrate function's commands: the owner's password and the app
// role's come from Secrets Manager (a local stand-in); migrate applies the
// migrations and sets the app role's password, and a second run applies
// none; the app role then signs in. Init opens no database.
func TestLambdaMigrateCommands(t *testing.T) {
	ctx := context.Background()
	owner, err := url.Parse(testdb.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	ownerPassword, _ := owner.User.Password()
	owner.User = url.User(owner.User.Username())
	master, _ := json.Marshal(map[string]string{"username": owner.User.Username(), "password": ownerPassword})
	app, _ := json.Marshal(map[string]string{"username": sqlstore.AppRole, "password": testdb.AppPassword})
	endpoint, _ := awstest.SecretsManager(t, map[string]string{
		"arn:master":    string(master),
		"arn:app":       string(app),
		"arn:app-wrong": `{"username":"postgres","password":"x"}`,
	})
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "SECRET")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))

	// No Basic-auth account and no link-signing key: the migrate function
	// needs neither.
	env := map[string]string{"ICY_MORNING_FUNCTION": "migrate", "DATABASE_URL": owner.String(), "DATABASE_SECRET_ARN": "arn:master", "APP_DATABASE_SECRET_ARN": "arn:app", "DB_WAIT": "5s"}
	commands := func(env map[string]string) map[string]awslambda.Command {
		t.Helper()
		c, err := readConfig(modeLambda, nil, nil, func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		cmds, err := lambdaMigrateCommands(ctx, c, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return cmds
	}
	cmds := commands(env)
	for want := range 2 {
		res, err := cmds["migrate"](ctx)
		if err != nil {
			t.Fatal(err)
		}
		applied := migrationFiles(t) * (1 - want)
		if r := res.(migrateFunctionResult); r.Applied != applied || r.AppSignIn != "password" || r.AppRole != sqlstore.AppRole {
			t.Fatalf("run %d: %+v, want %d applied", want+1, r, applied)
		}
	}
	st, err := cmds["migrate_status"](ctx)
	if err != nil || len(st.([]sqlstore.MigrationState)) != migrationFiles(t) {
		t.Fatalf("migrate_status: %v, %v", st, err)
	}
	s, err := sqlstore.Open(ctx, testdb.As(t, owner.String(), sqlstore.AppRole, testdb.AppPassword), sqlstore.Options{})
	if err != nil {
		t.Fatalf("the app role signs in: %v", err)
	}
	s.Close()

	env["APP_DATABASE_SECRET_ARN"] = "arn:app-wrong"
	if _, err := commands(env)["migrate"](ctx); err == nil || !strings.Contains(err.Error(), `username is "postgres", want "icy_app"`) {
		t.Fatalf("a secret for another user: %v", err)
	}

	// Init does not reach for the database: with none there it succeeds,
	// and the command fails after DB_WAIT.
	addr, err := netaddr.FreeLoopback()
	if err != nil {
		t.Fatal(err)
	}
	none := map[string]string{"ICY_MORNING_FUNCTION": "migrate", "DATABASE_URL": "postgres://owner:pw@" + addr + "/icy?sslmode=disable", "DB_WAIT": "1s"}
	if _, err := commands(none)["migrate"](ctx); err == nil || !strings.Contains(err.Error(), "DB_WAIT=1s") {
		t.Fatalf("no database: %v", err)
	}
}
