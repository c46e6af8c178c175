package notify_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/internal/mailpeer"
	"github.com/icy-morning/icy-morning/internal/testdb"
	"github.com/icy-morning/icy-morning/mail"
	"github.com/icy-morning/icy-morning/notify"
	"github.com/icy-morning/icy-morning/sqlstore"
)

// The dispatcher against real parts: SQLite and PostgreSQL stores, and
// Mailpit as the SMTP server, read back through its API.

var databases = []struct {
	name string
	url  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return "sqlite:///" + filepath.Join(t.TempDir(), "d.db") }},
	{"postgres", func(t *testing.T) string { return testdb.Postgres(t) }},
}

func openStore(t *testing.T, url string) *sqlstore.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, url, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// fixture is a store with an analyst, a dispatcher sending to Mailpit and
// the composer that names its Message-IDs.
type fixture struct {
	store    *sqlstore.Store
	mp       *mailpeer.Mailpit
	composer *notify.Composer
	analyst  int64
}

func newFixture(t *testing.T, url string, mailpitFlags ...string) *fixture {
	t.Helper()
	f := &fixture{store: openStore(t, url), mp: mailpeer.StartMailpit(t, mailpitFlags...)}
	var err error
	f.composer, err = notify.NewComposer("Icy Morning <news@icy.example>", "https://icy.example/", []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	a := &icymorning.Analyst{Name: "Ada", Company: "Engines"}
	must(t, f.store.CreateAnalyst(context.Background(), a))
	f.analyst = a.ID
	return f
}

func (f *fixture) dispatcher(t *testing.T, opts notify.DispatchOptions) *notify.Dispatcher {
	t.Helper()
	sender, err := mail.Open(context.Background(), "smtp://"+f.mp.SMTP+"?tls=none", mail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sender.Close() })
	return notify.NewDispatcher(f.store, f.composer, sender, slog.New(slog.DiscardHandler), opts)
}

func (f *fixture) subscribe(t *testing.T, n int, topic icymorning.Topic) []int64 {
	t.Helper()
	var ids []int64
	for i := range n {
		s := &icymorning.Subscription{Email: fmt.Sprintf("sub%d-%s@example.com", i, topic[7:]), Topic: topic}
		if _, err := f.store.CreateSubscription(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	return ids
}

func (f *fixture) createAssets(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		a := &icymorning.Asset{Name: fmt.Sprintf("Fund %d", i), InceptionDate: icymorning.DateOf(time.Now()),
			IsActive: true, AnalystID: f.analyst}
		must(t, f.store.CreateAsset(context.Background(), a))
	}
}

func (f *fixture) deliveries(t *testing.T) []icymorning.Delivery {
	t.Helper()
	var all []icymorning.Delivery
	for after := int64(0); ; {
		page, err := f.store.Deliveries(context.Background(), icymorning.DeliveryFilter{Page: icymorning.Page{After: after, Limit: 1000}})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < 1000 {
			return all
		}
		after = page[len(page)-1].ID
	}
}

// sweepUntil sweeps until every delivery is settled (sent, dead or
// suppressed) or the time is up.
func sweepUntil(t *testing.T, d *notify.Dispatcher, f *fixture, within time.Duration) []icymorning.Delivery {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if _, err := d.Sweep(context.Background(), time.Time{}); err != nil {
			t.Fatal(err)
		}
		all := f.deliveries(t)
		settled := len(all) > 0
		for _, dl := range all {
			if dl.Status == icymorning.DeliveryPending || dl.Status == icymorning.DeliveryFailed {
				settled = false
			}
		}
		if settled {
			return all
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries not settled after %v: %+v", within, summary(all))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func summary(ds []icymorning.Delivery) map[icymorning.DeliveryStatus]int {
	m := map[icymorning.DeliveryStatus]int{}
	for _, d := range ds {
		m[d.Status]++
	}
	return m
}

// wantEachOnce checks that Mailpit holds exactly one message for each
// delivery, with the Message-ID of its (event, subscription).
func (f *fixture) wantEachOnce(t *testing.T, ds []icymorning.Delivery) {
	t.Helper()
	seen := map[string]int{}
	for _, m := range f.mp.Messages(t) {
		seen[m.MessageID]++
	}
	for _, d := range ds {
		id := f.composer.MessageID(d.EventID, d.SubscriptionID)
		if seen[id] != 1 {
			t.Errorf("delivery %d (%s): Message-ID %s received %d times, want once", d.ID, d.Status, id, seen[id])
		}
		delete(seen, id)
	}
	for id, n := range seen {
		t.Errorf("Mailpit has %d unexpected message(s) %s", n, id)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestDispatchSendsEachOnce(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			f := newFixture(t, db.url(t))
			creation := f.subscribe(t, 5, icymorning.TopicAssetCreation)
			f.subscribe(t, 2, icymorning.TopicAssetDeletion) // not mailed about creations
			// One narrowed to another analyst: not mailed either.
			other := &icymorning.Analyst{Name: "Bob", Company: "B"}
			must(t, f.store.CreateAnalyst(context.Background(), other))
			_, err := f.store.CreateSubscription(context.Background(), &icymorning.Subscription{Email: "narrow@example.com", AnalystID: &other.ID})
			must(t, err)
			// One unsubscribed after the fan-out: suppressed, not sent.
			f.createAssets(t, 3)
			d := f.dispatcher(t, notify.DispatchOptions{Batch: 4, Connections: 2})
			for _, ev := range mustPending(t, f.store) {
				if _, err := f.store.FanOut(context.Background(), ev.ID); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := f.store.DeleteSubscription(context.Background(), creation[4]); err != nil {
				t.Fatal(err)
			}
			res, err := d.Sweep(context.Background(), time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Sent != 12 || res.Suppressed != 3 || res.Failed+res.Dead != 0 {
				t.Fatalf("sweep: %+v, want 12 sent (3 assets × 4 subscribers) and 3 suppressed", res)
			}
			all := f.deliveries(t)
			var sent []icymorning.Delivery
			for _, dl := range all {
				switch {
				case dl.SubscriptionID == creation[4]:
					if dl.Status != icymorning.DeliverySuppressed {
						t.Errorf("delivery to the unsubscribed one: %+v", dl)
					}
				case dl.Status != icymorning.DeliverySent || dl.SentAt == nil || dl.ProviderMessageID == "" || dl.Attempts != 1:
					t.Errorf("delivery not recorded as sent once: %+v", dl)
				default:
					sent = append(sent, dl)
				}
			}
			f.wantEachOnce(t, sent)
			// A second sweep has nothing to do.
			if res, err := d.Sweep(context.Background(), time.Time{}); err != nil || res != (notify.SweepResult{}) {
				t.Fatalf("second sweep: %+v, %v", res, err)
			}
			// The mail is the event's and the subscriber's.
			msg, header := f.mp.Received(t, f.composer.MessageID(sent[0].EventID, sent[0].SubscriptionID))
			if msg.Subject == "" || msg.Text == "" || msg.HTML == "" || len(header["List-Unsubscribe"]) != 1 ||
				header["List-Unsubscribe-Post"][0] != "List-Unsubscribe=One-Click" {
				t.Fatalf("message: %+v, headers %v", msg, header)
			}
		})
	}
}

func mustPending(t *testing.T, s *sqlstore.Store) []icymorning.Event {
	t.Helper()
	evs, err := s.PendingEvents(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// Mailpit's chaos mode answers RCPT TO with 451 half the time: every mail
// is delivered after retries, each once.
func TestDispatchRetriesTransientFailures(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			f := newFixture(t, db.url(t), "--enable-chaos")
			f.subscribe(t, 10, icymorning.TopicAssetCreation)
			f.createAssets(t, 3)
			f.mp.ChaosAt(t, 451, 50)
			d := f.dispatcher(t, notify.DispatchOptions{RetryBase: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond})
			all := sweepUntil(t, d, f, time.Minute)
			retried := 0
			for _, dl := range all {
				if dl.Status != icymorning.DeliverySent {
					t.Fatalf("not sent: %+v", dl)
				}
				if dl.Attempts > 1 {
					retried++
				}
			}
			if retried == 0 {
				t.Fatal("chaos at 50 % made no delivery retry: the fault was not injected")
			}
			f.wantEachOnce(t, all)
		})
	}
}

// SMTP down while 100 assets are created: nothing is lost; once it is back
// every mail is delivered exactly once.
func TestDispatchSurvivesMailServerOutage(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			f := newFixture(t, db.url(t))
			f.subscribe(t, 1, icymorning.TopicAssetCreation)
			d := f.dispatcher(t, notify.DispatchOptions{RetryBase: time.Second, RetryMax: time.Second})
			f.mp.Stop()
			f.createAssets(t, 100)
			res, err := d.Sweep(context.Background(), time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			// Each is tried at least once; a slow machine may see some
			// due again (after 0.8 s or more) within the same sweep.
			if res.Failed < 100 || res.Sent != 0 {
				t.Fatalf("with the server down: %+v, want 100 or more failed attempts and none sent", res)
			}
			for _, dl := range f.deliveries(t) {
				if dl.Status != icymorning.DeliveryFailed || dl.LastError == "" {
					t.Fatalf("with the server down: %+v", dl)
				}
			}
			f.mp.Restart(t)
			all := sweepUntil(t, d, f, time.Minute)
			if len(all) != 100 {
				t.Fatalf("%d deliveries, want 100", len(all))
			}
			for _, dl := range all {
				if dl.Status != icymorning.DeliverySent {
					t.Fatalf("after the outage: %+v", dl)
				}
			}
			f.wantEachOnce(t, all)
		})
	}
}

// A permanent refusal (550) makes the delivery dead at once, with the
// reason; an operator's retry sends it once the cause is fixed. Transient
// failures past MaxAttempts are dead too.
func TestDispatchDeadAndRetry(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			f := newFixture(t, db.url(t), "--enable-chaos")
			f.subscribe(t, 2, icymorning.TopicAssetCreation)
			f.createAssets(t, 1)
			f.mp.ChaosAt(t, 550, 100)
			d := f.dispatcher(t, notify.DispatchOptions{})
			all := sweepUntil(t, d, f, 30*time.Second)
			for _, dl := range all {
				if dl.Status != icymorning.DeliveryDead || dl.Attempts != 1 || dl.SentAt != nil || !strings.Contains(dl.LastError, "550") {
					t.Fatalf("after a 550: %+v", dl)
				}
			}
			dead := icymorning.DeliveryDead
			listed, err := f.store.Deliveries(context.Background(), icymorning.DeliveryFilter{Status: &dead, Page: icymorning.Page{Limit: 10}})
			if err != nil || len(listed) != 2 {
				t.Fatalf("dead deliveries listed: %d (%v), want 2", len(listed), err)
			}
			f.mp.ChaosAt(t, 0, 0)
			for _, dl := range listed {
				if _, err := f.store.RetryDelivery(context.Background(), dl.ID); err != nil {
					t.Fatal(err)
				}
			}
			all = sweepUntil(t, d, f, 30*time.Second)
			for _, dl := range all {
				if dl.Status != icymorning.DeliverySent || dl.Attempts != 1 {
					t.Fatalf("after the retry: %+v", dl)
				}
			}
			f.wantEachOnce(t, all)

			// 451 every time, MaxAttempts 3: dead after the third attempt.
			f.mp.ChaosAt(t, 451, 100)
			f.createAssets(t, 1)
			d = f.dispatcher(t, notify.DispatchOptions{MaxAttempts: 3, RetryBase: time.Millisecond, RetryMax: time.Millisecond})
			all = sweepUntil(t, d, f, 30*time.Second)
			gaveUp := 0
			for _, dl := range all {
				if dl.Status == icymorning.DeliveryDead {
					gaveUp++
					if dl.Attempts != 3 || !strings.Contains(dl.LastError, "gave up after 3 attempts") {
						t.Errorf("dead after retries: %+v", dl)
					}
				}
			}
			if gaveUp != 2 {
				t.Fatalf("%d deliveries dead after 3 attempts, want 2: %v", gaveUp, summary(all))
			}
		})
	}
}

// Two dispatchers on one database, each with its own connections, send
// every mail exactly once between them.
func TestTwoDispatchersSendEachOnce(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			url := db.url(t)
			f := newFixture(t, url)
			f.subscribe(t, 50, icymorning.TopicAssetCreation)
			f.createAssets(t, 10)
			second := *f
			second.store = openStore(t, url)
			ds := []*notify.Dispatcher{f.dispatcher(t, notify.DispatchOptions{Batch: 7}), second.dispatcher(t, notify.DispatchOptions{Batch: 7})}
			var wg sync.WaitGroup
			results := make([]notify.SweepResult, 2)
			for i, d := range ds {
				wg.Go(func() {
					r, err := d.Sweep(context.Background(), time.Time{})
					if err != nil {
						t.Error(err)
					}
					results[i] = r
				})
			}
			wg.Wait()
			if results[0].Sent+results[1].Sent != 500 {
				t.Fatalf("sent %d + %d, want 500 in all", results[0].Sent, results[1].Sent)
			}
			if results[0].Sent == 0 || results[1].Sent == 0 {
				t.Logf("one dispatcher did all the work: %+v", results)
			}
			f.wantEachOnce(t, f.deliveries(t))
		})
	}
}

func TestBackoff(t *testing.T) {
	const base, limit = time.Minute, 6 * time.Hour
	for _, tt := range []struct {
		n    int
		u    float64
		want time.Duration
	}{
		{1, 0.5, time.Minute},
		{2, 0.5, 2 * time.Minute},
		{5, 0.5, 16 * time.Minute},
		{9, 0.5, 256 * time.Minute},
		{10, 0.5, limit}, // 512 min is past the cap
		{13, 0.5, limit},
		{200, 0.5, limit}, // no overflow
		{1, 0, 48 * time.Second},
		{1, 0.999999, 72 * time.Second},
	} {
		got := notify.Backoff(tt.n, base, limit, tt.u)
		if diff := got - tt.want; diff < -time.Millisecond || diff > time.Millisecond {
			t.Errorf("Backoff(%d, u=%v) = %v, want %v", tt.n, tt.u, got, tt.want)
		}
	}
	// The default policy keeps trying for more than 24 hours before a
	// delivery is dead, even when every wait is at the low end.
	var span time.Duration
	for n := 1; n < 14; n++ {
		span += notify.Backoff(n, base, limit, 0)
	}
	if span < 24*time.Hour {
		t.Fatalf("13 retries span %v at the least, want 24 h or more", span)
	}
}

// Through Amazon SES's v2 API (aws-ses-v2-local, driven by the real SDK
// client): each delivery is sent once and keeps SES's MessageId.
func TestDispatchThroughSES(t *testing.T) {
	local := mailpeer.StartSESLocal(t)
	mailpeer.SESEnv(t, local.URL)
	f := &fixture{store: openStore(t, "sqlite:///"+filepath.Join(t.TempDir(), "ses.db"))}
	var err error
	f.composer, err = notify.NewComposer("news@icy.example", "https://icy.example/", []byte("0123456789abcdef0123456789abcdef"))
	must(t, err)
	a := &icymorning.Analyst{Name: "Ada", Company: "Engines"}
	must(t, f.store.CreateAnalyst(context.Background(), a))
	f.analyst = a.ID
	f.subscribe(t, 3, icymorning.TopicAssetCreation)
	f.createAssets(t, 2)
	sender, err := mail.Open(context.Background(), "ses://?region=eu-west-1&configuration_set=icy-notify", mail.Options{})
	must(t, err)
	defer sender.Close()
	d := notify.NewDispatcher(f.store, f.composer, sender, slog.New(slog.DiscardHandler), notify.DispatchOptions{})
	all := sweepUntil(t, d, f, 30*time.Second)
	stored := map[string]mailpeer.SESStored{}
	for _, e := range local.Stored(t) {
		stored[e.MessageID] = e
	}
	if len(all) != 6 || len(stored) != 6 {
		t.Fatalf("%d deliveries, %d mails in SES; want 6 and 6", len(all), len(stored))
	}
	for _, dl := range all {
		got, ok := stored[dl.ProviderMessageID]
		if dl.Status != icymorning.DeliverySent || !ok || len(got.Destination.To) != 1 || got.Body.Text == "" || got.Body.HTML == "" {
			t.Errorf("delivery %+v: stored %+v", dl, got)
		}
	}
}

// A sweep alternates fanning out and sending, so a backlog of events does
// not hold back the mail of those already fanned out: with a fan-out
// budget of one page per round (a new dispatcher's first page is one
// event, the next ones 100), the first event's mail goes out before the
// last event is fanned out.
func TestDispatchInterleavesFanOutAndSending(t *testing.T) {
	f := newFixture(t, "sqlite:///"+filepath.Join(t.TempDir(), "i.db"))
	f.subscribe(t, 3, icymorning.TopicAssetCreation)
	f.createAssets(t, 150) // more than a page of pending events
	d := f.dispatcher(t, notify.DispatchOptions{FanOutBudget: time.Nanosecond})
	res, err := d.Sweep(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 450 || res.FannedOut != 450 {
		t.Fatalf("sweep: %+v, want 450 fanned out and sent", res)
	}
	all := f.deliveries(t)
	var firstSent, lastCreated time.Time
	for _, dl := range all {
		if dl.SentAt != nil && (firstSent.IsZero() || dl.SentAt.Before(firstSent)) {
			firstSent = *dl.SentAt
		}
		if dl.CreatedAt.After(lastCreated) {
			lastCreated = dl.CreatedAt
		}
	}
	if !firstSent.Before(lastCreated) {
		t.Fatalf("the first mail went out at %v, after the last fan-out at %v: sending waited for the whole backlog", firstSent, lastCreated)
	}
	f.wantEachOnce(t, all)
}
