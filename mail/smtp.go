package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
	"golang.org/x/time/rate"
)

// smtpSender is the smtp:// transport. It holds no connection between
// batches: each Send dials once, sends its messages over that connection
// (dialling again only after the server dropped it) and quits.
type smtpSender struct {
	client   *gomail.Client // holds the password; never printed
	name     string         // the URL without the password
	tls      *tls.Config
	implicit bool // TLS from the first byte (SMTPS)
	limit    *rate.Limiter
	closed   atomic.Bool
}

// The STARTTLS policies of ?tls=. Without it, STARTTLS is used when the
// server offers it. Implicit TLS is the dialer's (see dial), after which
// "opportunistic" finds the connection encrypted: servers do not offer
// STARTTLS on a TLS connection. The server's certificate is verified
// whenever TLS is used.
var smtpTLSModes = map[string]gomail.TLSPolicy{
	"":         gomail.TLSOpportunistic,
	"none":     gomail.NoTLS,
	"starttls": gomail.TLSMandatory,
	"implicit": gomail.TLSOpportunistic,
}

func openSMTP(u *url.URL, roots *x509.CertPool, limit *rate.Limiter) (*smtpSender, error) {
	const form = "smtp://[user:password@]host[:port][?tls=none|starttls|implicit]"
	if u.Opaque != "" || u.Hostname() == "" {
		return nil, errors.New("mail: the smtp URL names no host: " + form)
	}
	if u.Path != "" && u.Path != "/" {
		return nil, errors.New("mail: the smtp URL has a path: " + form)
	}
	q := u.Query()
	if err := checkQuery("smtp", q, "tls"); err != nil {
		return nil, err
	}
	mode := q.Get("tls")
	policy, ok := smtpTLSModes[mode]
	if !ok {
		return nil, fmt.Errorf("mail: smtp ?tls=%q: want none, starttls or implicit", mode)
	}
	port := 587 // submission, with STARTTLS
	if mode == "implicit" {
		port = 465 // submissions, TLS from the first byte
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("mail: smtp port %q is not a port number", p)
		}
		port = n
	}
	host := u.Hostname()
	s := &smtpSender{
		tls:      &tls.Config{ServerName: host, RootCAs: roots, MinVersion: tls.VersionTLS12},
		implicit: mode == "implicit",
		limit:    limit,
	}
	opts := []gomail.Option{
		gomail.WithPort(port),
		gomail.WithTLSConfig(s.tls),
		gomail.WithTLSPolicy(policy),
		gomail.WithDialContextFunc(s.dial),
		// One round trip less per message: a dead connection shows in the
		// next command anyway, and a finished DATA needs no RSET.
		gomail.WithoutNoop(),
		gomail.WithoutRset(),
	}
	name := &url.URL{Scheme: "smtp", Host: u.Host, RawQuery: u.RawQuery}
	if u.User != nil {
		pass, ok := u.User.Password()
		if u.User.Username() == "" || !ok || pass == "" {
			return nil, errors.New("mail: the smtp URL needs both a user name and a password, or neither")
		}
		// go-mail picks the strongest mechanism the server offers, and
		// PLAIN or LOGIN only over TLS.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(u.User.Username()), gomail.WithPassword(pass))
		name.User = url.User(u.User.Username())
	}
	// go-mail joins host and port with a colon alone.
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	var err error
	if s.client, err = gomail.NewClient(host, opts...); err != nil {
		return nil, fmt.Errorf("mail: smtp: %w", err)
	}
	s.name = name.String()
	return s, nil
}

// dialedKey is the context key under which Send asks dial to leave the
// connection it makes: go-mail does not close it when the session's
// set-up (EHLO, STARTTLS, AUTH) fails, so Send does.
type dialedKey struct{}

// dial connects for go-mail, with TLS from the start in implicit mode.
func (s *smtpSender) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{}
	var (
		conn net.Conn
		err  error
	)
	if s.implicit {
		conn, err = (&tls.Dialer{NetDialer: d, Config: s.tls}).DialContext(ctx, network, addr)
	} else {
		conn, err = d.DialContext(ctx, network, addr)
	}
	if dialed, ok := ctx.Value(dialedKey{}).(*net.Conn); ok && err == nil {
		*dialed = conn
	}
	return conn, err
}

func (s *smtpSender) Send(ctx context.Context, msgs []Message) []Result {
	return collect(ctx, msgs, s.SendEach)
}

func (s *smtpSender) SendEach(ctx context.Context, msgs []Message, each func(i int, r Result)) {
	var (
		conn    *smtp.Client
		dialErr error // the batch's failed dial, for the messages after it
	)
	defer func() {
		if conn != nil {
			_ = s.client.CloseWithSMTPClient(conn)
		}
	}()
	sendAll(ctx, "smtp", s.limit, msgs, each, func(ctx context.Context, m *message) (string, error) {
		if s.closed.Load() {
			return "", &Error{Transport: "smtp", Err: errClosed}
		}
		if dialErr != nil {
			return "", dialErr
		}
		if conn == nil {
			var dialed net.Conn
			c, err := s.client.DialToSMTPClientWithContext(context.WithValue(ctx, dialedKey{}, &dialed))
			if err != nil {
				if dialed != nil {
					_ = dialed.Close()
				}
				dialErr = &Error{Transport: "smtp", Code: replyCode(err), Err: fmt.Errorf("%s: %w", s.name, err)}
				return "", dialErr
			}
			conn = c
		}
		msg := m.goMail()
		if err := s.client.SendWithSMTPClient(conn, msg); err != nil {
			e, lost := smtpSendError(err)
			if lost {
				_ = conn.Close()
				conn = nil
			}
			return "", e
		}
		if id := queuedAs.FindStringSubmatch(msg.ServerResponse()); id != nil {
			return id[1], nil
		}
		return m.id, nil
	})
}

// queuedAs finds the queue id in the reply to DATA, as Postfix and
// Mailpit word it: "2.0.0 Ok: queued as 4Z9sHL1Zq7z".
var queuedAs = regexp.MustCompile(`queued as <?([^\s<>]+)>?`)

// sessionCodes are 5xx replies about the session, not the message: the
// server wants TLS or (other) credentials. Every message would get them
// until the configuration is fixed, so they are transient.
var sessionCodes = map[int]bool{530: true, 534: true, 535: true, 538: true}

// smtpSendError classifies go-mail's error for one message, and reports
// whether the connection is lost: no reply at all, or 421 (the server is
// closing the channel).
func smtpSendError(err error) (e *Error, lost bool) {
	e = &Error{Transport: "smtp", Err: err}
	var se *gomail.SendError
	code := 0
	if errors.As(err, &se) {
		code = se.ErrorCode()
	}
	if code == 0 {
		return e, true
	}
	e.Code = strconv.Itoa(code)
	e.Permanent = code >= 500 && !sessionCodes[code]
	return e, code == 421
}

// replyCode is the server's reply code in err, if err is a reply.
func replyCode(err error) string {
	var te *textproto.Error
	if errors.As(err, &te) {
		return strconv.Itoa(te.Code)
	}
	return ""
}

func (s *smtpSender) Close() error {
	s.closed.Store(true)
	return nil
}

// String is the URL without its password.
func (s *smtpSender) String() string { return s.name }
