package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"
)

type ctxKey int

const requestInfoKey ctxKey = iota

// requestInfo is what handlers may need of the request beyond their input:
// its id, for logs, its URL, for the Link to the next page, and the
// client's address, for the sign-up limits; and what the access log
// reports of it: who it acted for.
type requestInfo struct {
	id      string
	url     *url.URL
	remote  string
	subject string
}

func info(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(requestInfoKey).(*requestInfo)
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
	return context.WithValue(ctx, requestInfoKey, &requestInfo{id: id, url: &url.URL{}})
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
// 500 problem, and logs one line per request: at WARN when the client sent
// a body that could not be read, with the reader's error, which the client
// itself is never shown.
//
// It also sets what every response carries: X-Content-Type-Options:
// nosniff, so no browser reads a JSON answer as something else; and, after
// a request with chunked framing, Connection: close. RFC 9112 §6.1 says a
// server MUST close the connection after a request with both
// Transfer-Encoding and Content-Length, since the pair is the mark of
// request smuggling; net/http drops the Content-Length before any handler
// sees it (golang/go#80942), so every chunked request closes. API clients
// send Content-Length for JSON, so this costs a reconnect only to the rare
// chunked upload.
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
		ri := &requestInfo{id: id, url: r.URL, remote: r.RemoteAddr}
		r = r.WithContext(context.WithValue(ctx, requestInfoKey, ri))
		h := w.Header()
		h.Set("X-Request-Id", id)
		h.Set("X-Content-Type-Options", "nosniff")
		if len(r.TransferEncoding) > 0 {
			h.Set("Connection", "close")
		}
		var body *bodyReader
		if r.Body != nil && r.Body != http.NoBody {
			body = &bodyReader{ReadCloser: r.Body}
			r.Body = body
		}
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
			level, attrs := slog.LevelInfo, []slog.Attr{
				slog.String("request_id", id),
				slog.String("method", r.Method),
				slog.String("path", loggedPath(r)),
				slog.Int("status", rec.status),
				slog.Duration("duration", time.Since(start)),
				slog.Int64("bytes", rec.bytes),
			}
			if ri.subject != "" {
				attrs = append(attrs, slog.String("subject", ri.subject))
			}
			if body != nil && body.err != nil {
				level = slog.LevelWarn
				attrs = append(attrs, slog.String("client_error", "unreadable request body"), slog.String("error", body.err.Error()))
			}
			s.logger.LogAttrs(r.Context(), level, "request", attrs...)
		}()
		next.ServeHTTP(rec, r)
	})
}

// loggedPath is the request's path as the access log shows it: without
// the token of a confirmation or unsubscribe link, which opens the
// subscriber's subscription to whoever holds it (an unsubscribe token
// never expires), and logs are read by more people than mail is.
func loggedPath(r *http.Request) string {
	// The mux has set the pattern on r by the time the log is written.
	if token := r.PathValue("token"); token != "" {
		if i := strings.LastIndex(r.URL.Path, token); i >= 0 {
			return r.URL.Path[:i] + "{token}" + r.URL.Path[i+len(token):]
		}
	}
	return r.URL.Path
}

// bodyReader remembers why a request body could not be read, for the log.
type bodyReader struct {
	io.ReadCloser
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

// notRouted answers what no route matched: 405 with Allow when the path
// exists under other methods, else 404, both as problems. It is the mux's
// catch-all pattern, so it costs nothing on requests that do match; the
// mux's own plain-text 404/405 never appear.
func (s *Server) notRouted() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		allow := s.allowed(r)
		if len(allow) == 0 {
			notFound(w, r)
			return
		}
		methodNotAllowed(w, r, allow)
	}
}

// allowed lists the methods the request's path answers.
func (s *Server) allowed(r *http.Request) []string {
	var allow []string
	probe := *r
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe.Method = m
		if _, pattern := s.mux.Handler(&probe); pattern != catchAll && !s.refused[pattern] {
			allow = append(allow, m)
		}
	}
	return allow
}

// onlyMethods makes a path answer 405 for the methods it does not have,
// where a wider pattern would otherwise catch them: GET
// /api/v1/assets/subscription would reach GET /api/v1/assets/{id} and get a
// 422 about its id.
func (s *Server) onlyMethods(path string) {
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := &http.Request{Method: m, URL: &url.URL{Path: path}}
		if _, pattern := s.mux.Handler(probe); pattern == path || pattern == m+" "+path {
			continue // the path has this method
		}
		pattern := m + " " + path
		s.refused[pattern] = true
		s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { methodNotAllowed(w, r, s.allowed(r)) })
	}
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow []string) {
	w.Header().Set("Allow", strings.Join(allow, ", "))
	WriteProblem(w, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed here; allowed: "+strings.Join(allow, ", "))
}

// notFound is the 404 problem for a path with nothing behind it.
func notFound(w http.ResponseWriter, r *http.Request) {
	WriteProblem(w, http.StatusNotFound, "no resource at "+r.URL.Path)
}

// catchAll is the pattern of notRouted.
const catchAll = "/"
