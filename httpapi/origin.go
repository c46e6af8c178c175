package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// The CDN's origin check. With a CDN in front (infrastructure/cdn.tf),
// CloudFront adds the header OriginHeader, holding a secret, to every
// request it forwards; the API refuses any request without it, so that its
// own endpoint serves nobody around the CDN (its cache, its WAF). The
// secret proves where a request came from and grants nothing else: every
// request is still authenticated as before.
//
// It also tells the API where the client is. Behind CloudFront, the
// address the request comes from (API Gateway's sourceIp, or the peer of
// serve's connection) is a CloudFront edge, shared by every viewer behind
// it; throttling failed logins and sign-ups by it would throttle them all
// together. CloudFront appends the viewer's address to X-Forwarded-For;
// API Gateway then appends the edge's. Entries before the viewer's are
// whatever the client sent, and are never trusted.

// OriginHeader is the request header CloudFront sends the origin secret in.
const OriginHeader = "X-Origin-Verify"

// originCheck returns next behind the origin check for secret, or next
// itself when secret is empty (no CDN). It runs first inside observe, so
// that a refusal has its request id and its log line like any answer.
func (s *Server) originCheck(secret string, next http.Handler) http.Handler {
	if secret == "" {
		return next
	}
	// Comparing digests makes the comparison's time independent of the
	// lengths too, which subtle.ConstantTimeCompare is not.
	want := sha256.Sum256([]byte(secret))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		values := r.Header.Values(OriginHeader)
		got := sha256.Sum256([]byte(strings.Join(values, ",")))
		if len(values) != 1 || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			// The header's value is never logged (a near miss would be
			// most of the secret): only whether there was one. The
			// request's own line follows (observe).
			s.logger.LogAttrs(r.Context(), slog.LevelInfo, "request refused: not through the CDN",
				slog.String("request_id", RequestID(r.Context())), slog.Bool("origin_header", len(values) > 0))
			WriteProblem(w, http.StatusForbidden, "requests must come through the CDN")
			return
		}
		r.Header.Del(OriginHeader)
		if viewer := viewerAddr(r); viewer != "" {
			r.RemoteAddr = viewer
			info(r.Context()).remote = viewer
		}
		next.ServeHTTP(w, r)
	})
}

// viewerAddr is the client's address of a request that came through
// CloudFront: the last X-Forwarded-For entry, unless that is the address
// the request came from (API Gateway appends its sourceIp, which is the
// edge), then the one before it. "" when there is none that parses.
func viewerAddr(r *http.Request) string {
	var entries []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		for e := range strings.SplitSeq(v, ",") {
			entries = append(entries, strings.TrimSpace(e))
		}
	}
	peer := r.RemoteAddr
	if h, _, err := net.SplitHostPort(peer); err == nil {
		peer = h
	}
	if n := len(entries); n > 1 && sameIP(entries[n-1], peer) {
		entries = entries[:n-1]
	}
	if len(entries) == 0 {
		return ""
	}
	last := entries[len(entries)-1]
	if _, ok := clientKey(last); !ok {
		return ""
	}
	return last
}

// sameIP reports whether a and b are the same IP address.
func sameIP(a, b string) bool {
	x, errA := netip.ParseAddr(a)
	y, errB := netip.ParseAddr(b)
	return errA == nil && errB == nil && x.Unmap() == y.Unmap()
}
