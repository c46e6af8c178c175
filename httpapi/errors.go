package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/validation"

	icymorning "github.com/icy-morning/icy-morning"
)

// Every error this service sends is an RFC 9457 problem document, built by
// newProblem: domain errors in problemFromDomain, the request checks in
// admit, the mux's 404/405 and panics through WriteProblem, and net/http's
// own refusals in listener.go. Huma builds its own errors (validation, bad
// JSON) with its default constructor; reshapeProblem, a transformer of
// this API's alone, passes them through newProblem before they are
// written, so the shape is the same everywhere and no process-wide hook of
// Huma's is changed.

// problemType is the problem "type" of every response: RFC 9457 §4.2.1 says
// "about:blank" means the HTTP status says it all, which is the case here.
const problemType = "about:blank"

// msgFieldRequired is what FastAPI said of a missing member; Python clients
// look for these words.
const msgFieldRequired = "field required"

const (
	msgNotJSON        = "the request body must be JSON (Content-Type: application/json, or application/merge-patch+json for PATCH)"
	msgBodyUnreadable = "the request body could not be read: its chunked encoding is malformed, or the connection ended before the declared length arrived"
)

// Huma's message for a missing member names the member inside its text
// ("expected required property name to be present") and points at the
// enclosing object; newProblem moves the name into the location, where
// clients look for it, and says what FastAPI said.
var requiredBefore, requiredAfter, _ = strings.Cut(validation.MsgExpectedRequiredProperty, "%s")

// reshapeProblem is the API's Huma transformer for errors Huma built
// itself, which have no type yet (newProblem always sets one).
func reshapeProblem(_ huma.Context, _ string, v any) (any, error) {
	m, ok := v.(*huma.ErrorModel)
	if !ok || m.Type != "" {
		return v, nil
	}
	errs := make([]error, 0, len(m.Errors))
	for _, d := range m.Errors {
		if d != nil {
			errs = append(errs, d)
		}
	}
	return newProblem(m.Status, m.Detail, errs...), nil
}

// newProblem builds a problem document whose details name each failing
// field and never echo the input.
func newProblem(status int, msg string, errs ...error) huma.StatusError {
	details := make([]*huma.ErrorDetail, 0, len(errs))
	for _, err := range errs {
		if err == nil {
			continue
		}
		var d *huma.ErrorDetail
		if ed, ok := err.(huma.ErrorDetailer); ok {
			d = ed.ErrorDetail()
		} else {
			d = &huma.ErrorDetail{Message: err.Error()}
		}
		// Never echo input back: a value may be a password, personal data
		// or a megabyte of garbage.
		d = &huma.ErrorDetail{Message: d.Message, Location: d.Location}
		if name, ok := strings.CutPrefix(d.Message, requiredBefore); ok && strings.HasSuffix(name, requiredAfter) {
			name = strings.TrimSuffix(name, requiredAfter)
			d.Location, d.Message = joinLocation(d.Location, name), msgFieldRequired
		} else if name, m, ok := strings.Cut(d.Message, "\x00"); ok {
			// jsonbody.go's errors put the member's name before a NUL.
			d.Location, d.Message = joinLocation(d.Location, name), m
		}
		details = append(details, d)
	}
	if status == http.StatusBadRequest && len(details) > 0 && details[0].Location == "body" {
		msg = "request body is not valid JSON"
	}
	return &huma.ErrorModel{
		Type:   problemType,
		Title:  http.StatusText(status),
		Status: status,
		Detail: problemDetail(msg, details),
		Errors: details,
	}
}

func joinLocation(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// problemDetail says in one sentence what failed, naming each field.
func problemDetail(msg string, details []*huma.ErrorDetail) string {
	if len(details) == 0 {
		return msg
	}
	parts := make([]string, len(details))
	for i, d := range details {
		if d.Location == "" {
			parts[i] = d.Message
		} else {
			parts[i] = d.Location + ": " + d.Message
		}
	}
	if msg == "" {
		return strings.Join(parts, "; ")
	}
	return msg + ": " + strings.Join(parts, "; ")
}

// problemFromDomain maps a domain error to its HTTP problem. This is the one
// place where domain error codes become statuses. Internal errors are logged
// with the request id and answered with no detail of the failure.
func (s *Server) problemFromDomain(ctx context.Context, err error) error {
	return s.problemFromDomainIn(ctx, err, "body")
}

// unavailableRetryAfter is the Retry-After of a 503 for a service we depend
// on that is down (EUNAVAILABLE) when the error does not say how soon it
// may be back: long enough for a mail server to come back, short enough
// that a person waiting tries again.
const unavailableRetryAfter = 60 * time.Second

// timeoutRetryAfter is the Retry-After of a 503 for a request that ran out
// of time (its budget, Config.RequestTimeout) and that nothing classified.
const timeoutRetryAfter = 5 * time.Second

// problemFromDomainIn is problemFromDomain for input that arrived in the
// part of the request named by in ("body", "path"): an invalid member's
// location is in.field.
func (s *Server) problemFromDomainIn(ctx context.Context, err error, in string) error {
	if p, ok := err.(huma.StatusError); ok {
		return p // already a problem (newProblem)
	}
	var e *icymorning.Error
	if !errors.As(err, &e) {
		e = &icymorning.Error{Code: icymorning.EINTERNAL}
	}
	switch e.Code {
	case icymorning.EINVALID:
		loc := in
		if e.Field != "" {
			loc = in + "." + e.Field
		}
		return newProblem(http.StatusUnprocessableEntity, "validation failed", &huma.ErrorDetail{Location: loc, Message: e.Message})
	case icymorning.ENOTFOUND:
		return newProblem(http.StatusNotFound, e.Message)
	case icymorning.ECONFLICT:
		return newProblem(http.StatusConflict, e.Message)
	case icymorning.ESTALE:
		return newProblem(http.StatusPreconditionFailed, staleDetail(e.Message))
	case icymorning.EUNAUTHORIZED:
		return newProblem(http.StatusUnauthorized, e.Message)
	case icymorning.EFORBIDDEN:
		return newProblem(http.StatusForbidden, e.Message)
	case icymorning.EUNAVAILABLE:
		s.logger.LogAttrs(ctx, slog.LevelWarn, "dependency unavailable", slog.String("request_id", RequestID(ctx)), slog.Any("error", err))
		wait := e.RetryAfter
		if wait <= 0 {
			wait = unavailableRetryAfter
		}
		return withRetryAfter(newProblem(http.StatusServiceUnavailable, e.Message), wait)
	}
	if errors.Is(err, context.Canceled) {
		// The client went away; nobody reads the answer.
		return newProblem(499, "client closed request")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		s.logger.LogAttrs(ctx, slog.LevelWarn, "request timed out", slog.String("request_id", RequestID(ctx)), slog.Any("error", err))
		return withRetryAfter(newProblem(http.StatusServiceUnavailable, "the database did not answer in time; try again"), timeoutRetryAfter)
	}
	s.logger.LogAttrs(ctx, slog.LevelError, "internal error", slog.String("request_id", RequestID(ctx)), slog.Any("error", err))
	return newProblem(http.StatusInternalServerError, "internal error (request id "+RequestID(ctx)+")")
}

// staleDetail is a 412's detail: the store's message and what to do.
func staleDetail(msg string) string {
	return msg + " (If-Match): GET it again and retry with its new ETag"
}

// WriteProblem writes an RFC 9457 problem response outside Huma: mux
// errors, panics, and events the Lambda adapter cannot turn into a
// request, so that those answers look like every other error.
func WriteProblem(w http.ResponseWriter, status int, detail string) {
	p := newProblem(status, detail)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", noStore)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

// tooManyRequests is a 429 telling the client when to try again.
func tooManyRequests(wait time.Duration, msg string) error {
	return withRetryAfter(newProblem(http.StatusTooManyRequests, msg), wait)
}

// withRetryAfter adds a Retry-After header (RFC 9110 §10.2.3) to a problem.
func withRetryAfter(p huma.StatusError, wait time.Duration) error {
	return huma.ErrorWithHeaders(p, http.Header{"Retry-After": {strconv.Itoa(retryAfter(wait))}})
}

// fieldError builds a 422 about one request member.
func fieldError(location, format string, args ...any) error {
	return newProblem(http.StatusUnprocessableEntity, "validation failed",
		&huma.ErrorDetail{Location: location, Message: fmt.Sprintf(format, args...)})
}
