package sqlstore

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Location is a parsed database URL. For PostgreSQL its methods tell what
// pgx makes of the URL, defaults and PG* environment variables included:
// the server it dials, as whom, and whether it checks the server's
// certificate. For SQLite they return zero values.
type Location struct {
	Dialect Dialect
	// URL is the PostgreSQL connection string, or the SQLite file path
	// (":memory:" for a throwaway in-memory database). Change it with
	// WithParam, which keeps the methods' answers in step.
	URL string

	pg postgresTarget
}

// postgresTarget is what a Location's methods report, taken from pgx's
// parsed configuration and kept as plain values: the configuration itself
// is not shared, because a pool's set-up changes it (see openPostgres).
type postgresTarget struct {
	host, user, database string
	port                 uint16
	hasPassword          bool
	verifiesServer       bool
	setsPoolSize         bool
}

// ParseURL reads a database URL: postgres:// or postgresql:// for
// PostgreSQL, and SQLAlchemy's SQLite forms sqlite:///relative.db,
// sqlite:////absolute.db and sqlite://:memory:. SQLAlchemy driver suffixes
// (postgresql+asyncpg://, sqlite+aiosqlite://) are dropped, so the Python
// service's settings keep working. A PostgreSQL URL is parsed by pgx, so
// whatever pgx would refuse when connecting (a bad sslmode, an unknown
// default_query_exec_mode, an sslrootcert file that is not there) is an
// error here.
func ParseURL(raw string) (Location, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return Location{}, fmt.Errorf("database URL has no scheme (want postgres://... or sqlite:///...)")
	}
	scheme, _, _ = strings.Cut(strings.ToLower(scheme), "+")
	switch scheme {
	case "postgres", "postgresql":
		return parsePostgresURL(scheme + "://" + rest)
	case "sqlite":
		path, _, _ := strings.Cut(rest, "?")
		switch {
		case path == "" || path == ":memory:" || path == "/:memory:":
			return Location{Dialect: SQLite, URL: ":memory:"}, nil
		case strings.HasPrefix(path, "/"):
			// SQLAlchemy: three slashes, then a relative path; four, an
			// absolute one. What follows "sqlite://" is that path behind one
			// more slash.
			p, err := url.PathUnescape(path[1:])
			if err != nil || p == "" {
				return Location{}, fmt.Errorf("sqlite URL has a bad path")
			}
			return Location{Dialect: SQLite, URL: p}, nil
		}
		return Location{}, fmt.Errorf("sqlite URL needs three slashes (sqlite:///file.db) or four for an absolute path")
	}
	return Location{}, fmt.Errorf("unsupported database URL scheme %q (want postgres, postgresql or sqlite)", scheme)
}

func parsePostgresURL(connString string) (Location, error) {
	cfg, err := parsePostgresConfig(connString)
	if err != nil {
		return Location{}, err
	}
	cc := cfg.ConnConfig
	// pgxpool takes pool_max_conns out of the parameters it parses and
	// leaves a default in its place, so whether the string set it is read
	// from pgconn's parse, which keeps it as a run-time parameter.
	raw, err := pgconn.ParseConfig(connString)
	if err != nil {
		return Location{}, errors.New("sqlstore: invalid PostgreSQL connection string")
	}
	_, setsPoolSize := raw.RuntimeParams["pool_max_conns"]
	verifies := verifiesServer(cc.TLSConfig)
	for _, fb := range cc.Fallbacks {
		verifies = verifies && verifiesServer(fb.TLSConfig)
	}
	return Location{Dialect: Postgres, URL: connString, pg: postgresTarget{
		host:           cc.Host,
		port:           cc.Port,
		user:           cc.User,
		database:       cc.Database,
		hasPassword:    cc.Password != "",
		verifiesServer: verifies,
		setsPoolSize:   setsPoolSize,
	}}, nil
}

// parsePostgresConfig is pgx's parse of a connection string, with an error
// that cannot quote the string (and so its password).
func parsePostgresConfig(connString string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(connString)
	if err == nil {
		return cfg, nil
	}
	var pe *pgconn.ParseConfigError
	if !errors.As(err, &pe) {
		return nil, errors.New("sqlstore: invalid PostgreSQL connection string")
	}
	// pgx's message quotes the connection string, masking the password only
	// as well as it can parse the string; with the string left out it says
	// what is wrong (a parameter's name, a public value) and nothing more.
	bare := *pe
	bare.ConnString = ""
	reason := strings.TrimPrefix(bare.Error(), "cannot parse ``: ")
	return nil, fmt.Errorf("sqlstore: invalid PostgreSQL connection string: %s", reason)
}

// verifiesServer reports whether pgx checks the server's certificate on a
// connection attempt with this TLS configuration: sslmode=verify-full
// (Go's own check), verify-ca, or require with an sslrootcert (pgx's
// VerifyPeerCertificate, which skips the host name as libpq does).
func verifiesServer(tc *tls.Config) bool {
	return tc != nil && (!tc.InsecureSkipVerify || tc.VerifyPeerCertificate != nil)
}

// Host is the PostgreSQL server pgx dials first: the URL's first host, or
// pgx's default (PGHOST, else a Unix socket directory or localhost).
func (l Location) Host() string { return l.pg.host }

// Port is the port of Host (5432 unless the URL or PGPORT says otherwise).
func (l Location) Port() uint16 { return l.pg.port }

// Address is the network and address pgx dials for Host and Port: "tcp"
// and "host:port", or "unix" and a socket path when Host is a directory.
// Both are empty for SQLite.
func (l Location) Address() (network, address string) {
	if l.Dialect != Postgres {
		return "", ""
	}
	return pgconn.NetworkAddress(l.pg.host, l.pg.port)
}

// User is the PostgreSQL user pgx connects as: the URL's, else PGUSER, else
// the operating system's user.
func (l Location) User() string { return l.pg.user }

// Database is the PostgreSQL database pgx connects to.
func (l Location) Database() string { return l.pg.database }

// HasPassword reports whether pgx has a password for the connection: from
// the URL, PGPASSWORD or a password file.
func (l Location) HasPassword() bool { return l.pg.hasPassword }

// VerifiesServer reports whether every connection attempt checks the
// PostgreSQL server's certificate: sslmode=verify-full or verify-ca (or
// require with an sslrootcert, which pgx, like libpq, treats as verify-ca).
// Options.RootCAs matters only then.
func (l Location) VerifiesServer() bool { return l.pg.verifiesServer }

// SetsPoolSize reports whether the connection string names the pool's
// size (pool_max_conns), which then wins over a default of the caller's.
func (l Location) SetsPoolSize() bool { return l.pg.setsPoolSize }

// WithParam returns the PostgreSQL location with the connection-string
// parameter key set to value, replacing any the URL has, parsed again by
// pgx: an invalid value is an error that names it. The Lambda mode sets
// default_query_exec_mode this way. SQLite URLs take no parameters.
func (l Location) WithParam(key, value string) (Location, error) {
	if l.Dialect != Postgres {
		return Location{}, fmt.Errorf("sqlstore: %s takes no connection-string parameters (%s is for PostgreSQL)", l.Dialect, key)
	}
	if key == "" {
		return Location{}, errors.New("sqlstore: a connection-string parameter needs a name")
	}
	base, query, _ := strings.Cut(l.URL, "?")
	var kept []string
	for pair := range strings.SplitSeq(query, "&") {
		k, _, _ := strings.Cut(pair, "=")
		if dk, err := url.PathUnescape(k); pair == "" || (err == nil && dk == key) {
			continue // empty, or the parameter being replaced
		}
		kept = append(kept, pair)
	}
	kept = append(kept, escapeURIComponent(key)+"="+escapeURIComponent(value))
	return parsePostgresURL(base + "?" + strings.Join(kept, "&"))
}

// escapeURIComponent percent-encodes all but RFC 3986's unreserved
// characters. pgx decodes URL parameters as libpq does, which reads "+" as
// a plus, not a space, so url.QueryEscape will not do.
func escapeURIComponent(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
