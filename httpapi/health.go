package httpapi

import (
	"context"
	"net/http"
	"time"
)

type healthOutput struct {
	Body struct {
		Status string `json:"status" example:"ok"`
	}
}

func ok() *healthOutput {
	out := &healthOutput{}
	out.Body.Status = "ok"
	return out
}

func (s *Server) handleHealthz(context.Context, *struct{}) (*healthOutput, error) {
	return ok(), nil
}

// handleReadyz pings the database, briefly: a load balancer asking must
// get an answer before its own timeout.
func (s *Server) handleReadyz(ctx context.Context, _ *struct{}) (*healthOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.logger.WarnContext(ctx, "readiness check failed", "request_id", RequestID(ctx), "error", err)
		return nil, newProblem(http.StatusServiceUnavailable, "the database is not reachable")
	}
	return ok(), nil
}
