package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestConcurrentWritesLoseNothing: many clients writing at once all get a
// 201, and every write is stored exactly once.
func TestConcurrentWritesLoseNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.do(req{method: "POST", path: "/api/v1/analysts", body: `{"name":"A","company":"C"}`})
		const workers, each = 8, 25
		var wg sync.WaitGroup
		errs := make(chan string, workers*each)
		type exchange struct {
			req  *http.Request
			res  *http.Response
			body []byte
		}
		done := make(chan exchange, workers*each)
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					body := fmt.Sprintf(`{"name":"w%d-%d","is_active":true,"analyst_id":1}`, w, i)
					r, err := http.NewRequest("POST", e.srv.URL+"/api/v1/assets", strings.NewReader(body))
					if err != nil {
						errs <- err.Error()
						return
					}
					r.Header.Set("Content-Type", "application/json")
					r.SetBasicAuth(user, pass)
					res, err := http.DefaultClient.Do(r)
					if err != nil {
						errs <- err.Error()
						continue
					}
					b, _ := io.ReadAll(res.Body)
					res.Body.Close()
					done <- exchange{r, res, b}
					if res.StatusCode != http.StatusCreated {
						errs <- fmt.Sprintf("%s: %d", body, res.StatusCode)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		close(done)
		// Checked here, on the test's goroutine, like every other response.
		for x := range done {
			e.checkDocumented(x.req, x.res, x.body)
		}
		for msg := range errs {
			t.Error(msg)
		}
		r := e.do(req{method: "GET", path: "/api/v1/assets?limit=1000"})
		var all []struct {
			ID   int    `json:"id"`
			Name string `json:"name"`
		}
		r.json(t, &all)
		names := map[string]bool{}
		for _, a := range all {
			names[a.Name] = true
		}
		if len(all) != workers*each || len(names) != workers*each {
			t.Fatalf("stored %d assets (%d distinct), want %d", len(all), len(names), workers*each)
		}
	})
}
