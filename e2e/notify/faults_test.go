package notifye2e

import (
	"fmt"
	"testing"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
	"github.com/icy-morning/icy-morning/internal/mailpeer"
	"github.com/icy-morning/icy-morning/internal/testcheck"
	"github.com/icy-morning/icy-morning/internal/testdb"
)

// mailEnv is the environment of a process on database db that mails
// Mailpit mp. Every process of a test gets the same link-signing key, as
// the processes of one deployment do.
func mailEnv(mp *mailpeer.Mailpit, db string) env {
	return env{
		"DATABASE_URL":        db,
		"BASIC_AUTH_USERNAME": apiUser,
		"BASIC_AUTH_PASSWORD": apiPassword,
		"MAIL_URL":            "smtp://" + mp.SMTP + "?tls=none",
		"MAIL_FROM":           "Icy Morning <serve@icy.example>",
		"PUBLIC_BASE_URL":     publicBase,
		"NOTIFY_SECRET":       secret(),
		"LOG_FORMAT":          "json",
	}
}

// startMailpit keeps every message (Mailpit's default is the newest 500).
func startMailpit(t *testing.T) *mailpeer.Mailpit {
	t.Helper()
	return mailpeer.StartMailpit(t, "--max", "0")
}

// Two worker processes on one PostgreSQL database, a serve without a
// dispatcher taking the writes: every delivery is sent, and Mailpit holds
// each Message-ID exactly once.
func TestTwoWorkersSendEachMailOnce(t *testing.T) {
	const subscribers, assets = 300, 4
	db := testdb.Postgres(t)
	mp := startMailpit(t)
	base := mailEnv(mp, db)
	srv := startServe(t, "serve", base.with("NOTIFY_DISPATCHER", "false"))
	store := openStore(t, db) // migrated by serve
	subscribe(t, store, subscribers)

	// Each worker sends under a From of its own, so Mailpit tells whose
	// each mail is. Capped at 400 mails a second, one worker alone would
	// need 3 s: many polls (200 ms), so both take part.
	senders := []string{"worker-a@icy.example", "worker-b@icy.example"}
	for i, from := range senders {
		startWorker(t, fmt.Sprintf("worker-%c", 'a'+i), base.with("MAIL_FROM", "Icy Morning <"+from+">", "MAIL_MAX_PER_SECOND", "400"))
	}
	analyst := srv.createAnalyst(t)
	began := time.Now()
	for i := range assets {
		srv.createAsset(t, analyst, fmt.Sprintf("Fund %d", i+1))
	}
	ds := waitAllSent(t, store, subscribers*assets, 30*time.Second)
	took := time.Since(began)

	// A second claim would mean a worker took a delivery another had
	// leased.
	var again []string
	for _, d := range ds {
		if d.Attempts != 1 {
			again = append(again, fmt.Sprintf("delivery %d: %d claims", d.ID, d.Attempts))
		}
	}
	testcheck.FailMany(t, "deliveries claimed more than once", again)
	msgs, seen := received(t, mp, ds)
	var notOnce []string
	for id, n := range seen {
		if n != 1 {
			notOnce = append(notOnce, fmt.Sprintf("%s: %d times", id, n))
		}
	}
	testcheck.FailMany(t, "Message-IDs not received exactly once", notOnce)
	if len(msgs) != len(ds) {
		t.Errorf("Mailpit holds %d messages for %d deliveries", len(msgs), len(ds))
	}
	bySender := map[string]int{}
	for _, m := range msgs {
		bySender[m.From.Address]++
	}
	a, b := bySender[senders[0]], bySender[senders[1]]
	t.Logf("%d deliveries (%d subscribers × %d assets) sent in %v by two workers: worker-a %d, worker-b %d",
		len(ds), subscribers, assets, took.Round(time.Millisecond), a, b)
	if a+b != len(msgs) {
		t.Errorf("%d of %d messages came from neither worker (by From: %v); serve has NOTIFY_DISPATCHER=false", len(msgs)-a-b, len(msgs), bySender)
	}
	if a == 0 || b == 0 {
		t.Errorf("one worker sent everything (worker-a %d, worker-b %d): two workers on one database were not exercised", a, b)
	}
}

// kill -9 of serve while it sends a fan-out of 2,000 mails, then a new
// serve on the same database: every delivery is sent, and the only mails
// sent twice are deliveries the killed process had claimed and not yet
// recorded, resent with the same Message-ID.
func TestKillServeMidFanOut(t *testing.T) {
	const (
		subscribers  = 2000
		rate         = 250 // MAIL_MAX_PER_SECOND: 2,000 mails take 8 s
		connections  = 4   // MAIL_CONNECTIONS
		claimTimeout = 2 * time.Second
		// batch is the most a dispatcher claims at once per connection
		// (notify.DispatchOptions.Batch): lowered so that a batch is sent
		// in half the claim timeout at the rate, every connection busy.
		batch = rate * int(claimTimeout/time.Second) / 2 / connections
		// batchTime is how long a batch takes to send.
		batchTime = time.Duration(batch*connections) * time.Second / rate
	)
	db := testdb.Postgres(t)
	mp := startMailpit(t)
	e := mailEnv(mp, db).with("MAIL_MAX_PER_SECOND", fmt.Sprint(rate), "MAIL_CONNECTIONS", fmt.Sprint(connections),
		"NOTIFY_CLAIM_TIMEOUT", claimTimeout.String())
	first := startServe(t, "serve-1", e)
	store := openStore(t, db)
	subscribe(t, store, subscribers)
	analyst := first.createAnalyst(t)
	began := time.Now()
	first.createAsset(t, analyst, "Fund")

	// Some sent, not all: a fifth recorded as sent. Batches are recorded
	// as they end, and the connections share the rate, so they end about
	// together: half a batch's time later, the batches in flight are half
	// sent.
	for deadline := time.Now().Add(20 * time.Second); byStatus(deliveries(t, store))[icymorning.DeliverySent] < subscribers/5; {
		if time.Now().After(deadline) {
			t.Fatalf("a fifth of the deliveries not sent within 20 s: %v", byStatus(deliveries(t, store)))
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(batchTime / 2)
	first.kill(t)
	killedAfter := time.Since(began)
	// A COMMIT the killed process sent just before it died may still be
	// finishing in PostgreSQL.
	time.Sleep(200 * time.Millisecond)

	// What the killed process left: deliveries sent and recorded, and
	// deliveries it had claimed (an attempt counted) but not recorded,
	// some of which it may have sent.
	atKill := deliveries(t, store)
	sentAtKill := byStatus(atKill)[icymorning.DeliverySent]
	inFlight := map[int64]bool{}
	for _, d := range atKill {
		if d.Status != icymorning.DeliverySent && d.Attempts > 0 {
			inFlight[d.ID] = true
		}
	}
	mailpitAtKill := mp.Count(t)
	if len(atKill) != subscribers || sentAtKill == 0 || sentAtKill == subscribers {
		t.Fatalf("killed with %d deliveries, %v: not in the middle of a fan-out of %d", len(atKill), byStatus(atKill), subscribers)
	}
	if len(inFlight) > connections*batch {
		t.Errorf("%d deliveries claimed and not recorded at the kill, more than %d connections × %d", len(inFlight), connections, batch)
	}

	startServe(t, "serve-2", e)
	ds := waitAllSent(t, store, subscribers, 45*time.Second)
	took := time.Since(began)

	// A delivery in flight at the kill is claimed again once its claim
	// has timed out; any other is claimed once.
	var claims []string
	for _, d := range ds {
		if want := map[bool]int{false: 1, true: 2}[inFlight[d.ID]]; d.Attempts != want {
			claims = append(claims, fmt.Sprintf("delivery %d (in flight at the kill: %v): %d claims, want %d", d.ID, inFlight[d.ID], d.Attempts, want))
		}
	}
	testcheck.FailMany(t, "deliveries claimed an unexpected number of times", claims)
	msgs, seen := received(t, mp, ds)
	ids := map[string]int64{} // Message-ID → delivery
	for _, d := range ds {
		ids[messageID(idHost, d)] = d.ID
	}
	duplicates := 0
	var missing, badDups []string
	for id, n := range seen {
		switch d := ids[id]; {
		case n == 0:
			missing = append(missing, fmt.Sprintf("%s (delivery %d)", id, d))
		case n > 1:
			duplicates += n - 1
			if !inFlight[d] || n > 2 {
				badDups = append(badDups, fmt.Sprintf("%s: %d times (delivery %d, in flight at the kill: %v)", id, n, d, inFlight[d]))
			}
		}
	}
	testcheck.FailMany(t, "deliveries sent but not in Mailpit", missing)
	testcheck.FailMany(t, "Message-IDs received more often than a resend of a delivery in flight at the kill allows", badDups)
	if distinct := len(seen) - len(missing); distinct != len(ds) {
		t.Errorf("Mailpit holds %d distinct Message-IDs for %d deliveries", distinct, len(ds))
	}
	t.Logf("kill -9 after %v: %d of %d recorded sent, %d claimed and not recorded, Mailpit held %d; all sent %v after the asset was created",
		killedAfter.Round(time.Millisecond), sentAtKill, subscribers, len(inFlight), mailpitAtKill, took.Round(time.Millisecond))
	t.Logf("Mailpit holds %d messages: %d distinct Message-IDs, %d duplicates", len(msgs), len(seen)-len(missing), duplicates)
	if duplicates == 0 {
		t.Logf("no mail was sent twice: the kill fell between batches, so the resend path was not exercised this time")
	}
}
