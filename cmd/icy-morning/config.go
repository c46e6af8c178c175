package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// defaultDatabaseURL is the embedded default: a SQLite file in the working
// directory, created and migrated on first start.
const defaultDatabaseURL = "sqlite:///icy-morning.db"

// config is everything the commands read from the environment and flags.
type config struct {
	databaseURL string
	addr        string
	authUser    string
	authPass    string
	logLevel    string
	logFormat   string
	migrate     bool
	maxConns    int
}

// envDatabaseURL reads DATABASE_URL, or the Python service's variable so
// that an existing deployment's settings keep working (its SQLAlchemy
// driver suffixes are understood by sqlstore.ParseURL).
func envDatabaseURL(getenv func(string) string) string {
	if v := getenv("DATABASE_URL"); v != "" {
		return v
	}
	if v := getenv("SQLALCHEMY_DATABASE_CONNECTION_URI"); v != "" {
		return v
	}
	return defaultDatabaseURL
}

// newFlags builds a command's flag set with the flags every command shares.
func newFlags(name, synopsis string, getenv func(string) string, stderr io.Writer, c *config) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: icy-morning %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	// No default from the environment here: --help prints defaults, and a
	// database URL may hold a password. parseConfig fills it in.
	fs.StringVar(&c.databaseURL, "database-url", "",
		"database URL: postgres://..., sqlite:///relative.db, sqlite:////absolute.db or sqlite://:memory:\n"+
			"(default: env DATABASE_URL, then SQLALCHEMY_DATABASE_CONNECTION_URI, then "+defaultDatabaseURL+")")
	fs.StringVar(&c.logLevel, "log-level", envOr(getenv, "LOG_LEVEL", "info"), "debug, info, warn or error (env LOG_LEVEL)")
	fs.StringVar(&c.logFormat, "log-format", envOr(getenv, "LOG_FORMAT", "json"), "json or text (env LOG_FORMAT)")
	return fs
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// parseConfig parses a command's flags and fills in what they left unset.
func parseConfig(fs *flag.FlagSet, args []string, c *config, getenv func(string) string) error {
	if err := parse(fs, args); err != nil {
		return err
	}
	if c.databaseURL == "" {
		c.databaseURL = envDatabaseURL(getenv)
	}
	return nil
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

func newLogger(c *config, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("LOG_LEVEL %q: want debug, info, warn or error", c.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(c.logFormat) {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("LOG_FORMAT %q: want json or text", c.logFormat)
}
