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
// other than the subscription list are open.
func TestEveryWriteRouteNeedsAuth(t *testing.T) {
	e := newEnv(t, "sqlite://:memory:")
	protectedReads := map[string]bool{"GET /api/v1/subscriptions": true}
	var writes int
	for path, item := range e.api.OpenAPI().Paths {
		for method, op := range operations(item) {
			route := method + " " + path
			concrete := strings.ReplaceAll(path, "{id}", "1")
			mustAuth := method != http.MethodGet || protectedReads[route]
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
	// 11 writes and one protected read, each tried twice.
	if writes != 2*12 {
		t.Fatalf("checked %d protected requests, want 24: did the routes change?", writes)
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
