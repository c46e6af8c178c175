// Package lambdae2e tests icy-morning's Lambda mode end to end: the real
// bootstrap, built as for release, runs under the AWS Lambda Runtime
// Interface Emulator and is driven with API Gateway HTTP API (payload 2.0)
// events, on SQLite and on PostgreSQL. Nothing is mocked.
//
// Without the emulator the tests are skipped loudly, or fail when
// ICY_REQUIRE_LAMBDA=1 (see internal/rie for how to install it).
package lambdae2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/icy-morning/icy-morning/internal/rie"
	"github.com/icy-morning/icy-morning/internal/rie/rietest"
	"github.com/icy-morning/icy-morning/internal/testdb"
	"github.com/icy-morning/icy-morning/sqlstore"
)

func TestMain(m *testing.M) { os.Exit(rietest.RunTests(m)) }

func TestLambdaSQLite(t *testing.T) {
	rietest.Require(t)
	path := filepath.Join(t.TempDir(), "test.db")
	run(t, "sqlite:///"+path) // four slashes: an absolute path
}

func TestLambdaPostgres(t *testing.T) {
	rietest.Require(t)
	run(t, testdb.Postgres(t))
}

// migrateFunction runs the bootstrap as the migrate function
// (ICY_MORNING_FUNCTION=migrate, with no API account and no link-signing
// key), invokes {"icy_morning":"migrate"} twice (the migrations, then
// none), stops it, and returns the URL the API function connects with: on
// PostgreSQL the app role's, whose password the migrate function set.
func migrateFunction(t *testing.T, ctx context.Context, bootstrap, databaseURL string) string {
	t.Helper()
	env := []string{
		"ICY_MORNING_FUNCTION=migrate",
		"DATABASE_URL=" + databaseURL,
		"DB_WAIT=10s",
		"LOG_FORMAT=json",
		"AWS_LAMBDA_FUNCTION_NAME=icy-morning-migrate-e2e",
		"AWS_REGION=eu-west-1",
	}
	apiURL := databaseURL
	if strings.HasPrefix(databaseURL, "postgres") {
		env = append(env, "APP_DATABASE_PASSWORD="+testdb.AppPassword)
		apiURL = testdb.As(t, databaseURL, "icy_app", testdb.AppPassword)
	}
	emu, err := rie.Start(ctx, rie.Config{Bootstrap: bootstrap, Env: env, FunctionTimeout: 15 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := emu.Close(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("migrate function output:\n%s", emu.Output())
		}
	}()
	for _, want := range []int{sqlstore.Migrations(sqlstore.Postgres), 0} {
		out, err := emu.Invoke(ctx, []byte(`{"icy_morning":"migrate"}`))
		if err != nil {
			t.Fatalf("migrate: %v", err)
		}
		var migrated struct {
			OK     bool `json:"ok"`
			Result struct {
				Applied int `json:"applied"`
			} `json:"result"`
		}
		if err := json.Unmarshal(out, &migrated); err != nil || !migrated.OK || migrated.Result.Applied != want {
			t.Fatalf("migrate answered %s (%v), want {\"ok\":true,...} with %d applied", out, err, want)
		}
	}
	return apiURL
}

// fn is the function under the emulator, and what is needed to call it.
type fn struct {
	t        *testing.T
	emu      *rie.Emulator
	user     string
	password string
	nonce    string // makes this run's request ids unique
	n        int    // requests so far
}

// call is one HTTP request, sent as an API Gateway event.
type call struct {
	method string
	path   string
	query  string
	body   string
	auth   string            // "" = correct credentials; "none"; "wrong"
	ctype  string            // Content-Type; "" = application/json when there is a body
	header map[string]string // more headers, names in lower case; these win
}

// result is the function's answer as API Gateway would turn it into an
// HTTP response.
type result struct {
	status    int
	header    http.Header
	body      []byte
	apiID     string // the event's requestContext.requestId
	lambdaID  string // the invocation's Lambda request id
	eventJSON []byte
}

func run(t *testing.T, databaseURL string) {
	bootstrap := rietest.BuildBootstrap(t, "./cmd/icy-morning")
	f := &fn{t: t, user: "admin", password: "pw-" + randomHex(8), nonce: randomHex(4)}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// As deployed: the migrate function migrates as the owner and gives
	// the app role its password; the API function connects as the app
	// role.
	apiURL := migrateFunction(t, ctx, bootstrap, databaseURL)
	emu, err := rie.Start(ctx, rie.Config{
		Bootstrap: bootstrap,
		Env: []string{
			"DATABASE_URL=" + apiURL,
			"BASIC_AUTH_USERNAME=" + f.user,
			"BASIC_AUTH_PASSWORD=" + f.password,
			"NOTIFY_SECRET=" + randomHex(32),
			"LOG_FORMAT=json",
			"DB_MAX_CONNS=2",
			"AWS_LAMBDA_FUNCTION_NAME=icy-morning-e2e",
			"AWS_REGION=eu-west-1",
		},
		FunctionTimeout: 15 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.emu = emu
	t.Cleanup(func() {
		if err := emu.Close(); err != nil {
			t.Error(err)
		}
		// At shutdown the function closes its pool and exits on SIGTERM,
		// instead of waiting to be killed.
		if strings.Contains(emu.EmulatorLog(), "did not exit after deadline") {
			t.Error("the function did not exit on SIGTERM: the emulator had to kill it")
		}
		if !strings.Contains(emu.Output(), `"msg":"shutdown"`) {
			t.Error(`no "shutdown" log line: the SIGTERM handler did not run`)
		}
		if t.Failed() {
			t.Logf("function output (through the emulator):\n%s", emu.Output())
			t.Logf("emulator log:\n%s", emu.EmulatorLog())
		}
	})

	// The API function does not migrate: the command says where
	// migrations run.
	if out, err := emu.InvokeID(ctx, "migrate-"+f.nonce, []byte(`{"icy_morning":"migrate"}`)); err == nil || !strings.Contains(err.Error(), "ICY_MORNING_FUNCTION=migrate") {
		t.Fatalf("migrate on the API function: %s, %v", out, err)
	}

	// Analyst: create, read, update.
	r := f.do(call{method: "POST", path: "/api/v1/analysts", body: `{"name":"Ada Lovelace","company":"Analytical Engines"}`})
	f.expect(r, 201, "application/json")
	analyst := f.object(r)
	analystID := f.id(analyst)
	f.fields(analyst, map[string]any{"name": "Ada Lovelace", "company": "Analytical Engines"})
	createAnalyst := r

	r = f.do(call{method: "GET", path: "/api/v1/analysts/" + analystID, auth: "none"})
	f.expect(r, 200, "application/json")
	f.fields(f.object(r), map[string]any{"id": analyst["id"], "name": "Ada Lovelace", "company": "Analytical Engines"})

	r = f.do(call{method: "PATCH", path: "/api/v1/analysts/" + analystID, body: `{"company":"Difference Engines"}`, ctype: "application/merge-patch+json"})
	f.expect(r, 200, "application/json")
	f.fields(f.object(r), map[string]any{"id": analyst["id"], "name": "Ada Lovelace", "company": "Difference Engines"})

	// Asset: create, read (by id and in a filtered list), replace.
	r = f.do(call{method: "POST", path: "/api/v1/assets",
		body: `{"name":"Fund","description":"Growth","inception_date":"2024-01-31","is_active":true,"analyst_id":` + analystID + `}`})
	f.expect(r, 201, "application/json")
	asset := f.object(r)
	assetID := f.id(asset)
	f.fields(asset, map[string]any{"name": "Fund", "description": "Growth", "inception_date": "2024-01-31", "is_active": true, "analyst_id": analyst["id"]})

	r = f.do(call{method: "GET", path: "/api/v1/assets/" + assetID, auth: "none"})
	f.expect(r, 200, "application/json")
	f.fields(f.object(r), map[string]any{"id": asset["id"], "name": "Fund", "description": "Growth", "is_active": true})
	if lm := r.header.Get("Last-Modified"); lm == "" {
		t.Errorf("GET asset: no Last-Modified header")
	} else if _, err := http.ParseTime(lm); err != nil {
		t.Errorf("GET asset: Last-Modified %q: %v", lm, err)
	}
	getAsset := r

	r = f.do(call{method: "GET", path: "/api/v1/assets", query: "analyst_id=" + analystID + "&is_active=true&limit=10", auth: "none"})
	f.expect(r, 200, "application/json")
	var list []map[string]any
	if err := json.Unmarshal(r.body, &list); err != nil || len(list) != 1 || list[0]["id"] != asset["id"] {
		t.Errorf("filtered list: %s (%v), want exactly asset %s", r.body, err, assetID)
	}

	r = f.do(call{method: "PUT", path: "/api/v1/assets/" + assetID,
		body: `{"id":` + assetID + `,"name":"Fund II","description":null,"inception_date":"2025-02-28","is_active":false,"analyst_id":` + analystID + `}`})
	f.expect(r, 200, "application/json")
	f.fields(f.object(r), map[string]any{"id": asset["id"], "name": "Fund II", "description": nil, "inception_date": "2025-02-28", "is_active": false})

	// Writes need the right credentials.
	r = f.do(call{method: "POST", path: "/api/v1/analysts", body: `{"name":"Mallory","company":"x"}`, auth: "none"})
	f.expect(r, 401, "application/problem+json")
	if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Basic ") || !strings.Contains(got, `realm="icy-morning"`) {
		t.Errorf("401 without credentials: WWW-Authenticate %q, want a Basic challenge for realm icy-morning", got)
	}
	f.fields(f.object(r), map[string]any{"status": float64(401)})
	r = f.do(call{method: "DELETE", path: "/api/v1/assets/" + assetID, auth: "wrong"})
	f.expect(r, 401, "application/problem+json")
	if r.header.Get("WWW-Authenticate") == "" {
		t.Errorf("401 with a wrong password: no WWW-Authenticate")
	}

	// Delete, then the asset is gone: a 404 problem.
	r = f.do(call{method: "DELETE", path: "/api/v1/assets/" + assetID})
	f.expect(r, 200, "application/json")
	f.fields(f.object(r), map[string]any{"id": asset["id"], "name": "Fund II"})
	r = f.do(call{method: "GET", path: "/api/v1/assets/" + assetID, auth: "none"})
	f.expect(r, 404, "application/problem+json")
	problem := f.object(r)
	f.fields(problem, map[string]any{"status": float64(404)})
	for _, k := range []string{"title", "detail"} {
		if s, _ := problem[k].(string); s == "" {
			t.Errorf("404 problem has no %s: %s", k, r.body)
		}
	}

	r = f.do(call{method: "DELETE", path: "/api/v1/analysts/" + analystID})
	f.expect(r, 200, "application/json")
	r = f.do(call{method: "GET", path: "/api/v1/analysts/" + analystID, auth: "none"})
	f.expect(r, 404, "application/problem+json")

	// The function's JSON request log, as Lambda would ship it to
	// CloudWatch, names both ids of each request.
	for _, want := range []result{createAnalyst, getAsset, r} {
		f.expectLogLine(want)
	}
}

// do sends c as an API Gateway HTTP API (payload 2.0) event, with a
// Lambda request id and an API Gateway request id of its own, and decodes
// the answer.
func (f *fn) do(c call) result {
	f.t.Helper()
	f.n++
	apiID := fmt.Sprintf("apigw-%s-%03d", f.nonce, f.n)
	lambdaID := fmt.Sprintf("lambda-%s-%03d", f.nonce, f.n)
	header := map[string]string{"user-agent": "icy-morning-e2e", "accept": "application/json"}
	if c.body != "" {
		header["content-type"] = c.ctype
		if c.ctype == "" {
			header["content-type"] = "application/json"
		}
	}
	switch c.auth {
	case "":
		header["authorization"] = basic(f.user, f.password)
	case "wrong":
		header["authorization"] = basic(f.user, f.password+"-wrong")
	}
	for k, v := range c.header {
		header[k] = v
	}
	payload, err := json.Marshal(rie.HTTPEvent(rie.Request{
		Method: c.method, Path: c.path, RawQuery: c.query, Header: header, Body: c.body, RequestID: apiID,
	}))
	if err != nil {
		f.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := f.emu.InvokeID(ctx, lambdaID, payload)
	if err != nil {
		f.t.Fatalf("%s %s: invoke: %v", c.method, c.path, err)
	}
	resp, err := rie.DecodeHTTPResponse(out)
	if err != nil {
		f.t.Fatalf("%s %s: %v\n%s", c.method, c.path, err, out)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: resp.Body, apiID: apiID, lambdaID: lambdaID, eventJSON: payload}
}

// expect checks the status, the media type and that the API Gateway
// request id came back as X-Request-Id.
func (f *fn) expect(r result, status int, mediaType string) {
	f.t.Helper()
	if r.status != status {
		f.t.Fatalf("request %s: status %d, want %d; body %s\nevent %s", r.apiID, r.status, status, r.body, r.eventJSON)
	}
	if mt, _, err := mime.ParseMediaType(r.header.Get("Content-Type")); err != nil || mt != mediaType {
		f.t.Errorf("request %s: Content-Type %q, want %s", r.apiID, r.header.Get("Content-Type"), mediaType)
	}
	if got := r.header.Get("X-Request-Id"); got != r.apiID {
		f.t.Errorf("request %s: X-Request-Id %q, want the API Gateway request id %q", r.apiID, got, r.apiID)
	}
}

// object decodes the body as one JSON object.
func (f *fn) object(r result) map[string]any {
	f.t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		f.t.Fatalf("request %s: body is not a JSON object: %v\n%s", r.apiID, err, r.body)
	}
	return m
}

// id is the object's positive integer id, as a path segment.
func (f *fn) id(m map[string]any) string {
	f.t.Helper()
	n, ok := m["id"].(float64)
	if !ok || n < 1 || n != float64(int64(n)) {
		f.t.Fatalf("id %v is not a positive integer", m["id"])
	}
	return strconv.FormatInt(int64(n), 10)
}

// fields checks the object's members; nil means JSON null.
func (f *fn) fields(m map[string]any, want map[string]any) {
	f.t.Helper()
	for k, v := range want {
		got, ok := m[k]
		if !ok {
			f.t.Errorf("member %s missing in %v", k, m)
			continue
		}
		if got != v {
			f.t.Errorf("member %s = %#v, want %#v", k, got, v)
		}
	}
}

// expectLogLine finds the JSON access-log line of r's request in the
// function's output and checks that it carries the API Gateway request id
// (request_id) and the Lambda request id (aws_request_id), as logged by
// package awslambda.
func (f *fn) expectLogLine(r result) {
	f.t.Helper()
	output := f.emu.WaitOutput(`"request_id":"`+r.apiID+`"`, 3*time.Second)
	for _, line := range rie.Lines(output) {
		if !strings.HasPrefix(line, "{") || !strings.Contains(line, r.apiID) {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			f.t.Errorf("log line for %s is not JSON: %v\n%s", r.apiID, err, line)
			return
		}
		if rec["msg"] != "request" || rec["request_id"] != r.apiID {
			continue
		}
		if rec["aws_request_id"] != r.lambdaID {
			f.t.Errorf("log line for %s: aws_request_id %v, want the Lambda request id %s\n%s", r.apiID, rec["aws_request_id"], r.lambdaID, line)
		}
		if rec["status"] != float64(r.status) {
			f.t.Errorf("log line for %s: status %v, want %d\n%s", r.apiID, rec["status"], r.status, line)
		}
		return
	}
	f.t.Errorf("no JSON request log line with request_id %s in the function's output", r.apiID)
}

func basic(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
