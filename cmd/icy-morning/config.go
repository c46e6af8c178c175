package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/icy-morning/icy-morning/httpapi"
	"github.com/icy-morning/icy-morning/oidcauth"
	"github.com/icy-morning/icy-morning/sqlstore"
)

// config is everything the commands read from the environment and flags,
// for every command and the Lambda mode alike: settings (below) is the one
// table of what is read, and readConfig the one reader.
type config struct {
	databaseURL   string
	database      sqlstore.Location // databaseURL, parsed by its driver
	sqlalchemyURL string
	addr          string
	authUser      string
	authPass      string
	authSecretARN string
	// AUTH_TYPE: the schemes the API takes, and for bearer tokens their
	// issuer and what they must carry (see authenticator).
	authBasic, authJWT bool
	privateReads       bool // READS_REQUIRE_AUTH
	requireIfMatch     bool // REQUIRE_IF_MATCH
	cache              httpapi.CachePolicy
	oidc               oidcauth.Options
	logLevel           slog.Level
	logFormat          string
	migrate            bool
	maxConns           int // the database pool; 0 is the driver's default
	maxOpenConns       int // client connections; 0 is the default (serve.go)
	dbSecretARN        string
	dbIAMAuth          bool
	queryExecMode      string
	function           string // the Lambda function's part: api or migrate

	// The migrate command (and the migrate function): how long it waits
	// for the database, and how the least-privilege role gets in.
	dbWait       time.Duration
	appPassword  string
	appSecretARN string
	appIAMAuth   bool

	// Notifications (see notify.go).
	mailURL         string
	mailFrom        string
	mailMaxPerSec   float64
	mailConns       int
	publicBaseURL   string
	notifySecret    string
	notifySecretARN string
	notifyQueueURL  string
	dispatcher      bool
	claimTimeout    time.Duration

	// The CDN (see cdn.go): the API's origin secret, and the distribution
	// the worker invalidates after writes.
	originSecret         string
	originSecretARN      string
	cdnDistributionID    string
	cdnInvalidationEvery time.Duration
	cdnDailyPaths        int // CDN_INVALIDATION_DAILY_PATHS
}

// mode is a set of the commands a setting applies to.
type mode uint8

const (
	modeServe mode = 1 << iota
	modeMigrate
	modeLambda
	modeWorker

	// modeMail is every command that sends mail.
	modeMail = modeServe | modeWorker | modeLambda
)

// setting is one thing the binary reads: an environment variable, a flag,
// or both (a flag overrides its variable).
type setting struct {
	env   string // "" for a flag alone
	flag  string // "" for a variable alone
	modes mode
	// def is the default; lambdaDef, when set, is the Lambda mode's own.
	def, lambdaDef string
	doc            string
	// boolean flags may be given bare (--migrate) as well as with a value.
	boolean bool
	// parse checks a value and stores it; nil means the Go runtime reads
	// the variable (the binary only lists it).
	parse func(c *config, v string) error
}

// defaultDatabaseURL is the embedded default: a SQLite file in the working
// directory, created and migrated on first start.
const defaultDatabaseURL = "sqlite:///icy-morning.db"

// settings is every setting of every command. The README's configuration
// tables are checked against it (config_test.go), and so is the Terraform
// that sets the function's environment (infrastructure_test.go).
var settings = []setting{
	{env: "DATABASE_URL", flag: "database-url", modes: modeServe | modeMigrate | modeLambda | modeWorker,
		doc:   "database URL: postgres://..., sqlite:///relative.db, sqlite:////absolute.db or sqlite://:memory: (default: SQLALCHEMY_DATABASE_CONNECTION_URI, then " + defaultDatabaseURL + ")",
		parse: func(c *config, v string) error { c.databaseURL = v; return nil }},
	{env: "SQLALCHEMY_DATABASE_CONNECTION_URI", modes: modeServe | modeMigrate | modeLambda | modeWorker,
		doc:   "the Python service's database URL, read when DATABASE_URL is unset",
		parse: func(c *config, v string) error { c.sqlalchemyURL = v; return nil }},
	{env: "ADDR", flag: "addr", modes: modeServe, def: "127.0.0.1:8000",
		doc:   "address to listen on",
		parse: func(c *config, v string) error { c.addr = v; return nil }},
	{flag: "migrate", modes: modeServe | modeWorker, def: "true", boolean: true,
		doc:   "apply pending migrations at start-up",
		parse: func(c *config, v string) error { return parseBool(&c.migrate, v) }},
	{env: "BASIC_AUTH_USERNAME", modes: modeServe | modeLambda,
		doc:   "the account allowed to write (with BASIC_AUTH_PASSWORD)",
		parse: func(c *config, v string) error { c.authUser = v; return nil }},
	{env: "BASIC_AUTH_PASSWORD", modes: modeServe | modeLambda,
		doc:   "the password of BASIC_AUTH_USERNAME",
		parse: func(c *config, v string) error { c.authPass = v; return nil }},
	{env: "BASIC_AUTH_SECRET_ARN", modes: modeLambda,
		doc:   `a Secrets Manager secret holding {"username", "password"} for writes`,
		parse: func(c *config, v string) error { c.authSecretARN = v; return nil }},
	{env: "AUTH_TYPE", modes: modeServe | modeLambda, def: "basic",
		doc: "the credentials writes take: basic, jwt (OpenID Connect bearer tokens) or basic,jwt (either)",
		parse: func(c *config, v string) error {
			c.authBasic, c.authJWT = false, false
			for part := range strings.SplitSeq(v, ",") {
				switch strings.TrimSpace(part) {
				case "basic":
					c.authBasic = true
				case "jwt":
					c.authJWT = true
				default:
					return errors.New("want basic, jwt or basic,jwt")
				}
			}
			return nil
		}},
	{env: "REQUIRE_IF_MATCH", modes: modeServe | modeLambda, def: "false",
		doc: "true: PUT, PATCH and DELETE of assets and analysts need If-Match with the ETag of the version they change (428 without)",
		parse: func(c *config, v string) error {
			b, err := strconv.ParseBool(v)
			c.requireIfMatch = b
			if err != nil {
				return errors.New("want true or false")
			}
			return nil
		}},
	{env: "CACHE_MAX_AGE", modes: modeServe | modeLambda, def: "0",
		doc:   "seconds a browser may reuse a read of assets or analysts without asking again (Cache-Control max-age)",
		parse: func(c *config, v string) error { return parseSeconds(v, &c.cache.MaxAge) }},
	{env: "CACHE_S_MAXAGE", modes: modeServe | modeLambda, def: "60",
		doc:   "seconds a shared cache (a CDN, a proxy) may reuse a read of assets or analysts (Cache-Control s-maxage); with stale-while-revalidate=30 it bounds how stale a cached read can be",
		parse: func(c *config, v string) error { return parseSeconds(v, &c.cache.SMaxAge) }},
	{env: "READS_REQUIRE_AUTH", modes: modeServe | modeLambda, def: "false",
		doc: "true: reading assets and analysts needs credentials too (any valid ones; no write permission)",
		parse: func(c *config, v string) error {
			b, err := strconv.ParseBool(v)
			c.privateReads = b
			if err != nil {
				return errors.New("want true or false")
			}
			return nil
		}},
	{env: "OIDC_ISSUER_URL", modes: modeServe | modeLambda,
		doc:   "AUTH_TYPE jwt: the OpenID Connect issuer, discovered at start-up; tokens' iss must be exactly this",
		parse: func(c *config, v string) error { c.oidc.IssuerURL = v; return nil }},
	{env: "OIDC_AUDIENCE", modes: modeServe | modeLambda,
		doc:   "AUTH_TYPE jwt: the aud a token must carry (this or OIDC_CLIENT_IDS is required)",
		parse: func(c *config, v string) error { c.oidc.Audience = v; return nil }},
	{env: "OIDC_CLIENT_IDS", modes: modeServe | modeLambda,
		doc: "AUTH_TYPE jwt: comma-separated app client ids whose Cognito access tokens (client_id, token_use access, no aud) are accepted",
		parse: func(c *config, v string) error {
			c.oidc.ClientIDs = nil
			for id := range strings.SplitSeq(v, ",") {
				if id = strings.TrimSpace(id); id == "" {
					return errors.New("want client ids separated by commas, none empty")
				}
				c.oidc.ClientIDs = append(c.oidc.ClientIDs, id)
			}
			return nil
		}},
	{env: "OIDC_WRITE_SCOPE", modes: modeServe | modeLambda, def: "icy-morning/write",
		doc:   "AUTH_TYPE jwt: the scope (in scope or scp) that grants writes, the subscription list and the delivery log",
		parse: func(c *config, v string) error { c.oidc.WriteScope = v; return nil }},
	{env: "OIDC_GROUPS_CLAIM", modes: modeServe | modeLambda,
		doc:   "AUTH_TYPE jwt: the claim listing a token's groups, such as cognito:groups (with OIDC_WRITE_GROUP)",
		parse: func(c *config, v string) error { c.oidc.GroupsClaim = v; return nil }},
	{env: "OIDC_WRITE_GROUP", modes: modeServe | modeLambda,
		doc:   "AUTH_TYPE jwt: the group in OIDC_GROUPS_CLAIM that grants what OIDC_WRITE_SCOPE grants",
		parse: func(c *config, v string) error { c.oidc.WriteGroup = v; return nil }},
	{env: "OIDC_DOCS_CLIENT_ID", modes: modeServe | modeLambda,
		doc:   "AUTH_TYPE jwt: a public app client (authorization code with PKCE, callback <API URL>/docs/oauth2-redirect.html) that /docs logs in with; unset, /docs takes a pasted token",
		parse: func(c *config, v string) error { c.oidc.DocsClientID = v; return nil }},
	{env: "LOG_LEVEL", flag: "log-level", modes: modeServe | modeMigrate | modeLambda | modeWorker, def: "info",
		doc: "debug, info, warn or error",
		parse: func(c *config, v string) error {
			if err := c.logLevel.UnmarshalText([]byte(v)); err != nil {
				return errors.New("want debug, info, warn or error")
			}
			return nil
		}},
	{env: "LOG_FORMAT", flag: "log-format", modes: modeServe | modeMigrate | modeLambda | modeWorker, def: "json",
		doc: "json or text",
		parse: func(c *config, v string) error {
			if v = strings.ToLower(v); v != "json" && v != "text" {
				return errors.New("want json or text")
			}
			c.logFormat = v
			return nil
		}},
	{env: "DB_MAX_CONNS", flag: "max-conns", modes: modeServe | modeLambda | modeWorker, def: "0", lambdaDef: strconv.Itoa(lambdaDefaultMaxConns),
		doc:   "database connection pool size; 0 for the default (serve on PostgreSQL: 8 unless the URL sets pool_max_conns; else the driver's)",
		parse: func(c *config, v string) error { return parseCount(&c.maxConns, v) }},
	{env: "HTTP_MAX_CONNS", flag: "max-open-conns", modes: modeServe, def: "0",
		doc:   fmt.Sprintf("most client connections open at once; 0 for the default, %d or what the open-file limit leaves room for", defaultMaxOpenConns),
		parse: func(c *config, v string) error { return parseCount(&c.maxOpenConns, v) }},
	{env: "DATABASE_SECRET_ARN", modes: modeLambda,
		doc:   `a Secrets Manager secret holding the database's {"username", "password"}`,
		parse: func(c *config, v string) error { c.dbSecretARN = v; return nil }},
	{env: "DATABASE_IAM_AUTH", modes: modeLambda, def: "false",
		doc:   "sign an RDS IAM auth token for each new database connection",
		parse: func(c *config, v string) error { return parseBool(&c.dbIAMAuth, v) }},
	{env: "ICY_MORNING_FUNCTION", modes: modeLambda, def: functionAPI,
		doc: "the function's part: " + functionAPI + " (HTTP, the worker's events, migrate_status) or " + functionMigrate +
			" (the migrate and migrate_status commands only, with the owner's credentials: DATABASE_SECRET_ARN is then the master secret)",
		parse: func(c *config, v string) error {
			if v != functionAPI && v != functionMigrate {
				return fmt.Errorf("want %s or %s", functionAPI, functionMigrate)
			}
			c.function = v
			return nil
		}},
	{env: "DB_WAIT", modes: modeMigrate | modeLambda, def: "60s",
		doc: "how long migrate (and the migrate function) keeps trying to reach the database before it fails, such as 60s; 0 tries once",
		parse: func(c *config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return errors.New("want a duration, 0 or more, such as 60s")
			}
			c.dbWait = d
			return nil
		}},
	{env: "APP_DATABASE_PASSWORD", modes: modeMigrate | modeLambda,
		doc:   "after migrating up, set this password (printable ASCII) for " + sqlstore.AppRole + ", the least-privilege role the API connects as (PostgreSQL)",
		parse: func(c *config, v string) error { c.appPassword = v; return nil }},
	{env: "APP_DATABASE_SECRET_ARN", modes: modeLambda,
		doc:   `the migrate function: a Secrets Manager secret holding {"username": "` + sqlstore.AppRole + `", "password"}, whose password it sets after migrating`,
		parse: func(c *config, v string) error { c.appSecretARN = v; return nil }},
	{env: "APP_DATABASE_IAM_AUTH", modes: modeMigrate | modeLambda, def: "false",
		doc:   "after migrating up, grant rds_iam to " + sqlstore.AppRole + " (only to it, never to the migrating user), so that it signs in with IAM auth tokens",
		parse: func(c *config, v string) error { return parseBool(&c.appIAMAuth, v) }},
	{env: "DB_QUERY_EXEC_MODE", modes: modeLambda,
		doc:   "pgx's default_query_exec_mode (exec or describe_exec behind RDS Proxy); pgx checks it",
		parse: func(c *config, v string) error { c.queryExecMode = v; return nil }},
	{env: "MAIL_URL", modes: modeMail, def: "log://",
		doc:   "where mail goes: log:// (written to the log), smtp://[user:password@]host[:port][?tls=none|starttls|implicit] or ses://[?region=R][&configuration_set=NAME]",
		parse: func(c *config, v string) error { c.mailURL = v; return nil }},
	{env: "MAIL_FROM", modes: modeMail, def: "Icy Morning <icy-morning@localhost>",
		doc:   "the sender of every mail: an address, or Name <address>",
		parse: func(c *config, v string) error { c.mailFrom = v; return nil }},
	{env: "MAIL_MAX_PER_SECOND", modes: modeMail, def: "14",
		doc: "most mails sent per second by one process (SES's default quota is 14); 0 for no cap",
		parse: func(c *config, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
				return errors.New("want a number, 0 or more")
			}
			c.mailMaxPerSec = f
			return nil
		}},
	{env: "MAIL_CONNECTIONS", modes: modeMail, def: "4",
		doc: "batches of mail sent at once, each over its own connection",
		parse: func(c *config, v string) error {
			if err := parseCount(&c.mailConns, v); err != nil || c.mailConns < 1 {
				return errors.New("want a whole number, 1 or more")
			}
			return nil
		}},
	{env: "PUBLIC_BASE_URL", modes: modeMail,
		doc:   "the URL the service is reached at, which links in mails start with (default: http:// and ADDR for serve, http://127.0.0.1:8000 for worker)",
		parse: func(c *config, v string) error { c.publicBaseURL = v; return nil }},
	{env: "NOTIFY_SECRET", modes: modeMail,
		doc:   "the key that signs unsubscribe and confirmation links, at least 32 bytes (default: one generated once and kept in the database)",
		parse: func(c *config, v string) error { c.notifySecret = v; return nil }},
	{env: "NOTIFY_SECRET_ARN", modes: modeLambda,
		doc:   "a Secrets Manager secret whose string is NOTIFY_SECRET",
		parse: func(c *config, v string) error { c.notifySecretARN = v; return nil }},
	{env: "NOTIFY_QUEUE_URL", modes: modeLambda,
		doc:   "the SQS queue the API function nudges after a change to an asset, so the worker function sends its mails at once",
		parse: func(c *config, v string) error { c.notifyQueueURL = v; return nil }},
	{env: "NOTIFY_DISPATCHER", flag: "dispatcher", modes: modeServe, def: "true", boolean: true,
		doc:   "send notification mails from this process (false when separate workers do)",
		parse: func(c *config, v string) error { return parseBool(&c.dispatcher, v) }},
	{env: "NOTIFY_CLAIM_TIMEOUT", modes: modeMail, def: "2m",
		doc: "how long a claimed delivery is left to its sender before another may take it (a sender that died)",
		parse: func(c *config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < time.Second {
				return errors.New("want a duration of 1s or more, such as 2m")
			}
			c.claimTimeout = d
			return nil
		}},
	{env: "CDN_ORIGIN_SECRET", modes: modeServe | modeLambda,
		doc:   "the value CloudFront sends in X-Origin-Verify: set, every request without it is refused with 403, and the client's address is read from X-Forwarded-For",
		parse: func(c *config, v string) error { c.originSecret = v; return nil }},
	{env: "CDN_ORIGIN_SECRET_ARN", modes: modeLambda,
		doc:   "a Secrets Manager secret whose string is CDN_ORIGIN_SECRET",
		parse: func(c *config, v string) error { c.originSecretARN = v; return nil }},
	{env: "CDN_DISTRIBUTION_ID", modes: modeServe | modeWorker | modeLambda,
		doc:   "the CloudFront distribution whose cached reads are invalidated after each write to an asset or analyst (by the dispatcher: serve, worker, the worker function)",
		parse: func(c *config, v string) error { c.cdnDistributionID = v; return nil }},
	{env: "CDN_INVALIDATION_INTERVAL", modes: modeServe | modeWorker | modeLambda, def: "10s",
		doc: "CDN_DISTRIBUTION_ID: the shortest time between two invalidations (1s to 1h); the writes in between share the next one",
		parse: func(c *config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < time.Second || d > time.Hour {
				return errors.New("want a duration from 1s to 1h, such as 10s")
			}
			c.cdnInvalidationEvery = d
			return nil
		}},
	{env: "CDN_INVALIDATION_DAILY_PATHS", modes: modeServe | modeWorker | modeLambda, def: "30",
		doc: "CDN_DISTRIBUTION_ID: the most paths invalidated in a UTC day (0: no limit); past it, cached reads refresh by their s-maxage until the next day. 30 a day stays within CloudFront's 1,000 free paths a month",
		parse: func(c *config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return errors.New("want a whole number, 0 or more")
			}
			c.cdnDailyPaths = n
			return nil
		}},
	{env: "GOGC", modes: modeServe | modeLambda, doc: "Go's collector target (serve picks 200 unless set)"},
	{env: "GOMEMLIMIT", modes: modeServe | modeLambda, doc: "Go's soft memory limit (serve picks 48 MiB unless set)"},
	{env: "GOMAXPROCS", modes: modeLambda, doc: "Go's parallelism (Lambda picks it from the function's memory size unless set)"},
}

func parseBool(p *bool, v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return errors.New("want true or false")
	}
	*p = b
	return nil
}

// parseCount reads a count, 0 or more, never reading garbage as 0.
func parseCount(p *int, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return errors.New("want a whole number, 0 or more")
	}
	*p = n
	return nil
}

// envNames lists the variables the commands of m read, in table order.
func envNames(m mode) []string {
	var out []string
	for _, s := range settings {
		if s.env != "" && s.modes&m != 0 {
			out = append(out, s.env)
		}
	}
	return out
}

// readConfig reads the settings of command m: defaults, then the
// environment, then the flags in args (nil for the Lambda mode, which has
// none). A value that does not parse is refused with an error naming the
// variable or flag; a flag that is given overrides its variable, even a bad
// one. fs may be nil when the command takes no flags.
func readConfig(m mode, fs *flag.FlagSet, args []string, getenv func(string) string) (config, error) {
	var c config
	envErrs := map[string]error{}
	for _, s := range settings {
		if s.modes&m == 0 || s.parse == nil {
			continue
		}
		def := s.def
		if m == modeLambda && s.lambdaDef != "" {
			def = s.lambdaDef
		}
		if def != "" {
			if err := s.parse(&c, def); err != nil {
				panic("icy-morning: bad default for " + s.env + s.flag + ": " + err.Error())
			}
		}
		if s.env != "" {
			if v := getenv(s.env); v != "" {
				if err := s.parse(&c, v); err != nil {
					envErrs[s.env] = fmt.Errorf("%s %q: %w", s.env, v, err)
				}
			}
		}
		if fs != nil && s.flag != "" {
			usage := s.doc
			if s.env != "" {
				usage += " (env " + s.env + ")"
			}
			if s.def != "" && s.def != "0" {
				usage += " (default " + s.def + ")"
			}
			set := func(v string) error {
				delete(envErrs, s.env)
				return s.parse(&c, v)
			}
			if s.boolean {
				fs.BoolFunc(s.flag, usage, set)
			} else {
				fs.Func(s.flag, usage, set)
			}
		}
	}
	if fs != nil {
		if err := parse(fs, args); err != nil {
			return c, err
		}
	}
	var errs []error
	for _, s := range settings { // in table order, so the message is stable
		errs = append(errs, envErrs[s.env])
	}
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	if c.databaseURL == "" {
		c.databaseURL = c.sqlalchemyURL
	}
	if c.databaseURL == "" {
		c.databaseURL = defaultDatabaseURL
	}
	if err := c.resolveDatabase(); err != nil {
		return c, err
	}
	if c.publicBaseURL == "" {
		c.publicBaseURL = "http://127.0.0.1:8000"
		if m == modeServe {
			c.publicBaseURL = "http://" + c.addr
		}
	}
	// The migrate function serves no API: it needs no credentials.
	if m == modeServe || m == modeLambda && c.function != functionMigrate {
		if err := c.checkAuth(); err != nil {
			return c, err
		}
	}
	if m == modeLambda {
		return c, c.checkLambda()
	}
	if m == modeMigrate {
		return c, c.checkAppAccess()
	}
	return c, nil
}

// The parts a Lambda function plays (ICY_MORNING_FUNCTION).
const (
	functionAPI     = "api"
	functionMigrate = "migrate"
)

// resolveDatabase parses the database URL with its driver's parser (pgx
// for PostgreSQL, through sqlstore) and adds DB_QUERY_EXEC_MODE to it as
// pgx's own default_query_exec_mode, which pgx then checks. SQLite has no
// such mode and ignores the setting.
func (c *config) resolveDatabase() error {
	loc, err := sqlstore.ParseURL(c.databaseURL)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	if c.queryExecMode != "" && loc.Dialect == sqlstore.Postgres {
		if loc, err = loc.WithParam("default_query_exec_mode", c.queryExecMode); err != nil {
			return fmt.Errorf("DB_QUERY_EXEC_MODE %q: %w", c.queryExecMode, err)
		}
	}
	c.database = loc
	return nil
}

// checkAppAccess refuses settings of the app role's sign-in that cannot
// both hold: a member of rds_iam can sign in with a token only.
func (c *config) checkAppAccess() error {
	switch {
	case c.appPassword != "" && c.appSecretARN != "":
		return errors.New("set APP_DATABASE_SECRET_ARN or APP_DATABASE_PASSWORD, not both")
	case c.appIAMAuth && (c.appPassword != "" || c.appSecretARN != ""):
		return errors.New("set APP_DATABASE_IAM_AUTH=true or an app password (APP_DATABASE_PASSWORD, APP_DATABASE_SECRET_ARN), not both: a member of rds_iam cannot sign in with a password")
	}
	return nil
}

// checkAuth refuses AUTH_TYPE jwt without what verifying tokens needs,
// and OIDC settings that would be silently ignored.
func (c *config) checkAuth() error {
	if !c.authJWT {
		if c.oidc.IssuerURL != "" || c.oidc.Audience != "" || len(c.oidc.ClientIDs) > 0 || c.oidc.GroupsClaim != "" || c.oidc.WriteGroup != "" || c.oidc.DocsClientID != "" {
			return errors.New("OIDC_* settings are set but AUTH_TYPE does not include jwt: set AUTH_TYPE=jwt or basic,jwt")
		}
		return nil
	}
	if err := c.oidc.Check(); err != nil {
		return fmt.Errorf("AUTH_TYPE %s: %w", c.authType(), err)
	}
	return nil
}

// authType is AUTH_TYPE as read.
func (c *config) authType() string {
	switch {
	case c.authBasic && c.authJWT:
		return "basic,jwt"
	case c.authJWT:
		return "jwt"
	}
	return "basic"
}

// checkLambda refuses combinations the Lambda mode cannot run with.
func (c *config) checkLambda() error {
	switch {
	case c.maxConns < 1:
		return fmt.Errorf("DB_MAX_CONNS %d: want a positive number", c.maxConns)
	case c.dbIAMAuth && c.dbSecretARN != "":
		return errors.New("set DATABASE_SECRET_ARN or DATABASE_IAM_AUTH=true, not both")
	case c.function == functionMigrate:
		// The migrate function serves no API and sends no mail: it needs
		// the owner's credentials, and nothing else.
		if c.dbIAMAuth {
			// The master user must keep its password (see
			// sqlstore.ProvisionAppRole), so it cannot sign in with a token.
			return errors.New("ICY_MORNING_FUNCTION=migrate signs in as the database's owner with DATABASE_SECRET_ARN (or the URL's password), not DATABASE_IAM_AUTH")
		}
		return c.checkAppAccess()
	case c.appPassword != "" || c.appSecretARN != "" || c.appIAMAuth:
		return errors.New("APP_DATABASE_PASSWORD, APP_DATABASE_SECRET_ARN and APP_DATABASE_IAM_AUTH are for ICY_MORNING_FUNCTION=migrate: the API function connects as the app role and cannot provision it")
	case c.authSecretARN != "" && (c.authUser != "" || c.authPass != ""):
		return errors.New("set BASIC_AUTH_SECRET_ARN or BASIC_AUTH_USERNAME/BASIC_AUTH_PASSWORD, not both")
	case c.originSecretARN != "" && c.originSecret != "":
		return errors.New("set CDN_ORIGIN_SECRET_ARN or CDN_ORIGIN_SECRET, not both")
	case c.notifySecretARN != "" && c.notifySecret != "":
		return errors.New("set NOTIFY_SECRET_ARN or NOTIFY_SECRET, not both")
	case c.notifySecretARN == "" && c.notifySecret == "":
		// serve keeps a generated key in the database, but a function
		// starts before its database is migrated (see runLambda).
		return errors.New("no link-signing key: set NOTIFY_SECRET_ARN (or NOTIFY_SECRET)")
	case c.authBasic && c.authSecretARN == "" && (c.authUser == "" || c.authPass == ""):
		// serve makes up a password and prints it; in Lambda that would put
		// a credential in CloudWatch, so an account must be configured.
		return errors.New("no API account: set BASIC_AUTH_SECRET_ARN (or BASIC_AUTH_USERNAME and BASIC_AUTH_PASSWORD)")
	}
	return nil
}

// newFlags builds a command's flag set.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: icy-morning %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args, printing the usage on error.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return errUsage
	}
	return nil
}

func newLogger(c *config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.logLevel}
	if c.logFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// parseSeconds reads a whole number of seconds from 0 to a day.
func parseSeconds(v string, d *time.Duration) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 86400 {
		return errors.New("want whole seconds from 0 to 86400")
	}
	*d = time.Duration(n) * time.Second
	return nil
}
