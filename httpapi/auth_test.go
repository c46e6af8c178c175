package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestEveryWriteRouteNeedsAuth walks every operation the server registered
// (from its own OpenAPI document, so a new route cannot hide), under each
// AUTH_TYPE, and proves that each write refuses a missing and a wrong
// credential of every kind with a 401 naming the enabled schemes (and a
// valid token without the write permission with a 403), and that reads
// other than the lists of personal data (subscriptions, deliveries) are
// open, as are the public sign-up and the links mails carry, whose
// token is their proof.
func TestEveryWriteRouteNeedsAuth(t *testing.T) {
	protectedReads := map[string]bool{"GET /api/v1/subscriptions": true, "GET /api/v1/deliveries": true}
	publicWrites := map[string]bool{
		"POST /api/v1/subscribe": true, "POST /subscribe": true,
		"POST /subscribe/confirm/{token}": true, "POST /unsubscribe/{token}": true,
	}
	for _, at := range []struct {
		authType string
		schemes  []string // the challenges' schemes of a request without credentials
	}{{"basic", []string{"Basic"}}, {"jwt", []string{"Bearer"}}, {"basic,jwt", []string{"Basic", "Bearer"}}} {
		t.Run(at.authType, func(t *testing.T) {
			e := newJWTEnv(t, at.authType)
			readOnly := bearer(e.is.Mint("rsa-1", e.is.Access(jwtAudience, "read")))
			creds := map[string]string{
				"none": "", "wrong basic": "Basic " + b64(user+":wrong"),
				"garbage bearer": "Bearer x.y.z", "bearer without the write scope": readOnly,
			}
			var protected, public int
			for path, item := range e.api.OpenAPI().Paths {
				for method, op := range operations(item) {
					route := method + " " + path
					concrete := strings.NewReplacer("{id}", "1", "{token}", "x").Replace(path)
					mustAuth := method != http.MethodGet && !publicWrites[route] || protectedReads[route]
					if publicWrites[route] {
						public++
					}
					if mustAuth != (len(op.Security) > 0) || mustAuth && len(op.Security) != len(at.schemes) {
						t.Errorf("%s: declares security %v, want auth=%v with %v", route, op.Security, mustAuth, at.schemes)
					}
					for name, h := range creds {
						r := e.do(req{method: method, path: concrete, body: `{"name":"x"}`, auth: "none", header: map[string]string{"Authorization": h}})
						if !mustAuth {
							if r.StatusCode == http.StatusUnauthorized || r.StatusCode == http.StatusForbidden {
								t.Errorf("%s is open but refused %s credentials with %d", route, name, r.StatusCode)
							}
							continue
						}
						protected++
						want, challenges := http.StatusUnauthorized, r.Header.Values("WWW-Authenticate")
						if name == "bearer without the write scope" && at.authType != "basic" {
							want = http.StatusForbidden
						}
						ok := r.StatusCode == want && len(challenges) > 0
						if name == "none" {
							ok = ok && len(challenges) == len(at.schemes)
							for i, c := range challenges {
								ok = ok && i < len(at.schemes) && strings.HasPrefix(c, at.schemes[i]+" ")
							}
						}
						if !ok {
							t.Errorf("%s with %s credentials: status %d, WWW-Authenticate %q; want %d naming %v",
								route, name, r.StatusCode, challenges, want, at.schemes)
						}
					}
				}
			}
			// 12 writes and two protected reads, each tried four times.
			if protected != 4*14 || public != len(publicWrites) {
				t.Fatalf("checked %d protected requests, want 56, and %d public writes, want %d: did the routes change?", protected, public, len(publicWrites))
			}
			// Nothing was written by any refused request.
			if as, _ := e.store.Analysts(t.Context(), pageAll); len(as) != 1 {
				t.Fatalf("a refused request wrote %d analysts", len(as)-1)
			}
		})
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
