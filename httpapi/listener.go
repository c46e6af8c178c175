package httpapi

import (
	"container/list"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/net/netutil"
)

// Listener is what the HTTP server listens on. It does two things that
// net/http cannot be configured to do:
//
//   - It caps the connections open at once, so that a crowd of clients
//     runs out of slots (and waits in the kernel's listen backlog) before
//     the process runs out of file descriptors, which would fail database
//     connections and files as well as accepts. At the cap, idle keep-alive
//     connections give way to new clients (see ConnState).
//   - It turns the plain-text answers net/http writes itself, for requests
//     it cannot parse, into problem documents like every other error (see
//     servedConn.Write).
//
// Serve it with its Serve method, which installs the connection-state hook
// the cap needs.
type Listener struct {
	net.Listener // netutil.LimitListener holds the cap
	max          int

	mu      sync.Mutex
	open    int       // connections accepted and not yet closed
	idle    list.List // of *servedConn waiting for a next request, oldest first
	recheck bool      // a timer will call evictIfFull
}

// minIdle is how long a connection must have been idle before it gives
// way. A client that has just read a response may be sending its next
// request on the same connection at this very moment, and closing under it
// fails that request unless it is idempotent: 8 clients POSTing through a
// cap of 2 lost 4% of their requests when connections gave way as soon as
// they went idle, and none with minIdle. A connection idle for a second is
// one its client has set aside; a new client waits at most that long for
// it. Clients that keep their connections busy keep their slots while new
// ones wait: the cap holds, as it does for requests in flight.
const minIdle = time.Second

// NewListener wraps ln so that at most maxConns connections are open at
// once (maxConns must be at least 1).
func NewListener(ln net.Listener, maxConns int) *Listener {
	if maxConns < 1 {
		panic("httpapi: NewListener needs maxConns of at least 1")
	}
	return &Listener{Listener: netutil.LimitListener(ln, maxConns), max: maxConns}
}

// Serve serves srv on l, installing l's connection-state hook in srv
// (ahead of any hook srv already has). It returns what srv.Serve returns.
func (l *Listener) Serve(srv *http.Server) error {
	if prev := srv.ConnState; prev != nil {
		srv.ConnState = func(c net.Conn, s http.ConnState) { l.ConnState(c, s); prev(c, s) }
	} else {
		srv.ConnState = l.ConnState
	}
	return srv.Serve(l)
}

// Accept waits for a free slot and the next connection.
//
// The connection is counted here and uncounted in its Close, inside the
// LimitListener's slot, so the count never exceeds the slots taken.
func (l *Listener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	c := &servedConn{Conn: nc, l: l}
	l.mu.Lock()
	l.open++
	evict := l.evictLocked(time.Now())
	l.mu.Unlock()
	evict.close()
	return c, nil
}

// ConnState is the http.Server.ConnState hook that lets idle connections
// give way when the server is full. Without it, a thousand idle keep-alive
// connections would hold every slot for the whole IdleTimeout while a new
// client waits unserved. So while the open connections are at the cap, the
// connection idle longest is closed once it has been idle for minIdle, one
// at a time, which leaves a slot for whoever connects next; below the cap
// keep-alive is untouched.
//
// Closing an idle connection is what IdleTimeout and Shutdown do anyway,
// and what HTTP clients expect: Go's Transport (like browsers and curl)
// retries a request on a fresh connection when a reused idle one turns out
// to be closed. The race that remains, a request arriving just as its
// connection is closed, is the one IdleTimeout has: rare, because the
// connection has been idle for a while, and retried by the client if the
// request is idempotent.
func (l *Listener) ConnState(nc net.Conn, s http.ConnState) {
	c, ok := nc.(*servedConn)
	if !ok || c.l != l {
		return
	}
	var evict *servedConn
	l.mu.Lock()
	switch s {
	case http.StateIdle:
		now := time.Now()
		if !c.closed && c.idle == nil {
			c.idle, c.idleSince = l.idle.PushBack(c), now
		}
		evict = l.evictLocked(now)
	case http.StateActive, http.StateHijacked, http.StateClosed:
		l.unidleLocked(c)
	}
	l.mu.Unlock()
	evict.close()
}

// evictLocked picks the connection idle longest if the server is full and
// it has been idle for minIdle, and uncounts it, so that a second caller
// does not evict another for the same slot. The caller closes it after
// unlocking (Close locks l.mu). If it has been idle for less, a timer
// looks again when it will have been.
func (l *Listener) evictLocked(now time.Time) *servedConn {
	if l.open < l.max {
		return nil
	}
	e := l.idle.Front()
	if e == nil {
		return nil
	}
	c := e.Value.(*servedConn)
	if wait := c.idleSince.Add(minIdle).Sub(now); wait > 0 {
		if !l.recheck {
			l.recheck = true
			time.AfterFunc(wait, l.evictIfFull)
		}
		return nil
	}
	l.forgetLocked(c)
	return c
}

func (l *Listener) evictIfFull() {
	l.mu.Lock()
	l.recheck = false
	evict := l.evictLocked(time.Now())
	l.mu.Unlock()
	evict.close()
}

func (l *Listener) forgetLocked(c *servedConn) {
	if !c.closed {
		c.closed = true
		l.open--
		l.unidleLocked(c)
	}
}

func (l *Listener) unidleLocked(c *servedConn) {
	if c.idle != nil {
		l.idle.Remove(c.idle)
		c.idle = nil
	}
}

// servedConn is one accepted connection.
//
// netutil's connection type hides (*net.TCPConn).CloseWrite, so when
// net/http hangs up on a client still sending (a 431, or a 413 with the
// body left unread) it cannot send FIN first; it still waits 500ms before
// closing, so that the reset the close causes does not destroy its answer
// in flight. That is enough here because those answers have a
// Content-Length (the 431 once rewritten below): the client needs no FIN to
// find their end. Net/http's own 431, which has none, is reset under such a
// client (listener_test.go catches it if the rewrite stops).
type servedConn struct {
	net.Conn
	l *Listener

	// Guarded by l.mu.
	closed    bool
	idle      *list.Element // in l.idle while idle
	idleSince time.Time
}

func (c *servedConn) Close() error {
	c.l.mu.Lock()
	c.l.forgetLocked(c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// close closes an evicted connection; nil is nothing to evict.
func (c *servedConn) close() {
	if c != nil {
		_ = c.Conn.Close()
	}
}
