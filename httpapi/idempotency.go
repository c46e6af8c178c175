package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	icymorning "github.com/icy-morning/icy-morning"
)

// Idempotency-Key on POST (IETF httpapi draft "The Idempotency-Key HTTP
// Header Field"): the first request with a key runs and its answer is
// kept for a day in the database; a retry with the same key and the same
// request gets that answer again, with Idempotency-Replayed: true; the
// same key with another request is a 422; a retry while the first still
// runs is a 409. Keys are per principal, so clients cannot read each
// other's answers. No library does this for net/http with a shared
// database, hence this file.
//
// The answer is stored after the handler's write has committed, in a
// statement of its own: if the process dies in between, the key's
// reservation lapses after idempotencyLease and a retry runs the request
// again (README).

const (
	// IdempotencyTTL is how long an answer is replayed.
	IdempotencyTTL = 24 * time.Hour
	// idempotencyLease is how long a reservation holds without an answer
	// before a retry may take it over: longer than any request may run.
	idempotencyLease = 2 * DefaultRequestTimeout
	// maxIdempotencyKey bounds a key's length.
	maxIdempotencyKey = 255
)

// idempotencyKeyParam documents the header on the operations that take it.
func idempotencyKeyParam() *huma.Param {
	doc := "A key of your choosing (1 to 255 printable ASCII characters, such as a UUID) that makes this POST safe to retry: " +
		"for 24 hours, a retry with the same key and the same request gets the first answer again (with `Idempotency-Replayed: true`) " +
		"instead of doing it twice; the same key with another request is a 422, and a retry while the first is still running a 409. " +
		"Keys are per account."
	return &huma.Param{Name: "Idempotency-Key", In: "header", Description: doc,
		Schema: &huma.Schema{Type: huma.TypeString, MinLength: new(1), MaxLength: new(maxIdempotencyKey), Description: doc,
			Examples: []any{"7f1c2a9e-5b3d-4c61-9f0e-2d8a4b6c1e35"}}}
}

// idempotent is the Huma middleware for keyed POSTs that need the write
// permission (creates, and retrying a delivery). It runs after
// authenticate (the principal scopes the key) and admit (the body is in
// memory).
func (s *Server) idempotent(ctx huma.Context, next func(huma.Context)) {
	key := ctx.Header("Idempotency-Key")
	op := ctx.Operation()
	if key == "" || ctx.Method() != http.MethodPost || op.Metadata[needsWrite] != true {
		next(ctx)
		return
	}
	if len(key) > maxIdempotencyKey || !printable(key) {
		_ = huma.WriteErr(s.api, ctx, http.StatusBadRequest, "Idempotency-Key must be 1 to 255 printable ASCII characters")
		return
	}
	p, _ := icymorning.PrincipalFrom(ctx.Context())
	if p == nil {
		next(ctx) // not reached: authenticate let nobody through
		return
	}
	r, _ := humago.Unwrap(ctx)
	body, _ := io.ReadAll(r.Body) // admit's in-memory copy: no error
	r.Body = io.NopCloser(bytes.NewReader(body))
	sum := sha256.New()
	sum.Write([]byte(ctx.Method() + " " + r.URL.RequestURI() + "\n"))
	sum.Write(body)
	k := icymorning.IdempotencyKey{Principal: p.Subject, Key: key, Fingerprint: sum.Sum(nil)}

	stored, err := s.store.ReserveIdempotencyKey(ctx.Context(), k, time.Now(), idempotencyLease)
	if err != nil {
		s.writeDomainError(ctx, err)
		return
	}
	if stored != nil {
		for name, values := range stored.Header {
			for i, v := range values {
				if i == 0 {
					ctx.SetHeader(name, v)
				} else {
					ctx.AppendHeader(name, v)
				}
			}
		}
		ctx.SetHeader("Idempotency-Replayed", "true")
		ctx.SetStatus(stored.Status)
		_, _ = ctx.BodyWriter().Write(stored.Body)
		return
	}
	rec := &recorder{humaContext: ctx, header: http.Header{}}
	next(rec)
	// The answer is kept with the client's context gone too: the write
	// it reports has happened.
	bg := context.WithoutCancel(ctx.Context())
	if keep(rec.status) {
		_ = s.store.CompleteIdempotencyKey(bg, k, icymorning.StoredResponse{Status: rec.status, Header: rec.header, Body: rec.body.Bytes()},
			time.Now().Add(IdempotencyTTL))
		return
	}
	_ = s.store.ReleaseIdempotencyKey(bg, k)
}

// keep reports whether an answer with status is replayed: the outcome of
// the request, not of a moment (a timeout, a throttle, an outage), which a
// retry should try again.
func keep(status int) bool {
	switch {
	case status == 0, status >= 500:
		return false
	case status == http.StatusRequestTimeout, status == http.StatusConflict, status == http.StatusTooManyRequests:
		return false
	}
	return true
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// writeDomainError answers a store error of the middleware as a problem
// (the Idempotency-Key header is the input at fault), as the handlers'
// errors are.
func (s *Server) writeDomainError(ctx huma.Context, err error) {
	p, ok := s.problemFromDomainIn(ctx.Context(), err, "header").(huma.StatusError)
	if !ok {
		p = newProblem(http.StatusInternalServerError, "internal error (request id "+RequestID(ctx.Context())+")")
	}
	ctx.SetHeader("Content-Type", "application/problem+json")
	ctx.SetHeader("Cache-Control", noStore)
	ctx.SetStatus(p.GetStatus())
	_ = json.NewEncoder(ctx.BodyWriter()).Encode(p)
}

// humaContext names huma.Context for embedding: embedded as itself, the
// field would be called Context and hide the interface's Context method.
type humaContext = huma.Context

// recorder is a huma.Context that keeps the status, headers and body the
// handler writes, as well as writing them.
type recorder struct {
	humaContext
	status int
	header http.Header
	body   bytes.Buffer
}

func (r *recorder) SetStatus(code int) { r.status = code; r.humaContext.SetStatus(code) }

func (r *recorder) SetHeader(name, value string) {
	r.header.Set(name, value)
	r.humaContext.SetHeader(name, value)
}

func (r *recorder) AppendHeader(name, value string) {
	r.header.Add(name, value)
	r.humaContext.AppendHeader(name, value)
}

func (r *recorder) BodyWriter() io.Writer { return io.MultiWriter(r.humaContext.BodyWriter(), &r.body) }
