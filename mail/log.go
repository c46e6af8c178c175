package mail

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"sync/atomic"

	"golang.org/x/time/rate"
)

// logSender is the log:// transport: each message becomes one INFO record,
// so that a local run shows its notifications without a mail server.
type logSender struct {
	logger *slog.Logger
	limit  *rate.Limiter
	closed atomic.Bool
}

func openLog(u *url.URL, logger *slog.Logger, limit *rate.Limiter) (*logSender, error) {
	if u.Host != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil || u.Opaque != "" {
		return nil, errors.New("mail: the log transport takes no host, path or parameters: log://")
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &logSender{logger: logger, limit: limit}, nil
}

func (s *logSender) Send(ctx context.Context, msgs []Message) []Result {
	return collect(ctx, msgs, s.SendEach)
}

func (s *logSender) SendEach(ctx context.Context, msgs []Message, each func(i int, r Result)) {
	sendAll(ctx, "log", s.limit, msgs, each, func(ctx context.Context, m *message) (string, error) {
		if s.closed.Load() {
			return "", &Error{Transport: "log", Err: errClosed}
		}
		header := make([]any, 0, len(m.header))
		for _, f := range m.header {
			header = append(header, slog.String(f.name, f.value))
		}
		s.logger.LogAttrs(ctx, slog.LevelInfo, "mail not sent: the log transport only logs it",
			slog.String("message_id", "<"+m.id+">"),
			slog.String("from", m.from.String()),
			slog.String("to", m.to.String()),
			slog.String("subject", m.subject),
			slog.Group("header", header...),
			slog.String("text", m.text),
			slog.String("html", m.html),
		)
		return m.id, nil
	})
}

func (s *logSender) Close() error {
	s.closed.Store(true)
	return nil
}

func (s *logSender) String() string { return "log://" }
