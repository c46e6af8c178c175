//go:build linux

// Package pgcluster gives a test a PostgreSQL cluster of its own: its own
// data directory, port and socket directory, so that a test may start it
// late, kill it or never start it, touching nothing another test uses
// (never the shared cluster of TEST_DATABASE_URL). It needs PostgreSQL
// 15's server programs (initdb and postgres); without them the test skips,
// or fails when ICY_REQUIRE_POSTGRES=1, as in CI.
//
// Linux only: the cluster runs through testproc, as the postgres user
// when the test runs as root.
package pgcluster

import (
	"errors"
	"fmt"
	"net"
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

// Cluster is a PostgreSQL cluster of the test's own. Its superuser is
// postgres, signing in without a password (trust).
type Cluster struct {
	dir  string              // holds data/ and the Unix socket
	addr string              // 127.0.0.1:PORT
	cred *syscall.Credential // the postgres user's, when the test runs as root
	proc *testproc.Proc      // the postmaster
	runs int
}

// New runs initdb into a new directory, which is removed when the test
// ends. PostgreSQL refuses to run as root: a test running as root runs it
// as the postgres user, in a directory that user owns.
func New(t *testing.T) *Cluster {
	t.Helper()
	initdb := filepath.Join(pgBin, "initdb")
	if _, err := os.Stat(initdb); err != nil {
		if os.Getenv("ICY_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("ICY_REQUIRE_POSTGRES=1 but PostgreSQL 15's server is missing (%v): install postgresql-15, as .ci/run does", err)
		}
		t.Skipf("SKIPPED: this test needs PostgreSQL 15's initdb and postgres (%v); .ci/run installs them", err)
	}
	dir, err := os.MkdirTemp("", "icy-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) }) // after the postmaster has stopped: cleanups run last first
	c := &Cluster{dir: dir}
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

// URL is the URL of the cluster's postgres database, as its superuser.
func (c *Cluster) URL() string {
	return URLAt(c.addr)
}

// URLAt is the URL a cluster started at addr will have: a test may hand
// it out before the cluster runs.
func URLAt(addr string) string {
	return "postgres://postgres@" + addr + "/postgres?sslmode=disable"
}

// Start starts the cluster on a free port.
func (c *Cluster) Start(t *testing.T) {
	t.Helper()
	testproc.OnFreePorts(t, 1, func(addrs []string) (*testproc.Proc, error) {
		c.addr = addrs[0]
		return c.launch(t)
	})
}

// StartAt starts the cluster on addr ("127.0.0.1:PORT"), chosen by the
// test beforehand, and returns once it accepts connections.
func (c *Cluster) StartAt(t *testing.T, addr string) error {
	t.Helper()
	c.addr = addr
	_, err := c.launch(t)
	return err
}

// launch starts the postmaster on c.addr and waits until it accepts
// connections (after crash recovery, when it was killed). PostgreSQL
// logs to stderr, which testproc keeps.
func (c *Cluster) launch(t *testing.T) (*testproc.Proc, error) {
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

// Kill sends SIGKILL to the postmaster, its PID only: its backends and
// helpers see it gone and exit by themselves, as after a crash.
func (c *Cluster) Kill(t *testing.T) { c.proc.Kill(t) }

// Restart starts the killed cluster again on the same data directory and
// port, and returns when it accepts connections. Until the last of the
// old postmaster's children has exited, PostgreSQL refuses to start
// ("pre-existing shared memory block is still in use"); it is tried
// again until then.
func (c *Cluster) Restart(t *testing.T) time.Time {
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
