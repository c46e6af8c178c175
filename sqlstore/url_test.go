package sqlstore

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// pgEnvNone keeps the machine's PostgreSQL settings out of a test: the PG*
// variables pgx reads, and the files under the home directory it looks for
// (~/.pgpass, ~/.postgresql/root.crt).
func pgEnvNone(t *testing.T) {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	for _, k := range []string{"PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD", "PGPASSFILE",
		"PGSSLMODE", "PGSSLROOTCERT", "PGSERVICE", "PGSERVICEFILE", "PGOPTIONS"} {
		t.Setenv(k, "")
	}
}

func mustParse(t *testing.T, raw string) Location {
	t.Helper()
	loc, err := ParseURL(raw)
	if err != nil {
		t.Fatalf("ParseURL(%q): %v", raw, err)
	}
	return loc
}

// wantErr fails the test unless err contains want, or is nil when want is
// "", and reports whether it is nil: whether the test goes on.
func wantErr(t *testing.T, err error, want string) bool {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatal(err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Fatalf("err = %v, want %q", err, want)
	}
	return err == nil
}

func TestParseURL(t *testing.T) {
	pgEnvNone(t)
	tests := []struct {
		in      string
		dialect Dialect
		url     string
		wantErr string
	}{
		{in: "postgres://u:p@h:5432/db", dialect: Postgres, url: "postgres://u:p@h:5432/db"},
		{in: "postgresql://u:p@h/db?sslmode=require", dialect: Postgres, url: "postgresql://u:p@h/db?sslmode=require"},
		{in: "postgresql+asyncpg://u:p@h:5432/db", dialect: Postgres, url: "postgresql://u:p@h:5432/db"},
		{in: "POSTGRES+psycopg://u@h/db", dialect: Postgres, url: "postgres://u@h/db"},
		{in: "sqlite:///icy.db", dialect: SQLite, url: "icy.db"},
		{in: "sqlite:///data/icy.db", dialect: SQLite, url: "data/icy.db"},
		{in: "sqlite:////var/lib/icy.db", dialect: SQLite, url: "/var/lib/icy.db"},
		{in: "sqlite+aiosqlite:///./db.sqlite", dialect: SQLite, url: "./db.sqlite"},
		{in: "sqlite:///my%20db.sqlite", dialect: SQLite, url: "my db.sqlite"},
		{in: "sqlite://:memory:", dialect: SQLite, url: ":memory:"},
		{in: "sqlite://", dialect: SQLite, url: ":memory:"},
		{in: "sqlite://relative.db", wantErr: "three slashes"},
		{in: "mysql://x", wantErr: `unsupported database URL scheme "mysql"`},
		{in: "icy.db", wantErr: "no scheme"},
		// pgx parses a PostgreSQL URL, and what it refuses is refused here.
		{in: "postgres://u@h/db?sslmode=sometimes", wantErr: "sslmode is invalid"},
		{in: "postgres://u@h/db?default_query_exec_mode=prepared", wantErr: `unknown value "prepared"`},
		{in: "postgres://u@h/db?pool_max_conns=many", wantErr: "cannot parse pool_max_conns"},
		{in: "postgres://u@h:port/db", wantErr: "invalid PostgreSQL connection string"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			loc, err := ParseURL(tt.in)
			if !wantErr(t, err, tt.wantErr) {
				return
			}
			if loc.Dialect != tt.dialect || loc.URL != tt.url {
				t.Fatalf("got %+v, want %s %s", loc, tt.dialect, tt.url)
			}
		})
	}
}

// A PostgreSQL URL that pgx refuses gives an error without the password,
// however the URL is broken.
func TestParseURLErrorHidesPassword(t *testing.T) {
	pgEnvNone(t)
	for _, raw := range []string{
		"postgres://u:s3cret@h:port/db",
		"postgres://u:s3cret@h/db?sslmode=sometimes",
		"postgres://u@h/db?password=s3cret&default_query_exec_mode=prepared",
		"postgres://u:s3cret@h/db?oops",
		"postgres://u:s3cret@[::1/db",
	} {
		_, err := ParseURL(raw)
		if err == nil {
			t.Errorf("%s: parsed", raw)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the error shows the password: %v", raw, err)
		}
	}
}

// Host, Port, User and Database are what pgx connects to, query parameters
// and environment included.
func TestLocationPostgresTarget(t *testing.T) {
	tests := []struct {
		url              string
		env              map[string]string
		host             string
		port             uint16
		user, database   string
		network, address string
		hasPassword      bool
	}{
		{url: "postgres://icy@db.internal:6432/icy?sslmode=require",
			host: "db.internal", port: 6432, user: "icy", database: "icy", network: "tcp", address: "db.internal:6432"},
		{url: "postgresql+asyncpg://icy:pw@db.internal/app",
			host: "db.internal", port: 5432, user: "icy", database: "app", network: "tcp", address: "db.internal:5432", hasPassword: true},
		{url: "postgres://db.internal/app?user=bob&port=7000&password=pw",
			host: "db.internal", port: 7000, user: "bob", database: "app", network: "tcp", address: "db.internal:7000", hasPassword: true},
		{url: "postgres://icy@[::1]:5433/app",
			host: "::1", port: 5433, user: "icy", database: "app", network: "tcp", address: "[::1]:5433"},
		{url: "postgres://icy@first:5001,second:5002/app",
			host: "first", port: 5001, user: "icy", database: "app", network: "tcp", address: "first:5001"},
		{url: "postgres://icy@%2Fvar%2Frun%2Fpostgresql/app",
			host: "/var/run/postgresql", port: 5432, user: "icy", database: "app", network: "unix", address: "/var/run/postgresql/.s.PGSQL.5432"},
		{url: "postgres:///app", env: map[string]string{"PGHOST": "env.internal", "PGPORT": "6543", "PGUSER": "envuser", "PGPASSWORD": "pw"},
			host: "env.internal", port: 6543, user: "envuser", database: "app", network: "tcp", address: "env.internal:6543", hasPassword: true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			pgEnvNone(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			loc := mustParse(t, tt.url)
			network, address := loc.Address()
			if loc.Host() != tt.host || loc.Port() != tt.port || loc.User() != tt.user || loc.Database() != tt.database ||
				network != tt.network || address != tt.address || loc.HasPassword() != tt.hasPassword {
				t.Fatalf("host %q port %d user %q database %q address %s %q password %v",
					loc.Host(), loc.Port(), loc.User(), loc.Database(), network, address, loc.HasPassword())
			}
		})
	}
}

func TestLocationSQLiteHasNoServer(t *testing.T) {
	loc := mustParse(t, "sqlite:///icy.db")
	network, address := loc.Address()
	if loc.Host() != "" || loc.Port() != 0 || loc.User() != "" || loc.Database() != "" || network != "" || address != "" ||
		loc.HasPassword() || loc.VerifiesServer() {
		t.Fatalf("%+v", loc)
	}
}

func TestLocationVerifiesServer(t *testing.T) {
	ca, err := filepath.Abs("../awscred/rds-ca-bundle.pem")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		url  string
		env  map[string]string
		want bool
	}{
		{url: "postgres://u@h/d?sslmode=verify-full", want: true},
		{url: "postgres://u@h/d?sslmode=verify-ca", want: true},
		{url: "postgres://u@h/d?sslmode=require", want: false},
		{url: "postgres://u@h/d?sslmode=prefer", want: false},
		{url: "postgres://u@h/d?sslmode=allow", want: false},
		{url: "postgres://u@h/d?sslmode=disable", want: false},
		{url: "postgres://u@h/d", want: false},
		// libpq's rules, which pgx follows: require with a root
		// certificate is verify-ca, and the system's roots mean verify-full.
		{url: "postgres://u@h/d?sslmode=require&sslrootcert=" + ca, want: true},
		{url: "postgres://u@h/d?sslrootcert=system", want: true},
		{url: "postgres://u@h1,h2/d?sslmode=verify-full", want: true},
		{url: "postgres://u@h/d", env: map[string]string{"PGSSLMODE": "verify-full"}, want: true},
		{url: "postgresql+asyncpg://u@h/d?sslmode=verify-full", want: true},
		{url: "sqlite:///x.db", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			pgEnvNone(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			if got := mustParse(t, tt.url).VerifiesServer(); got != tt.want {
				t.Fatalf("VerifiesServer = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLocationWithParam(t *testing.T) {
	pgEnvNone(t)
	tests := []struct {
		name, url, key, value string
		wantURL               string
		wantErr               string
		check                 func(t *testing.T, cfg *pgx.ConnConfig)
	}{
		{name: "exec mode added", url: "postgres://u@h/d", key: "default_query_exec_mode", value: "exec",
			wantURL: "postgres://u@h/d?default_query_exec_mode=exec",
			check: func(t *testing.T, cfg *pgx.ConnConfig) {
				if cfg.DefaultQueryExecMode != pgx.QueryExecModeExec {
					t.Errorf("mode = %v", cfg.DefaultQueryExecMode)
				}
			}},
		{name: "exec mode replaced, other parameters kept as written", url: "postgres://u@h/d?sslmode=disable&default_query_exec_mode=cache_statement&application_name=a+b",
			key: "default_query_exec_mode", value: "simple_protocol",
			wantURL: "postgres://u@h/d?sslmode=disable&application_name=a+b&default_query_exec_mode=simple_protocol",
			check: func(t *testing.T, cfg *pgx.ConnConfig) {
				if cfg.DefaultQueryExecMode != pgx.QueryExecModeSimpleProtocol || cfg.RuntimeParams["application_name"] != "a+b" {
					t.Errorf("mode = %v, application_name = %q", cfg.DefaultQueryExecMode, cfg.RuntimeParams["application_name"])
				}
			}},
		{name: "SQLAlchemy form", url: "postgresql+asyncpg://u@h/d", key: "default_query_exec_mode", value: "describe_exec",
			wantURL: "postgresql://u@h/d?default_query_exec_mode=describe_exec"},
		{name: "value escaped", url: "postgres://u@h/d", key: "application_name", value: "icy morning+lambda&x=1",
			wantURL: "postgres://u@h/d?application_name=icy%20morning%2Blambda%26x%3D1",
			check: func(t *testing.T, cfg *pgx.ConnConfig) {
				if got := cfg.RuntimeParams["application_name"]; got != "icy morning+lambda&x=1" {
					t.Errorf("application_name = %q", got)
				}
			}},
		{name: "invalid exec mode", url: "postgres://u:s3cret@h/d", key: "default_query_exec_mode", value: "prepared",
			wantErr: `invalid default_query_exec_mode (unknown value "prepared")`},
		{name: "empty exec mode", url: "postgres://u@h/d", key: "default_query_exec_mode", value: "",
			wantErr: `unknown value ""`},
		{name: "SQLite", url: "sqlite:///x.db", key: "default_query_exec_mode", value: "exec", wantErr: "PostgreSQL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc, err := mustParse(t, tt.url).WithParam(tt.key, tt.value)
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("the error shows the password: %v", err)
			}
			if !wantErr(t, err, tt.wantErr) {
				return
			}
			if loc.URL != tt.wantURL {
				t.Fatalf("URL = %s, want %s", loc.URL, tt.wantURL)
			}
			cfg, err := parsePostgresConfig(loc.URL)
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, cfg.ConnConfig)
			}
		})
	}
}

// A parameter that changes where pgx connects changes what the Location
// says: the two cannot disagree.
func TestLocationWithParamRereads(t *testing.T) {
	pgEnvNone(t)
	loc, err := mustParse(t, "postgres://u@h/d").WithParam("port", "7000")
	if err != nil {
		t.Fatal(err)
	}
	loc, err = loc.WithParam("sslmode", "verify-full")
	if err != nil {
		t.Fatal(err)
	}
	if _, address := loc.Address(); address != "h:7000" || !loc.VerifiesServer() {
		t.Fatalf("address %s, verifies %v", address, loc.VerifiesServer())
	}
}

// Every mode pgx knows is accepted through WithParam, and pgx refuses the
// rest: no list of names of our own.
func TestQueryExecModeThroughWithParam(t *testing.T) {
	base, err := ParseURL("postgres://u@h/d")
	if err != nil {
		t.Fatal(err)
	}
	for mode, want := range map[string]bool{
		"cache_statement": true, "cache_describe": true, "describe_exec": true, "exec": true, "simple_protocol": true,
		"prepared": false, "EXEC": false, "exec&sslmode=bogus": false,
	} {
		if _, err := base.WithParam("default_query_exec_mode", mode); (err == nil) != want {
			t.Errorf("WithParam(default_query_exec_mode, %q): err = %v, want ok=%v", mode, err, want)
		}
	}
}
