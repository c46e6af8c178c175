package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
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
					writeProblem(rec, http.StatusInternalServerError, "internal error (request id "+id+")")
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

// muxErrors turns the mux's plain-text 404 and 405 answers into problems.
// The mux is asked which handler it would use; when no pattern matched, its
// own answer is captured (status and the Allow header it computed) and
// rewritten.
func muxErrors(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			// Served through the mux again, which sets the path values that
			// Handler leaves unset; matching twice costs well under a
			// microsecond.
			mux.ServeHTTP(w, r)
			return
		}
		c := &captureWriter{header: http.Header{}}
		h.ServeHTTP(c, r)
		status, detail := c.status, "no resource at "+r.URL.Path
		if status >= 300 && status < 400 {
			// The mux redirects to a cleaned path; let it.
			h.ServeHTTP(w, r)
			return
		}
		if status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", c.header.Get("Allow"))
			detail = "method " + r.Method + " is not allowed here; allowed: " + c.header.Get("Allow")
		} else if status == 0 || status == http.StatusOK {
			status = http.StatusNotFound
		}
		writeProblem(w, status, detail)
	})
}

// captureWriter swallows a response, keeping its status and headers.
type captureWriter struct {
	header http.Header
	status int
}

func (c *captureWriter) Header() http.Header { return c.header }
func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return len(b), nil
}
func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}
