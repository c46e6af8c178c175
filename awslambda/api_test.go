package awslambda

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/icy-morning/icy-morning/auth"
	"github.com/icy-morning/icy-morning/httpapi"
	"github.com/icy-morning/icy-morning/sqlstore"
)

// newAPI is the real HTTP API on an in-memory SQLite database, behind the
// Lambda handler, with its JSON log captured.
func newAPI(t *testing.T) (*Handler, *bytes.Buffer) {
	t.Helper()
	store, err := sqlstore.Open(context.Background(), "sqlite://:memory:", sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.MigrateUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	authn, err := auth.NewBasic("admin", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	logger := slog.New(LogHandler(slog.NewJSONHandler(&logs, nil)))
	api := httpapi.NewServer(httpapi.Config{Store: store, Auth: authn, Logger: logger})
	return New(api, logger, nil), &logs
}

// v2 makes an HTTP API event on stage "prod" from the recorded sample.
func v2(t *testing.T, method, path, body, authz string) []byte {
	edits := map[string]any{
		"rawPath": "/prod" + path, "requestContext.http.path": "/prod" + path,
		"requestContext.http.method": method, "requestContext.stage": "prod",
		"requestContext.requestId": "apigw-" + method,
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		edits["rawPath"], edits["rawQueryString"] = "/prod"+path[:i], path[i+1:]
	}
	if body != "" {
		edits["body"], edits["isBase64Encoded"] = b64(body), true
		edits["headers.content-type"] = "application/json"
	}
	if authz != "" {
		edits["headers.authorization"] = authz
	}
	return sample(t, "http-api-v2.json", edits)
}

func TestAPIThroughHTTPAPIEvents(t *testing.T) {
	h, logs := newAPI(t)
	const admin = "Basic YWRtaW46czNjcmV0" // admin:s3cret
	var r events.APIGatewayV2HTTPResponse

	mustUnmarshal(t, invoke(t, h, v2(t, "POST", "/api/v1/analysts", `{"name":"Åsa Øberg","company":"Nord"}`, "Basic d3Jvbmc6d3Jvbmc=")), &r)
	if r.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(r.Headers["Www-Authenticate"], "Basic ") ||
		r.Headers["Content-Type"] != "application/problem+json" {
		t.Fatalf("wrong password: %d %v %s", r.StatusCode, r.Headers, r.Body)
	}

	mustUnmarshal(t, invoke(t, h, v2(t, "POST", "/api/v1/analysts", `{"name":"Åsa Øberg","company":"Nord"}`, admin)), &r)
	if r.StatusCode != http.StatusCreated || !strings.Contains(r.Body, `"name":"Åsa Øberg"`) {
		t.Fatalf("create: %d %s", r.StatusCode, r.Body)
	}
	if r.Headers["X-Request-Id"] != "apigw-POST" {
		t.Errorf("X-Request-Id = %q, want API Gateway's request id", r.Headers["X-Request-Id"])
	}
	for _, body := range []string{`{"name":"a1","is_active":true,"analyst_id":1}`, `{"name":"a2","is_active":false,"analyst_id":1}`} {
		mustUnmarshal(t, invoke(t, h, v2(t, "POST", "/api/v1/assets", body, admin)), &r)
		if r.StatusCode != http.StatusCreated {
			t.Fatalf("create asset: %d %s", r.StatusCode, r.Body)
		}
	}

	mustUnmarshal(t, invoke(t, h, v2(t, "GET", "/api/v1/assets?limit=1", "", "")), &r)
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Headers["Link"], "<assets?cursor=") {
		t.Fatalf("page: %d Link %q", r.StatusCode, r.Headers["Link"])
	}

	mustUnmarshal(t, invoke(t, h, v2(t, "GET", "/api/v1/assets/99", "", "")), &r)
	var problem struct {
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}
	mustUnmarshal(t, []byte(r.Body), &problem)
	if r.StatusCode != http.StatusNotFound || problem.Status != http.StatusNotFound {
		t.Fatalf("unknown asset: %d %s", r.StatusCode, r.Body)
	}

	// Every request left one JSON line carrying both ids.
	var lines int
	for line := range strings.Lines(logs.String()) {
		var rec map[string]any
		mustUnmarshal(t, []byte(line), &rec)
		if rec["msg"] != "request" {
			continue
		}
		lines++
		if rec["aws_request_id"] != "lambda-req-1" || !strings.HasPrefix(rec["request_id"].(string), "apigw-") {
			t.Errorf("log line without the request ids: %s", line)
		}
		if strings.HasPrefix(rec["path"].(string), "/prod") {
			t.Errorf("stage reached the router: %s", line)
		}
	}
	if lines != 6 {
		t.Errorf("%d request log lines, want 6:\n%s", lines, logs)
	}
}

func TestAPIThroughRESTAndALBEvents(t *testing.T) {
	h, _ := newAPI(t)
	var v1 events.APIGatewayProxyResponse
	mustUnmarshal(t, invoke(t, h, sample(t, "rest-api-v1.json", map[string]any{
		"path": "/api/v1/analysts", "requestContext.path": "/prod/api/v1/analysts", "requestContext.stage": "prod",
		"body": `{"name":"Zoë","company":"Ünïcode"}`, "multiValueHeaders.Content-Type": []string{"application/json"},
		"multiValueHeaders.Authorization": []string{"Basic YWRtaW46czNjcmV0"},
	})), &v1)
	if v1.StatusCode != http.StatusCreated || v1.MultiValueHeaders["X-Request-Id"][0] != "deef4878-7910-11e6-8f14-25afc3e9ae33" {
		t.Fatalf("REST create: %d %v %s", v1.StatusCode, v1.MultiValueHeaders, v1.Body)
	}

	out := invoke(t, h, sample(t, "alb-single-value.json", map[string]any{"path": "/api/v1/analysts/1", "queryStringParameters": nil}))
	var alb albResponse
	mustUnmarshal(t, out, &alb)
	var got map[string]any
	mustUnmarshal(t, []byte(alb.Body), &got)
	if alb.StatusCode != http.StatusOK || got["name"] != "Zoë" || alb.Headers["X-Request-Id"] != "lambda-req-1" {
		t.Fatalf("ALB read: %s", out)
	}
}

// BenchmarkInvokeGetByID is one warm GET-by-id invocation without the
// runtime API round trip: event decoding, translation, the HTTP handler on
// in-memory SQLite, and the response encoding.
func BenchmarkInvokeGetByID(b *testing.B) {
	t := &testing.T{}
	h, logs := newAPI(t)
	invoke(t, h, v2(t, "POST", "/api/v1/analysts", `{"name":"A","company":"C"}`, "Basic YWRtaW46czNjcmV0"))
	invoke(t, h, v2(t, "POST", "/api/v1/assets", `{"name":"a","is_active":true,"analyst_id":1}`, "Basic YWRtaW46czNjcmV0"))
	ev := v2(t, "GET", "/api/v1/assets/1", "", "")
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-req-1"})
	b.ReportAllocs()
	for b.Loop() {
		logs.Reset()
		out, err := h.Invoke(ctx, ev)
		if err != nil || !bytes.Contains(out, []byte(`"statusCode":200`)) {
			b.Fatalf("%v %s", err, out)
		}
	}
}

// TestFailedLoginsThrottledBySourceIP: in Lambda the client address the
// API throttles by is the event's source IP, so one caller's wrong
// passwords do not lock out another's.
func TestFailedLoginsThrottledBySourceIP(t *testing.T) {
	h, _ := newAPI(t)
	const admin, wrong = "Basic YWRtaW46czNjcmV0", "Basic YWRtaW46d3Jvbmc="
	from := func(ip, authz string) events.APIGatewayV2HTTPResponse {
		ev := v2(t, "POST", "/api/v1/analysts", `{"name":"N","company":"C"}`, authz)
		var m map[string]any
		mustUnmarshal(t, ev, &m)
		m["requestContext"].(map[string]any)["http"].(map[string]any)["sourceIp"] = ip
		ev, _ = json.Marshal(m)
		var r events.APIGatewayV2HTTPResponse
		mustUnmarshal(t, invoke(t, h, ev), &r)
		return r
	}
	for i := range 20 {
		if r := from("203.0.113.9", wrong); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, r.StatusCode)
		}
	}
	if r := from("203.0.113.9", admin); r.StatusCode != http.StatusTooManyRequests || r.Headers["Retry-After"] == "" {
		t.Fatalf("after 20 failures: %d %v; want 429 with Retry-After", r.StatusCode, r.Headers)
	}
	if r := from("198.51.100.1", admin); r.StatusCode != http.StatusCreated {
		t.Fatalf("another source IP: %d %s", r.StatusCode, r.Body)
	}
}
