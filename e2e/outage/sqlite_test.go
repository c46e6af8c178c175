package outagee2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// `serve` on SQLite is killed with SIGKILL while 16 clients write, and
// started again on the same file, three times. After each restart, every
// write ever answered 201 reads back, as it was written: an acknowledged
// write is on disk (synchronous=FULL) before it is answered.
func TestSQLiteServeKilledUnderWriteLoad(t *testing.T) {
	const (
		rounds  = 3
		writers = 16
	)
	db := "sqlite:///" + filepath.Join(t.TempDir(), "icy.db")
	var (
		analyst int64
		acked   []write // answered 201, in every round so far
		summary []string
	)
	srv := startServe(t, "serve-1", db)
	analyst = srv.createAnalyst(t)
	for round := 1; round <= rounds; round++ {
		l := startLoad(t, srv, analyst, writers, fmt.Sprintf("sqlite-r%d", round))
		// Killed while writes are in flight: the writers never pause
		// while they are answered.
		l.waitCreated(t, 1000, 15*time.Second)
		killed := time.Now()
		srv.Kill(t)
		writes := l.stop()
		checkAnswers(t, writes, true)
		for _, w := range writes {
			if w.status == 0 && w.ended.Before(killed) {
				t.Errorf("%s: no answer before serve was killed: %v", w.name, w.err)
			}
		}
		c := count(writes)
		acked = append(acked, created(writes)...)

		srv = startServe(t, fmt.Sprintf("serve-%d", round+1), db)
		stored, lost := checkStored(t, srv, analyst, acked)
		summary = append(summary, fmt.Sprintf("round %d: %d writes acknowledged, %d not answered (in flight at the kill, or sent just after), %d answered 503; "+
			"after the restart %d of %d acknowledged so far read back, lost %d, the analyst has %d assets",
			round, c.created, c.unanswered, c.unavailable, len(acked)-len(lost), len(acked), len(lost), stored))
	}
	t.Logf("serve killed with SIGKILL under write load on SQLite, %d rounds:\n\t%s", rounds, strings.Join(summary, "\n\t"))
}
