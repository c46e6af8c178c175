package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	icymorning "github.com/icy-morning/icy-morning"
)

// needsWrite marks, in an operation's Metadata, one that needs the write
// permission (routes.go's secured), not only valid credentials.
const needsWrite = "needsWrite"

// requiresAuth reports whether an operation needs credentials: exactly
// those that declare the security scheme, so the document and the check
// cannot disagree.
func (s *Server) requiresAuth(op *huma.Operation) bool {
	for _, req := range op.Security {
		for _, sc := range s.schemes {
			if _, ok := req[sc.Name]; ok {
				return true
			}
		}
	}
	return false
}

// authenticate is the Huma middleware that guards operations declaring
// the security scheme. It runs before the body is read, so an anonymous
// client cannot make the server parse anything.
//
// Every answer of a guarded operation is private, no-store (set before,
// by setCacheControl): it was given to one account and may hold personal
// data (the subscription list holds e-mail addresses), so no cache may
// keep it.
//
// An address that keeps presenting wrong credentials is throttled (see
// authThrottle). Requests without credentials do not count: a browser asks
// without them first, and they guess nothing.
func (s *Server) authenticate(ctx huma.Context, next func(huma.Context)) {
	if !s.requiresAuth(ctx.Operation()) {
		next(ctx)
		return
	}
	now := time.Now()
	if wait, blocked := s.throttle.blocked(ctx.RemoteAddr(), now); blocked {
		ctx.SetHeader("Retry-After", strconv.Itoa(retryAfter(wait)))
		_ = huma.WriteErr(s.api, ctx, http.StatusTooManyRequests,
			"too many failed authentications from this address; try again after the time in Retry-After")
		return
	}
	header := ctx.Header("Authorization")
	p, err := s.auth.Authenticate(ctx.Context(), header)
	if err != nil {
		if header != "" {
			s.throttle.failed(ctx.RemoteAddr(), now)
		}
		if icymorning.ErrorCode(err) != icymorning.EUNAUTHORIZED {
			// Whatever went wrong, the answer is that the credentials
			// did not pass; the message of an unknown error stays here.
			err = icymorning.Errorf(icymorning.EUNAUTHORIZED, "valid credentials are required")
		}
		s.refuse(ctx, header, err)
		return
	}
	info(ctx.Context()).subject = p.Subject
	// Writes, the subscription list and the delivery log need the write
	// permission; private reads only valid credentials. A principal
	// without the permission was not guessing, so the throttle does not
	// count it.
	if !p.CanWrite && ctx.Operation().Metadata[needsWrite] == true {
		s.refuse(ctx, header, icymorning.Errorf(icymorning.EFORBIDDEN, "these credentials do not grant the write permission"))
		return
	}
	next(huma.WithContext(ctx, icymorning.WithPrincipal(ctx.Context(), p)))
}

// refuse answers a 401 or 403 (err's code, mapped in problemFromDomain)
// with the authenticator's challenges for it.
func (s *Server) refuse(ctx huma.Context, header string, err error) {
	for _, c := range s.auth.Challenges(header, err) {
		ctx.AppendHeader("WWW-Authenticate", c)
	}
	if p, ok := s.problemFromDomain(ctx.Context(), err).(*huma.ErrorModel); ok {
		_ = huma.WriteErr(s.api, ctx, p.Status, p.Detail)
	}
}
