package httpapi

import (
	"context"
	"fmt"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
)

type healthOutput struct {
	BuildVersion string `header:"X-Build-Version" doc:"The build answering: its commit (git describe), or dev." example:"1c1c65b"`
	Body         struct {
		Status string `json:"status" enum:"ok" doc:"Always ok: a 200 means what the operation checks holds." example:"ok"`
	}
}

func (s *Server) ok() *healthOutput {
	out := &healthOutput{BuildVersion: s.build}
	out.Body.Status = "ok"
	return out
}

func (s *Server) handleHealthz(context.Context, *struct{}) (*healthOutput, error) {
	return s.ok(), nil
}

// handleReadyz pings the database, briefly: a load balancer asking must
// get an answer before its own timeout. While the database cannot be
// reached the answer is 503, as requests that need it get; the next ping
// after it is back answers 200.
func (s *Server) handleReadyz(ctx context.Context, _ *struct{}) (*healthOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, readyzTimeout)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		notReady := &icymorning.Error{Code: icymorning.EUNAVAILABLE, Message: "the database is not reachable", RetryAfter: readyzTimeout}
		return nil, s.problemFromDomain(ctx, fmt.Errorf("readiness check failed: %w: %w", notReady, err))
	}
	return s.ok(), nil
}

// readyzTimeout bounds the readiness ping; its 503 suggests asking again
// as soon, since a restarted database is back within seconds.
const readyzTimeout = 2 * time.Second
