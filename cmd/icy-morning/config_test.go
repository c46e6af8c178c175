package main

import (
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

var envName = regexp.MustCompile(`^[A-Z][A-Z0-9_]+$`)

// Every command reads a setting the same way: the same variable, refused
// the same way when it does not parse, and a flag overrides its variable.
func TestReadConfig(t *testing.T) {
	lambdaBase := map[string]string{"DATABASE_URL": "postgres://icy@db:5432/icy", "BASIC_AUTH_SECRET_ARN": "arn:api", "NOTIFY_SECRET_ARN": "arn:notify"}
	tests := []struct {
		name    string
		m       mode
		env     map[string]string
		args    []string
		wantErr string
		check   func(t *testing.T, c config)
	}{
		{name: "serve defaults", m: modeServe, check: func(t *testing.T, c config) {
			if c.addr != "127.0.0.1:8000" || !c.migrate || c.maxConns != 0 || c.logFormat != "json" || c.databaseURL != defaultDatabaseURL {
				t.Errorf("%+v", c)
			}
		}},
		{name: "lambda defaults", m: modeLambda, check: func(t *testing.T, c config) {
			if c.maxConns != lambdaDefaultMaxConns || c.dbIAMAuth || c.queryExecMode != "" {
				t.Errorf("%+v", c)
			}
		}},
		{name: "lambda: RDS Proxy settings", m: modeLambda, env: map[string]string{"DB_MAX_CONNS": "4", "DB_QUERY_EXEC_MODE": "exec", "DATABASE_SECRET_ARN": "arn:db"},
			check: func(t *testing.T, c config) {
				if c.maxConns != 4 || c.queryExecMode != "exec" || c.dbSecretARN != "arn:db" || !strings.Contains(c.database.URL, "default_query_exec_mode=exec") {
					t.Errorf("%+v", c)
				}
			}},
		{name: "lambda: IAM auth", m: modeLambda, env: map[string]string{"DATABASE_IAM_AUTH": "true"}, check: func(t *testing.T, c config) {
			if !c.dbIAMAuth {
				t.Error("IAM auth off")
			}
		}},
		{name: "lambda: plain account", m: modeLambda, env: map[string]string{"BASIC_AUTH_SECRET_ARN": "", "BASIC_AUTH_USERNAME": "u", "BASIC_AUTH_PASSWORD": "p"}},
		{name: "lambda: bad exec mode, refused by pgx", m: modeLambda, env: map[string]string{"DB_QUERY_EXEC_MODE": "prepare"}, wantErr: `DB_QUERY_EXEC_MODE "prepare"`},
		{name: "lambda: bad bool", m: modeLambda, env: map[string]string{"DATABASE_IAM_AUTH": "yes please"}, wantErr: "DATABASE_IAM_AUTH"},
		{name: "lambda: two database credentials", m: modeLambda, env: map[string]string{"DATABASE_IAM_AUTH": "true", "DATABASE_SECRET_ARN": "arn:db"}, wantErr: "not both"},
		{name: "lambda: two API accounts", m: modeLambda, env: map[string]string{"BASIC_AUTH_USERNAME": "u", "BASIC_AUTH_PASSWORD": "p"}, wantErr: "not both"},
		{name: "lambda: no API account", m: modeLambda, env: map[string]string{"BASIC_AUTH_SECRET_ARN": ""}, wantErr: "no API account"},
		{name: "lambda: no link-signing key", m: modeLambda, env: map[string]string{"NOTIFY_SECRET_ARN": ""}, wantErr: "no link-signing key"},
		{name: "lambda: two link-signing keys", m: modeLambda, env: map[string]string{"NOTIFY_SECRET": "k"}, wantErr: "NOTIFY_SECRET_ARN or NOTIFY_SECRET, not both"},
		{name: "lambda: two origin secrets", m: modeLambda, env: map[string]string{"CDN_ORIGIN_SECRET": "s", "CDN_ORIGIN_SECRET_ARN": "arn:origin"}, wantErr: "CDN_ORIGIN_SECRET_ARN or CDN_ORIGIN_SECRET, not both"},
		{name: "lambda: the CDN's settings", m: modeLambda, env: map[string]string{"CDN_ORIGIN_SECRET_ARN": "arn:origin", "CDN_DISTRIBUTION_ID": "E1", "CDN_INVALIDATION_INTERVAL": "1m"}, check: func(t *testing.T, c config) {
			if c.originSecretARN != "arn:origin" || c.cdnDistributionID != "E1" || c.cdnInvalidationEvery != time.Minute {
				t.Errorf("%+v", c)
			}
		}},
		{name: "worker: the invalidation interval's default", m: modeWorker, check: func(t *testing.T, c config) {
			if c.cdnInvalidationEvery != 10*time.Second || c.cdnDistributionID != "" {
				t.Errorf("interval %v, distribution %q", c.cdnInvalidationEvery, c.cdnDistributionID)
			}
		}},
		{name: "worker: an interval too short", m: modeWorker, env: map[string]string{"CDN_INVALIDATION_INTERVAL": "500ms"}, wantErr: "CDN_INVALIDATION_INTERVAL"},
		{name: "worker: the default daily budget", m: modeWorker, check: func(t *testing.T, c config) {
			if c.cdnDailyPaths != 30 {
				t.Errorf("CDN_INVALIDATION_DAILY_PATHS default %d, want 30 (within the free 1,000 paths a month)", c.cdnDailyPaths)
			}
		}},
		{name: "worker: no daily budget", m: modeWorker, env: map[string]string{"CDN_INVALIDATION_DAILY_PATHS": "0"}, check: func(t *testing.T, c config) {
			if c.cdnDailyPaths != 0 {
				t.Errorf("%d", c.cdnDailyPaths)
			}
		}},
		{name: "worker: a negative budget", m: modeWorker, env: map[string]string{"CDN_INVALIDATION_DAILY_PATHS": "-1"}, wantErr: "CDN_INVALIDATION_DAILY_PATHS"},
		{name: "worker: an interval too long", m: modeWorker, env: map[string]string{"CDN_INVALIDATION_INTERVAL": "2h"}, wantErr: "CDN_INVALIDATION_INTERVAL"},
		{name: "serve: a plain origin secret", m: modeServe, env: map[string]string{"CDN_ORIGIN_SECRET": "s3cret"}, check: func(t *testing.T, c config) {
			if c.originSecret != "s3cret" {
				t.Errorf("origin secret %q", c.originSecret)
			}
		}},
		{name: "lambda: half an API account", m: modeLambda, env: map[string]string{"BASIC_AUTH_SECRET_ARN": "", "BASIC_AUTH_USERNAME": "u"}, wantErr: "no API account"},
		{name: "AUTH_TYPE default", m: modeServe, check: func(t *testing.T, c config) {
			if !c.authBasic || c.authJWT || c.oidc.WriteScope != "icy-morning/write" {
				t.Errorf("%+v", c)
			}
		}},
		{name: "AUTH_TYPE basic,jwt", m: modeServe, env: map[string]string{"AUTH_TYPE": "basic,jwt", "OIDC_ISSUER_URL": "https://idp.example", "OIDC_CLIENT_IDS": "a, b", "OIDC_GROUPS_CLAIM": "cognito:groups", "OIDC_WRITE_GROUP": "w"},
			check: func(t *testing.T, c config) {
				if !c.authBasic || !c.authJWT || strings.Join(c.oidc.ClientIDs, "|") != "a|b" || c.oidc.GroupsClaim != "cognito:groups" {
					t.Errorf("%+v", c)
				}
			}},
		{name: "lambda: AUTH_TYPE jwt needs no API account", m: modeLambda, env: map[string]string{"BASIC_AUTH_SECRET_ARN": "", "AUTH_TYPE": "jwt", "OIDC_ISSUER_URL": "https://idp.example", "OIDC_AUDIENCE": "api"},
			check: func(t *testing.T, c config) {
				if c.authBasic || !c.authJWT {
					t.Errorf("%+v", c)
				}
			}},
		{name: "AUTH_TYPE unknown", m: modeServe, env: map[string]string{"AUTH_TYPE": "oauth"}, wantErr: `AUTH_TYPE "oauth": want basic, jwt or basic,jwt`},
		{name: "AUTH_TYPE jwt without issuer", m: modeServe, env: map[string]string{"AUTH_TYPE": "jwt", "OIDC_AUDIENCE": "api"}, wantErr: "OIDC_ISSUER_URL is required"},
		{name: "AUTH_TYPE jwt without audience", m: modeLambda, env: map[string]string{"AUTH_TYPE": "jwt", "OIDC_ISSUER_URL": "https://idp.example"}, wantErr: "set OIDC_AUDIENCE or OIDC_CLIENT_IDS"},
		{name: "half a group setting", m: modeServe, env: map[string]string{"AUTH_TYPE": "jwt", "OIDC_ISSUER_URL": "https://idp.example", "OIDC_AUDIENCE": "api", "OIDC_WRITE_GROUP": "w"}, wantErr: "OIDC_GROUPS_CLAIM and OIDC_WRITE_GROUP together"},
		{name: "an empty client id", m: modeServe, env: map[string]string{"OIDC_CLIENT_IDS": "a,,b"}, wantErr: "OIDC_CLIENT_IDS"},
		{name: "a write scope with a quote", m: modeServe, env: map[string]string{"AUTH_TYPE": "jwt", "OIDC_ISSUER_URL": "https://idp.example", "OIDC_AUDIENCE": "api", "OIDC_WRITE_SCOPE": `w"`}, wantErr: "OIDC_WRITE_SCOPE"},
		{name: "OIDC settings without jwt", m: modeServe, env: map[string]string{"OIDC_ISSUER_URL": "https://idp.example"}, wantErr: "AUTH_TYPE does not include jwt"},
		{name: "a docs client without jwt", m: modeServe, env: map[string]string{"OIDC_DOCS_CLIENT_ID": "docs"}, wantErr: "AUTH_TYPE does not include jwt"},
		{name: "a docs client", m: modeLambda, env: map[string]string{"AUTH_TYPE": "jwt", "OIDC_ISSUER_URL": "https://idp.example", "OIDC_AUDIENCE": "api", "OIDC_DOCS_CLIENT_ID": "docs"},
			check: func(t *testing.T, c config) {
				if c.oidc.DocsClientID != "docs" {
					t.Errorf("%+v", c.oidc)
				}
			}},
		{name: "a URL pgx refuses", m: modeMigrate, env: map[string]string{"DATABASE_URL": "postgres://u:hunter2@h/d?sslmode=sometimes"}, wantErr: "DATABASE_URL"},
		{name: "the Python service's URL", m: modeMigrate, env: map[string]string{"SQLALCHEMY_DATABASE_CONNECTION_URI": "sqlite:///py.db"},
			check: func(t *testing.T, c config) {
				if c.databaseURL != "sqlite:///py.db" {
					t.Error(c.databaseURL)
				}
			}},
		{name: "DATABASE_URL wins", m: modeServe, env: map[string]string{"DATABASE_URL": "sqlite:///a.db", "SQLALCHEMY_DATABASE_CONNECTION_URI": "sqlite:///py.db"},
			check: func(t *testing.T, c config) {
				if c.databaseURL != "sqlite:///a.db" {
					t.Error(c.databaseURL)
				}
			}},
		{name: "flag over variable", m: modeServe, env: map[string]string{"DB_MAX_CONNS": "3", "ADDR": "127.0.0.1:1"}, args: []string{"--max-conns", "5", "--addr", "127.0.0.1:2"},
			check: func(t *testing.T, c config) {
				if c.maxConns != 5 || c.addr != "127.0.0.1:2" {
					t.Errorf("%+v", c)
				}
			}},
		{name: "a flag overrides a bad variable", m: modeServe, env: map[string]string{"DB_MAX_CONNS": "lots"}, args: []string{"--max-conns", "5"},
			check: func(t *testing.T, c config) {
				if c.maxConns != 5 {
					t.Errorf("%+v", c)
				}
			}},
		{name: "--migrate=false", m: modeServe, args: []string{"--migrate=false"}, check: func(t *testing.T, c config) {
			if c.migrate {
				t.Error("still migrating")
			}
		}},
		{name: "bare --migrate", m: modeServe, args: []string{"--migrate"}, check: func(t *testing.T, c config) {
			if !c.migrate {
				t.Error("not migrating")
			}
		}},
		{name: "log settings", m: modeMigrate, env: map[string]string{"LOG_LEVEL": "debug", "LOG_FORMAT": "TEXT"}, check: func(t *testing.T, c config) {
			if c.logLevel.String() != "DEBUG" || c.logFormat != "text" {
				t.Errorf("%+v", c)
			}
		}},
		{name: "serve: bad DB_MAX_CONNS", m: modeServe, env: map[string]string{"DB_MAX_CONNS": "abc"}, wantErr: `DB_MAX_CONNS "abc"`},
		{name: "lambda: bad DB_MAX_CONNS", m: modeLambda, env: map[string]string{"DB_MAX_CONNS": "abc"}, wantErr: `DB_MAX_CONNS "abc"`},
		{name: "lambda: DB_MAX_CONNS 0", m: modeLambda, env: map[string]string{"DB_MAX_CONNS": "0"}, wantErr: "DB_MAX_CONNS"},
		{name: "negative HTTP_MAX_CONNS", m: modeServe, env: map[string]string{"HTTP_MAX_CONNS": "-1"}, wantErr: `HTTP_MAX_CONNS "-1"`},
		{name: "bad LOG_LEVEL", m: modeMigrate, env: map[string]string{"LOG_LEVEL": "loud"}, wantErr: `LOG_LEVEL "loud"`},
		{name: "bad LOG_FORMAT", m: modeLambda, env: map[string]string{"LOG_FORMAT": "xml"}, wantErr: `LOG_FORMAT "xml"`},
		{name: "two bad variables, both named", m: modeServe, env: map[string]string{"LOG_LEVEL": "loud", "HTTP_MAX_CONNS": "x"}, wantErr: "HTTP_MAX_CONNS"},
		{name: "bad flag", m: modeServe, args: []string{"--max-conns", "x"}, wantErr: "usage"},
		{name: "a variable of another command is not read", m: modeServe, env: map[string]string{"DATABASE_IAM_AUTH": "maybe"}},
		{name: "lambda: the API function by default", m: modeLambda, check: func(t *testing.T, c config) {
			if c.function != functionAPI {
				t.Errorf("function %q", c.function)
			}
		}},
		{name: "lambda: the migrate function needs no API account or link-signing key", m: modeLambda,
			env: map[string]string{"ICY_MORNING_FUNCTION": "migrate", "BASIC_AUTH_SECRET_ARN": "", "NOTIFY_SECRET_ARN": "", "DATABASE_SECRET_ARN": "arn:master", "APP_DATABASE_SECRET_ARN": "arn:app"},
			check: func(t *testing.T, c config) {
				if c.function != functionMigrate || c.dbWait != time.Minute || c.appSecretARN != "arn:app" || c.dbSecretARN != "arn:master" {
					t.Errorf("%+v", c)
				}
			}},
		{name: "lambda: the migrate function with IAM auth for the app role", m: modeLambda, env: map[string]string{"ICY_MORNING_FUNCTION": "migrate", "APP_DATABASE_IAM_AUTH": "true", "DB_WAIT": "0"},
			check: func(t *testing.T, c config) {
				if !c.appIAMAuth || c.dbWait != 0 {
					t.Errorf("%+v", c)
				}
			}},
		{name: "lambda: the migrate function signs in with the owner's password", m: modeLambda, env: map[string]string{"ICY_MORNING_FUNCTION": "migrate", "DATABASE_IAM_AUTH": "true"}, wantErr: "not DATABASE_IAM_AUTH"},
		{name: "lambda: the app role's password and IAM auth", m: modeLambda, env: map[string]string{"ICY_MORNING_FUNCTION": "migrate", "APP_DATABASE_IAM_AUTH": "true", "APP_DATABASE_SECRET_ARN": "arn:app"}, wantErr: "not both"},
		{name: "lambda: two app passwords", m: modeLambda, env: map[string]string{"ICY_MORNING_FUNCTION": "migrate", "APP_DATABASE_PASSWORD": "p", "APP_DATABASE_SECRET_ARN": "arn:app"}, wantErr: "not both"},
		{name: "lambda: the API function does not provision", m: modeLambda, env: map[string]string{"APP_DATABASE_SECRET_ARN": "arn:app"}, wantErr: "ICY_MORNING_FUNCTION=migrate"},
		{name: "lambda: an unknown function", m: modeLambda, env: map[string]string{"ICY_MORNING_FUNCTION": "worker"}, wantErr: `ICY_MORNING_FUNCTION "worker"`},
		{name: "migrate: DB_WAIT", m: modeMigrate, env: map[string]string{"DB_WAIT": "3s", "APP_DATABASE_PASSWORD": "p"}, check: func(t *testing.T, c config) {
			if c.dbWait != 3*time.Second || c.appPassword != "p" {
				t.Errorf("%+v", c)
			}
		}},
		{name: "migrate: bad DB_WAIT", m: modeMigrate, env: map[string]string{"DB_WAIT": "soon"}, wantErr: `DB_WAIT "soon"`},
		{name: "migrate: negative DB_WAIT", m: modeMigrate, env: map[string]string{"DB_WAIT": "-1s"}, wantErr: `DB_WAIT "-1s"`},
		{name: "migrate: a password and IAM auth", m: modeMigrate, env: map[string]string{"APP_DATABASE_PASSWORD": "p", "APP_DATABASE_IAM_AUTH": "true"}, wantErr: "not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			if tt.m == modeLambda {
				for k, v := range lambdaBase {
					env[k] = v
				}
			}
			for k, v := range tt.env {
				env[k] = v
			}
			var fs = newFlags("test", "test", io.Discard)
			if tt.m == modeLambda {
				fs = nil
			}
			c, err := readConfig(tt.m, fs, tt.args, func(k string) string { return env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("the error shows the database password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

// The README's configuration tables document every variable of the
// settings table, with its default, and nothing the binary does not read.
func TestREADMEConfigurationTables(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for line := range strings.Lines(string(b)) {
		if strings.HasPrefix(line, "| `") {
			rows = append(rows, line)
		}
	}
	documented := func(name string) []string {
		var out []string
		for _, r := range rows {
			first, _, _ := strings.Cut(strings.TrimPrefix(r, "| "), " | ")
			if strings.Contains(first, "`"+name+"`") {
				out = append(out, r)
			}
		}
		return out
	}
	known := map[string]bool{}
	for _, s := range settings {
		if s.env == "" {
			continue
		}
		known[s.env] = true
		found := documented(s.env)
		if len(found) == 0 {
			t.Errorf("README: no configuration row for %s", s.env)
			continue
		}
		for _, def := range []string{s.def, s.lambdaDef} {
			if def == "" || def == "0" {
				continue
			}
			if !strings.Contains(strings.Join(found, ""), def) {
				t.Errorf("README: the row of %s does not give its default %q", s.env, def)
			}
		}
	}
	// The other way: a variable in a configuration table's first column
	// that the binary does not read (the Lambda runtime's are exempt).
	for _, r := range rows {
		first, _, _ := strings.Cut(strings.TrimPrefix(r, "| "), " | ")
		for _, name := range strings.Split(first, "`") {
			if !envName.MatchString(name) || strings.HasPrefix(name, "AWS_") {
				continue
			}
			if !known[name] {
				t.Errorf("README documents %s, which no command reads", name)
			}
		}
	}
}
