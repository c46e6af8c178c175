package httpapi_test

import (
	"crypto/sha256"
	"net/http"
	"strings"
	"testing"
	"time"

	icymorning "github.com/icy-morning/icy-morning"
)

const keyedAsset = `{"name":"Keyed","is_active":true,"analyst_id":1,"inception_date":"2020-01-01"}`

// TestIdempotencyKey: a retried keyed create gets the first answer and
// creates nothing more, on either database and across a restart; another
// request under the key is a 422, and a retry while the first runs a 409.
func TestIdempotencyKey(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			url := st.url(t)
			e := newEnv(t, url)
			seedOneAsset(t, e)
			keyed := func(e *env, key, body string) resp {
				return e.do(req{method: "POST", path: "/api/v1/assets", body: body, header: map[string]string{"Idempotency-Key": key}})
			}
			first := keyed(e, "k-1", keyedAsset)
			if first.StatusCode != 201 || first.Header.Get("Idempotency-Replayed") != "" {
				t.Fatalf("first: %d %v", first.StatusCode, first.Header)
			}
			count := func(e *env) int {
				as, err := e.store.Assets(t.Context(), icymorning.AssetFilter{Page: pageAll})
				if err != nil {
					t.Fatal(err)
				}
				return len(as)
			}
			n := count(e)
			// The server restarts: a new one on the same database.
			for i, srv := range []*env{e, newEnv(t, url)} {
				again := keyed(srv, "k-1", keyedAsset)
				if again.StatusCode != 201 || string(again.body) != string(first.body) || again.Header.Get("ETag") != first.Header.Get("ETag") ||
					again.Header.Get("Content-Type") != first.Header.Get("Content-Type") || again.Header.Get("Idempotency-Replayed") != "true" {
					t.Errorf("retry %d: %d %s %v; first %s %v", i, again.StatusCode, again.body, again.Header, first.body, first.Header)
				}
				if got := count(srv); got != n {
					t.Errorf("retry %d created another asset: %d, want %d", i, got, n)
				}
			}
			other := keyed(e, "k-1", strings.Replace(keyedAsset, "Keyed", "Other", 1))
			if other.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(other.body), "Idempotency-Key") {
				t.Errorf("same key, another body: %d %s", other.StatusCode, other.body)
			}
			if got := count(e); got != n {
				t.Errorf("a refused request created an asset")
			}

			// A request still running: its key reserved by hand, as the
			// first request's middleware does.
			sum := sha256.Sum256([]byte("POST /api/v1/assets\n" + keyedAsset))
			k := icymorning.IdempotencyKey{Principal: user, Key: "k-2", Fingerprint: sum[:]}
			if got, err := e.store.ReserveIdempotencyKey(t.Context(), k, time.Now(), time.Minute); err != nil || got != nil {
				t.Fatalf("reserve: %v %v", got, err)
			}
			if r := keyed(e, "k-2", keyedAsset); r.StatusCode != http.StatusConflict {
				t.Errorf("while in progress: %d %s", r.StatusCode, r.body)
			}
			if got := count(e); got != n {
				t.Errorf("a request refused while another runs created an asset")
			}

			// A failed create is replayed too: the answer was the outcome.
			bad := `{"name":"","is_active":true,"analyst_id":1}`
			if r1, r2 := keyed(e, "k-3", bad), keyed(e, "k-3", bad); r1.StatusCode != 422 || r2.StatusCode != 422 || r2.Header.Get("Idempotency-Replayed") != "true" {
				t.Errorf("a 422 and its retry: %d, %d %v", r1.StatusCode, r2.StatusCode, r2.Header)
			}
			for _, key := range []string{strings.Repeat("k", 256), "has space", "ünï"} {
				if r := keyed(e, key, keyedAsset); r.StatusCode != http.StatusBadRequest {
					t.Errorf("key %q: %d, want 400", key, r.StatusCode)
				}
			}
			// Without a key nothing is kept: two POSTs, two analysts.
			a1 := e.do(req{method: "POST", path: "/api/v1/analysts", body: `{"name":"Twice","company":"C"}`})
			a2 := e.do(req{method: "POST", path: "/api/v1/analysts", body: `{"name":"Twice","company":"C"}`})
			if a1.StatusCode != 201 || a2.StatusCode != 201 || string(a1.body) == string(a2.body) {
				t.Errorf("unkeyed creates: %d %d", a1.StatusCode, a2.StatusCode)
			}
		})
	}
}
