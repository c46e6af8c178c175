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

// TestConcurrentFailuresStayAlone: 32 clients at once, some naming an
// analyst that does not exist and some deleting an analyst who still has
// assets. On SQLite they share group commits, so this is the proof that a
// failing write fails only its own request: each bad one gets its own 422
// or 409, each good one its 201, and every 201 reads back, stored once.
func TestConcurrentFailuresStayAlone(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.do(req{method: "POST", path: "/api/v1/analysts", body: `{"name":"Keeper","company":"C"}`})
		e.do(req{method: "POST", path: "/api/v1/assets", body: `{"name":"kept","is_active":true,"analyst_id":1}`})
		const clients = 32
		type exchange struct {
			want int
			req  *http.Request
			res  *http.Response
			body []byte
		}
		done := make(chan exchange, clients)
		errs := make(chan error, clients)
		var wg sync.WaitGroup
		for i := range clients {
			method, path, body, want := "POST", "/api/v1/assets", fmt.Sprintf(`{"name":"c%d","is_active":true,"analyst_id":1}`, i), http.StatusCreated
			switch i % 8 {
			case 3, 6:
				body, want = fmt.Sprintf(`{"name":"c%d","is_active":true,"analyst_id":404}`, i), http.StatusUnprocessableEntity
			case 5:
				method, path, body, want = "DELETE", "/api/v1/analysts/1", "", http.StatusConflict
			}
			wg.Go(func() {
				r, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
				if err != nil {
					errs <- err
					return
				}
				if body != "" {
					r.Header.Set("Content-Type", "application/json")
				}
				r.SetBasicAuth(user, pass)
				res, err := http.DefaultClient.Do(r)
				if err != nil {
					errs <- err
					return
				}
				b, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil {
					errs <- err
					return
				}
				done <- exchange{want, r, res, b}
			})
		}
		wg.Wait()
		close(done)
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		created := map[int64]string{}
		for x := range done {
			e.checkDocumented(x.req, x.res, x.body)
			if x.res.StatusCode != x.want {
				t.Errorf("%s %s: %d, want %d: %s", x.req.Method, x.req.URL.Path, x.res.StatusCode, x.want, x.body)
				continue
			}
			if x.want != http.StatusCreated {
				continue
			}
			var a struct {
				ID   int64  `json:"id"`
				Name string `json:"name"`
			}
			(resp{Response: x.res, body: x.body}).json(t, &a)
			created[a.ID] = a.Name
		}
		if len(created) != clients*5/8 {
			t.Fatalf("%d distinct assets created, want %d", len(created), clients*5/8)
		}
		for id, name := range created {
			r := e.do(req{method: "GET", path: fmt.Sprintf("/api/v1/assets/%d", id)})
			if r.StatusCode != http.StatusOK || !strings.Contains(string(r.body), `"name":"`+name+`"`) {
				t.Fatalf("asset %d (%s) answered 201 but reads back %d: %s", id, name, r.StatusCode, r.body)
			}
		}
		r := e.do(req{method: "GET", path: "/api/v1/assets?limit=1000"})
		var all []struct{}
		r.json(t, &all)
		if len(all) != len(created)+1 {
			t.Fatalf("%d assets stored, want the %d created and the one kept", len(all), len(created))
		}
	})
}
