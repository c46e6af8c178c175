package cachee2e

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSharedCache drives the service through nginx: what a shared cache
// may keep it keeps and serves without asking, an expired copy is
// revalidated with If-None-Match and a 304, a change shows within the
// staleness the README states, and nothing that needed credentials is
// ever given to anyone else.
func TestSharedCache(t *testing.T) {
	s := start(t)

	t.Run("second anonymous GET is a hit", func(t *testing.T) {
		t.Parallel()
		path := s.create(t, "hit")
		first := do(t, http.MethodGet, s.cache+path, false, nil)
		second := do(t, http.MethodGet, s.cache+path, false, nil)
		if first.status != http.StatusOK || first.cacheStatus() != "MISS" {
			t.Fatalf("first GET: %d %s, want 200 MISS: %s", first.status, first.cacheStatus(), first.body)
		}
		if second.status != http.StatusOK || second.cacheStatus() != "HIT" {
			t.Fatalf("second GET: %d %s, want 200 HIT", second.status, second.cacheStatus())
		}
		if !bytes.Equal(first.body, second.body) || first.header.Get("ETag") != second.header.Get("ETag") || first.header.Get("ETag") == "" {
			t.Errorf("the hit differs from the miss: %s %s / %s %s", first.header.Get("ETag"), first.body, second.header.Get("ETag"), second.body)
		}
		if saw := s.originSaw(t, http.MethodGet, path); len(saw) != 1 {
			t.Errorf("the origin saw %d GETs of %s, want 1: %q", len(saw), path, saw)
		}
	})

	t.Run("an expired copy is revalidated with If-None-Match", func(t *testing.T) {
		t.Parallel()
		path := s.create(t, "revalidated")
		fill := do(t, http.MethodGet, s.cache+path, false, nil)
		etag := fill.header.Get("ETag")
		if fill.status != http.StatusOK || fill.cacheStatus() != "MISS" || etag == "" {
			t.Fatalf("first GET: %d %s ETag %q, want 200 MISS with an ETag", fill.status, fill.cacheStatus(), etag)
		}
		// nginx keeps expiry times in whole seconds.
		time.Sleep(sMaxAge + 1100*time.Millisecond)
		again := do(t, http.MethodGet, s.cache+path, false, nil)
		if again.status != http.StatusOK || again.cacheStatus() != "REVALIDATED" {
			t.Fatalf("GET after expiry: %d %s, want 200 REVALIDATED", again.status, again.cacheStatus())
		}
		if !bytes.Equal(again.body, fill.body) || again.header.Get("ETag") != etag {
			t.Errorf("the revalidated answer differs: %s %s, want %s %s", again.header.Get("ETag"), again.body, etag, fill.body)
		}
		want := []string{"200 inm=- auth=no", "304 inm=" + etag + " auth=no"}
		if saw := s.originSaw(t, http.MethodGet, path); !slices.Equal(saw, want) {
			t.Errorf("the origin saw %q, want %q", saw, want)
		}
		// The 304 renewed the copy: the next GET is a hit.
		if hit := do(t, http.MethodGet, s.cache+path, false, nil); hit.cacheStatus() != "HIT" {
			t.Errorf("GET after the revalidation: %s, want HIT", hit.cacheStatus())
		}
	})

	t.Run("a change shows within the stated staleness", func(t *testing.T) {
		t.Parallel()
		path := s.create(t, "before")
		for _, base := range []string{s.cache, s.background} {
			if a := do(t, http.MethodGet, base+path, false, nil); a.cacheStatus() != "MISS" {
				t.Fatalf("filling %s: %s, want MISS", base, a.cacheStatus())
			}
		}
		filled := time.Now()
		etag := do(t, http.MethodGet, s.origin+path, false, nil).header.Get("ETag")
		put := do(t, http.MethodPut, s.cache+path, true, map[string]any{"name": "after", "is_active": true, "analyst_id": 1,
			"inception_date": "2024-01-31"}, "If-Match", etag)
		if put.status != http.StatusOK {
			t.Fatalf("PUT through the cache: %d %s", put.status, put.body)
		}
		// Both caches poll together until each shows the change; a
		// change must show within s-maxage plus stale-while-revalidate
		// of the copy being filled, the README's worst case.
		deadline := filled.Add(sMaxAge + staleWhileRevalidate + time.Second)
		seen := map[string][]answer{}
		for pending := []string{s.cache, s.background}; len(pending) > 0; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%v still served the old asset %v after the PUT", pending, time.Since(put.at).Round(time.Millisecond))
			}
			var still []string
			for _, base := range pending {
				a := do(t, http.MethodGet, base+path, false, nil)
				seen[base] = append(seen[base], a)
				if nameOf(t, a) != "after" {
					still = append(still, base)
				}
			}
			pending = still
		}
		for _, c := range []struct {
			name, base string
			// the cache statuses of the old answers once expired, and of
			// the first new one
			expired, first string
			bound          time.Duration
		}{
			// Out of the box nginx waits for the origin once the copy has
			// expired: the change shows after s-maxage, which nginx counts
			// in whole seconds from the second the copy was filled (up to
			// a second more), and the poll's interval.
			{"revalidating cache", s.cache, "", "EXPIRED", sMaxAge + time.Second + 250*time.Millisecond},
			// With background updates the first request after expiry
			// gets the stale copy (stale-while-revalidate, from the
			// service's header) and the next one the new answer.
			{"background-updating cache", s.background, "STALE", "HIT", sMaxAge + staleWhileRevalidate},
		} {
			answers := seen[c.base]
			last := answers[len(answers)-1]
			var statuses []string
			for _, a := range answers {
				statuses = append(statuses, a.cacheStatus())
			}
			staleness := last.at.Sub(put.at)
			t.Logf("%s: the change showed %v after the PUT was answered, %v after the copy was filled; cache statuses %s",
				c.name, staleness.Round(time.Millisecond), last.at.Sub(filled).Round(time.Millisecond), strings.Join(statuses, " "))
			if len(answers) < 2 || answers[0].cacheStatus() != "HIT" {
				t.Errorf("%s: the first GET after the PUT was not an old HIT (statuses %v): the cache was not in play", c.name, statuses)
			}
			if last.cacheStatus() != c.first {
				t.Errorf("%s: the first new answer was %s, want %s", c.name, last.cacheStatus(), c.first)
			}
			if c.expired != "" && answers[len(answers)-2].cacheStatus() != c.expired {
				t.Errorf("%s: the last old answer was %s, want %s", c.name, answers[len(answers)-2].cacheStatus(), c.expired)
			}
			if staleness > c.bound {
				t.Errorf("%s: the change showed %v after the PUT, want at most %v", c.name, staleness, c.bound)
			}
		}
	})

	t.Run("an answer that needed credentials is never shared", func(t *testing.T) {
		t.Parallel()
		path := s.create(t, "public")
		for _, c := range []struct {
			name, path string
			// what the request with credentials and the anonymous ones
			// (two, one after the other) get
			authStatus, anonStatus int
			// the anonymous requests reach the origin (nothing of either
			// answer was kept)
			uncached bool
		}{
			{"subscriptions (personal data)", "/api/v1/subscriptions", http.StatusOK, http.StatusUnauthorized, true},
			{"deliveries (personal data)", "/api/v1/deliveries", http.StatusOK, http.StatusUnauthorized, true},
			// An open read asked with credentials is the public answer,
			// which anyone may then get from the cache.
			{"open read asked with credentials", path + "?asked=with-credentials", http.StatusOK, http.StatusOK, false},
			{"a problem (404)", "/api/v1/assets/999999", http.StatusNotFound, http.StatusNotFound, true},
		} {
			t.Run(c.name, func(t *testing.T) {
				authed := do(t, http.MethodGet, s.cache+c.path, true, nil)
				if authed.status != c.authStatus {
					t.Fatalf("with credentials: %d, want %d: %s", authed.status, c.authStatus, authed.body)
				}
				public := do(t, http.MethodGet, s.origin+c.path, false, nil)
				for i := range 2 {
					anon := do(t, http.MethodGet, s.cache+c.path, false, nil)
					if anon.status != c.anonStatus {
						t.Errorf("anonymous GET %d: %d, want %d: %s", i+1, anon.status, c.anonStatus, anon.body)
					}
					if !bytes.Equal(anon.body, public.body) {
						t.Errorf("anonymous GET %d got %s, not the public answer %s", i+1, anon.body, public.body)
					}
					if c.uncached && anon.cacheStatus() == "HIT" {
						t.Errorf("anonymous GET %d was a HIT", i+1)
					}
				}
				var anonAtOrigin int
				for _, line := range s.originSaw(t, http.MethodGet, c.path) {
					if strings.HasSuffix(line, " auth=no") {
						anonAtOrigin++
					}
				}
				if want := map[bool]int{true: 2, false: 0}[c.uncached]; anonAtOrigin != want {
					t.Errorf("the origin saw %d anonymous GETs through the cache, want %d", anonAtOrigin, want)
				}
			})
		}
	})
}
