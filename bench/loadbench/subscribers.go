//go:build linux

package main

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/internal/benchreport"
	"github.com/icy-morning/icy-morning/sqlstore"
)

// Issue 9 promises that POST /api/v1/assets costs the same with 0 or
// 10,000 subscribers: the request records the event in its transaction
// and sends nothing. The POST-with-subscribers scenarios test that promise
// on the request path, with the dispatcher off (NOTIFY_DISPATCHER=false,
// as when separate workers send), against the same POST with no
// subscriber, alternating; and once with the in-process dispatcher on, to
// show what the fan-out of every POST to 10,000 subscribers does to the
// same two cores.

// openSQL opens the benchmark database with database/sql, for the few
// statements the store has no method for.
func openSQL(dbURL string) (*sql.DB, error) {
	loc, err := sqlstore.ParseURL(dbURL)
	if err != nil {
		return nil, err
	}
	if loc.Dialect == sqlstore.SQLite {
		return sql.Open("sqlite", loc.URL+"?_pragma=busy_timeout(10000)")
	}
	return sql.Open("pgx", loc.URL)
}

// setSubscribers leaves exactly n active subscriptions to asset::creation
// (for every analyst) in the database: the rows are deleted and n written
// through the store, as an operator's POST /api/v1/subscriptions writes
// them, unless the n are already there. It must run while no delivery
// names them (which would keep the rows from being deleted): the
// dispatcher-on scenario, which makes deliveries, runs last on each
// database and empties the delivery log first (resetOutbox).
func setSubscribers(ctx context.Context, dbURL string, n int) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	db, err := openSQL(dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	var total, active int
	if err := db.QueryRowContext(ctx, `SELECT count(*), count(CASE WHEN status = 'active' AND topic = 'asset::creation' AND analyst_id IS NULL THEN 1 END) FROM subscriptions`).
		Scan(&total, &active); err != nil {
		return fmt.Errorf("count subscriptions: %w", err)
	}
	if total == n && active == n {
		return nil
	}
	start := time.Now()
	if _, err := db.ExecContext(ctx, `DELETE FROM subscriptions`); err != nil {
		return fmt.Errorf("delete subscriptions: %w", err)
	}
	if n > 0 {
		st, err := sqlstore.Open(ctx, dbURL, sqlstore.Options{})
		if err != nil {
			return err
		}
		err = st.InTx(ctx, func(tx icymorning.Tx) error {
			for i := 1; i <= n; i++ {
				sub := icymorning.Subscription{Email: "subscriber-" + strconv.Itoa(i) + "@example.com", Topic: icymorning.TopicAssetCreation}
				if _, err := tx.CreateSubscription(ctx, &sub); err != nil {
					return fmt.Errorf("subscription %d: %w", i, err)
				}
			}
			return nil
		})
		if cerr := st.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	logf("%s active subscriptions (were %s) in %s", benchreport.Thousands(int64(n)), benchreport.Thousands(int64(active)), time.Since(start).Round(time.Millisecond))
	return nil
}

// resetOutbox empties the delivery log and marks the events recorded so
// far fanned out (at the time they occurred, which tells them apart), so
// that a dispatcher started next works only on the events of its own run:
// the dispatcher-off runs before it left theirs pending, and each would be
// fanned out to every subscriber; an earlier attempt of the same scenario
// left deliveries. It returns the last event's id.
func resetOutbox(ctx context.Context, dbURL string) (int64, error) {
	db, err := openSQL(dbURL)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `DELETE FROM deliveries`); err != nil {
		return 0, fmt.Errorf("empty the delivery log: %w", err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE events SET fanned_out_at = occurred_at WHERE fanned_out_at IS NULL`); err != nil {
		return 0, fmt.Errorf("close old events: %w", err)
	}
	var last int64
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM events`).Scan(&last); err != nil {
		return 0, fmt.Errorf("last event: %w", err)
	}
	return last, nil
}

// outboxBacklog describes the outbox after a dispatcher-on run: of the
// events recorded after event lastOld, how many were fanned out and how
// many still wait; and the deliveries by status (all of them this run's,
// after resetOutbox).
func outboxBacklog(ctx context.Context, dbURL string, lastOld int64) (string, error) {
	db, err := openSQL(dbURL)
	if err != nil {
		return "", err
	}
	defer db.Close()
	var waiting, fanned int
	if err := db.QueryRowContext(ctx, `SELECT count(CASE WHEN fanned_out_at IS NULL THEN 1 END), count(fanned_out_at) FROM events WHERE id > $1`, lastOld).
		Scan(&waiting, &fanned); err != nil {
		return "", fmt.Errorf("count events: %w", err)
	}
	rows, err := db.QueryContext(ctx, `SELECT status, count(*) FROM deliveries GROUP BY status`)
	if err != nil {
		return "", fmt.Errorf("count deliveries: %w", err)
	}
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var status string
		var n int64
		if err := rows.Scan(&status, &n); err != nil {
			return "", err
		}
		parts = append(parts, status+" "+benchreport.Thousands(n))
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		parts = []string{"none"}
	}
	return fmt.Sprintf("events of the run: %s fanned out, %s waiting; deliveries: %s", benchreport.Thousands(int64(fanned)), benchreport.Thousands(int64(waiting)),
		strings.Join(parts, ", ")), nil
}
