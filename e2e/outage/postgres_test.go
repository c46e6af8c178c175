package outagee2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/icy-morning/icy-morning/internal/pgcluster"
)

// The PostgreSQL under a running service is killed with SIGKILL while 16
// clients write. For the few seconds it stays down, every write is
// answered 503 with Retry-After (none 500, none later than the request
// budget) and /readyz says 503. It is started again on the same data
// directory and port: writes succeed again within 10 s of its return,
// without restarting the service, and every write that was ever answered
// 201 reads back.
func TestPostgresKilledUnderWriteLoad(t *testing.T) {
	const (
		writers = 16
		outage  = 3 * time.Second
		// orphans is how long after the kill the old backends may still
		// finish what they were doing (a commit in flight is kept).
		orphans = time.Second
	)
	pg := pgcluster.New(t)
	pg.Start(t)
	srv := startServe(t, "serve", pg.URL())
	analyst := srv.createAnalyst(t)
	l := startLoad(t, srv, analyst, writers, "pg")
	l.waitCreated(t, 300, 15*time.Second)

	killed := time.Now()
	pg.Kill(t)
	readyzDown := srv.waitReadyz(t, http.StatusServiceUnavailable, 2*time.Second)
	time.Sleep(time.Until(killed.Add(outage)))

	restarting := time.Now()
	back := pg.Restart(t)
	first, ok := l.firstCreatedAfter(back, 10*time.Second)
	if !ok {
		t.Fatalf("no write succeeded within 10 s of PostgreSQL's return")
	}
	srv.waitReadyz(t, http.StatusOK, 10*time.Second)
	readyzUp := time.Since(back)
	time.Sleep(time.Second)
	writes := l.stop()

	checkAnswers(t, writes, false)
	var before, during, after []write
	for _, w := range writes {
		switch {
		case w.ended.Before(killed):
			before = append(before, w)
		case w.began.After(killed.Add(orphans)) && w.ended.Before(restarting):
			during = append(during, w)
		case w.began.After(back):
			after = append(after, w)
		}
	}
	if c := count(during); c.unavailable == 0 || c.unavailable != len(during) {
		t.Errorf("while PostgreSQL was down: %+v; want every write answered 503", c)
	}
	acked := created(writes)
	stored, lost := checkStored(t, srv, analyst, acked)
	all, b, d, a := count(writes), count(before), count(during), count(after)
	t.Logf("writes: %d, answered 201 (acknowledged) %d, 503 %d, other %d, no answer %d; slowest answer %v",
		len(writes), all.created, all.unavailable, all.other, all.unanswered, all.slowest.Round(time.Millisecond))
	t.Logf("before the kill: %d acknowledged; down (from %v after the kill until the restart): %d writes, %d answered 503, slowest %v; after its return: %d acknowledged, %d answered 503",
		b.created, orphans, len(during), d.unavailable, d.slowest.Round(time.Millisecond), a.created, a.unavailable)
	t.Logf("/readyz said 503 %v after the kill, and 200 again by %v after PostgreSQL's return; PostgreSQL took %v to restart (crash recovery included)",
		readyzDown.Round(time.Millisecond), readyzUp.Round(time.Millisecond), back.Sub(restarting).Round(time.Millisecond))
	t.Logf("first write acknowledged %v after PostgreSQL's return (it began %v after)",
		first.ended.Sub(back).Round(time.Millisecond), first.began.Sub(back).Round(time.Millisecond))
	t.Logf("read back: %d of %d acknowledged writes, lost %d; the analyst has %d assets (%d stored though not acknowledged: the answer was lost with the server)",
		len(acked)-len(lost), len(acked), len(lost), stored, stored-len(acked))
	// serve stops before the restarted PostgreSQL, which testproc would
	// stop first (it started last) and whose shutdown waits for serve's
	// sessions to end.
	if srv.Stop() {
		t.Error("serve did not exit after SIGTERM")
	}
	if out := srv.Output(); !strings.Contains(out, `"msg":"dependency unavailable"`) || strings.Contains(out, `"msg":"internal error"`) {
		t.Errorf("serve did not log the outage as unavailable, or logged internal errors:\n%s", srv.Tail(3000))
	}
}
