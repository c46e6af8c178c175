//go:build linux

package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/bench/benchproc"
	"github.com/icy-morning/icy-morning/internal/benchreport"
	"github.com/icy-morning/icy-morning/internal/netaddr"
	"github.com/icy-morning/icy-morning/internal/pgschema"
	"github.com/icy-morning/icy-morning/mail"
	"github.com/icy-morning/icy-morning/notify"
	"github.com/icy-morning/icy-morning/sqlstore"
)

const (
	dbSQLite   = "SQLite"
	dbPostgres = "PostgreSQL"
)

// database makes fresh, empty databases of one kind: fresh returns the
// URL of a new one (as the service names it) and the function that
// removes it.
type database struct {
	name  string
	fresh func(ctx context.Context, label string) (url string, remove func(), err error)
}

func sqliteDatabase(dir string) database {
	return database{name: dbSQLite, fresh: func(_ context.Context, label string) (string, func(), error) {
		path := filepath.Join(dir, label+".db")
		return "sqlite:///" + path, func() {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				_ = os.Remove(path + suffix)
			}
		}, nil
	}}
}

// postgres checks -pg-url and records the server's version; each fresh
// database is then a schema of its own in that database.
func (b *bench) postgres(ctx context.Context) (database, error) {
	cfg, err := pgx.ParseConfig(b.o.pgURL)
	if err != nil {
		return database{}, fmt.Errorf("-pg-url: %w", err)
	}
	if !netaddr.IsLocalHost(cfg.Host) {
		return database{}, fmt.Errorf("-pg-url: host %q is not loopback; the benchmark runs on 127.0.0.1 only", cfg.Host)
	}
	if b.pgVersion, err = benchreport.PostgresVersion(ctx, cfg); err != nil {
		return database{}, fmt.Errorf("connect to %s@%s/%s (set -pg-url or TEST_DATABASE_URL, or -pg-url none): %w", cfg.User, cfg.Host, cfg.Database, err)
	}
	return database{name: dbPostgres, fresh: func(ctx context.Context, _ string) (string, func(), error) {
		url, drop, err := pgschema.Create(ctx, b.o.pgURL, "mailbench_")
		if err != nil {
			return "", nil, err
		}
		return url, func() {
			if err := drop(); err != nil {
				logf("%v", err)
			}
		}, nil
	}}, nil
}

// subscriberEmail is the address of the i-th subscriber (example.com is
// reserved for examples; Mailpit relays nothing anyway).
func subscriberEmail(i int) string { return "subscriber-" + strconv.Itoa(i) + "@example.com" }

// seed migrates the empty database at dbURL and writes, through the
// service's own store: one analyst, n active subscriptions to
// asset::creation (as an operator makes them), and one asset, whose
// creation records the event the worker fans out. Nothing is fanned out
// yet.
func seed(ctx context.Context, bin, dbURL string, n int) error {
	if err := benchproc.MigrateUp(ctx, bin, dbURL); err != nil {
		return err
	}
	st, err := sqlstore.Open(ctx, dbURL, sqlstore.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	return st.InTx(ctx, func(tx icymorning.Tx) error {
		analyst := icymorning.Analyst{Name: "Bench Analyst", Company: "Bench"}
		if err := tx.CreateAnalyst(ctx, &analyst); err != nil {
			return fmt.Errorf("seed analyst: %w", err)
		}
		for i := 1; i <= n; i++ {
			sub := icymorning.Subscription{Email: subscriberEmail(i), Topic: icymorning.TopicAssetCreation}
			if _, err := tx.CreateSubscription(ctx, &sub); err != nil {
				return fmt.Errorf("seed subscription %d: %w", i, err)
			}
		}
		desc := "An asset created to fan out one notification to every subscriber."
		asset := icymorning.Asset{Name: "Mail benchmark asset", Description: &desc, IsActive: true, AnalystID: analyst.ID,
			InceptionDate: icymorning.DateOf(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC))}
		if err := tx.CreateAsset(ctx, &asset); err != nil {
			return fmt.Errorf("seed asset: %w", err)
		}
		return nil
	})
}

// composeAll writes the mails the dispatcher would send for the seeded,
// not yet fanned-out event at dbURL: one per active subscription, composed
// by the service's own Composer with the worker's settings.
func composeAll(ctx context.Context, dbURL string, c *notify.Composer) ([]mail.Message, error) {
	st, err := sqlstore.Open(ctx, dbURL, sqlstore.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	events, err := st.PendingEvents(ctx, 2)
	if err != nil {
		return nil, err
	}
	if len(events) != 1 {
		return nil, fmt.Errorf("want one pending event, found %d", len(events))
	}
	active, topic := icymorning.SubscriptionActive, icymorning.TopicAssetCreation
	var msgs []mail.Message
	for after := int64(0); ; {
		page, err := st.Subscriptions(ctx, icymorning.SubscriptionFilter{Status: &active, Topic: &topic,
			Page: icymorning.Page{After: after, Limit: icymorning.MaxPageLimit}})
		if err != nil {
			return nil, err
		}
		for i := range page {
			m, err := c.Compose(&events[0], &page[i])
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, m)
		}
		if len(page) < icymorning.MaxPageLimit {
			return msgs, nil
		}
		after = page[len(page)-1].ID
	}
}

// outbox reads the delivery log of a database directly, with SQL: the
// store offers lists, and the benchmark needs counts, many times a second.
type outbox struct{ db *sql.DB }

func openOutbox(dbURL string) (*outbox, error) {
	loc, err := sqlstore.ParseURL(dbURL)
	if err != nil {
		return nil, err
	}
	driver, dsn := "pgx", loc.URL
	if loc.Dialect == sqlstore.SQLite {
		driver, dsn = "sqlite", loc.URL+"?_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return &outbox{db: db}, nil
}

func (o *outbox) Close() error { return o.db.Close() }

// statuses counts the deliveries by status. Before the worker has fanned
// the event out there are none.
func (o *outbox) statuses(ctx context.Context) (map[string]int, error) {
	rows, err := o.db.QueryContext(ctx, `SELECT status, count(*) FROM deliveries GROUP BY status`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

// phases are when the worker finished the fan-out and sent its first and
// last mail, by the timestamps it recorded (the same machine's clock).
type phases struct {
	fannedOut, firstSent, lastSent time.Time
}

func (o *outbox) phases(ctx context.Context) (phases, error) {
	var p phases
	if err := o.db.QueryRowContext(ctx, `SELECT fanned_out_at FROM events`).Scan(&p.fannedOut); err != nil {
		return p, fmt.Errorf("fanned_out_at: %w", err)
	}
	rows, err := o.db.QueryContext(ctx, `SELECT sent_at FROM deliveries WHERE status = 'sent'`)
	if err != nil {
		return p, err
	}
	defer rows.Close()
	for rows.Next() {
		var t time.Time
		if err := rows.Scan(&t); err != nil {
			return p, fmt.Errorf("sent_at: %w", err)
		}
		if p.firstSent.IsZero() || t.Before(p.firstSent) {
			p.firstSent = t
		}
		if t.After(p.lastSent) {
			p.lastSent = t
		}
	}
	return p, rows.Err()
}
