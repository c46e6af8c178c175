package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestEveryWriteRouteNeedsAuth walks every operation the server registered
// (from its own OpenAPI document, so a new route cannot hide) and proves
// that each write refuses a missing and a wrong credential, and that reads
// other than the lists of personal data (subscriptions, deliveries) are
// open, as are the public sign-up and the links mails carry, whose
// token is their proof.
func TestEveryWriteRouteNeedsAuth(t *testing.T) {
	e := newEnv(t, "sqlite://:memory:")
	protectedReads := map[string]bool{"GET /api/v1/subscriptions": true, "GET /api/v1/deliveries": true}
	publicWrites := map[string]bool{
		"POST /api/v1/subscribe": true, "POST /subscribe": true,
		"POST /subscribe/confirm/{token}": true, "POST /unsubscribe/{token}": true,
	}
	var writes, public int
	for path, item := range e.api.OpenAPI().Paths {
		for method, op := range operations(item) {
			route := method + " " + path
			concrete := strings.NewReplacer("{id}", "1", "{token}", "x").Replace(path)
			mustAuth := method != http.MethodGet && !publicWrites[route] || protectedReads[route]
			if publicWrites[route] {
				public++
			}
			if mustAuth != (len(op.Security) > 0) {
				t.Errorf("%s: declares security %v, want auth=%v", route, op.Security, mustAuth)
			}
			for _, cred := range []string{"none", "wrong"} {
				r := e.do(req{method: method, path: concrete, body: `{"name":"x"}`, auth: cred})
				if mustAuth {
					writes++
					if r.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic ") {
						t.Errorf("%s with %s credentials: status %d, WWW-Authenticate %q; want 401 Basic",
							route, cred, r.StatusCode, r.Header.Get("WWW-Authenticate"))
					}
				} else if r.StatusCode == http.StatusUnauthorized {
					t.Errorf("%s is a read but asked for credentials", route)
				}
			}
		}
	}
	// 12 writes and two protected reads, each tried twice.
	if writes != 2*14 || public != len(publicWrites) {
		t.Fatalf("checked %d protected requests, want 28, and %d public writes, want %d: did the routes change?", writes, public, len(publicWrites))
	}
	// Nothing was written by any refused request.
	if as, _ := e.store.Analysts(t.Context(), pageAll); len(as) != 0 {
		t.Fatalf("a refused request wrote %d analysts", len(as))
	}
}

// TestAccessLogNamesTheSubject: the principal authenticate found is
// readable downstream, and the access log records who each write acted
// for (and nobody for an anonymous read).
func TestAccessLogNamesTheSubject(t *testing.T) {
	var logs bytes.Buffer
	e := newEnvWithLog(t, "sqlite://:memory:", &logs)
	e.do(req{method: "POST", path: "/api/v1/analysts", body: `{"name":"A","company":"C"}`})
	e.do(req{method: "GET", path: "/api/v1/analysts", auth: "none"})
	var subjects []any
	for l := range strings.Lines(logs.String()) {
		var rec map[string]any
		if json.Unmarshal([]byte(l), &rec) == nil && rec["msg"] == "request" {
			subjects = append(subjects, rec["subject"])
		}
	}
	if len(subjects) != 2 || subjects[0] != user || subjects[1] != nil {
		t.Fatalf("subjects logged %v, want [%s <nil>]", subjects, user)
	}
}
