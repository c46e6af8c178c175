// Package mail sends e-mail: the one package that talks to mail servers.
// Open picks a transport from one URL (the MAIL_URL setting):
//
//	log://                                   log each message at INFO instead of sending it (the default)
//	smtp://[user:password@]host[:port][?tls=none|starttls|implicit]
//	ses://[?region=eu-west-1][&configuration_set=NAME]
//
// Every transport sends a batch in order and answers one Result per
// message, whose error IsPermanent tells the caller whether to give up on
// that message or to try it again later. A message is checked before
// anything is sent (one recipient, no CR or LF in any header), and a
// Sender keeps to Options.MaxPerSecond across all of its batches.
//
// No error, log line or String of this package contains a password.
package mail

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"slices"

	"golang.org/x/time/rate"
)

// Sender sends messages. It is safe for concurrent use; Close it when no
// Send is running any more.
type Sender interface {
	// Send sends msgs in order and returns one Result for each, in the
	// same order. It stops early only when ctx ends: the messages not
	// sent then carry a transient error.
	Send(ctx context.Context, msgs []Message) []Result
	// SendEach sends msgs as Send does, and calls each with every
	// message's index and Result as soon as it is known, in order, on the
	// calling goroutine: a caller can record what was sent while the
	// batch goes on, so a crash mid-batch loses little.
	SendEach(ctx context.Context, msgs []Message, each func(i int, r Result))
	// Close releases the Sender's connections. A Send after Close fails
	// with a transient error.
	Close() error
}

// Result is what became of one message.
type Result struct {
	// ProviderID is the transport's id for the sent message: SES's
	// MessageId; for SMTP the queue id in the server's answer ("250 Ok:
	// queued as ID") or, when it names none, the message's MessageID; for
	// the log transport the MessageID. Empty when Err is set.
	ProviderID string
	// Err is why the message was not sent: an *Error (see IsPermanent).
	Err error
}

// Options are the settings of a Sender that do not belong in its URL.
type Options struct {
	// Logger receives what the log transport "sends"; nil means
	// slog.Default().
	Logger *slog.Logger
	// MaxPerSecond caps the messages a Sender sends per second, over all
	// of its batches (MAIL_MAX_PER_SECOND; SES's default quota is 14).
	// Zero means no cap; a negative number is refused.
	MaxPerSecond float64
	// RootCAs are the authorities an SMTP server's certificate must chain
	// to; nil means the system's (which SSL_CERT_FILE can replace).
	RootCAs *x509.CertPool
}

// Open returns the Sender mailURL names (see the package documentation).
// It checks the URL and the AWS configuration but connects to nothing: a
// mail server that is down shows in the results of Send, not here.
func Open(ctx context.Context, mailURL string, opts Options) (Sender, error) {
	if opts.MaxPerSecond < 0 || math.IsNaN(opts.MaxPerSecond) {
		return nil, fmt.Errorf("mail: the send rate must be 0 (no cap) or more, not %v", opts.MaxPerSecond)
	}
	// url.Parse's errors quote the URL, password and all: say only that
	// it does not parse.
	u, err := url.Parse(mailURL)
	if err != nil || mailURL == "" {
		return nil, errors.New("mail: the mail URL is not a URL (it is not shown here, as it may hold a password): " + urlForms)
	}
	limit := newLimiter(opts.MaxPerSecond)
	switch u.Scheme {
	case "log":
		return openLog(u, opts.Logger, limit)
	case "smtp":
		return openSMTP(u, opts.RootCAs, limit)
	case "ses":
		return openSES(ctx, u, limit)
	}
	return nil, fmt.Errorf("mail: unknown mail URL scheme %q: %s", u.Scheme, urlForms)
}

const urlForms = "want log://, smtp://[user:password@]host[:port][?tls=none|starttls|implicit] or ses://[?region=REGION][&configuration_set=NAME]"

func newLimiter(perSecond float64) *rate.Limiter {
	if perSecond == 0 {
		return rate.NewLimiter(rate.Inf, 1)
	}
	// A burst of one spaces the messages evenly, so no second ever holds
	// more than the quota, however the batches fall.
	return rate.NewLimiter(rate.Limit(perSecond), 1)
}

// checkQuery refuses parameters other than known ones, so that a
// misspelt option is not silently ignored.
func checkQuery(scheme string, q url.Values, known ...string) error {
	for k := range q {
		if !slices.Contains(known, k) {
			return fmt.Errorf("mail: unknown %s:// URL parameter %q", scheme, k)
		}
	}
	return nil
}

// sendAll is the loop every transport runs a batch through: each message
// is checked, then waits for its turn under the rate limit, then goes to
// send, and each hears of its Result, in the order of msgs.
func sendAll(ctx context.Context, transport string, limit *rate.Limiter, msgs []Message, each func(i int, r Result), send func(ctx context.Context, m *message) (string, error)) {
	for i := range msgs {
		var r Result
		m, err := msgs[i].check()
		switch {
		case err != nil:
			r.Err = &Error{Transport: transport, Permanent: true, Err: err}
		default:
			if err := limit.Wait(ctx); err != nil {
				r.Err = &Error{Transport: transport, Err: fmt.Errorf("not sent: %w", err)}
				break
			}
			r.ProviderID, r.Err = send(ctx, m)
		}
		each(i, r)
	}
}

// collect is Send made of SendEach.
func collect(ctx context.Context, msgs []Message, sendEach func(context.Context, []Message, func(int, Result))) []Result {
	results := make([]Result, len(msgs))
	sendEach(ctx, msgs, func(i int, r Result) { results[i] = r })
	return results
}

// errClosed is the error of a Send after Close.
var errClosed = errors.New("the mail sender is closed")
