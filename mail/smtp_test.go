package mail

import (
	"context"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/icy-morning/icy-morning/internal/mailpeer"
	"github.com/icy-morning/icy-morning/internal/netaddr"
)

// openSender opens mailURL, closed when the test ends.
func openSender(t *testing.T, mailURL string, opts Options) Sender {
	t.Helper()
	s, err := Open(context.Background(), mailURL, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// wantErr checks that r failed with a permanent or transient error whose
// Code is code and whose text holds every piece of contains.
func wantErr(t *testing.T, r Result, permanent bool, code string, contains ...string) {
	t.Helper()
	var e *Error
	if !errors.As(r.Err, &e) {
		t.Fatalf("got %+v, want an *Error", r)
	}
	t.Logf("error: %v", r.Err)
	if IsPermanent(r.Err) != permanent || e.Code != code || r.ProviderID != "" {
		t.Errorf("got %+v (permanent %v, code %q), want permanent %v, code %q", r, e.Permanent, e.Code, permanent, code)
	}
	for _, s := range contains {
		if !strings.Contains(r.Err.Error(), s) {
			t.Errorf("error %q does not say %q", r.Err, s)
		}
	}
}

// wantDelivered checks that r succeeded and that Mailpit holds the message
// m, with its headers and both parts, under r's ProviderID.
func wantDelivered(t *testing.T, mp *mailpeer.Mailpit, r Result, m Message) mailpeer.Message {
	t.Helper()
	if r.Err != nil {
		t.Fatalf("send %s: %v", m.MessageID, r.Err)
	}
	got, header := mp.Received(t, strings.Trim(m.MessageID, "<>"))
	if r.ProviderID != got.ID {
		t.Errorf("ProviderID = %q, want Mailpit's queue id %q", r.ProviderID, got.ID)
	}
	to, _ := parseAddress(m.To)
	checks := []struct{ what, got, want string }{
		{"From", got.From.Name + " <" + got.From.Address + ">", "Icy Morning <news@icy.example>"},
		{"To", got.To[0].Address, to.Address},
		{"Subject", got.Subject, m.Subject},
		{"text part", got.Text, m.Text},
		{"HTML part", got.HTML, m.HTML},
		{"Message-ID header", strings.Join(header["Message-Id"], "|"), "<" + strings.Trim(m.MessageID, "<>") + ">"},
		{"List-Unsubscribe", strings.Join(header["List-Unsubscribe"], "|"), m.Header["List-Unsubscribe"]},
		{"List-Unsubscribe-Post", strings.Join(header["List-Unsubscribe-Post"], "|"), "List-Unsubscribe=One-Click"},
		{"User-Agent", strings.Join(header["User-Agent"], "|"), ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s %s = %q, want %q", m.MessageID, c.what, c.got, c.want)
		}
	}
	if ct := strings.Join(header["Content-Type"], "|"); !strings.HasPrefix(ct, "multipart/alternative;") {
		t.Errorf("Content-Type = %q, want multipart/alternative", ct)
	}
	return got
}

// A batch goes over one connection, and each message gets its own result:
// a refused recipient or an invalid message does not stop the others.
func TestSMTPBatch(t *testing.T) {
	mp := mailpeer.StartMailpit(t, "--smtp-allowed-recipients", `@example\.org$`)
	s := openSender(t, "smtp://"+mp.SMTP+"?tls=none", Options{})

	injected := notification("b-2@icy.example", "ada@example.org")
	injected.Header["List-Id"] = "x\r\nBcc: victim@evil.example"
	msgs := []Message{
		notification("b-1@icy.example", "Ada Lovelace <ada@example.org>"),
		injected,
		notification("b-3@icy.example", "nobody@rejected.example"),
		notification("<b-4@icy.example>", "bob@example.org"),
	}
	results := s.Send(context.Background(), msgs)
	if len(results) != len(msgs) {
		t.Fatalf("%d results for %d messages", len(results), len(msgs))
	}
	wantDelivered(t, mp, results[0], msgs[0])
	wantErr(t, results[1], true, "", "header List-Id")
	wantErr(t, results[2], true, "550", "RCPT TO", "mailbox unavailable")
	wantDelivered(t, mp, results[3], msgs[3])
	if errors.Is(results[2].Err, ErrInvalidMessage) {
		t.Errorf("a server's refusal is not an invalid message: %v", results[2].Err)
	}
	if n := mp.Count(t); n != 2 {
		t.Errorf("Mailpit holds %d messages, want 2", n)
	}
	if n := mp.Sessions(); n != 1 {
		t.Errorf("the batch used %d SMTP connections, want 1", n)
	}
}

// Batches sent at once each have their own connection, and share the
// Sender's rate limit.
func TestSMTPConcurrent(t *testing.T) {
	mp := mailpeer.StartMailpit(t)
	s := openSender(t, "smtp://"+mp.SMTP+"?tls=none", Options{MaxPerSecond: 50})
	results := make([][]Result, 3)
	start := time.Now()
	var wg sync.WaitGroup
	for g := range results {
		wg.Go(func() {
			var msgs []Message
			for i := range 3 {
				msgs = append(msgs, notification(fmt.Sprintf("c-%d-%d@icy.example", g, i), "ada@example.org"))
			}
			results[g] = s.Send(context.Background(), msgs)
		})
	}
	wg.Wait()
	for _, rs := range results {
		for _, r := range rs {
			if r.Err != nil {
				t.Error(r.Err)
			}
		}
	}
	// Nine messages at 50/s: the first at once, then eight 20 ms apart.
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("9 messages at 50/s took %s, want at least 160 ms", d)
	}
	if n, c := mp.Count(t), mp.Sessions(); n != 9 || c != 3 {
		t.Errorf("Mailpit holds %d messages from %d connections, want 9 from 3", n, c)
	}
}

// STARTTLS when offered, or required; implicit TLS; and certificates
// checked, with no fall-back to plain text.
func TestSMTPTLS(t *testing.T) {
	certFile, keyFile, roots := mailpeer.TestCert(t)
	tlsFlags := []string{"--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile}
	servers := map[string]*mailpeer.Mailpit{
		"STARTTLS required": mailpeer.StartMailpit(t, append(tlsFlags, "--smtp-require-starttls")...),
		"implicit TLS":      mailpeer.StartMailpit(t, append(tlsFlags, "--smtp-require-tls")...),
		"no TLS":            mailpeer.StartMailpit(t),
	}
	tests := []struct {
		name, server, query string
		roots               *x509.CertPool
		code                string // "" and no contains: delivered
		contains            string
	}{
		{name: "STARTTLS by default", server: "STARTTLS required", roots: roots},
		{name: "STARTTLS forced", server: "STARTTLS required", query: "?tls=starttls", roots: roots},
		{name: "plain text refused by the server", server: "STARTTLS required", query: "?tls=none", roots: roots, code: "530", contains: "STARTTLS"},
		{name: "untrusted certificate", server: "STARTTLS required", code: "", contains: "certificate"},
		{name: "implicit TLS", server: "implicit TLS", query: "?tls=implicit", roots: roots},
		{name: "implicit TLS, untrusted certificate", server: "implicit TLS", query: "?tls=implicit", contains: "certificate"},
		{name: "STARTTLS forced, not offered", server: "no TLS", query: "?tls=starttls", roots: roots, contains: "does not support STARTTLS"},
		{name: "plain text when STARTTLS is not offered", server: "no TLS", roots: roots},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mp := servers[tt.server]
			before := mp.Count(t)
			s := openSender(t, "smtp://"+mp.SMTP+tt.query, Options{RootCAs: tt.roots})
			m := notification(fmt.Sprintf("tls-%d@icy.example", i), "ada@example.org")
			r := s.Send(context.Background(), []Message{m})[0]
			if tt.code == "" && tt.contains == "" {
				wantDelivered(t, mp, r, m)
				return
			}
			wantErr(t, r, false, tt.code, tt.contains)
			if n := mp.Count(t); n != before {
				t.Errorf("Mailpit holds %d messages, had %d", n, before)
			}
		})
	}
}

// SMTP AUTH over STARTTLS (Mailpit requires it with an auth file), and no
// password in any error.
func TestSMTPAuth(t *testing.T) {
	const user, password = "ada", "p@ss:w/rd#1 ü"
	certFile, keyFile, roots := mailpeer.TestCert(t)
	sum := sha1.Sum([]byte(password))
	authFile := filepath.Join(t.TempDir(), "smtp-auth")
	if err := os.WriteFile(authFile, []byte(user+":{SHA}"+base64.StdEncoding.EncodeToString(sum[:])+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mp := mailpeer.StartMailpit(t, "--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile, "--smtp-auth-file", authFile)

	tests := []struct {
		name     string
		userinfo *url.Userinfo
		code     string // "": delivered
	}{
		{"right password", url.UserPassword(user, password), ""},
		{"wrong password", url.UserPassword(user, password+"x"), "535"},
		{"no credentials", nil, "530"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := &url.URL{Scheme: "smtp", Host: mp.SMTP, User: tt.userinfo}
			s := openSender(t, u.String(), Options{RootCAs: roots})
			if strings.Contains(s.(interface{ String() string }).String(), "p%40ss") {
				t.Errorf("String() shows the password: %s", s)
			}
			m := notification(fmt.Sprintf("auth-%d@icy.example", i), "ada@example.org")
			r := s.Send(context.Background(), []Message{m})[0]
			if tt.code == "" {
				if got := wantDelivered(t, mp, r, m); got.Username != user {
					t.Errorf("Mailpit says the sender authenticated as %q, want %q", got.Username, user)
				}
				return
			}
			// Refused credentials are the configuration's fault, not the
			// message's: transient.
			wantErr(t, r, false, tt.code)
			for _, secret := range []string{password, url.QueryEscape(password), url.PathEscape(password), "w/rd"} {
				if strings.Contains(r.Err.Error(), secret) {
					t.Errorf("the error shows the password: %v", r.Err)
				}
			}
		})
	}
}

// Mailpit's chaos mode answers RCPT TO with the code the test asks for.
func TestSMTPChaos(t *testing.T) {
	mp := mailpeer.StartMailpit(t, "--enable-chaos")
	s := openSender(t, "smtp://"+mp.SMTP+"?tls=none", Options{})
	tests := []struct {
		name      string
		code      int
		permanent bool
		sessions  int // for a batch of two
	}{
		{"451 try later", 451, false, 1},
		{"452 too many recipients", 452, false, 1},
		{"550 no such user", 550, true, 1},
		{"553 mailbox name not allowed", 553, true, 1},
		// 421 closes the channel: the next message dials again.
		{"421 closing", 421, false, 2},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mp.Chaos(t, tt.code)
			before := mp.Sessions()
			results := s.Send(context.Background(), []Message{
				notification(fmt.Sprintf("chaos-%d-1@icy.example", i), "ada@example.org"),
				notification(fmt.Sprintf("chaos-%d-2@icy.example", i), "ada@example.org"),
			})
			for _, r := range results {
				wantErr(t, r, tt.permanent, strconv.Itoa(tt.code), "Chaos recipient error")
			}
			if n := mp.Sessions() - before; n != tt.sessions {
				t.Errorf("%d SMTP connections, want %d", n, tt.sessions)
			}
		})
	}
	mp.Chaos(t, 0)
	m := notification("chaos-over@icy.example", "ada@example.org")
	wantDelivered(t, mp, s.Send(context.Background(), []Message{m})[0], m)
}

// Nobody listening: every message of the batch fails at once, transient,
// after one attempt to connect.
func TestSMTPClosedPort(t *testing.T) {
	addr, err := netaddr.FreeLoopback()
	if err != nil {
		t.Fatal(err)
	}
	s := openSender(t, "smtp://ada:hunter2@"+addr+"?tls=none", Options{})
	start := time.Now()
	results := s.Send(context.Background(), []Message{
		notification("closed-1@icy.example", "ada@example.org"),
		notification("closed-2@icy.example", "ada@example.org"),
	})
	for _, r := range results {
		wantErr(t, r, false, "", "connection refused")
		if !errors.Is(r.Err, syscall.ECONNREFUSED) {
			t.Errorf("err = %v, want ECONNREFUSED", r.Err)
		}
		if strings.Contains(r.Err.Error(), "hunter2") {
			t.Errorf("the error shows the password: %v", r.Err)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
}
