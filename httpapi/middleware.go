package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"
)

type ctxKey int

const requestIDKey ctxKey = iota

// requestInfo is what handlers may need of the request beyond their input:
// its id, for logs, and its URL, for the Link to the next page.
type requestInfo struct {
	id  string
	url *url.URL
}

func info(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(requestIDKey).(*requestInfo)
	if ri == nil {
		return &requestInfo{url: &url.URL{}}
	}
	return ri
}

// RequestID returns the id of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string { return info(ctx).id }

// WithRequestID returns ctx carrying id. The Lambda adapter uses it to
// carry API Gateway's request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, &requestInfo{id: id, url: &url.URL{}})
}

// validRequestID accepts a client's X-Request-Id only when it is short and
// plain, so that it cannot inject lines or markup into logs.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':' || c == '/' || c == '+' || c == '=') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// statusRecorder remembers what a handler wrote, for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// observe gives every request an id (the client's X-Request-Id when it is
// sane, else a new one, echoed in the response), recovers from panics with a
// 500 problem, and logs one line per request.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := RequestID(r.Context())
		if id == "" {
			id = r.Header.Get("X-Request-Id")
			if !validRequestID(id) {
				id = newRequestID()
			}
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
		defer cancel()
		r = r.WithContext(context.WithValue(ctx, requestIDKey, &requestInfo{id: id, url: r.URL}))
		w.Header().Set("X-Request-Id", id)
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.logger.LogAttrs(r.Context(), slog.LevelError, "panic",
					slog.String("request_id", id), slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
				if rec.status == 0 {
					WriteProblem(rec, http.StatusInternalServerError, "internal error (request id "+id+")")
				}
			}
			s.logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("request_id", id),
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", rec.status),
				slog.Duration("duration", time.Since(start)),
				slog.Int64("bytes", rec.bytes),
			)
		}()
		next.ServeHTTP(rec, r)
	})
}

// notRouted answers what no route matched: 405 with Allow when the path
// exists under other methods, else 404, both as problems. It is the mux's
// catch-all pattern, so it costs nothing on requests that do match; the
// mux's own plain-text 404/405 never appear.
func notRouted(mux *http.ServeMux) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		probe := *r
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			probe.Method = m
			if _, pattern := mux.Handler(&probe); pattern != catchAll {
				allow = append(allow, m)
			}
		}
		if len(allow) == 0 {
			notFound(w, r)
			return
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		WriteProblem(w, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed here; allowed: "+strings.Join(allow, ", "))
	}
}

// notFound is the 404 problem for a path with nothing behind it.
func notFound(w http.ResponseWriter, r *http.Request) {
	WriteProblem(w, http.StatusNotFound, "no resource at "+r.URL.Path)
}

// catchAll is the pattern of notRouted.
const catchAll = "/"
