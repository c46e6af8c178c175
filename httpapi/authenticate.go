package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	icymorning "github.com/icy-morning/icy-morning"
)

// requiresAuth reports whether an operation needs credentials: exactly
// those that declare the security scheme, so the document and the check
// cannot disagree.
func (s *Server) requiresAuth(op *huma.Operation) bool {
	for _, req := range op.Security {
		if _, ok := req[s.scheme]; ok {
			return true
		}
	}
	return false
}

// authenticate is the Huma middleware that guards operations declaring
// the security scheme. It runs before the body is read, so an anonymous
// client cannot make the server parse anything.
//
// Every answer of a guarded operation is marked no-store: it was given to
// one account and may hold personal data (the subscription list holds
// e-mail addresses), so no cache may keep it.
//
// An address that keeps presenting wrong credentials is throttled (see
// authThrottle). Requests without credentials do not count: a browser asks
// without them first, and they guess nothing.
func (s *Server) authenticate(ctx huma.Context, next func(huma.Context)) {
	if !s.requiresAuth(ctx.Operation()) {
		next(ctx)
		return
	}
	ctx.SetHeader("Cache-Control", "no-store")
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
		ctx.SetHeader("WWW-Authenticate", s.auth.Challenge())
		msg := "valid credentials are required"
		if icymorning.ErrorCode(err) == icymorning.EUNAUTHORIZED {
			msg = icymorning.ErrorMessage(err)
		}
		_ = huma.WriteErr(s.api, ctx, http.StatusUnauthorized, msg)
		return
	}
	info(ctx.Context()).subject = p.Subject
	next(huma.WithContext(ctx, icymorning.WithPrincipal(ctx.Context(), p)))
}
