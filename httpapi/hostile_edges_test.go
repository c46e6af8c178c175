package httpapi_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The hostile-input suite, round two: each case is an edge an adversarial
// pass over the running server found answered wrongly (a 500, a silent
// misreading, a missing header). Every case runs on SQLite and PostgreSQL.

// problem is the part of an RFC 9457 document the cases look at.
type problem struct {
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Location string `json:"location"`
		Message  string `json:"message"`
	} `json:"errors"`
}

func (r resp) problem(t *testing.T) problem {
	t.Helper()
	var p problem
	r.json(t, &p)
	return p
}

// locations lists where a problem says the errors are.
func (p problem) locations() []string {
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Location)
	}
	return out
}

// Item 1: strings in the query reach the database; PostgreSQL refuses NUL
// and invalid UTF-8 with an error, which was a 500.
func TestQueryParametersMustBeText(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		seedOneAsset(t, e)
		for _, bad := range []string{"%00", "a%00b", "%ff", "%C0%80", "%ED%A0%80", "%E2%82", "abc%E2"} {
			for _, q := range []struct{ path, param string }{
				{"/api/v1/assets?name=" + bad, "query.name"},
				{"/api/v1/assets?limit=5&name=ok&cursor=" + bad, "query.cursor"},
				{"/api/v1/analysts?cursor=" + bad, "query.cursor"},
			} {
				r := e.do(req{method: "GET", path: q.path, auth: "none"})
				p := r.problem(t)
				if r.StatusCode != 422 || len(p.Errors) != 1 || p.Errors[0].Location != q.param || !strings.Contains(p.Detail, q.param) {
					t.Errorf("GET %s: %d %s; want 422 naming %s", q.path, r.StatusCode, r.body, q.param)
				}
			}
		}
		// Valid non-ASCII text is still a filter like any other.
		if r := e.do(req{method: "GET", path: "/api/v1/assets?name=Z%C3%BCrich", auth: "none"}); r.StatusCode != 200 || !jsonEqual(t, r.body, "[]") {
			t.Errorf("valid UTF-8 filter: %d %s", r.StatusCode, r.body)
		}
	})
}

// Item 2: a body that cannot be read is the client's fault: 400 with a
// request id and nothing of the reader's error, never a 500.
func TestUnreadableBodies(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		before := seedOneAsset(t, e)
		head := "POST /api/v1/analysts HTTP/1.1\r\nHost: icy.test\r\nAuthorization: Basic " +
			base64.StdEncoding.EncodeToString([]byte(user+":"+pass)) + "\r\nContent-Type: application/json\r\n"
		body := `{"name":"Eve","company":"X"}`
		tests := []struct{ name, request string }{
			{"chunk size not hex", head + "Transfer-Encoding: chunked\r\n\r\nzz\r\n" + body + "\r\n0\r\n\r\n"},
			{"chunk size overflows", head + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n" + body + "\r\n0\r\n\r\n"},
			{"chunk longer than its size", head + "Transfer-Encoding: chunked\r\n\r\n3\r\n" + body + "\r\n0\r\n\r\n"},
			{"truncated chunk, then half-close", head + "Transfer-Encoding: chunked\r\n\r\n40\r\n" + body},
			{"Content-Length longer than the body, then half-close", head + "Content-Length: 500\r\n\r\n" + body},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.raw(t, tt.request, true)
				if r.StatusCode != http.StatusBadRequest {
					t.Fatalf("status %d, want 400: %s", r.StatusCode, r.body)
				}
				p := r.problem(t)
				for _, leak := range []string{"malformed chunked", "EOF", "invalid byte", "unexpected", "too large", "http:"} {
					if strings.Contains(p.Detail, leak) {
						t.Errorf("detail reveals the reader's error (%q): %s", leak, p.Detail)
					}
				}
				if r.Header.Get("X-Request-Id") == "" {
					t.Error("no X-Request-Id")
				}
			})
		}
		if after := snapshot(t, e); after != before {
			t.Fatalf("an unreadable body changed the store:\n%s\n%s", before, after)
		}
	})
}

// Item 2's log: the unreadable body is logged as a client error, at WARN,
// with the cause the client is not shown.
func TestUnreadableBodyIsLoggedAsClientError(t *testing.T) {
	var logs bytes.Buffer
	e := newEnvWithLog(t, "sqlite://:memory:", &logs)
	head := "POST /api/v1/analysts HTTP/1.1\r\nHost: icy.test\r\nAuthorization: Basic " +
		base64.StdEncoding.EncodeToString([]byte(user+":"+pass)) + "\r\nContent-Type: application/json\r\n"
	r := e.raw(t, head+"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", true)
	if r.StatusCode != 400 {
		t.Fatalf("status %d", r.StatusCode)
	}
	var line map[string]any
	for l := range strings.Lines(logs.String()) {
		var rec map[string]any
		if json.Unmarshal([]byte(l), &rec) == nil && rec["msg"] == "request" {
			line = rec
		}
	}
	if line["level"] != "WARN" || line["client_error"] == nil || line["error"] == nil || line["request_id"] != r.Header.Get("X-Request-Id") {
		t.Fatalf("log line %v; want WARN with client_error, error and the request id %s", line, r.Header.Get("X-Request-Id"))
	}
}

// Items 3 to 9: wrong answers to odd but well-formed requests.
func TestHostileEdges(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = io.WriteString(zw, `{"name":"Zip","company":"Gz"}`)
	_ = zw.Close()
	oneMiB := func(extra int) string {
		const shell = `{"name":"Big","company":"B","pad":""}`
		return `{"name":"Big","company":"B","pad":"` + strings.Repeat("x", 1<<20-len(shell)+extra) + `"}`
	}
	forEachStore(t, func(t *testing.T, e *env) {
		seedOneAsset(t, e)
		tests := []struct {
			name   string
			req    req
			status int
			check  func(t *testing.T, r resp)
		}{
			// 3. Content codings are refused, naming what is accepted.
			{"gzip body", req{method: "POST", path: "/api/v1/analysts", body: gz.String(), header: map[string]string{"Content-Encoding": "gzip"}}, 415,
				func(t *testing.T, r resp) { wantHeader(t, r, "Accept-Encoding", "identity") }},
			{"plain JSON labelled gzip", req{method: "POST", path: "/api/v1/analysts", body: `{"name":"P","company":"G"}`, header: map[string]string{"Content-Encoding": "gzip"}}, 415,
				func(t *testing.T, r resp) { wantHeader(t, r, "Accept-Encoding", "identity") }},
			{"br on PATCH", req{method: "PATCH", path: "/api/v1/analysts/1", body: `{}`, header: map[string]string{"Content-Encoding": "br", "Content-Type": "application/merge-patch+json"}}, 415, nil},
			// 4. Malformed percent-encoding is not a missing filter.
			{"query %zz", req{method: "GET", path: "/api/v1/assets?name=%zz", auth: "none"}, 400, nil},
			{"query lone %", req{method: "GET", path: "/api/v1/assets?name=%", auth: "none"}, 400, nil},
			{"query ; separator", req{method: "GET", path: "/api/v1/assets?limit=1;name=x", auth: "none"}, 400, nil},
			// 5. Members match exactly; unknown ones are ignored.
			{"NAME after name is unknown", req{method: "POST", path: "/api/v1/analysts", body: `{"name":"a","NAME":"b","company":"c"}`}, 201,
				func(t *testing.T, r resp) { wantJSONMember(t, r, "name", "a") }},
			{"Name does not satisfy name", req{method: "POST", path: "/api/v1/analysts", body: `{"Name":"D","company":"c"}`}, 422,
				func(t *testing.T, r resp) {
					wantLocation(t, r, "body.name")
					if p := r.problem(t); p.Errors[0].Message != "field required" {
						t.Errorf("message %q, want field required", p.Errors[0].Message)
					}
				}},
			{"PATCH NAME changes nothing", req{method: "PATCH", path: "/api/v1/analysts/1", body: `{"NAME":"x"}`, header: map[string]string{"Content-Type": "application/merge-patch+json"}}, 200,
				func(t *testing.T, r resp) { wantJSONMember(t, r, "name", "Ada") }},
			{"a member twice", req{method: "POST", path: "/api/v1/analysts", body: `{"name":"a","name":"b","company":"c"}`}, 400, nil},
			{"Analyst_Id on an asset", req{method: "POST", path: "/api/v1/assets", body: `{"name":"x","is_active":true,"Analyst_Id":1}`}, 422,
				func(t *testing.T, r resp) { wantLocation(t, r, "body.analyst_id") }},
			// 6. The limit is "over 1 MiB"; Expect: 100-continue is below.
			{"body of exactly 1 MiB", req{method: "POST", path: "/api/v1/analysts", body: oneMiB(0)}, 201, nil},
			{"body of 1 MiB and a byte", req{method: "POST", path: "/api/v1/analysts", body: oneMiB(1)}, 413, nil},
			// 7. Media types are case-insensitive; malformed ones are 415.
			{"APPLICATION/JSON", req{method: "POST", path: "/api/v1/analysts", body: `{"name":"Up","company":"Case"}`, header: map[string]string{"Content-Type": "APPLICATION/JSON"}}, 201, nil},
			{"Application/Json; Charset=UTF-8", req{method: "POST", path: "/api/v1/analysts", body: `{"name":"Up2","company":"Case"}`, header: map[string]string{"Content-Type": "Application/Json; Charset=UTF-8"}}, 201, nil},
			{"Application/Merge-Patch+JSON", req{method: "PATCH", path: "/api/v1/assets/1", body: `{"description":"d"}`, header: map[string]string{"Content-Type": "Application/Merge-Patch+JSON"}}, 200, nil},
			{"application/json;;;==", req{method: "POST", path: "/api/v1/analysts", body: `{"name":"M","company":"T"}`, header: map[string]string{"Content-Type": "application/json;;;=="}}, 415, nil},
			{"charset latin1", req{method: "POST", path: "/api/v1/analysts", body: `{"name":"L","company":"T"}`, header: map[string]string{"Content-Type": "application/json; charset=latin1"}}, 415, nil},
			{"text/html+json", req{method: "POST", path: "/api/v1/analysts", body: `{"name":"H","company":"T"}`, header: map[string]string{"Content-Type": "text/html+json"}}, 415, nil},
			// 8. Numbers out of range are 422s about the member, in our words.
			{"analyst_id 1e400", req{method: "POST", path: "/api/v1/assets", body: `{"name":"x","is_active":true,"analyst_id":1e400}`}, 422,
				func(t *testing.T, r resp) { wantLocation(t, r, "body.analyst_id"); wantNoGoWords(t, r) }},
			{"analyst_id -1e400", req{method: "POST", path: "/api/v1/assets", body: `{"name":"x","is_active":true,"analyst_id":-1e400}`}, 422,
				func(t *testing.T, r resp) { wantLocation(t, r, "body.analyst_id"); wantNoGoWords(t, r) }},
			{"analyst_id 2^63", req{method: "POST", path: "/api/v1/assets", body: `{"name":"x","is_active":true,"analyst_id":9223372036854775808}`}, 422,
				func(t *testing.T, r resp) { wantLocation(t, r, "body.analyst_id"); wantNoGoWords(t, r) }},
			{"PUT id 1e400", req{method: "PUT", path: "/api/v1/assets/1", body: `{"id":1e400,"name":"x","is_active":true,"analyst_id":1}`}, 422,
				func(t *testing.T, r resp) { wantLocation(t, r, "body.id"); wantNoGoWords(t, r) }},
			{"name 1e400", req{method: "POST", path: "/api/v1/analysts", body: `{"name":1e400,"company":"c"}`}, 422,
				func(t *testing.T, r resp) { wantLocation(t, r, "body.name"); wantNoGoWords(t, r) }},
			{"malformed JSON in our words", req{method: "POST", path: "/api/v1/analysts", body: `{"name":"a",}`}, 400,
				func(t *testing.T, r resp) { wantNoGoWords(t, r) }},
			// 9. The Python subscription path answers only POST.
			{"GET /assets/subscription", req{method: "GET", path: "/api/v1/assets/subscription", auth: "none"}, 405,
				func(t *testing.T, r resp) { wantHeader(t, r, "Allow", "POST") }},
			{"HEAD /assets/subscription", req{method: "HEAD", path: "/api/v1/assets/subscription", auth: "none"}, 405,
				func(t *testing.T, r resp) { wantHeader(t, r, "Allow", "POST") }},
			{"DELETE /assets/subscription", req{method: "DELETE", path: "/api/v1/assets/subscription"}, 405,
				func(t *testing.T, r resp) { wantHeader(t, r, "Allow", "POST") }},
			{"PUT /assets/subscription", req{method: "PUT", path: "/api/v1/assets/subscription", body: `{}`}, 405, nil},
			{"OPTIONS /assets/subscription", req{method: "OPTIONS", path: "/api/v1/assets/subscription", auth: "none"}, 405,
				func(t *testing.T, r resp) { wantHeader(t, r, "Allow", "POST") }},
			{"GET /assets/{id} still routes", req{method: "GET", path: "/api/v1/assets/1", auth: "none"}, 200, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do(tt.req)
				if r.StatusCode != tt.status {
					t.Fatalf("status %d, want %d: %.300s", r.StatusCode, tt.status, r.body)
				}
				if tt.check != nil {
					tt.check(t, r)
				}
			})
		}
		// Exactly the accepted writes are stored: four analysts and asset 1's
		// description; nothing from a refused request.
		var names []string
		analysts, err := e.store.Analysts(t.Context(), pageAll)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range analysts {
			names = append(names, a.Name)
		}
		if got := strings.Join(names, ","); got != "Ada,a,Big,Up,Up2" {
			t.Errorf("analysts stored: %s; want Ada,a,Big,Up,Up2", got)
		}
		a, err := e.store.Asset(t.Context(), 1)
		if err != nil || a.Name != "Fund" || a.AnalystID != 1 || a.Description == nil || *a.Description != "d" {
			t.Errorf("asset 1: %+v %v", a, err)
		}
	})
}

// Item 6: Expect: 100-continue with a Content-Length over the limit gets
// its 413 before the upload, not "100 Continue".
func TestExpectContinueOverLimit(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		head := "POST /api/v1/analysts HTTP/1.1\r\nHost: icy.test\r\nAuthorization: Basic " +
			base64.StdEncoding.EncodeToString([]byte(user+":"+pass)) +
			"\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 2000000\r\n\r\n"
		r := e.raw(t, head, false)
		if r.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413 before any upload", r.StatusCode)
		}
		// Within the limit, the server still asks for the body.
		head = strings.Replace(head, "2000000", "27", 1)
		conn := e.dial(t)
		_, _ = io.WriteString(conn, head)
		br := bufio.NewReader(conn)
		line, err := br.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
			t.Fatalf("within the limit: %q %v; want 100 Continue", line, err)
		}
	})
}

// Item 10: nosniff everywhere; what caches may keep: the open reads of
// assets and analysts (public, for the configured times), nothing a
// credential produced or that holds personal data (private, no-store),
// and no problem (no-store).
func TestSecurityHeaders(t *testing.T) {
	public := "public, max-age=0, s-maxage=60, stale-while-revalidate=30"
	forEachStore(t, func(t *testing.T, e *env) {
		seedOneAsset(t, e)
		e.do(req{method: "POST", path: "/api/v1/subscriptions", body: `{"email":"ada@example.com"}`})
		tests := []struct {
			req   req
			cache string
		}{
			{req{method: "GET", path: "/api/v1/assets", auth: "none"}, public},
			{req{method: "GET", path: "/api/v1/assets/1", auth: "none"}, public},
			{req{method: "HEAD", path: "/api/v1/assets/1", auth: "none"}, public},
			{req{method: "GET", path: "/api/v1/analysts", auth: "none"}, public},
			{req{method: "GET", path: "/api/v1/assets/99", auth: "none"}, "no-store"},
			{req{method: "GET", path: "/api/v1/assets?limit=0", auth: "none"}, "no-store"},
			{req{method: "GET", path: "/healthz", auth: "none"}, "no-store"},
			{req{method: "GET", path: "/docs", auth: "none"}, "no-cache"},
			{req{method: "PUT", path: "/api/v1/assets", auth: "none"}, "no-store"},
			{req{method: "GET", path: "/api/v1/subscriptions"}, "private, no-store"},
			{req{method: "GET", path: "/api/v1/subscriptions", auth: "none"}, "no-store"},
			{req{method: "POST", path: "/api/v1/analysts", body: `{"name":"N","company":"S"}`}, "private, no-store"},
			{req{method: "POST", path: "/api/v1/analysts", body: `{"name":"N","company":"S"}`, auth: "wrong"}, "no-store"},
			{req{method: "PATCH", path: "/api/v1/assets/1", body: `{"name":""}`, header: map[string]string{"Content-Type": "application/merge-patch+json"}}, "no-store"},
			{req{method: "DELETE", path: "/api/v1/subscriptions/1"}, "private, no-store"},
		}
		for _, tt := range tests {
			r := e.do(tt.req)
			if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("%s %s (%d): X-Content-Type-Options %q", tt.req.method, tt.req.path, r.StatusCode, got)
			}
			if got := r.Header.Get("Cache-Control"); got != tt.cache {
				t.Errorf("%s %s (%d): Cache-Control %q, want %q", tt.req.method, tt.req.path, r.StatusCode, got, tt.cache)
			}
		}
	})
}

// Item 11: wrong passwords are throttled per address; other addresses and
// anonymous reads are not slowed.
func TestFailedAuthenticationIsThrottled(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		const burst = 20
		for i := range burst {
			if r := e.do(req{method: "POST", path: "/api/v1/analysts", body: `{"name":"G","company":"G"}`, auth: "wrong"}); r.StatusCode != 401 {
				t.Fatalf("failure %d: status %d, want 401", i+1, r.StatusCode)
			}
		}
		for _, a := range []string{"wrong", "ok"} {
			r := e.do(req{method: "POST", path: "/api/v1/analysts", body: `{"name":"G","company":"G"}`, auth: a})
			wait, err := strconv.Atoi(r.Header.Get("Retry-After"))
			if r.StatusCode != 429 || err != nil || wait < 1 || wait > 60 {
				t.Fatalf("after %d failures, %s credentials: %d, Retry-After %q; want 429 with a wait", burst, a, r.StatusCode, r.Header.Get("Retry-After"))
			}
		}
		// Reads need no credentials and are not throttled.
		if r := e.do(req{method: "GET", path: "/api/v1/assets", auth: "none"}); r.StatusCode != 200 {
			t.Fatalf("anonymous read from a throttled address: %d", r.StatusCode)
		}
		// Another address (127.0.0.2 is loopback too) is not slowed.
		other := e.client(t, "127.0.0.2")
		hr, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/analysts", strings.NewReader(`{"name":"Other","company":"Addr"}`))
		hr.Header.Set("Content-Type", "application/json")
		hr.SetBasicAuth(user, pass)
		res, err := other.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 201 {
			t.Fatalf("valid credentials from another address: %d", res.StatusCode)
		}
		if s := snapshot(t, e); strings.Contains(s, " G ") {
			t.Fatalf("a throttled or refused request wrote: %s", s)
		}
	})
}

// Item 12: after a request with both Content-Length and Transfer-Encoding
// the server closes the connection (RFC 9112 §6.1), so nothing smuggled
// behind it is read as a request.
func TestContentLengthWithTransferEncodingCloses(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		smuggled := "GET /api/v1/assets/1 HTTP/1.1\r\nHost: icy.test\r\n\r\n"
		request := "GET /api/v1/assets HTTP/1.1\r\nHost: icy.test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled
		conn := e.dial(t)
		_, _ = io.WriteString(conn, request)
		br := bufio.NewReader(conn)
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if !res.Close {
			t.Error("response does not say Connection: close")
		}
		if _, err := http.ReadResponse(br, nil); err == nil {
			t.Fatal("the server answered a second request on the same connection")
		}
	})
}

// seedOneAsset stores analyst 1 ("Ada") and asset 1, and returns the
// snapshot of the store.
func seedOneAsset(t *testing.T, e *env) string {
	t.Helper()
	e.run(t, []step{
		{name: "analyst", req: req{method: "POST", path: "/api/v1/analysts", body: `{"name":"Ada","company":"Acme"}`}, wantStatus: 201},
		{name: "asset", req: req{method: "POST", path: "/api/v1/assets", body: `{"name":"Fund","is_active":true,"analyst_id":1,"inception_date":"2020-01-01"}`}, wantStatus: 201},
	})
	return snapshot(t, e)
}

func wantHeader(t *testing.T, r resp, key, want string) {
	t.Helper()
	if got := r.Header.Get(key); got != want {
		t.Errorf("%s = %q, want %q", key, got, want)
	}
}

func wantLocation(t *testing.T, r resp, loc string) {
	t.Helper()
	p := r.problem(t)
	if got := p.locations(); len(got) != 1 || got[0] != loc {
		t.Errorf("error locations %v, want [%s]: %s", got, loc, r.body)
	}
}

func wantJSONMember(t *testing.T, r resp, member, want string) {
	t.Helper()
	var m map[string]any
	r.json(t, &m)
	if m[member] != want {
		t.Errorf("%s = %v, want %q", member, m[member], want)
	}
}

// wantNoGoWords fails when a problem speaks of Go types or quotes a
// library's error instead of saying what is wrong in the API's terms.
func wantNoGoWords(t *testing.T, r resp) {
	t.Helper()
	for _, w := range []string{"Go ", "Go value", "int64", "float64", "struct", "AssetWrite", "assetReplace", "analystWrite", "json:", "jsontext", "unmarshal", "invalid character"} {
		if strings.Contains(string(r.body), w) {
			t.Errorf("problem mentions %q: %s", w, r.body)
		}
	}
}

// dial opens a TCP connection to the test server, closed when the test ends.
func (e *env) dial(t *testing.T) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c.(*net.TCPConn)
}

// raw writes request bytes exactly as given on a new connection, half-closes
// it when halfClose is set, and reads one response, which must be a problem
// document when it is an error.
func (e *env) raw(t *testing.T, request string, halfClose bool) resp {
	t.Helper()
	c := e.dial(t)
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	if halfClose {
		_ = c.CloseWrite()
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 500 {
		t.Fatalf("status %d: %s", res.StatusCode, b)
	}
	r := resp{Response: res, body: b}
	if res.StatusCode >= 400 {
		if p := r.problem(t); p.Status != res.StatusCode || p.Detail == "" || res.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("not a problem document: %s %s", res.Header.Get("Content-Type"), b)
		}
	}
	return r
}

// client is an HTTP client whose connections come from the given local
// address, to play a second client machine on loopback.
func (e *env) client(t *testing.T, localIP string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(localIP)}}
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}
