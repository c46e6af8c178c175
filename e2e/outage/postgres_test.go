package outagee2e

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/icy-morning/icy-morning/internal/testproc"
)

// pgBin holds PostgreSQL 15's server programs, where Debian's
// postgresql-15 package (which .ci/run installs) puts them.
const pgBin = "/usr/lib/postgresql/15/bin"

// cluster is a PostgreSQL cluster of the test's own: its own data
// directory, port and socket directory, so that killing it touches
// nothing another test uses.
type cluster struct {
	dir  string              // holds data/ and the Unix socket
	addr string              // 127.0.0.1:PORT
	cred *syscall.Credential // the postgres user's, when the test runs as root
	proc *testproc.Proc      // the postmaster
	runs int
}

// newCluster runs initdb into a new directory, which is removed when the
// test ends. PostgreSQL refuses to run as root: a test running as root
// runs it as the postgres user, in a directory that user owns.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	initdb := filepath.Join(pgBin, "initdb")
	if _, err := os.Stat(initdb); err != nil {
		if os.Getenv("ICY_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("ICY_REQUIRE_POSTGRES=1 but PostgreSQL 15's server is missing (%v): install postgresql-15, as .ci/run does", err)
		}
		t.Skipf("SKIPPED: the PostgreSQL outage test needs PostgreSQL 15's initdb and postgres (%v); .ci/run installs them", err)
	}
	dir, err := os.MkdirTemp("", "outage-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) }) // after the postmaster has stopped: cleanups run last first
	c := &cluster{dir: dir}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, PostgreSQL must run as another user, and there is no postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	// --no-sync: initdb's own files need not survive a power cut; the
	// cluster itself runs with PostgreSQL's defaults (fsync on).
	cmd := exec.Command(initdb, "--no-sync", "--auth=trust", "--username=postgres", "--encoding=UTF8", "--locale=C",
		"--pgdata="+filepath.Join(dir, "data"))
	cmd.Env = []string{"LC_ALL=C"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	return c
}

// url is the database URL the service is given.
func (c *cluster) url() string {
	return "postgres://postgres@" + c.addr + "/postgres?sslmode=disable"
}

// start starts the cluster on a free port.
func (c *cluster) start(t *testing.T) {
	t.Helper()
	testproc.OnFreePorts(t, 1, func(addrs []string) (*testproc.Proc, error) {
		c.addr = addrs[0]
		return c.launch(t)
	})
}

// launch starts the postmaster on c.addr and waits until it accepts
// connections (after crash recovery, when it was killed). PostgreSQL
// logs to stderr, which testproc keeps.
func (c *cluster) launch(t *testing.T) (*testproc.Proc, error) {
	t.Helper()
	_, port, _ := net.SplitHostPort(c.addr)
	c.runs++
	c.proc = testproc.Start(t, testproc.Cmd{
		Name: fmt.Sprintf("postgres-%d", c.runs), Path: filepath.Join(pgBin, "postgres"), Credential: c.cred, Grace: 10 * time.Second,
		Args: []string{"-D", filepath.Join(c.dir, "data"), "-p", port, "-k", c.dir, "-c", "listen_addresses=127.0.0.1"},
		Env:  []string{"LC_ALL=C"},
	})
	return c.proc, c.proc.WaitFor("database system is ready to accept connections", 30*time.Second)
}

// kill sends SIGKILL to the postmaster, its PID only: its backends and
// helpers see it gone and exit by themselves, as after a crash.
func (c *cluster) kill(t *testing.T) { c.proc.Kill(t) }

// restart starts the killed cluster again on the same data directory and
// port, and returns when it accepts connections. Until the last of the
// old postmaster's children has exited, PostgreSQL refuses to start
// ("pre-existing shared memory block is still in use"); it is tried
// again until then.
func (c *cluster) restart(t *testing.T) time.Time {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		p, err := c.launch(t)
		if err == nil {
			return time.Now()
		}
		if !errors.Is(err, testproc.ErrExited) || !strings.Contains(p.Output(), "still in use") || time.Now().After(deadline) {
			t.Fatalf("restart PostgreSQL on %s: %v", c.addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

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
	pg := newCluster(t)
	pg.start(t)
	srv := startServe(t, "serve", pg.url())
	analyst := srv.createAnalyst(t)
	l := startLoad(t, srv, analyst, writers, "pg")
	l.waitCreated(t, 300, 15*time.Second)

	killed := time.Now()
	pg.kill(t)
	readyzDown := srv.waitReadyz(t, http.StatusServiceUnavailable, 2*time.Second)
	time.Sleep(time.Until(killed.Add(outage)))

	restarting := time.Now()
	back := pg.restart(t)
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
