//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/icy-morning/icy-morning/mail"
)

// The ceiling is what the SMTP server takes from the plainest client:
// go-mail sending the same messages over one connection, one after
// another, with nothing else to do. (Run over several connections at once,
// it shows how much more the server takes in parallel.) The messages are composed and built
// before the clock starts, so the ceiling is SMTP alone: dial, then per
// message MAIL, RCPT, DATA with go-mail encoding the body as it writes,
// then QUIT. It skips go-mail's NOOP and its RSET after each message, as
// the service's SMTP transport does (mail/smtp.go): with them the ceiling
// would pay a round trip per message that the dispatcher does not, and
// look lower than it is.

// goMailMsg builds m as the service's SMTP transport does (mail.message's
// goMail): its own Message-ID and a Date, the extra headers, a text part
// and an HTML alternative, UTF-8 and quoted-printable.
func goMailMsg(m *mail.Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(m.From); err != nil {
		return nil, err
	}
	if err := msg.To(m.To); err != nil {
		return nil, err
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(strings.Trim(m.MessageID, "<>"))
	msg.SetDate()
	for _, name := range slices.Sorted(maps.Keys(m.Header)) {
		msg.SetGenHeader(gomail.Header(name), m.Header[name])
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// sendCeiling sends msgs to the SMTP server at addr over conns
// connections at once, each taking an equal share in order, and returns how
// long that took, from the first dial to the last QUIT.
func sendCeiling(ctx context.Context, addr string, msgs []mail.Message, conns int) (time.Duration, error) {
	parts := make([][]*gomail.Msg, 0, conns)
	per := (len(msgs) + conns - 1) / conns
	for i := 0; i < len(msgs); i += per {
		part, err := goMailMsgs(msgs[i:min(i+per, len(msgs))])
		if err != nil {
			return 0, err
		}
		parts = append(parts, part)
	}
	start := time.Now()
	errs := make(chan error, len(parts))
	for _, part := range parts {
		go func() { errs <- sendOne(ctx, addr, part) }()
	}
	var err error
	for range parts {
		err = errors.Join(err, <-errs)
	}
	return time.Since(start), err
}

func goMailMsgs(msgs []mail.Message) ([]*gomail.Msg, error) {
	built := make([]*gomail.Msg, len(msgs))
	for i := range msgs {
		var err error
		if built[i], err = goMailMsg(&msgs[i]); err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
	}
	return built, nil
}

// sendOne sends msgs over one connection: one go-mail client, dialled
// once.
func sendOne(ctx context.Context, addr string, msgs []*gomail.Msg) error {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return err
	}
	client, err := gomail.NewClient(host, gomail.WithPort(port), gomail.WithTLSPolicy(gomail.NoTLS),
		gomail.WithoutNoop(), gomail.WithoutRset(),
		// go-mail sets the connection's deadline once per batch: the
		// whole batch must fit in it.
		gomail.WithTimeout(10*time.Minute))
	if err != nil {
		return err
	}
	return client.DialAndSendWithContext(ctx, msgs...)
}
